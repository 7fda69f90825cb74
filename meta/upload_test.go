package meta

import (
	"math"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// DESIGN §6.2 steps 1, 2 and 5: an upload opens a task, gets a pipeline of R
// distinct nodes per slice, and commits with the nodes' signed receipts;
// the file is then visible by path and by file ID.
func TestUploadHappyPath(t *testing.T) {
	h := newHarness(t, 4)
	f := newFile("first slice", "second slice")
	begin, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/docs/a.txt", Size: f.size, Slices: f.slices[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if begin.GetReplicas() != 3 || begin.GetMinReplicas() != 2 || begin.GetSliceSize() != testSliceSize {
		t.Fatalf("begin: R %d, min %d, slice size %d", begin.GetReplicas(), begin.GetMinReplicas(), begin.GetSliceSize())
	}
	if len(begin.GetPipelines()) != 1 {
		t.Fatalf("begin placed %d slices, want 1", len(begin.GetPipelines()))
	}
	pipes := []*metav1.Pipeline{begin.GetPipelines()[0]}
	place, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: begin.GetTaskId(), Slice: f.slices[1]})
	if err != nil {
		t.Fatal(err)
	}
	pipes = append(pipes, place.GetPipeline())
	h.keepTickets(begin.GetTaskId(), pipes...)

	byID := map[string]*testNode{}
	for _, n := range h.nodes {
		byID[n.id] = n
	}
	req := &metav1.CommitUploadRequest{TaskId: begin.GetTaskId(), FileId: f.id}
	for i, p := range pipes {
		nodes := peerIDs(p.GetNodes())
		if p.GetDone() || p.GetSliceId() != f.slices[i].GetId() {
			t.Fatalf("pipeline %d: %+v", i, p)
		}
		if len(nodes) != 3 || len(slices.Compact(slices.Sorted(slices.Values(nodes)))) != 3 {
			t.Fatalf("pipeline %d: nodes %v, want 3 distinct", i, nodes)
		}
		up := &metav1.UploadedSlice{Slice: f.slices[i]}
		for _, peer := range p.GetNodes() {
			if peer.GetAddr() == "" {
				t.Fatalf("pipeline %d: peer %s has no address", i, peer.GetNodeId())
			}
			up.Receipts = append(up.Receipts, mkReceipt(byID[peer.GetNodeId()], begin.GetTaskId(), f.slices[i]))
		}
		req.Slices = append(req.Slices, up)
	}
	if h.visible("/docs/a.txt") {
		t.Fatal("file visible before commit (DESIGN §6.2 step 5)")
	}
	commit, err := h.commit(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := commit.GetFile(); got.GetFileId() != f.id || got.GetSize() != f.size || got.GetPath() != "/docs/a.txt" || got.GetOwner() != testOwner {
		t.Fatalf("committed %+v", got)
	}

	stat, err := h.s.Stat(ctx, &metav1.StatRequest{Owner: testOwner, Path: "/docs/a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	for i, sl := range stat.GetSlices() {
		if want := slices.Sorted(slices.Values(peerIDs(pipes[i].GetNodes()))); !slices.Equal(sl.GetReplicas(), want) {
			t.Errorf("slice %d replicas %v, want %v", i, sl.GetReplicas(), want)
		}
	}
	for _, req := range []*metav1.LocateRequest{{ReceiptKey: testReceiptPub, Owner: testOwner, Path: "/docs/a.txt"}, {ReceiptKey: testReceiptPub, Owner: testOwner, FileId: f.id}} {
		loc, err := h.s.Locate(ctx, req)
		if err != nil {
			t.Fatalf("locate %v: %v", req, err)
		}
		if loc.GetFile().GetFileId() != f.id || len(loc.GetSlices()) != 2 || loc.GetTaskId() == "" {
			t.Fatalf("locate %v: %+v", req, loc)
		}
		for i, ls := range loc.GetSlices() {
			if ls.GetSlice().GetId() != f.slices[i].GetId() || len(ls.GetHolders()) != 3 {
				t.Errorf("located slice %d: %+v", i, ls)
			}
		}
	}
	list, err := h.s.List(ctx, &metav1.ListRequest{Owner: testOwner, Dir: "/docs"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetEntries()) != 1 || list.GetEntries()[0].GetName() != "a.txt" || list.GetEntries()[0].GetFile().GetFileId() != f.id {
		t.Fatalf("list: %+v", list.GetEntries())
	}
	if _, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, Path: "/docs/a.txt", FileId: f.id}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("locate by path and file ID: %v, want InvalidArgument", err)
	}
}

// DESIGN §6.2 step 5: a file becomes visible only when every slice has at
// least MinReplicas replicas, each proved by a receipt signed by the node
// that holds it; §6.1: its ID is the Merkle root of its slice IDs.
func TestCommitUploadRejectsHostileCommits(t *testing.T) {
	h := newHarness(t, 4)
	a, b, c, d := h.nodes[0], h.nodes[1], h.nodes[2], h.nodes[3]
	stranger := &testNode{key: h.newKey()} // never registered
	stranger.id = stranger.key.ID()
	// Two slices adding up to two slice sizes, the first one byte too big.
	big := testFile{size: 2 * testSliceSize, slices: []*metav1.SliceRef{
		{Id: slice.Sum([]byte("big")).String(), Size: testSliceSize + 1},
		{Id: slice.Sum([]byte("small")).String(), Size: testSliceSize - 1},
	}}
	big.id = rootOf(big.slices...)

	cases := []struct {
		name  string
		size  uint64 // announced in BeginUpload in excess of the file's size
		big   bool   // upload big instead of a small two-slice file
		build func(task string, f testFile) *metav1.CommitUploadRequest
		code  codes.Code
	}{
		{"forged signature", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.Slices[1].Receipts[2].Signature[0] ^= 1
			return req
		}, codes.InvalidArgument},
		{"signature by another registered node", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b)
			r := &storagev1.Receipt{TaskId: task, SliceId: f.slices[0].GetId(), Size: f.slices[0].GetSize(), NodeId: c.id}
			r.Signature = d.key.Sign(identity.ReceiptBytes(r)) // d vouches for c
			req.Slices[0].Receipts = append(req.Slices[0].Receipts, r)
			return req
		}, codes.InvalidArgument},
		{"receipt for another task", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq("t999", f, a, b, c)
			req.TaskId = task
			return req
		}, codes.InvalidArgument},
		{"receipt for another slice", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.Slices[0].Receipts[0] = mkReceipt(a, task, f.slices[1])
			return req
		}, codes.InvalidArgument},
		{"receipt with the wrong size", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.Slices[0].Receipts[0] = mkReceipt(a, task, &metav1.SliceRef{Id: f.slices[0].GetId(), Size: f.slices[0].GetSize() + 1})
			return req
		}, codes.InvalidArgument},
		{"receipt from an unregistered key", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			return commitReq(task, f, a, stranger)
		}, codes.FailedPrecondition},
		{"one node's receipt three times", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			return commitReq(task, f, a, a, a)
		}, codes.InvalidArgument},
		{"fewer receipts than min replicas", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.Slices[1].Receipts = req.Slices[1].Receipts[:1]
			return req
		}, codes.InvalidArgument},
		{"no receipts for a slice the network lacks", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.Slices[0].Receipts = nil
			return req
		}, codes.InvalidArgument},
		{"file ID not the Merkle root", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.FileId = rootOf(f.slices[1], f.slices[0]) // the slices in the other order
			return req
		}, codes.InvalidArgument},
		{"malformed file ID", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.FileId = "md5-1234"
			return req
		}, codes.InvalidArgument},
		{"slices do not add up to the announced size", 1, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			return commitReq(task, f, a, b, c)
		}, codes.InvalidArgument},
		{"slice larger than the slice size", 0, true, func(task string, f testFile) *metav1.CommitUploadRequest {
			return commitReq(task, f, a, b, c) // f is big
		}, codes.InvalidArgument},
		{"malformed slice ID", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			req := commitReq(task, f, a, b, c)
			req.Slices[0].Slice = &metav1.SliceRef{Id: "sha256-zz", Size: f.slices[0].GetSize()}
			return req
		}, codes.InvalidArgument},
		{"fewer slices than the announced size has", testSliceSize, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			return commitReq(task, f, a, b, c)
		}, codes.InvalidArgument},
		{"unknown task", 0, false, func(task string, f testFile) *metav1.CommitUploadRequest {
			return commitReq("t999", f, a, b, c)
		}, codes.FailedPrecondition},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/hostile/" + string(rune('a'+i))
			f := newFile(path+" slice 1", path+" slice 2") // not yet in the network
			size := f.size + tc.size
			if tc.big {
				f, size = big, big.size
			}
			task := h.begin(path, size)
			for _, ref := range f.slices {
				if ref.GetSize() <= testSliceSize {
					h.placeOn(task, ref, a, b, c)
				}
			}
			_, err := h.commit(tc.build(task, f))
			wantCode(t, err, tc.code)
			if h.visible(path) {
				t.Fatalf("%s is visible after a rejected commit", path)
			}
			for _, ref := range f.slices {
				if h.s.ix.HasSlice(ref.GetId()) {
					t.Fatalf("slice %s entered the index in a rejected commit", ref.GetId())
				}
			}
			// The task is still open: an honest commit of the same file works.
			if tc.size == 0 && !tc.big {
				if _, err := h.commit(commitReq(task, f, a, b, c)); err != nil {
					t.Fatalf("honest commit after the hostile one: %v", err)
				}
			}
		})
	}
	if _, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, FileId: big.id}); status.Code(err) != codes.NotFound {
		t.Errorf("locate the oversized file: %v, want NotFound", err)
	}
}

// DESIGN §6.2 step 5 and CommitUpload's contract: a client that lost the
// answer to its commit may repeat it and gets the committed file back.
func TestCommitUploadIsIdempotent(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("data")
	task := h.beginOn("/f", f, h.nodes...)
	req := commitReq(task, f, h.nodes...)
	first, err := h.commit(req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.commit(req)
	if err != nil {
		t.Fatalf("repeated commit: %v", err)
	}
	if !proto.Equal(first.GetFile(), again.GetFile()) {
		t.Fatalf("repeated commit returned %v, want %v", again.GetFile(), first.GetFile())
	}
	other := newFile("other data")
	_, err = h.commit(commitReq(task, other, h.nodes...))
	wantCode(t, err, codes.FailedPrecondition) // the task ended with the first commit
	if files, _, _ := h.s.ix.Stats(); files != 1 {
		t.Fatalf("%d files, want 1", files)
	}
}

// DESIGN §6.1: slices are content-addressed, so a node stores a slice that
// several files share once. But the meta node never skips an upload because
// the network already holds a slice (upload.go place: a client that knows
// only a slice's hash could then claim its bytes): a shared slice gets a
// full pipeline, and its commit needs receipts like any other.
func TestSharedSliceNeedsReceiptsAgain(t *testing.T) {
	h := newHarness(t, 4)
	a, b, c, d := h.nodes[0], h.nodes[1], h.nodes[2], h.nodes[3]
	first := newFile("shared", "tail one")
	h.upload("/first", first, a, b, c)

	second := newFile("shared", "tail two")
	begin, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/second", Size: second.size, Slices: second.slices})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range begin.GetPipelines() {
		if p.GetDone() || len(p.GetNodes()) != 3 {
			t.Fatalf("pipeline %d of a known slice: %v", i, p)
		}
	}
	place, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: begin.GetTaskId(), Slice: second.slices[0]})
	if err != nil || place.GetPipeline().GetDone() || len(place.GetPipeline().GetNodes()) != 3 {
		t.Fatalf("place a held slice: %v, %v", place, err)
	}

	for _, ref := range second.slices {
		h.placeOn(begin.GetTaskId(), ref, b, c, d)
	}
	req := commitReq(begin.GetTaskId(), second, b, c, d)
	claim := proto.CloneOf(req)
	claim.Slices[0].Receipts = nil // "the network has it already"
	_, err = h.commit(claim)
	wantCode(t, err, codes.InvalidArgument)
	if h.visible("/second") {
		t.Fatal("file visible with a slice claimed by its hash alone")
	}
	if _, err := h.commit(req); err != nil {
		t.Fatal(err)
	}
	if got := h.replicas(second.slices[0].GetId()); !slices.Equal(got, ids(a, b, c, d)) {
		t.Fatalf("shared slice replicas %v, want the union of both uploads' holders", got)
	}
	if sl, _ := h.s.ix.Slice(second.slices[0].GetId()); sl.GetRefs() != 2 {
		t.Fatalf("shared slice has %d references, want 2", sl.GetRefs())
	}
}

// DESIGN §6.2 step 1: the leader checks the namespace and the network's
// space before it creates a task.
func TestBeginUploadChecks(t *testing.T) {
	h := newHarness(t, 3)
	h.upload("/taken", newFile("x"), h.nodes...)
	cases := []struct {
		name string
		req  *metav1.BeginUploadRequest
		code codes.Code
	}{
		{"relative path", &metav1.BeginUploadRequest{Owner: testOwner, Path: "a/b", Size: 1}, codes.InvalidArgument},
		{"dot-dot", &metav1.BeginUploadRequest{Owner: testOwner, Path: "/a/../b", Size: 1}, codes.InvalidArgument},
		{"root", &metav1.BeginUploadRequest{Owner: testOwner, Path: "/", Size: 1}, codes.InvalidArgument},
		{"empty path", &metav1.BeginUploadRequest{Owner: testOwner, Size: 1}, codes.InvalidArgument},
		{"no owner", &metav1.BeginUploadRequest{Path: "/x", Size: 1}, codes.InvalidArgument},
		{"existing path", &metav1.BeginUploadRequest{Owner: testOwner, Path: "/taken", Size: 1}, codes.AlreadyExists},
		{"more than R copies fit", &metav1.BeginUploadRequest{Owner: testOwner, Path: "/big", Size: nodeFree + 1}, codes.ResourceExhausted},
		{"more slices than the size has", &metav1.BeginUploadRequest{Owner: testOwner, Path: "/s", Size: 1,
			Slices: newFile("a", "b").slices}, codes.InvalidArgument},
		{"size times R overflows", &metav1.BeginUploadRequest{Owner: testOwner, Path: "/huge", Size: math.MaxUint64/3 + 1}, codes.ResourceExhausted},
		{"slice over the slice size", &metav1.BeginUploadRequest{Owner: testOwner, Path: "/s", Size: 1,
			Slices: []*metav1.SliceRef{{Id: slice.Sum(nil).String(), Size: testSliceSize + 1}}}, codes.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.s.BeginUpload(ctx, tc.req)
			wantCode(t, err, tc.code)
		})
	}
	t.Run("overwrite", func(t *testing.T) {
		if _, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/taken", Size: 1, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("exactly R copies fit", func(t *testing.T) {
		if _, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/fits", Size: nodeFree}); err != nil {
			t.Fatal(err)
		}
	})
}

// DESIGN §6.2 step 2 (R = 3, min 2): with fewer live nodes than the minimum
// an upload cannot succeed, so it does not start.
func TestBeginUploadNeedsMinReplicasAliveNodes(t *testing.T) {
	h := newHarness(t, 3)
	h.kill(h.nodes[1], h.nodes[2])
	_, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/f", Size: 1})
	wantCode(t, err, codes.ResourceExhausted)

	h.pass(time.Second) // all three heartbeat again
	if _, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/f", Size: 1}); err != nil {
		t.Fatal(err)
	}
}

// DESIGN §6.2 step 4: a failed pipeline member is replaced by the leader.
func TestPlaceSliceReplacement(t *testing.T) {
	h := newHarness(t, 5) // R = 3, one replacement, and one node never placed
	f := newFile("data")
	task := h.begin("/f", f.size)
	first, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0]})
	if err != nil {
		t.Fatal(err)
	}
	pipeline := peerIDs(first.GetPipeline().GetNodes())
	failed, held := pipeline[0], pipeline[1:]
	resp, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Exclude: append([]string{failed}, held...), Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := peerIDs(resp.GetPipeline().GetNodes())
	if len(got) != 1 || slices.Contains(pipeline, got[0]) {
		t.Fatalf("replacement %v for pipeline %v", got, pipeline)
	}
	// whitepaper §3.2.2: placement is random; a client may exclude only
	// members of its own pipelines, not steer the slice to nodes it likes.
	var outsider string
	for _, n := range h.nodes {
		if !slices.Contains(pipeline, n.id) && n.id != got[0] {
			outsider = n.id
		}
	}
	_, err = h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Exclude: []string{outsider}, Count: 1})
	wantCode(t, err, codes.InvalidArgument)
	_, err = h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: "t999", Slice: f.slices[0]})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: &metav1.SliceRef{Id: "nope", Size: 1}})
	wantCode(t, err, codes.InvalidArgument)
}

// Issue 7: an upload under way when the leader changes finishes. The new
// leader never saw the old one's placements; the tickets the client brings,
// signed by any meta authority, tell it which nodes were placed, so their
// members may still be excluded (the Docker fault test once saw an upload
// refused this way after the leader was killed).
func TestPlaceSliceAfterLeaderChange(t *testing.T) {
	h := newHarness(t, 6)
	f := newFile("data")
	task := h.begin("/f", f.size)
	first, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0]})
	if err != nil {
		t.Fatal(err)
	}
	pipeline := peerIDs(first.GetPipeline().GetNodes())
	// A new leader: the placements were the old one's memory.
	h.s.dropLeaderState()
	h.clock.Advance(time.Second)
	h.s.started.Store(h.clock.Now().UnixNano())
	tickets := []*storagev1.Ticket{first.GetPipeline().GetTicket()}
	second, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Exclude: pipeline[:1], Count: 1, Tickets: tickets})
	if err != nil {
		t.Fatalf("replacing a member the old leader placed: %v", err)
	}
	tickets = append(tickets, second.GetPipeline().GetTicket())
	// The second member fails too: without the tickets the new leader knows
	// only its own placement, and refuses; with them it places.
	exclude := append(slices.Clone(pipeline[:2]), peerIDs(second.GetPipeline().GetNodes())...)
	_, err = h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Exclude: exclude, Count: 1})
	wantCode(t, err, codes.InvalidArgument)
	if _, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Exclude: exclude, Count: 1, Tickets: tickets}); err != nil {
		t.Fatalf("with the tickets: %v", err)
	}
	// A ticket of another task proves nothing about this one.
	g := newFile("other")
	other, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: h.begin("/g", g.size), Slice: g.slices[0]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Exclude: exclude, Count: 1, Tickets: []*storagev1.Ticket{other.GetPipeline().GetTicket()}})
	wantCode(t, err, codes.InvalidArgument)
}

// DESIGN §6.2 step 2: a pipeline is R nodes. A client may ask for fewer
// (replacements) but not more, and may not exclude without bound.
func TestPlaceSliceCountIsBounded(t *testing.T) {
	h := newHarness(t, 5)
	f := newFile("data")
	task := h.begin("/f", f.size)
	many := make([]string, 65)
	for i := range many {
		many[i] = newFile(string(rune('a' + i))).slices[0].GetId()[:20]
	}
	for _, req := range []*metav1.PlaceSliceRequest{
		{TaskId: task, Slice: f.slices[0], Count: 4},
		{TaskId: task, Slice: f.slices[0], Count: math.MaxUint32},
		{TaskId: task, Slice: f.slices[0], Exclude: many},
	} {
		_, err := h.s.PlaceSlice(ctx, req)
		wantCode(t, err, codes.InvalidArgument)
	}
	for count := range uint32(4) {
		resp, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Count: count})
		want := int(count)
		if count == 0 {
			want = h.cfg.Replicas
		}
		if err != nil || len(resp.GetPipeline().GetNodes()) != want {
			t.Fatalf("count %d: %v, %v", count, resp, err)
		}
	}
}

// An upload that outlives its task's TTL cannot commit (DESIGN §6.2 step 5:
// a crashed upload leaves no visible partial file), and expireTasks ends it.
func TestExpiredUploadTask(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("late")
	old := h.beginOn("/late", f, h.nodes...)
	h.pass(h.cfg.TaskTTL + time.Second)
	fresh := h.beginOn("/fresh", f, h.nodes...)

	_, err := h.commit(commitReq(old, f, h.nodes...))
	wantCode(t, err, codes.FailedPrecondition)
	_, err = h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: old, Slice: f.slices[0]})
	wantCode(t, err, codes.FailedPrecondition)

	h.s.expireTasks()
	if _, err := h.s.ix.Task(old); err == nil {
		t.Fatal("expired task still open after expireTasks")
	}
	if _, err := h.s.ix.Task(fresh); err != nil {
		t.Fatalf("unexpired task: %v", err)
	}
	_, err = h.commit(commitReq(old, f, h.nodes...))
	wantCode(t, err, codes.FailedPrecondition)
	if h.visible("/late") {
		t.Fatal("file of an expired task is visible")
	}
	if _, err := h.commit(commitReq(fresh, f, h.nodes...)); err != nil {
		t.Fatal(err)
	}
}

func TestAbortUpload(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("data")
	task := h.begin("/f", f.size)
	for range 2 { // aborting twice is fine
		if _, err := h.s.AbortUpload(ctx, &metav1.AbortUploadRequest{TaskId: task}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.commit(commitReq(task, f, h.nodes...))
	wantCode(t, err, codes.FailedPrecondition)
}

// DESIGN §7 (whitepaper §3.2.2 condition 1): placement is random so nobody
// can steer replicas, and the traffic they earn, to nodes of their choice.
// Receipts from registered nodes the meta node never placed for the task
// must not count, or a client colluding with its own nodes picks them.
func TestCommitCountsOnlyPlacedNodes(t *testing.T) {
	h := newHarness(t, 6)
	f := newFile("steered")
	task := h.beginOn("/f", f, h.nodes[0], h.nodes[1], h.nodes[2])
	_, err := h.commit(commitReq(task, f, h.nodes[3], h.nodes[4], h.nodes[5]))
	wantCode(t, err, codes.InvalidArgument)
	if h.visible("/f") {
		t.Fatal("file committed on nodes the meta node never placed it on")
	}
}

// Placements are soft state (DESIGN §6.2 step 4: failed pipeline members
// are replaced). An upload opened before a meta restart may still replace
// the members that failed it; a task opened after it may exclude only
// nodes it was given. Found by the Docker fault test.
func TestReplacementAcrossMetaRestart(t *testing.T) {
	h := newHarness(t, 5)
	f := newFile("across")
	begin, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/across", Size: f.size, Slices: f.slices[:1]})
	if err != nil {
		t.Fatal(err)
	}
	failed := begin.GetPipelines()[0].GetNodes()[0].GetNodeId()
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Second)
	h.s = h.open()
	for _, n := range h.nodes {
		h.heartbeat(n)
	}
	resp, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: begin.GetTaskId(), Slice: f.slices[0], Exclude: []string{failed}, Count: 1})
	if err != nil {
		t.Fatalf("replacing a failed member of an upload opened before the restart: %v", err)
	}
	if got := resp.GetPipeline().GetNodes()[0].GetNodeId(); got == failed {
		t.Fatal("the excluded node was placed again")
	}

	fresh, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/fresh", Size: f.size, Slices: f.slices[:1]})
	if err != nil {
		t.Fatal(err)
	}
	placed := map[string]bool{}
	for _, p := range fresh.GetPipelines()[0].GetNodes() {
		placed[p.GetNodeId()] = true
	}
	for _, n := range h.nodes {
		if !placed[n.id] {
			_, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: fresh.GetTaskId(), Slice: f.slices[0], Exclude: []string{n.id}, Count: 1})
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("a new task excluding a node it was never given: %v, want InvalidArgument", err)
			}
			return
		}
	}
	t.Fatal("every node was placed")
}

// Right after a (re)start the meta node knows no live resource node until
// they heartbeat: an upload then is told to retry (Unavailable), not that
// the network is full; once a node could have been declared dead, "no
// space" is final again. Found by the Docker fault test.
func TestUploadRightAfterStartIsRetried(t *testing.T) {
	h := newHarness(t, 0)
	f := newFile("early")
	begin := func() error {
		_, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/early", Size: f.size, Slices: f.slices})
		return err
	}
	if err := begin(); status.Code(err) != codes.Unavailable {
		t.Fatalf("upload before any heartbeat: %v, want Unavailable", err)
	}
	h.clock.Advance(h.cfg.Health.DeadAfter)
	if err := begin(); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("upload with no nodes, long after start: %v, want ResourceExhausted", err)
	}
}
