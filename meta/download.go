package meta

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// downloadTask is what a Locate assigned, kept so the downloader's report
// can be checked against it (soft state: a restart forgets it, and its
// traffic goes uncounted).
type downloadTask struct {
	owner    string
	assigned map[string]assignment // slice ID → its assigned holder
	expires  time.Time
	counted  map[string]bool // slices already counted
}

type assignment struct {
	node string
	size uint64
}

// Bounds on the download tasks remembered: in all, and per owner, so one
// account's Locates cannot crowd out everyone else's traffic.
const (
	maxDownloads         = 10_000
	maxDownloadsPerOwner = 64
)

// assignHolder picks the holder a download of a slice is assigned to
// (whitepaper §3.2.2, condition 3): among the live holders, by a hash of
// the ledger period, the owner and the slice, so it is random to the owner
// yet the same for every Locate in a period; asking again cannot pick a
// friend. It returns holders with the assigned one first.
func (s *Server) assignHolder(owner, sliceID string, holders []*storagev1.Peer, live int) []*storagev1.Peer {
	if live == 0 {
		return holders
	}
	first := slices.Clone(holders[:live])
	slices.SortFunc(first, func(a, b *storagev1.Peer) int { return strings.Compare(a.GetNodeId(), b.GetNodeId()) })
	var b []byte
	b = binary.BigEndian.AppendUint64(b, s.period())
	b = append(b, owner...)
	b = append(b, 0)
	b = append(b, sliceID...)
	sum := sha256.Sum256(b)
	pick := first[binary.BigEndian.Uint64(sum[:8])%uint64(len(first))]
	out := []*storagev1.Peer{pick}
	for _, h := range holders {
		if h != pick {
			out = append(out, h)
		}
	}
	return out
}

// rememberDownload keeps what a Locate assigned, and reports whether it did.
func (s *Server) rememberDownload(id, owner string, located []*metav1.LocatedSlice) bool {
	t := &downloadTask{owner: owner, assigned: map[string]assignment{}, expires: s.now().Add(s.cfg.TaskTTL), counted: map[string]bool{}}
	for _, ls := range located {
		if len(ls.GetHolders()) > 0 {
			t.assigned[ls.GetSlice().GetId()] = assignment{ls.GetHolders()[0].GetNodeId(), ls.GetSlice().GetSize()}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now, mine := s.now(), 0
	for k, d := range s.downloads {
		if now.After(d.expires) {
			delete(s.downloads, k)
		} else if d.owner == owner {
			mine++
		}
	}
	if len(s.downloads) >= maxDownloads || mine >= maxDownloadsPerOwner {
		return false // this download's traffic goes uncounted
	}
	s.downloads[id] = t
	return true
}

// ReportDownload counts the traffic of a download (DESIGN §7): each
// receipt was signed by the holder that served the bytes (as a fetch, not
// a store), and the request by the owner who received them. Only the
// holder assigned to a slice counts, once per download, for at most the
// slice's size. Receipts that do not qualify are skipped.
func (s *Server) ReportDownload(_ context.Context, req *metav1.ReportDownloadRequest) (*metav1.ReportDownloadResponse, error) {
	if err := s.authorize(req, req.GetOwner()); err != nil {
		return nil, toStatus(err)
	}
	s.mu.Lock()
	t := s.downloads[req.GetTaskId()]
	s.mu.Unlock()
	if t == nil || t.owner != req.GetOwner() || s.now().After(t.expires) {
		return nil, toStatus(fmt.Errorf("%w (download %q)", ErrTaskGone, req.GetTaskId()))
	}
	var counted uint64
	for _, r := range req.GetReceipts() {
		if !s.downloadReceiptOK(t, req.GetTaskId(), r) {
			continue
		}
		s.mu.Lock()
		dup := t.counted[r.GetSliceId()]
		t.counted[r.GetSliceId()] = true
		s.mu.Unlock()
		if !dup {
			s.traffic.Add(r.GetNodeId(), t.owner, r.GetSize())
			counted += r.GetSize()
		}
	}
	s.release(t.owner, req.GetTaskId()) // what it served is in the ledger now
	return &metav1.ReportDownloadResponse{CountedBytes: counted}, nil
}

// downloadReceiptOK checks one receipt against the download task.
func (s *Server) downloadReceiptOK(t *downloadTask, taskID string, r *storagev1.Receipt) bool {
	a, ok := t.assigned[r.GetSliceId()]
	if !ok || a.node != r.GetNodeId() || r.GetTaskId() != taskID || r.GetSize() == 0 || r.GetSize() > a.size {
		return false
	}
	rec, err := s.ix.Node(r.GetNodeId())
	return err == nil && identity.VerifyFetchReceipt(rec.GetPublicKey(), r) == nil
}
