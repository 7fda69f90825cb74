package meta

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// The receipt key of the tests' downloads (a fixed seed: the same on
// every run).
var (
	testReceiptKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	testReceiptPub = testReceiptKey.Public().(ed25519.PublicKey)
)

// download is one located file of a test, with its nodes by ID.
type download struct {
	h    *harness
	loc  *metav1.LocateResponse
	byID map[string]*testNode
}

func (h *harness) locate(path string) *download {
	h.t.Helper()
	loc, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, Path: path})
	if err != nil {
		h.t.Fatal(err)
	}
	d := &download{h: h, loc: loc, byID: map[string]*testNode{}}
	for _, n := range h.nodes {
		d.byID[n.id] = n
	}
	return d
}

// receipt is what the downloader signs for bytes of slice i from node.
func (d *download) receipt(i int, node string, bytes uint64) *storagev1.TrafficReceipt {
	r := &storagev1.TrafficReceipt{TaskId: d.loc.GetTaskId(), SliceId: d.loc.GetSlices()[i].GetSlice().GetId(), NodeId: node, Bytes: bytes}
	identity.SignTrafficReceipt(testReceiptKey, r)
	return r
}

func (d *download) report(finished bool, rs ...*storagev1.TrafficReceipt) (uint64, error) {
	resp, err := d.h.s.ReportDownload(ctx, &metav1.ReportDownloadRequest{Owner: testOwner, TaskId: d.loc.GetTaskId(), Receipts: rs, Finished: finished})
	return resp.GetCountedBytes(), err
}

// claim is the node's own report of a receipt, saying it sent sent bytes.
func (d *download) claim(n *testNode, r *storagev1.TrafficReceipt, sent uint64) (uint64, error) {
	resp, err := d.h.s.ReportTraffic(n.ctx, &metav1.ReportTrafficRequest{Claims: []*metav1.TrafficClaim{{Receipt: r, Sent: sent}}})
	return resp.GetCountedBytes(), err
}

// nodeTraffic is the node's traffic in the ledger.
func (h *harness) nodeTraffic(id string) uint64 {
	h.t.Helper()
	n, err := h.s.ix.NodeTraffic(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// reportedTraffic is each node's traffic in the period's volume report.
func (h *harness) reportedTraffic() map[string]uint64 {
	h.t.Helper()
	fr := &fakeReporter{}
	h.s.cfg.Reporter = fr
	h.s.report(ctx, 1)
	out := map[string]uint64{}
	for _, v := range fr.report.Nodes {
		out[v.ID] = v.Bytes
	}
	return out
}

// DESIGN §7: a Locate gives each slice a ticket, signed by the meta node,
// for the holder it assigned, naming the downloader's receipt key, the
// task, the slice's bytes and the window; a Locate without a receipt key
// is refused.
func TestLocateTickets(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("d")
	h.upload("/d", f, h.nodes[:3]...)
	d := h.locate("/d")
	for i, ls := range d.loc.GetSlices() {
		tk := ls.GetTicket()
		if err := identity.VerifyFetchTicket(tk, ls.GetHolders()[0].GetNodeId(), identity.Only(h.s.ID()), h.clock.Now()); err != nil {
			t.Fatalf("slice %d: %v", i, err)
		}
		if tk.GetTaskId() != d.loc.GetTaskId() || tk.GetSliceId() != ls.GetSlice().GetId() || tk.GetLength() != ls.GetSlice().GetSize() ||
			tk.GetOwner() != testOwner || string(tk.GetReceiptKey()) != string(testReceiptPub) || tk.GetWindow() != h.cfg.FetchWindow {
			t.Fatalf("slice %d: ticket %v", i, tk)
		}
		if err := identity.VerifyFetchTicket(tk, ls.GetHolders()[1].GetNodeId(), identity.Only(h.s.ID()), h.clock.Now()); err == nil {
			t.Fatal("a ticket for the assigned holder lets another holder serve")
		}
	}
	_, err := h.s.Locate(ctx, &metav1.LocateRequest{Owner: testOwner, Path: "/d"})
	wantCode(t, err, codes.InvalidArgument)
}

// DESIGN §7: traffic counts what the downloader signed for, whoever
// brings the receipt: the client, the node, or both, once. Receipts are
// cumulative; only the assigned holder is credited; a receipt not signed
// with the task's key counts nothing.
func TestReportDownload(t *testing.T) {
	h := newHarness(t, 4)
	f := newFile("d")
	h.upload("/d", f, h.nodes[:3]...)
	d := h.locate("/d")
	ref := d.loc.GetSlices()[0].GetSlice()
	holder := d.byID[d.loc.GetSlices()[0].GetHolders()[0].GetNodeId()]
	size := ref.GetSize()

	if n, err := d.claim(holder, d.receipt(0, holder.id, size/2), size/2); err != nil || n != size/2 {
		t.Fatalf("node's claim = %d, %v; want %d counted", n, err, size/2)
	}
	if n, _ := d.report(false, d.receipt(0, holder.id, size/2)); n != 0 {
		t.Fatal("the client's copy of a receipt the node brought was counted again")
	}
	if n, _ := d.report(false, d.receipt(0, holder.id, size)); n != size-size/2 {
		t.Fatalf("a later cumulative receipt counted %d, want the %d beyond the first", n, size-size/2)
	}
	if n, _ := d.claim(holder, d.receipt(0, holder.id, size), size); n != 0 {
		t.Fatal("the same receipt was counted twice")
	}
	// whitepaper §3.2.2: the leader assigns the download holder; another
	// holder, or a node without the slice, earns nothing.
	other := d.byID[d.loc.GetSlices()[0].GetHolders()[1].GetNodeId()]
	if n, _ := d.report(false, d.receipt(0, other.id, size)); n != 0 {
		t.Fatal("a holder the meta node did not assign was counted")
	}
	if n, _ := d.claim(h.nodes[3], d.receipt(0, h.nodes[3].id, size), size); n != 0 {
		t.Fatal("a node that does not hold the slice was counted")
	}
	forged := d.receipt(0, holder.id, size)
	forged.Bytes++ // not what was signed
	if n, _ := d.claim(holder, forged, size); n != 0 {
		t.Fatal("a receipt whose signature does not match was counted")
	}
	// A receipt the node signed itself, with a key that is not the task's.
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 1
	selfSigned := &storagev1.TrafficReceipt{TaskId: d.loc.GetTaskId(), SliceId: ref.GetId(), NodeId: holder.id, Bytes: size}
	identity.SignTrafficReceipt(ed25519.NewKeyFromSeed(seed), selfSigned)
	if n, _ := d.claim(holder, selfSigned, size); n != 0 {
		t.Fatal("a receipt not signed with the download's receipt key was counted")
	}
	_, err := h.s.ReportDownload(ctx, &metav1.ReportDownloadRequest{Owner: testOwner, TaskId: "dnope", Receipts: []*storagev1.TrafficReceipt{d.receipt(0, holder.id, 1)}})
	wantCode(t, err, codes.FailedPrecondition)
	if _, err := h.s.ReportTraffic(ctx, &metav1.ReportTrafficRequest{}); err == nil {
		t.Fatal("a traffic report without a node certificate was taken")
	}

	// The counted bytes reach the period's report, with the upload's; the
	// claims above that nobody signed for reach it with nothing (issue 8: a
	// node reporting transfers that never happened earns nothing).
	reported := h.reportedTraffic()
	if got := reported[holder.id]; got != f.size+size {
		t.Fatalf("holder's traffic %d, want upload %d + download %d", got, f.size, size)
	}
	if got := reported[other.id]; got != f.size {
		t.Fatalf("the holder not assigned reported %d bytes, want its upload's %d alone", got, f.size)
	}
	if got, ok := reported[h.nodes[3].id]; ok {
		t.Fatalf("a node that served nothing is in the report with %d bytes", got)
	}
}

// DESIGN §7: a node that claims more than its downloader signed for (by
// more than the window) gets nothing extra, and its standing drops.
func TestDisputedClaim(t *testing.T) {
	h := newHarness(t, 3)
	h.upload("/d", newFile(strings.Repeat("d", 100)), h.nodes[:3]...)
	d := h.locate("/d")
	holder := d.byID[d.loc.GetSlices()[0].GetHolders()[0].GetNodeId()]
	if n, _ := d.claim(holder, d.receipt(0, holder.id, 10), 10+h.cfg.FetchWindow); n != 10 {
		t.Fatalf("a claim within the window counted %d, want 10", n)
	}
	if got, _ := h.s.ix.Disputes(holder.id); got != 0 {
		t.Fatalf("a claim within the window is a dispute (%d)", got)
	}
	if n, _ := d.claim(holder, d.receipt(0, holder.id, 20), 20+h.cfg.FetchWindow+1); n != 10 {
		t.Fatalf("a disputed claim counted %d, want the 10 signed for beyond the last", n)
	}
	if got, _ := h.s.ix.Disputes(holder.id); got != 1 {
		t.Fatalf("disputes = %d after a claim beyond the receipt, want 1", got)
	}
	st, err := h.s.Status(ctx, &metav1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range st.GetNodes() {
		if n.GetNode().GetNodeId() == holder.id && n.GetDisputes() != 1 {
			t.Fatalf("status shows %d disputes for the node, want 1", n.GetDisputes())
		}
	}
}

// whitepaper §3.2.2 condition 3: when the assigned holder fails, the meta
// node, not the downloader, picks the next; a holder already tried is
// never picked again; moving off a holder the meta node thinks alive earns
// the new holder no credit (a downloader cannot steer traffic to a friend
// by claiming failures), while the downloader still pays for its bytes.
func TestReassign(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("d")
	h.upload("/d", f, h.nodes[:3]...)
	d := h.locate("/d")
	ls := d.loc.GetSlices()[0]
	first := ls.GetHolders()[0].GetNodeId()
	reassign := func(failed string) (*metav1.ReassignResponse, error) {
		return h.s.Reassign(ctx, &metav1.ReassignRequest{Owner: testOwner, TaskId: d.loc.GetTaskId(), SliceId: ls.GetSlice().GetId(), FailedNode: failed, Reason: "test"})
	}
	_, err := reassign(ls.GetHolders()[1].GetNodeId())
	wantCode(t, err, codes.InvalidArgument) // not the holder it is assigned to
	r1, err := reassign(first)
	if err != nil {
		t.Fatal(err)
	}
	second := r1.GetHolder().GetNodeId()
	if second == first || r1.GetTicket().GetNodeId() != second {
		t.Fatalf("reassigned from %s to %s with a ticket for %s", first, second, r1.GetTicket().GetNodeId())
	}
	if err := identity.VerifyFetchTicket(r1.GetTicket(), second, identity.Only(h.s.ID()), h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r2, err := reassign(second)
	if err != nil {
		t.Fatal(err)
	}
	third := r2.GetHolder().GetNodeId()
	if third == first || third == second {
		t.Fatalf("reassigned to %s, tried already", third)
	}
	_, err = reassign(third)
	wantCode(t, err, codes.FailedPrecondition) // every holder tried

	size := ls.GetSlice().GetSize()
	before := h.nodeTraffic(third)
	if n, _ := d.report(false, d.receipt(0, third, size)); n != size {
		t.Fatalf("the reassigned holder's bytes counted %d for the downloader, want %d", n, size)
	}
	if got := h.nodeTraffic(third); got != before {
		t.Fatalf("a holder reached by claiming a live one failed earned %d bytes of credit", got-before)
	}
}

// A dead holder's reassignment is credited as usual.
func TestReassignFromDeadHolder(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("d")
	h.upload("/d", f, h.nodes[:3]...)
	d := h.locate("/d")
	ls := d.loc.GetSlices()[0]
	dead := d.byID[ls.GetHolders()[0].GetNodeId()]
	h.kill(dead)
	r, err := h.s.Reassign(ctx, &metav1.ReassignRequest{Owner: testOwner, TaskId: d.loc.GetTaskId(), SliceId: ls.GetSlice().GetId(), FailedNode: dead.id})
	if err != nil {
		t.Fatal(err)
	}
	next := r.GetHolder().GetNodeId()
	size := ls.GetSlice().GetSize()
	before := h.nodeTraffic(next)
	if n, err := d.report(false, d.receipt(0, next, size)); err != nil || n != size {
		t.Fatalf("report = %d, %v", n, err)
	}
	if got := h.nodeTraffic(next) - before; got != size {
		t.Fatalf("the holder that replaced a dead one earned %d, want %d", got, size)
	}
}
