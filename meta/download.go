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
	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/traffic"
	"github.com/stratos-net/stratos/wire"
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
// each slice was assigned to, the downloader's receipt key, and the
// reservation of its traffic, so either side's report counts on whichever
// meta node leads by then. It returns the task and a fetch ticket for each
// located slice's assigned holder.
func (s *Server) openDownload(guard *metav1.RequestGuard, owner string, receiptKey []byte, located []*metav1.LocatedSlice, reserve *metav1.Reservation) (*metav1.DownloadTask, error) {
	c := &metav1.OpenDownloadCmd{Owner: owner, ExpiresUnixNano: s.now().Add(s.cfg.TaskTTL).UnixNano(), Reservation: reserve,
		ReceiptKey: receiptKey, Window: s.cfg.FetchWindow}
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
	task := res.GetDownload()
	for _, ls := range located {
		if len(ls.GetHolders()) > 0 && ls.GetSlice().GetSize() > 0 {
			ls.Ticket = s.fetchTicket(task, ls.GetSlice().GetId(), ls.GetHolders()[0].GetNodeId(), ls.GetSlice().GetSize())
		}
	}
	return task, nil
}

// fetchTicket signs the permission for node to serve a slice's bytes to
// the task's downloader, until the task expires (DESIGN §7).
func (s *Server) fetchTicket(task *metav1.DownloadTask, sliceID, node string, size uint64) *storagev1.FetchTicket {
	t := &storagev1.FetchTicket{
		TaskId: task.GetId(), Owner: task.GetOwner(), SliceId: sliceID, Length: size, NodeId: node,
		ReceiptKey: task.GetReceiptKey(), Window: task.GetWindow(), ExpiresUnixNano: task.GetExpiresUnixNano(),
	}
	s.key.SignFetchTicket(t)
	return t
}

// Reassign moves a slice of a download off its assigned holder, which
// failed the downloader, to another live holder the leader picks at random
// among those not yet tried in this task. When the meta node thinks the
// failed holder alive, the new holder's bytes are charged but earn it no
// credit: claiming failures cannot steer paid traffic to a friend
// (whitepaper §3.2.2 condition 3).
func (s *Server) Reassign(_ context.Context, req *metav1.ReassignRequest) (*metav1.ReassignResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	t, err := s.ix.Download(req.GetTaskId())
	if err != nil || t.GetOwner() != req.GetOwner() || s.now().UnixNano() > t.GetExpiresUnixNano() {
		return nil, toStatus(fmt.Errorf("%w (download %q)", ErrTaskGone, req.GetTaskId()))
	}
	tried := map[string]bool{}
	var current *metav1.DownloadSlice
	for _, sl := range t.GetSlices() {
		if sl.GetSliceId() == req.GetSliceId() {
			tried[sl.GetNodeId()], current = true, sl
		}
	}
	if current == nil {
		return nil, toStatus(fmt.Errorf("%w: slice %.80q is not part of download %s", ErrInvalid, req.GetSliceId(), t.GetId()))
	}
	if current.GetNodeId() != req.GetFailedNode() {
		return nil, toStatus(fmt.Errorf("%w: slice %s of download %s is assigned to %s, not %.80q", ErrInvalid, current.GetSliceId(), t.GetId(), current.GetNodeId(), req.GetFailedNode()))
	}
	sl, err := s.ix.Slice(current.GetSliceId())
	if err != nil {
		return nil, toStatus(err)
	}
	recs, err := s.nodeRecords()
	if err != nil {
		return nil, toStatus(err)
	}
	var rest []string
	for _, id := range sl.GetReplicas() {
		if !tried[id] {
			rest = append(rest, id)
		}
	}
	holders, _ := s.orderHolders(rest, recs)
	if len(holders) == 0 {
		return nil, toStatus(fmt.Errorf("%w: every holder of slice %s has been tried by download %s", ErrNoHolder, current.GetSliceId(), t.GetId()))
	}
	next := holders[0]
	uncredited := s.health.State(req.GetFailedNode()) == health.Alive
	c := &metav1.ReassignCmd{TaskId: t.GetId(), Owner: t.GetOwner(), SliceId: current.GetSliceId(), FailedNode: current.GetNodeId(),
		NodeId: next.GetNodeId(), Uncredited: uncredited}
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_Reassign{Reassign: c}})
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("download reassigned", "task", t.GetId(), "slice", current.GetSliceId(), "from", current.GetNodeId(), "to", next.GetNodeId(),
		"credited", !uncredited, "reason", clipReason(req.GetReason()))
	return &metav1.ReassignResponse{Holder: next, Ticket: s.fetchTicket(res.GetDownload(), current.GetSliceId(), next.GetNodeId(), current.GetSize())}, nil
}

func clipReason(r string) string {
	if len(r) > 200 {
		return r[:200] + "..."
	}
	return r
}

// served is what a receipt proves for a download task: nil unless the task
// assigned the receipt's slice to its node and the task's receipt key
// signed it.
func served(t *metav1.DownloadTask, r *storagev1.TrafficReceipt) *metav1.DownloadSlice {
	if r.GetTaskId() != t.GetId() || r.GetBytes() == 0 {
		return nil
	}
	for _, sl := range t.GetSlices() {
		if sl.GetSliceId() == r.GetSliceId() && sl.GetNodeId() == r.GetNodeId() {
			if identity.VerifyTrafficReceipt(t.GetReceiptKey(), r) != nil {
				return nil
			}
			return &metav1.DownloadSlice{SliceId: r.GetSliceId(), NodeId: r.GetNodeId(), Size: r.GetBytes()}
		}
	}
	return nil
}

// ReportDownload is the downloader's side of a download's traffic (DESIGN
// §7): the latest receipt it signed for each slice and holder, under the
// owner's request signature. The meta node counts what the receipts say,
// once: a node that reported the same receipt already has it counted.
// Receipts that do not qualify are skipped. Finished gives back what the
// download reserved and did not use.
func (s *Server) ReportDownload(_ context.Context, req *metav1.ReportDownloadRequest) (*metav1.ReportDownloadResponse, error) {
	guard, err := s.authorize(req, req.GetOwner())
	if err != nil {
		return nil, toStatus(err)
	}
	if len(req.GetReceipts()) > maxReceiptsPerReport {
		return nil, toStatus(fmt.Errorf("%w: %d receipts in one report, at most %d", ErrInvalid, len(req.GetReceipts()), maxReceiptsPerReport))
	}
	t, err := s.ix.Download(req.GetTaskId())
	if err != nil || t.GetOwner() != req.GetOwner() || s.now().UnixNano() > t.GetExpiresUnixNano() {
		return nil, toStatus(fmt.Errorf("%w (download %q)", ErrTaskGone, req.GetTaskId()))
	}
	c := &metav1.CountDownloadCmd{TaskId: t.GetId(), Owner: t.GetOwner(), Finished: req.GetFinished()}
	for _, r := range req.GetReceipts() {
		if sv := served(t, r); sv != nil {
			c.Served = append(c.Served, sv)
		}
	}
	n, err := s.count(guard, c)
	if err != nil {
		return nil, toStatus(err)
	}
	return &metav1.ReportDownloadResponse{CountedBytes: n}, nil
}

// maxReceiptsPerReport bounds one report's receipts, from a downloader or
// a node: a report is checked before anything in it is counted.
const maxReceiptsPerReport = 4096

func (s *Server) count(guard *metav1.RequestGuard, c *metav1.CountDownloadCmd) (uint64, error) {
	res, err := s.apply(&metav1.Command{Guard: guard, Op: &metav1.Command_CountDownload{CountDownload: c}})
	if errors.Is(err, index.ErrNotFound) || errors.Is(err, index.ErrTaskExpired) {
		return 0, fmt.Errorf("%w (download %q): %w", ErrTaskGone, c.GetTaskId(), err)
	}
	return res.GetCountedBytes(), err
}

// ReportTraffic is a resource node's side (DESIGN §7): the latest receipt
// each downloader signed for what the node served, with what the node says
// it sent. The meta node counts what the downloader signed, exactly as if
// the downloader had reported it, so a node's credit never depends on the
// downloader choosing to report. A node that says it sent more than the
// receipt plus the ticket's window is disputed: it gets nothing extra, and
// its standing drops.
func (s *Server) ReportTraffic(ctx context.Context, req *metav1.ReportTrafficRequest) (*metav1.ReportTrafficResponse, error) {
	node, ok := wire.PeerID(ctx)
	if !ok {
		return nil, toStatus(fmt.Errorf("%w: only a resource node reports the traffic it served, and the caller presented no node certificate", ErrNotNode))
	}
	if _, err := s.ix.Node(node); err != nil {
		return nil, toStatus(fmt.Errorf("%w: node %s is not registered", ErrNotNode, node))
	}
	if len(req.GetClaims()) > maxReceiptsPerReport {
		return nil, toStatus(fmt.Errorf("%w: %d claims in one report, at most %d", ErrInvalid, len(req.GetClaims()), maxReceiptsPerReport))
	}
	tasks := map[string]*metav1.DownloadTask{} // nil: over, or never was
	byTask := map[string]*metav1.CountDownloadCmd{}
	var order []string
	for _, cl := range req.GetClaims() {
		r := cl.GetReceipt()
		if r.GetNodeId() != node {
			continue
		}
		t, seen := tasks[r.GetTaskId()]
		if !seen {
			if t, _ = s.ix.Download(r.GetTaskId()); t != nil && s.now().UnixNano() > t.GetExpiresUnixNano() {
				t = nil
			}
			tasks[r.GetTaskId()] = t
		}
		sv := (*metav1.DownloadSlice)(nil)
		if t != nil {
			sv = served(t, r)
		}
		if sv == nil {
			continue // over (the downloader's report settled it, or it lapsed), or not a receipt for this node
		}
		c := byTask[t.GetId()]
		if c == nil {
			c = &metav1.CountDownloadCmd{TaskId: t.GetId(), Owner: t.GetOwner()}
			byTask[t.GetId()], order = c, append(order, t.GetId())
		}
		c.Served = append(c.Served, sv)
		if cl.GetSent() > traffic.AddBytes(r.GetBytes(), t.GetWindow()) && !slices.Contains(c.Disputed, node) {
			c.Disputed = append(c.Disputed, node)
		}
	}
	var total uint64
	for _, id := range order {
		n, err := s.count(nil, byTask[id])
		if err != nil {
			if errors.Is(err, ErrTaskGone) {
				continue
			}
			return nil, toStatus(err)
		}
		total = traffic.AddBytes(total, n)
	}
	return &metav1.ReportTrafficResponse{CountedBytes: total}, nil
}
