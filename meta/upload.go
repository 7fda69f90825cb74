package meta

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/placement"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// ErrTaskGone is returned for an upload task that expired or already ended.
var ErrTaskGone = errors.New("task is unknown: it expired or already ended")

// BeginUpload checks the namespace and the network's free space and opens an
// upload task (whitepaper §4.2.4 steps 1–2).
func (s *Server) BeginUpload(ctx context.Context, req *metav1.BeginUploadRequest) (*metav1.BeginUploadResponse, error) {
	if _, err := index.CleanPath(req.GetPath()); err != nil {
		return nil, toStatus(err)
	}
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	traffic := mulSat(req.GetSize(), uint64(s.cfg.Replicas)) // every replica is traffic the owner pays
	reserve, err := s.reservation(ctx, req.GetOwner(), traffic, traffic)
	if err != nil {
		return nil, toStatus(err)
	}
	if n := slice.Count(req.GetSize(), s.cfg.SliceSize); len(req.GetSlices()) > n {
		return nil, toStatus(fmt.Errorf("%w: %d slices named for a file of %d slices", index.ErrBadCommand, len(req.GetSlices()), n))
	}
	if err := s.checkSpace(req.GetSize()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_UPLOAD, Owner: req.GetOwner(), Path: req.GetPath(),
		Size: req.GetSize(), Overwrite: req.GetOverwrite(), TtlNanos: int64(s.cfg.TaskTTL),
		Reservation: reserve,
	}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &metav1.BeginUploadResponse{
		TaskId: res.GetTask().GetId(), SliceSize: uint64(s.cfg.SliceSize),
		Replicas: uint32(s.cfg.Replicas), MinReplicas: uint32(s.cfg.MinReplicas),
	}
	for _, ref := range req.GetSlices() {
		p, err := s.place(resp.TaskId, ref, nil, 0, req.GetClientRegion())
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Pipelines = append(resp.Pipelines, p)
	}
	return resp, nil
}

// checkSpace refuses an upload the live nodes cannot hold R times over.
func (s *Server) checkSpace(size uint64) error {
	cands, err := s.candidates()
	if err != nil {
		return err
	}
	if len(cands) < s.cfg.MinReplicas {
		return s.starting(fmt.Errorf("%w: %d resource nodes are alive, an upload needs at least %d", ErrNoSpace, len(cands), s.cfg.MinReplicas))
	}
	var free uint64
	for _, c := range cands {
		free += c.Free
	}
	if need := size * uint64(s.cfg.Replicas); need > free || need/uint64(s.cfg.Replicas) != size {
		err := fmt.Errorf("%w: the file needs %d bytes (%d × %d replicas), the %d live nodes have %d bytes free", ErrNoSpace, need, size, s.cfg.Replicas, len(cands), free)
		if s.unheardAmong(cands) {
			// Right after a start or a change of leader, nodes count as alive
			// with no free space until their first heartbeat here: retry.
			return s.starting(err)
		}
		return err
	}
	return nil
}

// candidates are the live resource nodes with their soft-state load.
func (s *Server) candidates() ([]placement.Node, error) {
	recs, err := s.ix.Nodes()
	if err != nil {
		return nil, err
	}
	out := make([]placement.Node, 0, len(recs))
	for _, r := range recs {
		id := r.GetNodeId()
		if s.health.State(id) != health.Alive || (s.cfg.Chain != nil && !s.chain.has(id, nil)) {
			continue // down, or no longer active on chain
		}
		l, _ := s.health.Load(id)
		out = append(out, placement.Node{
			ID: id, Region: r.GetRegion(), Capacity: l.Capacity, Free: l.Free,
			Uptime: s.health.Uptime(id), Connections: int(l.Connections),
		})
	}
	return out, nil
}

// PlaceSlice returns the pipeline for one slice, or replacement nodes for a
// pipeline that failed (DESIGN §6.2 step 4).
func (s *Server) PlaceSlice(_ context.Context, req *metav1.PlaceSliceRequest) (*metav1.PlaceSliceResponse, error) {
	task, err := s.uploadTask(req.GetTaskId())
	if err != nil {
		return nil, toStatus(err)
	}
	if _, err := s.authorize(req, task.GetOwner()); err != nil {
		return nil, toStatus(err)
	}
	if len(req.GetExclude()) > maxExclude {
		return nil, toStatus(fmt.Errorf("%w: %d nodes excluded, at most %d", index.ErrBadCommand, len(req.GetExclude()), maxExclude))
	}
	if err := s.checkReplacement(task, req.GetSlice(), req.GetExclude(), req.GetTickets()); err != nil {
		return nil, toStatus(err)
	}
	p, err := s.place(task.GetId(), req.GetSlice(), req.GetExclude(), int(req.GetCount()), req.GetClientRegion())
	if err != nil {
		return nil, toStatus(fmt.Errorf("task %s: %w", task.GetId(), err))
	}
	return &metav1.PlaceSliceResponse{Pipeline: p}, nil
}

func (s *Server) uploadTask(id string) (*metav1.Task, error) {
	t, err := s.ix.Task(id)
	if errors.Is(err, index.ErrNotFound) {
		return nil, fmt.Errorf("%w (task %q)", ErrTaskGone, id)
	}
	if err != nil {
		return nil, err
	}
	if t.GetKind() != metav1.TaskKind_TASK_KIND_UPLOAD {
		return nil, fmt.Errorf("%w: task %s is not an upload", index.ErrBadCommand, id)
	}
	if s.now().UnixNano() > t.GetExpiresUnixNano() {
		return nil, fmt.Errorf("%w: task %s", index.ErrTaskExpired, id)
	}
	return t, nil
}

func (s *Server) checkRef(ref *metav1.SliceRef) error {
	if _, err := slice.ParseID(ref.GetId()); err != nil {
		return err
	}
	if ref.GetSize() == 0 || ref.GetSize() > uint64(s.cfg.SliceSize) {
		return fmt.Errorf("%w: slice %s has size %d, want 1..%d", index.ErrBadCommand, ref.GetId(), ref.GetSize(), s.cfg.SliceSize)
	}
	return nil
}

// place chooses count nodes (0: the replica target) for a slice of a task,
// with the signed ticket that lets them store it. When fewer nodes are
// eligible than asked for, it returns as many as there are; the client
// decides whether that reaches the minimum.
//
// It never answers that the network holds the slice already (Pipeline.done):
// a client that only knows a slice's hash could then claim its bytes. A node
// that has the slice still answers a store of it cheaply, after checking
// that the client sent the real bytes.
func (s *Server) place(taskID string, ref *metav1.SliceRef, exclude []string, count int, region string) (*metav1.Pipeline, error) {
	if err := s.checkRef(ref); err != nil {
		return nil, err
	}
	if count <= 0 {
		count = s.cfg.Replicas
	}
	if count > s.cfg.Replicas {
		return nil, fmt.Errorf("%w: asked for %d nodes, at most %d", index.ErrBadCommand, count, s.cfg.Replicas)
	}
	cands, err := s.candidates()
	if err != nil {
		return nil, err
	}
	count = max(1, min(count, len(cands)))
	ex := make(map[string]bool, len(exclude))
	for _, id := range exclude {
		ex[id] = true
	}
	var chosen []placement.Node
	for n := count; n >= 1; n-- {
		chosen, err = s.placer.Place(cands, placement.Request{Count: n, Size: ref.GetSize(), ClientRegion: region, Exclude: ex})
		if !errors.Is(err, placement.ErrNotEnoughNodes) {
			break
		}
	}
	if err != nil {
		return nil, s.starting(err)
	}
	p := &metav1.Pipeline{SliceId: ref.GetId()}
	recs, err := s.nodeRecords()
	if err != nil {
		return nil, err
	}
	for _, c := range chosen {
		p.Nodes = append(p.Nodes, &storagev1.Peer{NodeId: c.ID, Addr: recs[c.ID].GetAddr()})
		s.health.AddConnections(c.ID, 1)
	}
	p.Ticket = s.ticket(taskID, ref, p.Nodes)
	ids := make([]string, len(chosen))
	for i, c := range chosen {
		ids[i] = c.ID
	}
	s.notePlaced(taskID, ref.GetId(), ids)
	return p, nil
}

// maxExclude bounds the nodes a client may exclude from one placement.
const maxExclude = 64

// maxPlacements bounds how many nodes one task may have placed for one
// slice: R, then replacements for failed members.
func (s *Server) maxPlacements() int { return 4 * s.cfg.Replicas }

// checkReplacement keeps a client from steering placement (whitepaper
// §3.2.2: replicas are placed at random): it may exclude only nodes this
// task already placed the slice on (members that failed or hold it), and
// only so many times. The nodes placed are those this leader placed, and
// those named by the tickets the client brings, signed by any meta
// authority: a leader that took over mid-upload learns from them what the
// one before placed. For a task opened before this node led, with neither,
// the client's exclusions (at most maxExclude) are taken as they are, so
// an upload of an older client survives a leader change.
func (s *Server) checkReplacement(task *metav1.Task, ref *metav1.SliceRef, exclude []string, tickets []*storagev1.Ticket) error {
	sliceID := ref.GetId()
	if len(tickets) > s.maxPlacements() {
		return fmt.Errorf("%w: %d tickets for slice %s, at most %d", index.ErrBadCommand, len(tickets), sliceID, s.maxPlacements())
	}
	placed, err := s.placedBy(tickets, task.GetId(), ref)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.orders.byTask[task.GetId()] {
		if p.slice == sliceID {
			placed[p.node] = true
		}
	}
	if len(placed) == 0 && task.GetCreatedUnixNano() < s.started.Load() {
		return nil
	}
	for _, n := range exclude {
		if !placed[n] {
			return fmt.Errorf("%w: node %.16s was never placed for slice %s in this task; only failed pipeline members may be excluded", index.ErrBadCommand, n, sliceID)
		}
	}
	if len(placed) >= s.maxPlacements() {
		return fmt.Errorf("%w: slice %s was placed on %d nodes already, at most %d", ErrNoSpace, sliceID, len(placed), s.maxPlacements())
	}
	return nil
}

// ticket signs the permission for nodes to store one slice of a task; it
// lasts as long as an upload task may.
func (s *Server) ticket(taskID string, ref *metav1.SliceRef, nodes []*storagev1.Peer) *storagev1.Ticket {
	t := &storagev1.Ticket{
		TaskId: taskID, SliceId: ref.GetId(), Size: ref.GetSize(), Nodes: nodes,
		ExpiresUnixNano: s.now().Add(s.cfg.TaskTTL).UnixNano(),
	}
	s.key.SignTicket(t)
	return t
}

func (s *Server) nodeRecords() (map[string]*metav1.NodeRecord, error) {
	recs, err := s.ix.Nodes()
	if err != nil {
		return nil, err
	}
	m := make(map[string]*metav1.NodeRecord, len(recs))
	for _, r := range recs {
		m[r.GetNodeId()] = r
	}
	return m, nil
}

// CommitUpload makes a file visible once every slice has at least the
// minimum number of replicas, each proved by a receipt signed by the node
// that holds it (DESIGN §6.2 step 5). Committing the same task and file ID
// again returns the committed file, so a client may retry a commit whose
// answer it lost.
func (s *Server) CommitUpload(_ context.Context, req *metav1.CommitUploadRequest) (*metav1.CommitUploadResponse, error) {
	if f := s.recentCommit(req.GetTaskId(), req.GetFileId()); f != nil {
		if _, err := s.authorize(req, f.GetOwner()); err != nil {
			return nil, toStatus(err)
		}
		return &metav1.CommitUploadResponse{File: f}, nil
	}
	task, err := s.uploadTask(req.GetTaskId())
	if err != nil {
		return nil, toStatus(err)
	}
	guard, err := s.authorize(req, task.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	if n := slice.Count(task.GetSize(), s.cfg.SliceSize); len(req.GetSlices()) != n {
		return nil, toStatus(fmt.Errorf("%w: %d slices committed for a file of %d bytes, which has %d", index.ErrBadCommand, len(req.GetSlices()), task.GetSize(), n))
	}
	// Signatures are checked before taking the apply lock: a large file's
	// receipts take a while, and other commands need not wait for them.
	file := &metav1.FileEntry{Owner: task.GetOwner(), Path: task.GetPath(), FileId: req.GetFileId(), Object: req.GetObject(), Encrypted: req.GetEncrypted()}
	var sets []*metav1.ReplicaSet
	var thin []string
	for _, up := range req.GetSlices() {
		holders, err := s.verifySlice(task.GetId(), up)
		if err != nil {
			return nil, toStatus(err)
		}
		if len(holders) < s.cfg.Replicas {
			thin = append(thin, up.GetSlice().GetId())
		}
		file.Slices = append(file.Slices, up.GetSlice())
		file.Size += up.GetSlice().GetSize()
		sets = append(sets, &metav1.ReplicaSet{NodeIds: holders})
	}
	if file.Size != task.GetSize() {
		return nil, toStatus(fmt.Errorf("%w: the slices hold %d bytes, the upload announced %d", index.ErrBadCommand, file.Size, task.GetSize()))
	}
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_CommitFile{CommitFile: &metav1.CommitFileCmd{
		TaskId: task.GetId(), File: file, Replicas: sets, CountTraffic: true}}})
	if err != nil {
		return nil, toStatus(err)
	}
	s.rememberCommit(task.GetId(), res.GetFile())
	s.forgetTask(task.GetId())
	s.queueDeletes(res.GetReleased())
	for _, id := range thin {
		s.enqueueRepair(id)
	}
	s.log.Debug("file committed", "owner", file.Owner, "path", file.Path, "file_id", file.FileId, "size", file.Size)
	return &metav1.CommitUploadResponse{File: res.GetFile()}, nil
}

// verifySlice checks the receipts for one slice and returns the nodes they
// prove hold it.
func (s *Server) verifySlice(taskID string, up *metav1.UploadedSlice) ([]string, error) {
	ref := up.GetSlice()
	if err := s.checkRef(ref); err != nil {
		return nil, err
	}
	if len(up.GetReceipts()) > maxExclude {
		return nil, fmt.Errorf("%w: %d receipts for slice %s", index.ErrBadCommand, len(up.GetReceipts()), ref.GetId())
	}
	if len(up.GetTickets()) > maxExclude {
		return nil, fmt.Errorf("%w: %d tickets for slice %s", index.ErrBadCommand, len(up.GetTickets()), ref.GetId())
	}
	placed, err := s.placedBy(up.GetTickets(), taskID, ref)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var holders []string
	for _, r := range up.GetReceipts() {
		if err := s.verifyReceipt(r, taskID, ref); err != nil {
			return nil, err
		}
		if !placed[r.GetNodeId()] {
			return nil, fmt.Errorf("%w: node %.16s holds slice %s, but no ticket of this task placed it there", identity.ErrBadTicket, r.GetNodeId(), ref.GetId())
		}
		if !seen[r.GetNodeId()] {
			seen[r.GetNodeId()] = true
			holders = append(holders, r.GetNodeId())
		}
	}
	if len(holders) < s.cfg.MinReplicas {
		return nil, fmt.Errorf("%w: slice %s has %d, the minimum is %d", ErrUnderReplica, ref.GetId(), len(holders), s.cfg.MinReplicas)
	}
	return holders, nil
}

func (s *Server) verifyReceipt(r *storagev1.Receipt, taskID string, ref *metav1.SliceRef) error {
	if r.GetTaskId() != taskID || r.GetSliceId() != ref.GetId() || r.GetSize() != ref.GetSize() {
		return fmt.Errorf("%w: receipt from %s is for task %s slice %s (%d bytes), want task %s slice %s (%d bytes)",
			identity.ErrBadSignature, r.GetNodeId(), r.GetTaskId(), r.GetSliceId(), r.GetSize(), taskID, ref.GetId(), ref.GetSize())
	}
	rec, err := s.ix.Node(r.GetNodeId())
	if err != nil {
		return fmt.Errorf("%w: receipt from %s", ErrUnknownNode, r.GetNodeId())
	}
	return identity.VerifyReceipt(rec.GetPublicKey(), r)
}

// placedBy returns the nodes the given tickets, signed by this meta node for
// this task and slice, placed the slice on.
func (s *Server) placedBy(tickets []*storagev1.Ticket, taskID string, ref *metav1.SliceRef) (map[string]bool, error) {
	placed := map[string]bool{}
	for _, t := range tickets {
		if err := identity.VerifyTicket(t, s.isAuthority, s.now()); err != nil {
			return nil, err
		}
		if t.GetTaskId() != taskID || t.GetSliceId() != ref.GetId() || t.GetSize() != ref.GetSize() {
			return nil, fmt.Errorf("%w: a ticket for task %s slice %s came with task %s slice %s", identity.ErrBadTicket, t.GetTaskId(), t.GetSliceId(), taskID, ref.GetId())
		}
		for _, p := range t.GetNodes() {
			placed[p.GetNodeId()] = true
		}
	}
	return placed, nil
}

// commitMemory is how many committed tasks a meta node remembers, so a
// client that repeats a commit whose answer it lost gets the same file.
const commitMemory = 4096

// commitMemo remembers the files of the last committed tasks; it owns its
// state behind its own lock.
type commitMemo struct {
	mu    sync.Mutex
	max   int
	files map[string]*metav1.FileEntry // by task ID
	order []string                     // task IDs, oldest first
}

func newCommitMemo(max int) *commitMemo {
	return &commitMemo{max: max, files: make(map[string]*metav1.FileEntry, max)}
}

// get returns the file task committed, if it was fileID.
func (m *commitMemo) get(taskID, fileID string) *metav1.FileEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.files[taskID]; f != nil && f.GetFileId() == fileID {
		return f
	}
	return nil
}

// put remembers the file task committed, forgetting the oldest past max.
func (m *commitMemo) put(taskID string, f *metav1.FileEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[taskID] = f
	m.order = append(m.order, taskID)
	if len(m.order) > m.max {
		delete(m.files, m.order[0])
		m.order = m.order[1:]
	}
}

func (s *Server) recentCommit(taskID, fileID string) *metav1.FileEntry {
	return s.commits.get(taskID, fileID)
}

func (s *Server) rememberCommit(taskID string, f *metav1.FileEntry) { s.commits.put(taskID, f) }

// AbortUpload ends a task. Slices it stored are not in the index, so the
// nodes delete them after their orphan grace.
func (s *Server) AbortUpload(_ context.Context, req *metav1.AbortUploadRequest) (*metav1.AbortUploadResponse, error) {
	t, err := s.ix.Task(req.GetTaskId())
	if errors.Is(err, index.ErrNotFound) {
		return &metav1.AbortUploadResponse{}, nil
	}
	if err != nil {
		return nil, toStatus(err)
	}
	guard, err := s.authorize(req, t.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	defer s.forgetTask(req.GetTaskId())
	_, err = s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_EndTask{EndTask: &metav1.EndTaskCmd{TaskId: req.GetTaskId()}}})
	if err != nil && !errors.Is(err, index.ErrNotFound) {
		return nil, toStatus(err)
	}
	return &metav1.AbortUploadResponse{}, nil
}
