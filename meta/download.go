package meta

import (
	"context"
	"fmt"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// downloadTask is what a Locate handed out, kept so the downloader's
// report can be checked against it (soft state: a restart forgets it, and
// its traffic goes uncounted).
type downloadTask struct {
	owner   string
	slices  map[string]*metav1.LocatedSlice
	expires time.Time
	counted map[[2]string]bool // (slice, node) already counted
}

// maxDownloads bounds the download tasks remembered at once.
const maxDownloads = 10_000

func (s *Server) rememberDownload(id, owner string, located []*metav1.LocatedSlice) {
	t := &downloadTask{owner: owner, slices: map[string]*metav1.LocatedSlice{}, expires: s.now().Add(s.cfg.TaskTTL), counted: map[[2]string]bool{}}
	for _, ls := range located {
		t.slices[ls.GetSlice().GetId()] = ls
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.downloads) >= maxDownloads {
		now := s.now()
		for k, d := range s.downloads {
			if now.After(d.expires) {
				delete(s.downloads, k)
			}
		}
		if len(s.downloads) >= maxDownloads {
			return // too many open downloads: this one's traffic goes uncounted
		}
	}
	s.downloads[id] = t
}

// ReportDownload counts the traffic of a download (DESIGN §7): each
// receipt was signed by the holder that served the bytes, and the request
// by the owner who received them. Only the holder the Locate assigned to a
// slice (the first of its random order) counts, once, for at most the
// slice's size: a client that fetches from another holder, a friend of its
// choosing, earns that holder nothing (whitepaper §3.2.2, condition 3: the
// download holder is assigned at random by the leader).
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
		ls := t.slices[r.GetSliceId()]
		if ls == nil || r.GetSize() > ls.GetSlice().GetSize() ||
			len(ls.GetHolders()) == 0 || ls.GetHolders()[0].GetNodeId() != r.GetNodeId() {
			continue // not this download's assigned holder
		}
		if err := s.verifyReceipt(r, req.GetTaskId(), &metav1.SliceRef{Id: r.GetSliceId(), Size: r.GetSize()}); err != nil {
			return nil, toStatus(err)
		}
		key := [2]string{r.GetSliceId(), r.GetNodeId()}
		s.mu.Lock()
		dup := t.counted[key]
		t.counted[key] = true
		s.mu.Unlock()
		if !dup {
			s.traffic.Add(r.GetNodeId(), t.owner, r.GetSize())
			counted += r.GetSize()
		}
	}
	return &metav1.ReportDownloadResponse{CountedBytes: counted}, nil
}
