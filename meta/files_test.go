package meta

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Whitepaper §4.2.5 and §3.2.2: holders come live first, in random order,
// then suspect, then dead (a holder thought dead may be back already).
func TestLocateOrdersHolders(t *testing.T) {
	h := newHarness(t, 4)
	a1, a2, sus, dead := h.nodes[0], h.nodes[1], h.nodes[2], h.nodes[3]
	f := newFile("data")
	h.upload("/f", f, h.nodes...)
	h.pass(8*time.Second, dead)
	h.pass(4*time.Second, dead, sus) // dead silent 12s, sus 4s

	locate := func() []string {
		t.Helper()
		loc, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, Path: "/f"})
		if err != nil {
			t.Fatal(err)
		}
		got := peerIDs(loc.GetSlices()[0].GetHolders())
		if len(got) != 4 || !slices.Equal(ids(a1, a2), slices.Sorted(slices.Values(got[:2]))) || got[2] != sus.id || got[3] != dead.id {
			t.Fatalf("holders %v, want {%s %s} then %s then %s", got, a1.id, a2.id, sus.id, dead.id)
		}
		return got
	}
	// whitepaper §3.2.2: the assigned holder (first) is random, but asking
	// again in the same period does not change it: a client cannot re-roll
	// until a friend is assigned.
	first := locate()[0]
	for range 16 {
		if got := locate()[0]; got != first {
			t.Fatalf("the assigned holder changed within a period: %s then %s", first, got)
		}
	}
	// Over periods, both live holders get assigned (the others stay
	// silent, so they are dead by now and never assigned).
	h.s.cfg.LedgerPeriod = 2 * time.Second
	firsts := map[string]bool{}
	for range 32 {
		h.pass(h.s.cfg.LedgerPeriod, sus, dead)
		loc, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, Path: "/f"})
		if err != nil {
			t.Fatal(err)
		}
		firsts[loc.GetSlices()[0].GetHolders()[0].GetNodeId()] = true
	}
	if !slices.Equal(slices.Sorted(maps.Keys(firsts)), ids(a1, a2)) {
		t.Errorf("assigned holders across periods %v, want both live holders %v", firsts, ids(a1, a2))
	}
}

// A file ID resolves only among the caller's own files: knowing a file's ID
// does not reveal another owner's file.
func TestLocateByFileIDIsPerOwner(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("secret")
	h.upload("/mine", f, h.nodes...)
	for _, req := range []*metav1.LocateRequest{
		{ReceiptKey: testReceiptPub, Owner: "mallory", FileId: f.id},
		{ReceiptKey: testReceiptPub, Owner: testOwner, FileId: newFile("other").id},
		{ReceiptKey: testReceiptPub, Owner: "mallory", Path: "/mine"},
	} {
		_, err := h.s.Locate(ctx, req)
		wantCode(t, err, codes.NotFound)
		_, err = h.s.Stat(ctx, &metav1.StatRequest{Owner: req.Owner, Path: req.Path, FileId: req.FileId})
		wantCode(t, err, codes.NotFound)
	}
	_, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, FileId: "not-an-id"})
	wantCode(t, err, codes.InvalidArgument)
	loc, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, FileId: f.id})
	if err != nil || loc.GetFile().GetPath() != "/mine" {
		t.Fatalf("locate own file by ID: %v, %v", loc, err)
	}
}

// Whitepaper §4.2.5: a client that gets a bad slice reports the holder. A
// client's word is only a suspicion (a hostile client must not make the
// meta node drop good replicas): the holder is told to verify its copy. The
// holder's own report, proved by its certificate, drops the replica and
// queues the slice for repair (DESIGN §5.4).
func TestReportBadReplica(t *testing.T) {
	h := newHarness(t, 3)
	a, b, c := h.nodes[0], h.nodes[1], h.nodes[2]
	f := newFile("data")
	h.upload("/f", f, a, b, c)
	sl := f.slices[0].GetId()
	loc, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, Path: "/f"})
	if err != nil {
		t.Fatal(err)
	}
	report := func(caller context.Context, n *testNode, missing bool) {
		t.Helper()
		if _, err := h.s.ReportBadReplica(caller, &metav1.ReportBadReplicaRequest{SliceId: sl, NodeId: n.id, Missing: missing, Reason: "test",
			Owner: testOwner, TaskId: loc.GetTaskId()}); err != nil {
			t.Fatal(err)
		}
	}
	// Issue 8: a downloader reports under the download task that read the
	// slice, as its owner; nobody else makes a node re-read its copy.
	other := newFile("other")
	h.upload("/other", other, a, b, c)
	otherLoc, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, Path: "/other"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		req  *metav1.ReportBadReplicaRequest
		want codes.Code
	}{
		"no download task":       {&metav1.ReportBadReplicaRequest{SliceId: sl, NodeId: a.id, Owner: testOwner}, codes.NotFound},
		"someone else's task":    {&metav1.ReportBadReplicaRequest{SliceId: sl, NodeId: a.id, Owner: "mallory", TaskId: loc.GetTaskId()}, codes.PermissionDenied},
		"a task of another file": {&metav1.ReportBadReplicaRequest{SliceId: sl, NodeId: a.id, Owner: testOwner, TaskId: otherLoc.GetTaskId()}, codes.InvalidArgument},
	} {
		_, err := h.s.ReportBadReplica(ctx, tc.req)
		if status.Code(err) != tc.want {
			t.Fatalf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if resp := h.heartbeat(a); len(resp.GetVerifySlices()) != 0 {
		t.Fatalf("refused reports made a verify %v", resp.GetVerifySlices())
	}

	for _, caller := range []context.Context{ctx, b.ctx} { // a client, another node
		report(caller, a, false)
		if got := h.replicas(sl); !slices.Equal(got, ids(a, b, c)) {
			t.Fatalf("replicas %v after a report by someone else", got)
		}
		resp := h.heartbeat(a)
		if !slices.Equal(resp.GetVerifySlices(), []string{sl}) || len(resp.GetDeleteSlices()) != 0 {
			t.Fatalf("a's heartbeat: verify %v, delete %v; want to verify the slice", resp.GetVerifySlices(), resp.GetDeleteSlices())
		}
	}
	if under, _ := h.s.repairCounts(); under != 0 {
		t.Fatalf("%d slices queued for repair on a client's word", under)
	}

	report(a.ctx, a, false) // a found its copy corrupt
	if got := h.replicas(sl); !slices.Equal(got, ids(b, c)) {
		t.Fatalf("replicas %v after a's own report", got)
	}
	if under, _ := h.s.repairCounts(); under != 1 {
		t.Fatalf("%d slices queued for repair, want 1", under)
	}
	report(b.ctx, b, true) // b lost its copy
	if got := h.replicas(sl); !slices.Equal(got, ids(c)) {
		t.Fatalf("replicas %v after b's own report", got)
	}
	report(a.ctx, a, false) // no longer a holder: nothing happens
	if got := h.replicas(sl); !slices.Equal(got, ids(c)) {
		t.Fatalf("replicas %v after a report from a former holder", got)
	}
	if resp := h.heartbeat(a); len(resp.GetVerifySlices())+len(resp.GetDeleteSlices()) != 0 {
		t.Fatalf("a former holder gets orders: %v", resp)
	}

	_, err = h.s.ReportBadReplica(ctx, &metav1.ReportBadReplicaRequest{SliceId: newFile("unknown").slices[0].GetId(), NodeId: a.id})
	wantCode(t, err, codes.NotFound)
}

// Deleting a file releases the slices no other file uses; their holders are
// told to delete them at their next heartbeat, once.
func TestDelete(t *testing.T) {
	h := newHarness(t, 4)
	a, b, c, d := h.nodes[0], h.nodes[1], h.nodes[2], h.nodes[3]
	gone := newFile("shared", "only in f")
	other := newFile("shared", "only in g")
	h.upload("/f", gone, a, b, c)
	h.upload("/g", other, b, c, d)
	shared, only := gone.slices[0].GetId(), gone.slices[1].GetId()

	resp, err := h.s.Delete(ctx, &metav1.DeleteRequest{Owner: testOwner, Path: "/f"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetFile().GetFileId() != gone.id {
		t.Fatalf("deleted %v", resp.GetFile())
	}
	if h.visible("/f") {
		t.Fatal("deleted file still visible")
	}
	for _, n := range []*testNode{a, b, c} {
		if del := h.heartbeat(n).GetDeleteSlices(); !slices.Equal(del, []string{only}) {
			t.Errorf("holder %s deletes %v, want %s only", n.id, del, only)
		}
		if del := h.heartbeat(n).GetDeleteSlices(); len(del) != 0 {
			t.Errorf("holder %s told again to delete %v", n.id, del)
		}
	}
	if del := h.heartbeat(d).GetDeleteSlices(); len(del) != 0 {
		t.Errorf("d deletes %v", del)
	}
	if got := h.replicas(shared); !slices.Equal(got, ids(a, b, c, d)) {
		t.Errorf("shared slice replicas %v", got)
	}
	if h.s.ix.HasSlice(only) {
		t.Error("released slice still in the index")
	}
	if files, n, _ := h.s.ix.Stats(); files != 1 || n != 2 {
		t.Errorf("stats: %d files, %d slices; want 1, 2", files, n)
	}

	_, err = h.s.Delete(ctx, &metav1.DeleteRequest{Owner: testOwner, Path: "/f"})
	wantCode(t, err, codes.NotFound)
	_, err = h.s.Delete(ctx, &metav1.DeleteRequest{Owner: testOwner, Path: "f"})
	wantCode(t, err, codes.InvalidArgument)
}

// Overwriting a file releases the old content's slices like a delete.
func TestOverwriteReleasesOldSlices(t *testing.T) {
	h := newHarness(t, 3)
	old, repl := newFile("old"), newFile("new")
	h.upload("/f", old, h.nodes...)
	resp, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/f", Size: repl.size, Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range repl.slices {
		h.placeOn(resp.GetTaskId(), ref, h.nodes...)
	}
	if _, err := h.commit(commitReq(resp.GetTaskId(), repl, h.nodes...)); err != nil {
		t.Fatal(err)
	}
	for _, n := range h.nodes {
		if del := h.heartbeat(n).GetDeleteSlices(); !slices.Equal(del, []string{old.slices[0].GetId()}) {
			t.Errorf("holder %s deletes %v", n.id, del)
		}
	}
}

// A delete order must not outlive the reason for it: if the same content is
// uploaded again to the same nodes before they heartbeat, the order would
// destroy a replica the index counts (content addressing stores it once),
// and while an open upload has placed the slice there it would destroy the
// bytes the upload is about to commit.
func TestDeleteOrderDoesNotHitAReuploadedSlice(t *testing.T) {
	h := newHarness(t, 5)
	a, b, c := h.nodes[0], h.nodes[1], h.nodes[2]
	f := newFile("again")
	h.upload("/f", f, a, b, c)
	if _, err := h.s.Delete(ctx, &metav1.DeleteRequest{Owner: testOwner, Path: "/f"}); err != nil {
		t.Fatal(err)
	}
	h.upload("/f", f, a, b, c)
	for _, n := range h.nodes {
		if del := h.heartbeat(n).GetDeleteSlices(); slices.Contains(del, f.slices[0].GetId()) {
			t.Errorf("node %s told to delete %s, which the index says it holds", n.id, f.slices[0].GetId())
		}
	}

	// Delete again, and start the same upload before the holders heartbeat.
	if _, err := h.s.Delete(ctx, &metav1.DeleteRequest{Owner: testOwner, Path: "/f"}); err != nil {
		t.Fatal(err)
	}
	task := h.begin("/g", f.size)
	pipe, err := h.s.place(task, f.slices[0], []string{a.id}, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	placed := peerIDs(pipe.GetNodes())
	for _, n := range h.nodes {
		held := slices.Contains(ids(a, b, c), n.id)
		got := slices.Contains(h.heartbeat(n).GetDeleteSlices(), f.slices[0].GetId())
		if want := held && !slices.Contains(placed, n.id); got != want {
			t.Errorf("node %s (held %v): delete order %v, want %v (placed on %v)", n.id, held, got, want, placed)
		}
	}
}

func TestListPages(t *testing.T) {
	h := newHarness(t, 3)
	for _, p := range []string{"/d/a", "/d/b", "/d/sub/c", "/e"} {
		h.upload(p, newFile(p), h.nodes...)
	}
	resp, err := h.s.List(ctx, &metav1.ListRequest{Owner: testOwner, Dir: "/d", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.GetMore() || len(resp.GetEntries()) != 2 || resp.GetEntries()[1].GetName() != "b" {
		t.Fatalf("first page %v", resp)
	}
	resp, err = h.s.List(ctx, &metav1.ListRequest{Owner: testOwner, Dir: "/d", After: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetMore() || len(resp.GetEntries()) != 1 || !resp.GetEntries()[0].GetDir() || resp.GetEntries()[0].GetName() != "sub" {
		t.Fatalf("second page %v", resp)
	}
	_, err = h.s.List(ctx, &metav1.ListRequest{Owner: testOwner, Dir: "d"})
	wantCode(t, err, codes.InvalidArgument)
}
