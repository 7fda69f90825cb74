package meta

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// resolve finds the file a client names by path or by file ID. A file ID
// resolves only among the caller's own files.
func (s *Server) resolve(owner, path, fileID string) (*metav1.FileEntry, error) {
	switch {
	case fileID != "" && path != "":
		return nil, fmt.Errorf("%w: give a path or a file ID, not both", index.ErrBadCommand)
	case fileID != "":
		if _, err := slice.ParseFileID(fileID); err != nil {
			return nil, err
		}
		files, err := s.ix.FilesByID(fileID)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if f.GetOwner() == owner {
				return f, nil
			}
		}
		return nil, fmt.Errorf("%w: no file of %s has ID %s", index.ErrNotFound, owner, fileID)
	default:
		p, err := index.CleanPath(path)
		if err != nil {
			return nil, err
		}
		f, err := s.ix.File(owner, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return f, nil
	}
}

// Locate returns a file's slices with their holders in the order a client
// should try them (whitepaper §4.2.5).
func (s *Server) Locate(ctx context.Context, req *metav1.LocateRequest) (*metav1.LocateResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	if len(req.GetReceiptKey()) != ed25519.PublicKeySize {
		return nil, toStatus(fmt.Errorf("%w: a download names the ed25519 key (%d bytes) its traffic receipts are signed with, this one %d bytes; update the client", ErrInvalid, ed25519.PublicKeySize, len(req.GetReceiptKey())))
	}
	f, err := s.resolve(req.GetOwner(), req.GetPath(), req.GetFileId())
	if err != nil {
		return nil, toStatus(err)
	}
	// The downloader pays for the traffic from its prepay (DESIGN §7).
	reserve, err := s.reservation(ctx, f.GetOwner(), f.GetSize(), 0)
	if err != nil {
		return nil, toStatus(err)
	}
	recs, err := s.nodeRecords()
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &metav1.LocateResponse{File: f}
	for _, ref := range f.GetSlices() {
		sl, err := s.ix.Slice(ref.GetId())
		if err != nil {
			return nil, toStatus(fmt.Errorf("slice %s of %s: %w", ref.GetId(), f.GetPath(), err))
		}
		holders, live := s.orderHolders(sl.GetReplicas(), recs)
		holders = s.assignHolder(f.GetOwner(), ref.GetId(), holders, live)
		resp.Slices = append(resp.Slices, &metav1.LocatedSlice{Slice: ref, Holders: holders})
	}
	task, err := s.openDownload(guard, f.GetOwner(), req.GetReceiptKey(), resp.Slices, reserve)
	if err != nil {
		return nil, toStatus(err)
	}
	resp.TaskId = task.GetId()
	return resp, nil
}

// orderHolders puts live holders first in random order, then suspect ones,
// then the rest: a holder the meta node thinks dead may be back already.
// It also returns how many are live.
func (s *Server) orderHolders(replicas []string, recs map[string]*metav1.NodeRecord) ([]*storagev1.Peer, int) {
	tiers := make([][]*storagev1.Peer, 3)
	for _, id := range replicas {
		r, ok := recs[id]
		if !ok {
			continue
		}
		t := 2
		switch s.health.State(id) {
		case health.Alive:
			t = 0
		case health.Suspect:
			t = 1
		}
		tiers[t] = append(tiers[t], &storagev1.Peer{NodeId: id, Addr: r.GetAddr()})
	}
	var out []*storagev1.Peer
	for _, t := range tiers {
		s.shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
		out = append(out, t...)
	}
	return out, len(tiers[0])
}

// ReportBadReplica handles word that a holder lacks a slice or serves bytes
// that do not match its ID. From a client it is only a suspicion: the node
// is told to check its copy, so a careless or hostile client cannot make the
// meta node drop good replicas. From the node itself, proved by its
// certificate, it is a fact: the replica leaves the index and the slice
// goes to repair.
func (s *Server) ReportBadReplica(ctx context.Context, req *metav1.ReportBadReplicaRequest) (*metav1.ReportBadReplicaResponse, error) {
	sl, err := s.ix.Slice(req.GetSliceId())
	if err != nil {
		return nil, toStatus(err)
	}
	node := req.GetNodeId()
	if !slices.Contains(sl.GetReplicas(), node) {
		return &metav1.ReportBadReplicaResponse{}, nil
	}
	if callerIs(ctx, node) != nil {
		// A downloader's report: signed by the owner of a download task
		// that read this slice from this node (issue 8), so nobody else
		// can make nodes re-read their copies, and rate-limited with the
		// owner's other signed requests.
		if _, err := s.authorize(req, req.GetOwner()); err != nil {
			return nil, toStatus(err)
		}
		if err := s.downloadRead(req.GetTaskId(), req.GetOwner(), sl.GetId()); err != nil {
			return nil, toStatus(err)
		}
		s.queueVerify(node, sl.GetId())
		return &metav1.ReportBadReplicaResponse{}, nil
	}
	s.log.Warn("replica lost", "slice", sl.GetId(), "node_id", node, "missing", req.GetMissing(), "reason", req.GetReason())
	if len(sl.GetReplicas()) == 1 {
		s.log.Error("the last replica of a slice is gone", "slice", sl.GetId())
	}
	if _, err := s.apply(removeReplicas(sl.GetId(), node)); err != nil {
		return nil, toStatus(err)
	}
	s.enqueueRepair(sl.GetId())
	return &metav1.ReportBadReplicaResponse{}, nil
}

// Stat returns a file entry and the index records of its slices.
func (s *Server) Stat(_ context.Context, req *metav1.StatRequest) (*metav1.StatResponse, error) {
	if _, err := s.authorize(req, req.GetOwner()); err != nil {
		return nil, toStatus(err)
	}
	f, err := s.resolve(req.GetOwner(), req.GetPath(), req.GetFileId())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &metav1.StatResponse{File: f}
	for _, ref := range f.GetSlices() {
		sl, err := s.ix.Slice(ref.GetId())
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Slices = append(resp.Slices, sl)
	}
	return resp, nil
}

// List returns one page of a directory.
func (s *Server) List(_ context.Context, req *metav1.ListRequest) (*metav1.ListResponse, error) {
	if _, err := s.authorize(req, req.GetOwner()); err != nil {
		return nil, toStatus(err)
	}
	limit := int(min(req.GetLimit(), index.DefaultListLimit)) // bounds one answer
	entries, more, err := s.ix.List(req.GetOwner(), req.GetDir(), req.GetAfter(), limit)
	if err != nil {
		return nil, toStatus(err)
	}
	return &metav1.ListResponse{Entries: entries, More: more}, nil
}

// Delete removes a file; slices no other file uses are deleted on their
// holders at the holders' next heartbeat.
func (s *Server) Delete(_ context.Context, req *metav1.DeleteRequest) (*metav1.DeleteResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	p, err := index.CleanPath(req.GetPath())
	if err != nil {
		return nil, toStatus(err)
	}
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_DeleteFile{DeleteFile: &metav1.DeleteFileCmd{Owner: req.GetOwner(), Path: p}}})
	if err != nil {
		return nil, toStatus(fmt.Errorf("%s: %w", p, err))
	}
	s.queueDeletes(res.GetReleased())
	return &metav1.DeleteResponse{File: res.GetFile()}, nil
}

// Status reports the network's health.
func (s *Server) Status(context.Context, *metav1.StatusRequest) (*metav1.StatusResponse, error) {
	recs, err := s.ix.Nodes()
	if err != nil {
		return nil, toStatus(err)
	}
	files, slices, err := s.ix.Stats()
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &metav1.StatusResponse{
		MetaNodeId: s.ID(), SliceSize: uint64(s.cfg.SliceSize), Replicas: uint32(s.cfg.Replicas),
		MinReplicas: uint32(s.cfg.MinReplicas), Files: files, Slices: slices,
	}
	if s.leading() {
		// A node may have turned dead since the last repair tick: queue its
		// slices now, so the count below agrees with the states listed.
		s.scanDead()
	}
	resp.UnderReplicated, resp.PendingRepairs = s.repairCounts()
	resp.Self, resp.MetaNodes = s.clusterStatus()
	if resp.IndexRoot, err = s.ix.Root(); err != nil {
		return nil, toStatus(err)
	}
	for _, r := range recs {
		l, _ := s.health.Load(r.GetNodeId())
		ns := &metav1.NodeStatus{Node: r, State: s.health.State(r.GetNodeId()).String(),
			Load: &metav1.NodeLoad{Capacity: l.Capacity, Free: l.Free, Connections: l.Connections, Slices: l.Slices}}
		if t, ok := s.health.LastSeen(r.GetNodeId()); ok {
			ns.LastSeenUnixNano = t.UnixNano()
		}
		if ns.Disputes, err = s.ix.Disputes(r.GetNodeId()); err != nil {
			return nil, toStatus(err)
		}
		resp.Nodes = append(resp.Nodes, ns)
	}
	return resp, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// downloadRead checks that owner's download task taskID read slice (from
// any of its holders: the client moves on from one that fails).
func (s *Server) downloadRead(taskID, owner, sliceID string) error {
	task, err := s.ix.Download(taskID)
	if err != nil {
		return fmt.Errorf("%w: a bad replica is reported under the download task that read it: %w", ErrNotOwner, err)
	}
	if task.GetOwner() != owner {
		return fmt.Errorf("%w: download task %s is not %s's", ErrNotOwner, taskID, owner)
	}
	for _, d := range task.GetSlices() {
		if d.GetSliceId() == sliceID {
			return nil
		}
	}
	return fmt.Errorf("%w: download task %s did not read slice %s", index.ErrBadCommand, taskID, sliceID)
}
