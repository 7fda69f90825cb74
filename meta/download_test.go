package meta

import (
	"testing"

	"google.golang.org/grpc/codes"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// DESIGN §7: download traffic counts when both sides signed for it: the
// holder's receipt inside the owner's report, for a download the meta node
// located; once, and only for the holder the meta node assigned.
func TestReportDownload(t *testing.T) {
	h := newHarness(t, 4)
	f := newFile("d")
	h.upload("/d", f, h.nodes[:3]...)
	loc, err := h.s.Locate(ctx, &metav1.LocateRequest{Owner: testOwner, Path: "/d"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*testNode{}
	for _, n := range h.nodes {
		byID[n.id] = n
	}
	ref := loc.GetSlices()[0].GetSlice()
	holder := byID[loc.GetSlices()[0].GetHolders()[0].GetNodeId()]
	receipt := func(n *testNode, size uint64) *storagev1.Receipt {
		r := &storagev1.Receipt{TaskId: loc.GetTaskId(), SliceId: ref.GetId(), Size: size}
		n.key.SignFetchReceipt(r)
		return r
	}
	report := func(rs ...*storagev1.Receipt) (*metav1.ReportDownloadResponse, error) {
		return h.s.ReportDownload(ctx, &metav1.ReportDownloadRequest{Owner: testOwner, TaskId: loc.GetTaskId(), Receipts: rs})
	}
	resp, err := report(receipt(holder, ref.GetSize()))
	if err != nil || resp.GetCountedBytes() != ref.GetSize() {
		t.Fatalf("report = %v, %v; want %d bytes counted", resp, err, ref.GetSize())
	}
	if resp, _ := report(receipt(holder, ref.GetSize())); resp.GetCountedBytes() != 0 {
		t.Fatal("the same slice from the same holder was counted twice")
	}
	if resp, _ := report(receipt(h.nodes[3], ref.GetSize())); resp.GetCountedBytes() != 0 {
		t.Fatal("a node that does not hold the slice was counted")
	}
	// whitepaper §3.2.2: the leader assigns the download holder; another
	// holder the client picked instead earns nothing.
	other := byID[loc.GetSlices()[0].GetHolders()[1].GetNodeId()]
	if resp, _ := report(receipt(other, ref.GetSize())); resp.GetCountedBytes() != 0 {
		t.Fatal("a holder the meta node did not assign was counted")
	}
	forged := receipt(holder, ref.GetSize())
	forged.Size-- // signed for another size
	if resp, _ := report(forged); resp.GetCountedBytes() != 0 {
		t.Fatal("a receipt whose signature does not match was counted")
	}
	asStore := &storagev1.Receipt{TaskId: loc.GetTaskId(), SliceId: ref.GetId(), Size: ref.GetSize()}
	holder.key.SignReceipt(asStore) // a store receipt is not a fetch receipt
	if resp, _ := report(asStore); resp.GetCountedBytes() != 0 {
		t.Fatal("a store receipt was counted as download traffic")
	}
	_, err = h.s.ReportDownload(ctx, &metav1.ReportDownloadRequest{Owner: testOwner, TaskId: "dnope", Receipts: []*storagev1.Receipt{receipt(holder, 1)}})
	wantCode(t, err, codes.FailedPrecondition)

	// The counted bytes reach the period's report, with the upload's.
	fr := &fakeReporter{}
	h.s.cfg.Reporter = fr
	h.s.report(ctx, 1)
	var got uint64
	for _, v := range fr.report.Nodes {
		if v.ID == holder.id {
			got = v.Bytes
		}
	}
	if got != f.size+ref.GetSize() {
		t.Fatalf("holder's traffic %d, want upload %d + download %d", got, f.size, ref.GetSize())
	}
}
