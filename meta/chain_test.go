package meta

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/account"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// fakeChain is the value layer as the meta node sees it.
type fakeChain struct {
	mu      sync.Mutex
	nodes   map[string][]byte
	prepaid map[string]uint64
	price   uint64
	// storagePrice is ustos per GiB per 30 days.
	storagePrice uint64
	down         bool
	gate         chan struct{} // if set, registry reads wait for it
	reads        atomic.Int64
}

func (f *fakeChain) Prices(context.Context) (uint64, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return 0, 0, errors.New("connection refused")
	}
	return f.price, f.storagePrice, nil
}

func (f *fakeChain) ActiveResourceNodes(context.Context) (map[string][]byte, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.reads.Add(1)
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
	h.cfg.Chain, h.cfg.unsigned = fc, false
	h.s = h.open()
	return h, fc
}

// user is an account: its key signs its requests.
type user struct {
	key  *secp256k1.PrivKey
	addr string
}

func newUser(t *testing.T) user {
	k := secp256k1.GenPrivKey()
	addr, err := account.Address(k.PubKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return user{k, addr}
}

func (u user) PubKey() []byte                  { return u.key.PubKey().Bytes() }
func (u user) Sign(msg []byte) ([]byte, error) { return u.key.Sign(msg) }

// signed signs req as u, now by the harness clock.
func signed[M proto.Message](t *testing.T, h *harness, u user, req M) M {
	t.Helper()
	h.pass(time.Microsecond) // a real clock moves between two signings too
	if err := account.Sign(req, u, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// registerOnChain adds n resource nodes registered on the fake chain, then
// registered with the meta node and alive.
func registerOnChain(t *testing.T, h *harness, fc *fakeChain, n int) {
	t.Helper()
	for range n {
		k := h.newKey()
		fc.set(func(f *fakeChain) { f.nodes[k.ID()] = k.Public() })
		node := newTestNode(t, k)
		if _, err := h.s.RegisterNode(node.ctx, registerReq(node.key)); err != nil {
			t.Fatal(err)
		}
		h.nodes = append(h.nodes, node)
		h.heartbeat(node)
	}
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
	alice := newUser(t)
	fc.set(func(f *fakeChain) { f.prepaid[alice.addr] = 1 })
	fc.set(func(f *fakeChain) { delete(f.nodes, n.id) })
	if err := h.s.chain.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := newFile("x")
	begin, err := h.s.BeginUpload(ctx, signed(t, h, alice, &metav1.BeginUploadRequest{Owner: alice.addr, Path: "/x", Size: f.size}))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		resp, err := h.s.PlaceSlice(ctx, signed(t, h, alice, &metav1.PlaceSliceRequest{TaskId: begin.GetTaskId(), Slice: f.slices[0], Count: 1}))
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
	registerOnChain(t, h, fc, 3)
	alice := newUser(t)
	begin := func(path string) error {
		_, err := h.s.BeginUpload(ctx, signed(t, h, alice, &metav1.BeginUploadRequest{Owner: alice.addr, Path: path, Size: 10}))
		return err
	}
	err := begin("/paid")
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "stratos tx sds prepay") {
		t.Fatalf("upload without prepay: %v, want PermissionDenied saying how to prepay", err)
	}
	fc.set(func(f *fakeChain) { f.prepaid[alice.addr] = 10_000_000 })
	h.pass(prepaidTTL + time.Second) // the cached zero expires
	if err := begin("/paid"); err != nil {
		t.Fatalf("upload with prepay: %v", err)
	}
	fc.set(func(f *fakeChain) { f.down = true })
	h.pass(prepaidTTL + time.Second)
	if err := begin("/later"); status.Code(err) != codes.Unavailable {
		t.Fatalf("chain down: %v, want Unavailable (the client retries)", err)
	}
}

// DESIGN §3: a user's account key signs its requests. With accounts (a
// chain), nobody writes into, reads, lists or deletes another's namespace,
// nor uses another's upload task.
func TestChainRequestsSignedByOwner(t *testing.T) {
	h, fc := chainHarness(t)
	registerOnChain(t, h, fc, 3)
	alice, mallory := newUser(t), newUser(t)
	fc.set(func(f *fakeChain) { f.prepaid[alice.addr], f.prepaid[mallory.addr] = 1, 1 })
	denied := func(what string, err error) {
		t.Helper()
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", what, err)
		}
	}
	_, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: alice.addr, Path: "/a", Size: 10})
	denied("unsigned upload", err)
	_, err = h.s.BeginUpload(ctx, signed(t, h, mallory, &metav1.BeginUploadRequest{Owner: alice.addr, Path: "/a", Size: 10}))
	denied("upload into another's namespace", err)
	_, err = h.s.List(ctx, signed(t, h, mallory, &metav1.ListRequest{Owner: alice.addr, Dir: "/"}))
	denied("listing another's namespace", err)
	_, err = h.s.Delete(ctx, signed(t, h, mallory, &metav1.DeleteRequest{Owner: alice.addr, Path: "/a"}))
	denied("deleting in another's namespace", err)
	_, err = h.s.Stat(ctx, signed(t, h, mallory, &metav1.StatRequest{Owner: alice.addr, Path: "/a"}))
	denied("stat in another's namespace", err)
	_, err = h.s.Locate(ctx, signed(t, h, mallory, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: alice.addr, Path: "/a"}))
	denied("download from another's namespace", err)

	f := newFile("a")
	begin, err := h.s.BeginUpload(ctx, signed(t, h, alice, &metav1.BeginUploadRequest{Owner: alice.addr, Path: "/a", Size: f.size}))
	if err != nil {
		t.Fatal(err)
	}
	task := begin.GetTaskId()
	_, err = h.s.PlaceSlice(ctx, signed(t, h, mallory, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0]}))
	denied("placing in another's task", err)
	_, err = h.s.CommitUpload(ctx, signed(t, h, mallory, &metav1.CommitUploadRequest{TaskId: task, FileId: f.id}))
	denied("committing another's task", err)
	_, err = h.s.AbortUpload(ctx, signed(t, h, mallory, &metav1.AbortUploadRequest{TaskId: task}))
	denied("aborting another's task", err)
	if _, err := h.s.PlaceSlice(ctx, signed(t, h, alice, &metav1.PlaceSliceRequest{TaskId: task, Slice: f.slices[0]})); err != nil {
		t.Fatalf("the owner's own task: %v", err)
	}
	if _, err := h.s.List(ctx, signed(t, h, alice, &metav1.ListRequest{Owner: alice.addr, Dir: "/"})); err != nil {
		t.Fatalf("the owner's own listing: %v", err)
	}
}

// x/pot refuses a whole report that names a node not active on chain; the
// meta node leaves such nodes out, so the others are still paid.
func TestReportLeavesOutInactiveNodes(t *testing.T) {
	h, fc := chainHarness(t)
	fc.set(func(f *fakeChain) { f.nodes["active"] = []byte("k") })
	if err := h.s.chain.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	fr := &fakeReporter{}
	h.s.cfg.Reporter = fr
	h.s.traffic.Add("active", "st1user", 10)
	h.s.traffic.Add("deactivated", "st1user", 20)
	h.s.report(context.Background(), 5)
	if len(fr.report.Nodes) != 1 || fr.report.Nodes[0].ID != "active" {
		t.Fatalf("reported nodes %+v, want only the active one", fr.report.Nodes)
	}
}

// DESIGN §7: "The client's prepay is charged for the traffic it used", and
// x/sds charges at most the prepaid balance. So the meta node opens a
// transfer only when the prepay covers it on top of the traffic not yet
// settled: audited traffic waiting for its period's report, and what open
// tasks may still cause.
func TestChainPrepayCoversTraffic(t *testing.T) {
	h, fc := chainHarness(t)
	registerOnChain(t, h, fc, 3)
	alice := newUser(t)
	fc.set(func(f *fakeChain) { f.prepaid[alice.addr], f.price = 30, 1<<30 }) // 1 ustos a byte
	if err := h.s.chain.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	begin := func(path string, size uint64) (string, error) {
		resp, err := h.s.BeginUpload(ctx, signed(t, h, alice, &metav1.BeginUploadRequest{Owner: alice.addr, Path: path, Size: size}))
		return resp.GetTaskId(), err
	}
	refused := func(err error, what string) {
		t.Helper()
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "stratos tx sds prepay") {
			t.Fatalf("%s: %v, want PermissionDenied saying to prepay more", what, err)
		}
	}
	a, err := begin("/a", 10) // 3 replicas × 10 bytes = 30 ustos: exactly covered
	if err != nil {
		t.Fatalf("upload the prepay covers: %v", err)
	}
	_, err = begin("/b", 1)
	refused(err, "a second upload while the first holds the whole prepay")
	if _, err := h.s.AbortUpload(ctx, signed(t, h, alice, &metav1.AbortUploadRequest{TaskId: a})); err != nil {
		t.Fatal(err)
	}
	if _, err := begin("/b", 1); err != nil {
		t.Fatalf("after the first upload was aborted: %v", err)
	}
	// Traffic audited but not yet reported counts against the prepay too.
	h.s.traffic.Add(h.nodes[0].id, alice.addr, 25)
	_, err = begin("/c", 1) // 3 reserved + 25 audited + 3 = 31 > 30
	refused(err, "an upload on top of unsettled traffic")
	if _, err := begin("/c", 0); err != nil {
		t.Fatalf("an empty file costs nothing: %v", err)
	}
}

// A flood of unknown node IDs (anyone can make keys) shares registry reads
// instead of costing the chain one query each.
func TestChainRegistryReadsShared(t *testing.T) {
	h, fc := chainHarness(t)
	fc.gate = make(chan struct{})
	before := fc.reads.Load()
	var wg sync.WaitGroup
	for range 50 {
		k := h.newKey()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.s.onChain(ctx, k.ID(), k.Public()); !errors.Is(err, ErrNotRegistered) {
				t.Errorf("unknown node: %v, want ErrNotRegistered", err)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // let them all ask while the first read waits
	close(fc.gate)
	wg.Wait()
	if n := fc.reads.Load() - before; n > 5 {
		t.Fatalf("%d registry reads for 50 unknown nodes asking at once, want a few", n)
	}
}

// DESIGN §7: "storage fees are settled to the nodes that hold replicas"
// from the owner's prepay, at most its balance. An upload opens only if the
// prepay also covers a ledger period's storage of everything the owner
// keeps, the new file's replicas included.
func TestChainPrepayCoversStorage(t *testing.T) {
	h, fc := chainHarness(t)
	registerOnChain(t, h, fc, 3)
	alice := newUser(t)
	// 1 ustos a stored byte per 600 s period, traffic free.
	fc.set(func(f *fakeChain) { f.prepaid[alice.addr], f.storagePrice = 29, 4320<<30 })
	if err := h.s.chain.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	begin := func(path string, size uint64) error {
		_, err := h.s.BeginUpload(ctx, signed(t, h, alice, &metav1.BeginUploadRequest{Owner: alice.addr, Path: path, Size: size}))
		return err
	}
	if err := begin("/a", 10); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "storage of 30 bytes") {
		t.Fatalf("a period's storage of 3 × 10 bytes on 29 ustos: %v, want refused", err)
	}
	if err := begin("/a", 9); err != nil {
		t.Fatalf("27 bytes stored on 29 ustos: %v", err)
	}
}

// DESIGN §3: a captured signed request cannot be sent again: each signature
// is accepted once while it is valid. A retry signed afresh goes through.
func TestChainRefusesReplayedRequest(t *testing.T) {
	h, fc := chainHarness(t)
	registerOnChain(t, h, fc, 3)
	alice := newUser(t)
	fc.set(func(f *fakeChain) { f.prepaid[alice.addr] = 10_000_000 })
	req := signed(t, h, alice, &metav1.BeginUploadRequest{Owner: alice.addr, Path: "/r", Size: 10})
	if _, err := h.s.BeginUpload(ctx, req); err != nil {
		t.Fatal(err)
	}
	h.pass(time.Minute)
	if _, err := h.s.BeginUpload(ctx, req); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "accepted once") {
		t.Fatalf("replayed request: %v, want PermissionDenied", err)
	}
	if _, err := h.s.BeginUpload(ctx, signed(t, h, alice, &metav1.BeginUploadRequest{Owner: alice.addr, Path: "/r", Size: 10})); err != nil {
		t.Fatalf("the same request signed again: %v", err)
	}
}

// Issue 7: "a meta node checks users' signatures whether or not it is
// connected to a chain" (DESIGN §3): an address is the hash of the key that
// signs for it, so no registry is needed to tell the owner's requests from
// anyone else's.
func TestNoChainStillChecksSignatures(t *testing.T) {
	h := newHarness(t, 3)
	h.s.Close()
	h.cfg.unsigned = false
	h.s = h.open()
	for _, n := range h.nodes {
		h.heartbeat(n)
	}
	alice, mallory := newUser(t), newUser(t)
	f := newFile("x")
	req := func() *metav1.BeginUploadRequest {
		return &metav1.BeginUploadRequest{Owner: alice.addr, Path: "/x", Size: f.size}
	}
	for name, r := range map[string]*metav1.BeginUploadRequest{
		"unsigned":           req(),
		"signed by mallory":  signed(t, h, mallory, req()),
		"signed, then moved": func() *metav1.BeginUploadRequest { r := signed(t, h, alice, req()); r.Path = "/y"; return r }(),
	} {
		if _, err := h.s.BeginUpload(ctx, r); !errors.Is(err, ErrNotOwner) && status.Code(err) != codes.PermissionDenied {
			t.Fatalf("%s: %v, want the request refused as not signed by the owner", name, err)
		}
	}
	if _, err := h.s.BeginUpload(ctx, signed(t, h, alice, req())); err != nil {
		t.Fatalf("signed by the owner: %v", err)
	}
	if _, err := h.s.List(ctx, signed(t, h, mallory, &metav1.ListRequest{Owner: alice.addr, Dir: "/"})); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("mallory lists alice's namespace: %v", err)
	}
}

// capacityChain is a fakeChain that also tells registered capacities.
type capacityChain struct {
	*fakeChain
	caps map[string]uint64
}

func (c capacityChain) ResourceCapacities(context.Context) (map[string]uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.caps), nil
}

// Issue 8: "a node's self-reported capacity is capped by what it
// registered on chain": a node heartbeating more space than it bonded for
// is seen with its registered capacity, what it holds counted as used.
func TestCapacityCappedAtRegistration(t *testing.T) {
	h := newHarness(t, 0)
	h.s.Close()
	fc := &fakeChain{nodes: map[string][]byte{}, prepaid: map[string]uint64{}}
	cc := capacityChain{fakeChain: fc, caps: map[string]uint64{}}
	h.cfg.Chain, h.cfg.unsigned = cc, false
	h.s = h.open()
	k := h.newKey()
	fc.set(func(f *fakeChain) { f.nodes[k.ID()] = k.Public() })
	cc.caps[k.ID()] = 1000
	n := newTestNode(t, k)
	if _, err := h.s.RegisterNode(n.ctx, registerReq(n.key)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ capacity, free, wantCap, wantFree uint64 }{
		{1 << 40, 1<<40 - 100, 1000, 900}, // claims a TiB, holds 100 bytes
		{1 << 40, 1<<40 - 5000, 1000, 0},  // holds more than it registered
		{800, 500, 800, 500},              // offers less: taken as is
	} {
		if _, err := h.s.Heartbeat(n.ctx, &metav1.HeartbeatRequest{NodeId: n.id, Load: &metav1.NodeLoad{Capacity: tc.capacity, Free: tc.free}}); err != nil {
			t.Fatal(err)
		}
		l, _ := h.s.health.Load(n.id)
		if l.Capacity != tc.wantCap || l.Free != tc.wantFree {
			t.Fatalf("heartbeat of %d/%d free: seen as %d/%d, want %d/%d", tc.free, tc.capacity, l.Free, l.Capacity, tc.wantFree, tc.wantCap)
		}
	}
}
