package meta

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// fakeChain is the value layer as the meta node sees it.
type fakeChain struct {
	mu      sync.Mutex
	nodes   map[string][]byte
	prepaid map[string]uint64
	down    bool
}

func (f *fakeChain) ActiveResourceNodes(context.Context) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("connection refused")
	}
	out := map[string][]byte{}
	for k, v := range f.nodes {
		out[k] = v
	}
	return out, nil
}

func (f *fakeChain) Prepaid(_ context.Context, owner string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return 0, errors.New("connection refused")
	}
	return f.prepaid[owner], nil
}

func (f *fakeChain) set(fn func(f *fakeChain)) { f.mu.Lock(); defer f.mu.Unlock(); fn(f) }

// chainHarness is a meta node that reads a (fake) chain.
func chainHarness(t *testing.T) (*harness, *fakeChain) {
	h := newHarness(t, 0)
	h.s.Close()
	fc := &fakeChain{nodes: map[string][]byte{}, prepaid: map[string]uint64{}}
	h.cfg.Chain = fc
	h.s = h.open()
	return h, fc
}

// DESIGN §3: "a peer is accepted only if its key is registered and active"
// on chain; the meta node admits and places on such nodes only.
func TestChainAdmitsOnlyRegisteredNodes(t *testing.T) {
	h, fc := chainHarness(t)
	n := newTestNode(t, h.newKey())
	_, err := h.s.RegisterNode(n.ctx, registerReq(n.key))
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "stratos tx register") {
		t.Fatalf("unregistered node: %v, want PermissionDenied saying how to register", err)
	}
	fc.set(func(f *fakeChain) { f.nodes[n.id] = n.key.Public() })
	if _, err := h.s.RegisterNode(n.ctx, registerReq(n.key)); err != nil {
		t.Fatalf("registered node refused: %v", err)
	}

	// Three nodes on chain and alive; then one is deactivated there: it is
	// no longer placed on once the meta node has read the chain again.
	h.nodes = append(h.nodes, n)
	h.heartbeat(n)
	for range 2 {
		k := h.newKey()
		fc.set(func(f *fakeChain) { f.nodes[k.ID()] = k.Public() })
		m := newTestNode(t, k)
		if _, err := h.s.RegisterNode(m.ctx, registerReq(m.key)); err != nil {
			t.Fatal(err)
		}
		h.nodes = append(h.nodes, m)
		h.heartbeat(m)
	}
	fc.set(func(f *fakeChain) { f.prepaid[testOwner] = 1 })
	fc.set(func(f *fakeChain) { delete(f.nodes, n.id) })
	if err := h.s.refreshChain(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := newFile("x")
	task := h.begin("/x", f.size)
	for range 20 {
		resp, err := h.s.PlaceSlice(ctx, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0], Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.GetPipeline().GetNodes()[0].GetNodeId(); got == n.id {
			t.Fatal("placed a slice on a node deactivated on chain")
		}
	}
}

// DESIGN §7: uploads are paid from the uploader's prepay; with nothing
// prepaid the meta node refuses to open the upload, and says how to prepay.
func TestChainUploadNeedsPrepay(t *testing.T) {
	h, fc := chainHarness(t)
	for range 3 {
		k := h.newKey()
		fc.set(func(f *fakeChain) { f.nodes[k.ID()] = k.Public() })
		n := newTestNode(t, k)
		if _, err := h.s.RegisterNode(n.ctx, registerReq(n.key)); err != nil {
			t.Fatal(err)
		}
		h.nodes = append(h.nodes, n)
		h.heartbeat(n)
	}
	req := &metav1.BeginUploadRequest{Owner: testOwner, Path: "/paid", Size: 10}
	_, err := h.s.BeginUpload(ctx, req)
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "stratos tx sds prepay") {
		t.Fatalf("upload without prepay: %v, want PermissionDenied saying how to prepay", err)
	}
	fc.set(func(f *fakeChain) { f.prepaid[testOwner] = 10_000_000 })
	h.pass(prepaidTTL + time.Second) // the cached zero expires
	if _, err := h.s.BeginUpload(ctx, req); err != nil {
		t.Fatalf("upload with prepay: %v", err)
	}
	fc.set(func(f *fakeChain) { f.down = true })
	h.pass(prepaidTTL + time.Second)
	if _, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/later", Size: 10}); status.Code(err) != codes.Unavailable {
		t.Fatalf("chain down: %v, want Unavailable (the client retries)", err)
	}
}
