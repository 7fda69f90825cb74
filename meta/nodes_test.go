package meta

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// DESIGN §3: a node's ID is derived from its key, and a node proves it holds
// the key by signing its registration.
func TestRegisterNodeChecksTheKey(t *testing.T) {
	h := newHarness(t, 0)
	k, other := h.newKey(), h.newKey()
	cases := []struct {
		name   string
		mutate func(req *metav1.RegisterNodeRequest)
	}{
		{"signature by another key", func(req *metav1.RegisterNodeRequest) {
			req.Signature = other.Sign(identity.RegistrationBytes(req.Node))
		}},
		{"signature over another record", func(req *metav1.RegisterNodeRequest) {
			req.Node.Addr = "evil:7000" // signed with the honest address
		}},
		{"no signature", func(req *metav1.RegisterNodeRequest) { req.Signature = nil }},
		{"node ID not derived from the key", func(req *metav1.RegisterNodeRequest) {
			req.Node.NodeId = other.ID()
			req.Signature = k.Sign(identity.RegistrationBytes(req.Node))
		}},
		{"short public key", func(req *metav1.RegisterNodeRequest) {
			req.Node.PublicKey = req.Node.PublicKey[:16]
			req.Signature = k.Sign(identity.RegistrationBytes(req.Node))
		}},
		{"no address", func(req *metav1.RegisterNodeRequest) {
			req.Node.Addr = ""
			req.Signature = k.Sign(identity.RegistrationBytes(req.Node))
		}},
		{"no record", func(req *metav1.RegisterNodeRequest) { req.Node = nil }},
	}
	kctx := callerCtx(t, k)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := registerReq(k)
			tc.mutate(req)
			if _, err := h.s.RegisterNode(kctx, req); err == nil {
				t.Fatal("registration accepted")
			}
			if _, err := h.s.ix.Node(k.ID()); err == nil {
				t.Fatal("node is in the index")
			}
			if _, err := h.s.ix.Node(other.ID()); err == nil {
				t.Fatal("the other key's node is in the index")
			}
		})
	}
	// Only the node itself may register its record: the TLS caller must be it.
	for name, caller := range map[string]context.Context{"no certificate": ctx, "another node": callerCtx(t, other)} {
		_, err := h.s.RegisterNode(caller, registerReq(k))
		wantCode(t, err, codes.PermissionDenied)
		if _, err := h.s.ix.Node(k.ID()); err == nil {
			t.Fatalf("registered by %s", name)
		}
	}
	resp, err := h.s.RegisterNode(kctx, registerReq(k))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetSliceSize() != testSliceSize {
		t.Fatalf("slice size %d", resp.GetSliceSize())
	}
	// Re-registering (e.g. after a restart) keeps the first registration time.
	first, _ := h.s.ix.Node(k.ID())
	h.clock.Advance(time.Hour)
	if _, err := h.s.RegisterNode(kctx, registerReq(k)); err != nil {
		t.Fatal(err)
	}
	again, _ := h.s.ix.Node(k.ID())
	if !proto.Equal(first, again) {
		t.Fatalf("re-registration changed the record: %v -> %v", first, again)
	}
}

// A node the meta node does not know (e.g. its state was reset) is told to
// register again.
func TestHeartbeatFromUnknownNode(t *testing.T) {
	h := newHarness(t, 1)
	stranger := newTestNode(t, h.newKey())
	resp, err := h.s.Heartbeat(stranger.ctx, &metav1.HeartbeatRequest{NodeId: stranger.id})
	if err != nil || !resp.GetReregister() {
		t.Fatalf("heartbeat from an unknown node: %v, %v; want reregister", resp, err)
	}
	if st := h.s.health.State(stranger.id); st.String() != "unknown" {
		t.Fatalf("stranger's heartbeat made it %v", st)
	}
	if resp := h.heartbeat(h.nodes[0]); resp.GetReregister() {
		t.Fatal("registered node told to reregister")
	}
}

// Heartbeats and slice reports carry orders for one node and keep it alive:
// only that node, proved by its certificate, may send them.
func TestNodeCallsNeedTheNodesCertificate(t *testing.T) {
	h := newHarness(t, 2)
	a, b := h.nodes[0], h.nodes[1]
	h.clock.Advance(2 * time.Second)
	for name, caller := range map[string]context.Context{"no certificate": ctx, "another node": b.ctx} {
		_, err := h.s.Heartbeat(caller, &metav1.HeartbeatRequest{NodeId: a.id, Load: &metav1.NodeLoad{Free: 1}})
		wantCode(t, err, codes.PermissionDenied)
		_, err = h.s.ReportSlices(caller, &metav1.ReportSlicesRequest{NodeId: a.id})
		wantCode(t, err, codes.PermissionDenied)
		if seen, _ := h.s.health.LastSeen(a.id); !seen.Before(h.clock.Now()) {
			t.Fatalf("heartbeat by %s refreshed a", name)
		}
	}
}

// DESIGN §5.4: slice reports find replicas the index does not know (to be
// deleted) and replicas that went missing; a replica is dropped only when
// two reports running lack it.
func TestReportSlices(t *testing.T) {
	h := newHarness(t, 3)
	a := h.nodes[0]
	f := newFile("kept", "lost")
	h.upload("/f", f, h.nodes...)
	kept, lost := f.slices[0].GetId(), f.slices[1].GetId()
	stray := newFile("stray").slices[0].GetId()

	report := func(held ...string) []string {
		t.Helper()
		resp, err := h.s.ReportSlices(a.ctx, &metav1.ReportSlicesRequest{NodeId: a.id, SliceIds: held})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetDeleteSlices()
	}
	if del := report(kept, lost, stray, "junk"); !slices.Equal(del, []string{stray}) {
		t.Fatalf("delete %v, want the stray slice", del)
	}
	report(kept) // lost missing once
	if !slices.Contains(h.replicas(lost), a.id) {
		t.Fatal("replica dropped after one report")
	}
	report(kept, lost) // back: the count starts again
	report(kept)
	if !slices.Contains(h.replicas(lost), a.id) {
		t.Fatal("replica dropped after two reports that were not consecutive")
	}
	report(kept)
	if slices.Contains(h.replicas(lost), a.id) {
		t.Fatal("replica still in the index after two reports without it")
	}
	if !slices.Contains(h.replicas(kept), a.id) {
		t.Fatal("a reported replica was dropped")
	}
	if under, _ := h.s.repairCounts(); under == 0 {
		t.Fatal("lost replica not queued for repair")
	}

	stranger := newTestNode(t, h.newKey())
	_, err := h.s.ReportSlices(stranger.ctx, &metav1.ReportSlicesRequest{NodeId: stranger.id})
	wantCode(t, err, codes.FailedPrecondition)
}

// Status reports every node with its liveness, and the index's counts.
func TestStatus(t *testing.T) {
	h := newHarness(t, 3)
	a, b, c := h.nodes[0], h.nodes[1], h.nodes[2]
	h.upload("/f", newFile("one", "two"), h.nodes...)
	h.upload("/g", newFile("one", "three"), h.nodes...) // shares slice "one"

	h.pass(4*time.Second, b)    // b silent 4s: suspect
	h.pass(7*time.Second, b, c) // b silent 11s: dead; c silent 7s: suspect
	resp, err := h.s.Status(ctx, &metav1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetFiles() != 2 || resp.GetSlices() != 3 || resp.GetReplicas() != 3 || resp.GetMinReplicas() != 2 ||
		resp.GetSliceSize() != testSliceSize || resp.GetMetaNodeId() != h.s.ID() {
		t.Fatalf("status %+v", resp)
	}
	want := map[string]string{a.id: "alive", b.id: "dead", c.id: "suspect"}
	if len(resp.GetNodes()) != 3 {
		t.Fatalf("%d nodes", len(resp.GetNodes()))
	}
	for _, n := range resp.GetNodes() {
		id := n.GetNode().GetNodeId()
		if n.GetState() != want[id] {
			t.Errorf("node %s: state %s, want %s", id, n.GetState(), want[id])
		}
		if n.GetNode().GetAddr() == "" || n.GetLastSeenUnixNano() == 0 || n.GetLoad().GetFree() != nodeFree {
			t.Errorf("node %s: %+v", id, n)
		}
	}
}

// A restarted meta node knows its registered nodes but places nothing on
// them before they heartbeat with their free space (until then an upload
// is asked to retry, as after a change of leader); committed files survive.
func TestRestart(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("durable")
	h.upload("/f", f, h.nodes...)
	h.s.Close()
	h.s = h.open()
	if !h.visible("/f") {
		t.Fatal("file lost in a restart")
	}
	_, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/g", Size: 1})
	wantCode(t, err, codes.Unavailable)
	h.pass(time.Second)
	if _, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/g", Size: 1}); err != nil {
		t.Fatal(err)
	}
}

// Issue 7: without a chain a meta node admits resource nodes only from the
// explicit list in its configuration, and starts only with one (or with
// admit_any, for test networks).
func TestNoChainAdmitsOnlyListedNodes(t *testing.T) {
	h := newHarness(t, 0)
	listed, other := h.newKey(), h.newKey()
	h.s.cfg.AdmitAny, h.s.cfg.Admit = false, []string{listed.ID()}
	if _, err := h.s.RegisterNode(callerCtx(t, other), registerReq(other)); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "admit list") {
		t.Fatalf("unlisted node: %v, want PermissionDenied naming the admit list", err)
	}
	if _, err := h.s.RegisterNode(callerCtx(t, listed), registerReq(listed)); err != nil {
		t.Fatalf("listed node: %v", err)
	}
	cfg := h.cfg
	cfg.AdmitAny, cfg.Admit, cfg.DataDir = false, nil, t.TempDir()
	if _, err := New(cfg, h.newKey()); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "admit") {
		t.Fatalf("no chain and no admit list: %v, want a configuration error", err)
	}
}
