package meta

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
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

// openDownload opens the download task of a Locate in the log: the holder
// each slice was assigned to, and the reservation of its traffic, so the
// downloader's report counts on whichever meta node leads by then.
func (s *Server) openDownload(guard *metav1.RequestGuard, owner string, located []*metav1.LocatedSlice, reserve *metav1.Reservation) (*metav1.DownloadTask, error) {
	c := &metav1.OpenDownloadCmd{Owner: owner, ExpiresUnixNano: s.now().Add(s.cfg.TaskTTL).UnixNano(), Reservation: reserve}
	for _, ls := range located {
		if len(ls.GetHolders()) > 0 && ls.GetSlice().GetSize() > 0 {
			c.Slices = append(c.Slices, &metav1.DownloadSlice{
				SliceId: ls.GetSlice().GetId(), NodeId: ls.GetHolders()[0].GetNodeId(), Size: ls.GetSlice().GetSize()})
		}
	}
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_OpenDownload{OpenDownload: c}})
	if err != nil {
		return nil, err
	}
	return res.GetDownload(), nil
}

// ReportDownload counts the traffic of a download (DESIGN §7): each
// receipt was signed by the holder that served the bytes (as a fetch, not
// a store), and the request by the owner who received them. Only the
// holder assigned to a slice counts, once per download, for at most the
// slice's size (the index checks that against the task). Receipts that do
// not qualify are skipped.
func (s *Server) ReportDownload(_ context.Context, req *metav1.ReportDownloadRequest) (*metav1.ReportDownloadResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	t, err := s.ix.Download(req.GetTaskId())
	if err != nil || t.GetOwner() != req.GetOwner() || s.now().UnixNano() > t.GetExpiresUnixNano() {
		return nil, toStatus(fmt.Errorf("%w (download %q)", ErrTaskGone, req.GetTaskId()))
	}
	assigned := make(map[string]string, len(t.GetSlices()))
	for _, sl := range t.GetSlices() {
		assigned[sl.GetSliceId()] = sl.GetNodeId()
	}
	c := &metav1.CountDownloadCmd{TaskId: t.GetId(), Owner: t.GetOwner()}
	for _, r := range req.GetReceipts() {
		if assigned[r.GetSliceId()] != r.GetNodeId() || r.GetTaskId() != t.GetId() || r.GetSize() == 0 {
			continue
		}
		rec, err := s.ix.Node(r.GetNodeId())
		if err != nil || identity.VerifyFetchReceipt(rec.GetPublicKey(), r) != nil {
			continue
		}
		c.Served = append(c.Served, &metav1.DownloadSlice{SliceId: r.GetSliceId(), NodeId: r.GetNodeId(), Size: r.GetSize()})
	}
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_CountDownload{CountDownload: c}})
	if errors.Is(err, index.ErrNotFound) || errors.Is(err, index.ErrTaskExpired) {
		return nil, toStatus(fmt.Errorf("%w (download %q): %w", ErrTaskGone, req.GetTaskId(), err))
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &metav1.ReportDownloadResponse{CountedBytes: res.GetCountedBytes()}, nil
}
