package meta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta/raftnode"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// Test fixtures: a real Server on a temporary Pebble store, driven through
// its handlers with a fake clock, and resource nodes that are just keys.

const (
	testSliceSize = slice.MinSize
	nodeFree      = 1 << 30 // each test node reports 1 GiB free
	testOwner     = "alice"
)

var ctx = context.Background()

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testNode struct {
	key *identity.Key
	id  string
	ctx context.Context // an RPC context whose caller is this node
}

func newTestNode(t testing.TB, k *identity.Key) *testNode {
	return &testNode{key: k, id: k.ID(), ctx: callerCtx(t, k)}
}

// callerCtx is the context of an RPC from the node holding k: the server
// sees the certificate the node presents in the TLS handshake (wire.PeerID).
func callerCtx(t testing.TB, k *identity.Key) context.Context {
	t.Helper()
	cert, err := k.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	info := credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{x}}}
	return peer.NewContext(ctx, &peer.Peer{AuthInfo: info})
}

type harness struct {
	t       testing.TB
	s       *Server
	cfg     Config
	clock   *fakeClock
	nodes   []*testNode // registered, in order of registration
	keys    uint64      // keys made so far, for deterministic keys
	metaKey *identity.Key
	// tickets the meta node issued, by task and slice, as a client keeps
	// them for its commit.
	tickets map[string][]*storagev1.Ticket
}

// keepTickets records the tickets of pipelines the meta node handed out.
func (h *harness) keepTickets(task string, pipes ...*metav1.Pipeline) {
	if h.tickets == nil {
		h.tickets = map[string][]*storagev1.Ticket{}
	}
	for _, p := range pipes {
		if t := p.GetTicket(); t != nil {
			h.tickets[task+"/"+p.GetSliceId()] = append(h.tickets[task+"/"+p.GetSliceId()], t)
		}
	}
}

// commit sends req with the tickets kept for its slices, unless it brings
// its own.
func (h *harness) commit(req *metav1.CommitUploadRequest) (*metav1.CommitUploadResponse, error) {
	for _, up := range req.GetSlices() {
		if len(up.GetTickets()) == 0 {
			up.Tickets = h.tickets[req.GetTaskId()+"/"+up.GetSlice().GetId()]
		}
	}
	return h.s.CommitUpload(ctx, req)
}

// newHarness starts a meta node with n registered, heartbeating resource
// nodes: R = 3, min 2, 64 KiB slices, a one-minute task TTL.
func newHarness(t testing.TB, n int) *harness {
	t.Helper()
	clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg := DefaultConfig()
	cfg.AdmitAny = true
	cfg.unsigned = true // requests are built by hand; chainHarness signs them
	cfg.DataDir = t.TempDir()
	cfg.SliceSize = testSliceSize
	cfg.TaskTTL = time.Minute
	cfg.Seed = 42
	cfg.Now = clock.Now
	cfg.Index.BloomItems = 1 << 12
	cfg.Raft = fastRaft()
	h := &harness{t: t, cfg: cfg, clock: clock}
	h.s = h.open()
	for range n {
		h.addNode()
	}
	return h
}

func (h *harness) open() *Server {
	h.t.Helper()
	if h.metaKey == nil { // a restarted meta node keeps its key, so its place in the log
		h.metaKey = h.newKey()
	}
	s, err := New(h.cfg, h.metaKey)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { s.Close() })
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitLeader(wctx); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// newKey makes a key from a seed that depends only on how many keys this
// harness made before, so node IDs, and placement with them, repeat.
func (h *harness) newKey() *identity.Key {
	h.keys++
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], h.keys)
	k, err := identity.Generate(rand.NewChaCha8(seed))
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

func registerReq(k *identity.Key) *metav1.RegisterNodeRequest {
	rec := &metav1.NodeRecord{
		NodeId: k.ID(), PublicKey: k.Public(), Addr: "node-" + k.ID()[:8] + ":7000",
		Region: "eu", Capacity: 2 * nodeFree,
	}
	return &metav1.RegisterNodeRequest{Node: rec, Signature: k.Sign(identity.RegistrationBytes(rec))}
}

// addNode registers a new resource node and makes it alive with free space.
func (h *harness) addNode() *testNode {
	h.t.Helper()
	n := newTestNode(h.t, h.newKey())
	if _, err := h.s.RegisterNode(n.ctx, registerReq(n.key)); err != nil {
		h.t.Fatalf("register node: %v", err)
	}
	h.nodes = append(h.nodes, n)
	h.heartbeat(n)
	return n
}

func (h *harness) heartbeat(n *testNode) *metav1.HeartbeatResponse {
	h.t.Helper()
	resp, err := h.s.Heartbeat(n.ctx, &metav1.HeartbeatRequest{NodeId: n.id,
		Load: &metav1.NodeLoad{Capacity: 2 * nodeFree, Free: nodeFree}})
	if err != nil {
		h.t.Fatalf("heartbeat %s: %v", n.id, err)
	}
	return resp
}

// pass advances the clock by d in one-second steps; every node except the
// silent ones heartbeats at each step.
func (h *harness) pass(d time.Duration, silent ...*testNode) {
	for elapsed := time.Duration(0); elapsed < d; elapsed += time.Second {
		h.clock.Advance(time.Second)
		for _, n := range h.nodes {
			if !slices.Contains(silent, n) {
				h.heartbeat(n)
			}
		}
	}
}

// kill lets n fall silent until the meta node considers it dead.
func (h *harness) kill(n ...*testNode) { h.pass(h.cfg.Health.DeadAfter+time.Second, n...) }

// testFile is a file as the client would describe it: slice refs, size and
// file ID (DESIGN §6.1: the Merkle root over the slice IDs).
type testFile struct {
	slices []*metav1.SliceRef
	size   uint64
	id     string
}

// newFile describes a file whose slices hold contents; every slice but the
// last is padded to the slice size, as the client cuts files (DESIGN §6.1).
func newFile(contents ...string) testFile {
	var f testFile
	ids := make([]slice.ID, len(contents))
	for i, c := range contents {
		if i < len(contents)-1 {
			c += strings.Repeat(".", testSliceSize-len(c))
		}
		ids[i] = slice.Sum([]byte(c))
		f.slices = append(f.slices, &metav1.SliceRef{Id: ids[i].String(), Size: uint64(len(c))})
		f.size += uint64(len(c))
	}
	f.id = slice.Root(ids).String()
	return f
}

// rootOf is the file ID of a file made of refs (ignoring malformed IDs).
func rootOf(refs ...*metav1.SliceRef) string {
	ids := make([]slice.ID, len(refs))
	for i, r := range refs {
		ids[i], _ = slice.ParseID(r.GetId())
	}
	return slice.Root(ids).String()
}

func mkReceipt(n *testNode, task string, ref *metav1.SliceRef) *storagev1.Receipt {
	r := &storagev1.Receipt{TaskId: task, SliceId: ref.GetId(), Size: ref.GetSize()}
	n.key.SignReceipt(r)
	return r
}

// commitReq proves every slice of f with receipts from holders.
func commitReq(task string, f testFile, holders ...*testNode) *metav1.CommitUploadRequest {
	req := &metav1.CommitUploadRequest{TaskId: task, FileId: f.id}
	for _, ref := range f.slices {
		up := &metav1.UploadedSlice{Slice: ref}
		for _, n := range holders {
			up.Receipts = append(up.Receipts, mkReceipt(n, task, ref))
		}
		req.Slices = append(req.Slices, up)
	}
	return req
}

func (h *harness) begin(path string, size uint64) string {
	h.t.Helper()
	resp, err := h.s.BeginUpload(ctx, &metav1.BeginUploadRequest{Owner: testOwner, Path: path, Size: size})
	if err != nil {
		h.t.Fatalf("begin upload %s: %v", path, err)
	}
	return resp.GetTaskId()
}

// upload stores f at path on holders: the meta node places every slice on
// each holder, and the commit carries the holders' receipts.
func (h *harness) upload(path string, f testFile, holders ...*testNode) *metav1.FileEntry {
	h.t.Helper()
	task := h.beginOn(path, f, holders...)
	resp, err := h.commit(commitReq(task, f, holders...))
	if err != nil {
		h.t.Fatalf("commit %s: %v", path, err)
	}
	return resp.GetFile()
}

// beginOn opens an upload of f and places its slices on holders.
func (h *harness) beginOn(path string, f testFile, holders ...*testNode) string {
	h.t.Helper()
	task := h.begin(path, f.size)
	for _, ref := range f.slices {
		h.placeOn(task, ref, holders...)
	}
	return task
}

// placeOn has the meta node place a slice of a task on each of nodes: a
// one-node placement excluding all others where the exclude list allows,
// else placements excluding the nodes covered so far, until all are.
func (h *harness) placeOn(task string, ref *metav1.SliceRef, nodes ...*testNode) {
	h.t.Helper()
	covered := map[string]bool{}
	for tries := 0; len(covered) < len(nodes); tries++ {
		var exclude []string
		var want *testNode
		for _, n := range nodes {
			if covered[n.id] {
				exclude = append(exclude, n.id)
			} else if want == nil {
				want = n
			}
		}
		count := 0 // R
		if len(h.nodes) <= maxExclude {
			exclude, count = nil, 1
			for _, o := range h.nodes {
				if o != want {
					exclude = append(exclude, o.id)
				}
			}
		}
		// Tests choose where replicas go; clients may not (PlaceSlice
		// refuses excluding nodes the task never placed), so go under it.
		pipe, err := h.s.place(task, ref, exclude, count, "")
		if err != nil || tries > 100*len(h.nodes) {
			h.t.Fatalf("place %s on %s: %v, %v", ref.GetId(), want.id, pipe, err)
		}
		h.keepTickets(task, pipe)
		for _, p := range pipe.GetNodes() {
			if slices.ContainsFunc(nodes, func(n *testNode) bool { return n.id == p.GetNodeId() }) {
				covered[p.GetNodeId()] = true
			}
		}
	}
}

// replicas returns the index's holders of a slice.
func (h *harness) replicas(sliceID string) []string {
	h.t.Helper()
	sl, err := h.s.ix.Slice(sliceID)
	if err != nil {
		h.t.Fatalf("slice %s: %v", sliceID, err)
	}
	return sl.GetReplicas()
}

// visible reports whether owner's path is a committed file.
func (h *harness) visible(path string) bool {
	h.t.Helper()
	_, err := h.s.Stat(ctx, &metav1.StatRequest{Owner: testOwner, Path: path})
	if status.Code(err) != codes.NotFound && err != nil {
		h.t.Fatalf("stat %s: %v", path, err)
	}
	return err == nil
}

func ids(nodes ...*testNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.id
	}
	slices.Sort(out)
	return out
}

func peerIDs(peers []*storagev1.Peer) []string {
	out := make([]string, len(peers))
	for i, p := range peers {
		out[i] = p.GetNodeId()
	}
	return out
}

func wantCode(t testing.TB, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("error %v: code %v, want %v", err, got, want)
	}
}

// fastRaft elects a single test meta node at once.
func fastRaft() raftnode.Config {
	rc := raftnode.DefaultConfig()
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout, rc.CommitTimeout = 20*time.Millisecond, 20*time.Millisecond, 10*time.Millisecond, time.Millisecond
	return rc
}
