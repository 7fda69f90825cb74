package resource_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/wire"
)

// fakeMeta is a hand-written meta node: it records what resource nodes
// send and answers heartbeats and reports with what the test queued.
type fakeMeta struct {
	metav1.UnimplementedMetaServiceServer
	key  *identity.Key
	addr string

	mu         sync.Mutex
	registered []*metav1.RegisterNodeRequest
	heartbeats []*metav1.HeartbeatRequest
	reports    []*metav1.ReportSlicesRequest
	confirms   []*metav1.ConfirmRepairRequest
	badReports []*metav1.ReportBadReplicaRequest
	claims     []*metav1.TrafficClaim // from ReportTraffic, by nodes that proved who they are
	// strangers counts the calls refused because the caller's
	// certificate is not the node's.
	strangers  int
	next       map[string][]*metav1.HeartbeatResponse // per node, answered in order
	reportResp map[string]*metav1.ReportSlicesResponse
}

func newFakeMeta(t testing.TB) *fakeMeta {
	t.Helper()
	return startFakeMeta(t, "127.0.0.1:0", mustKey(t))
}

func startFakeMeta(t testing.TB, listen string, key *identity.Key) *fakeMeta {
	t.Helper()
	m := &fakeMeta{key: key, next: map[string][]*metav1.HeartbeatResponse{}, reportResp: map[string]*metav1.ReportSlicesResponse{}}
	srv, err := wire.NewServer(m.key, wire.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	metav1.RegisterMetaServiceServer(srv, m)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return m
}

func (m *fakeMeta) RegisterNode(_ context.Context, req *metav1.RegisterNodeRequest) (*metav1.RegisterNodeResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.registered = append(m.registered, req)
	return &metav1.RegisterNodeResponse{SliceSize: 16 << 20}, nil
}

// caller refuses a call on behalf of node unless the caller presented
// node's certificate, as the meta node does for a node's own calls.
func (m *fakeMeta) caller(ctx context.Context, node string) error {
	if id, ok := wire.PeerID(ctx); !ok || id != node {
		m.strangers++
		return status.Errorf(codes.PermissionDenied, "caller %q is not node %q", id, node)
	}
	return nil
}

func (m *fakeMeta) Heartbeat(ctx context.Context, req *metav1.HeartbeatRequest) (*metav1.HeartbeatResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.caller(ctx, req.NodeId); err != nil {
		return nil, err
	}
	m.heartbeats = append(m.heartbeats, req)
	q := m.next[req.NodeId]
	if len(q) == 0 {
		return &metav1.HeartbeatResponse{}, nil
	}
	m.next[req.NodeId] = q[1:]
	return q[0], nil
}

func (m *fakeMeta) ReportSlices(ctx context.Context, req *metav1.ReportSlicesRequest) (*metav1.ReportSlicesResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.caller(ctx, req.NodeId); err != nil {
		return nil, err
	}
	m.reports = append(m.reports, req)
	if r := m.reportResp[req.NodeId]; r != nil {
		return r, nil
	}
	return &metav1.ReportSlicesResponse{}, nil
}

func (m *fakeMeta) ConfirmRepair(ctx context.Context, req *metav1.ConfirmRepairRequest) (*metav1.ConfirmRepairResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := wire.PeerID(ctx); !ok { // the holder that copied: any node
		m.strangers++
		return nil, status.Error(codes.PermissionDenied, "caller is not a node")
	}
	m.confirms = append(m.confirms, req)
	return &metav1.ConfirmRepairResponse{}, nil
}

func (m *fakeMeta) ReportBadReplica(ctx context.Context, req *metav1.ReportBadReplicaRequest) (*metav1.ReportBadReplicaResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.caller(ctx, req.NodeId); err != nil {
		return nil, err
	}
	m.badReports = append(m.badReports, req)
	return &metav1.ReportBadReplicaResponse{}, nil
}

func (m *fakeMeta) ReportTraffic(ctx context.Context, req *metav1.ReportTrafficRequest) (*metav1.ReportTrafficResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range req.GetClaims() {
		if err := m.caller(ctx, c.GetReceipt().GetNodeId()); err != nil {
			return nil, err
		}
	}
	m.claims = append(m.claims, req.GetClaims()...)
	return &metav1.ReportTrafficResponse{}, nil
}

func (m *fakeMeta) trafficClaims() []*metav1.TrafficClaim {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.claims)
}

// answer queues the next heartbeat answer to node.
func (m *fakeMeta) answer(node string, resp *metav1.HeartbeatResponse) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next[node] = append(m.next[node], resp)
}

// obeyed waits until node has taken every queued heartbeat answer and
// heartbeated once more: a node obeys an answer before its next heartbeat.
func (m *fakeMeta) obeyed(t testing.TB, node string) {
	t.Helper()
	var taken int
	eventually(t, "the node takes its heartbeat answers", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		taken = len(m.heartbeats)
		return len(m.next[node]) == 0
	})
	eventually(t, "the node heartbeats again", func() bool {
		return m.count(func(m *fakeMeta) int { return len(m.heartbeats) }) > taken
	})
}

// snapshot runs fn under the lock.
func (m *fakeMeta) snapshot(fn func(m *fakeMeta)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m)
}

func (m *fakeMeta) count(fn func(m *fakeMeta) int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fn(m)
}

// testNode is a running Node with a disk store in a temporary directory.
type testNode struct {
	*resource.Node
	key   *identity.Key
	meta  *fakeMeta
	store *disk.Store
	dir   string
	addr  string
	stop  func()
}

type nodeOpt func(*resource.Config, *disk.Options)

// startNode starts a node with a disk store in a temporary directory. Its
// scrubber is off unless an option sets ScrubRate: a pass at start could
// otherwise find what a test corrupts before the test's own check does.
func startNode(t testing.TB, meta *fakeMeta, opts ...nodeOpt) *testNode {
	t.Helper()
	return startNodeWith(t, meta, nil, opts...)
}

// startNodeWith is startNode calling setup, if not nil, once the store is
// open and the node made but before it runs.
func startNodeWith(t testing.TB, meta *fakeMeta, setup func(*testNode), opts ...nodeOpt) *testNode {
	t.Helper()
	tn := &testNode{key: mustKey(t), meta: meta, dir: t.TempDir()}
	cfg := resource.DefaultConfig()
	cfg.DataDir = tn.dir
	cfg.MetaAddr, cfg.MetaID = meta.addr, meta.key.ID()
	cfg.Region = "test"
	cfg.Capacity = 1 << 30
	cfg.HeartbeatInterval = 10 * time.Millisecond
	cfg.ScrubRate = 0
	var dopts disk.Options
	for _, o := range opts {
		o(&cfg, &dopts)
	}
	store, err := disk.Open(tn.dir, dopts)
	if err != nil {
		t.Fatal(err)
	}
	tn.store = store
	if tn.Node, err = resource.New(cfg, tn.key, store); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(tn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- tn.Run(ctx, func(addr string) { ready <- addr }) }()
	select {
	case tn.addr = <-ready:
	case err := <-done:
		t.Fatalf("node did not start: %v", err)
	}
	var once sync.Once
	tn.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("node %s: Run = %v", tn.ID(), err)
			}
			store.Close()
		})
	}
	t.Cleanup(tn.stop)
	return tn
}

func (tn *testNode) peer() *storagev1.Peer { return &storagev1.Peer{NodeId: tn.ID(), Addr: tn.addr} }

// client returns a SliceService client of the node, as a user would dial it.
func (tn *testNode) client(t testing.TB) storagev1.SliceServiceClient {
	t.Helper()
	conn, err := wire.Dial(tn.addr, tn.ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return storagev1.NewSliceServiceClient(conn)
}

// empty reports whether the node holds no slice and no partial one.
func (tn *testNode) empty() bool {
	u, err := tn.store.Usage()
	if err != nil || u != (resource.Usage{}) {
		return false
	}
	tmp, err := os.ReadDir(filepath.Join(tn.dir, "tmp"))
	return err == nil && len(tmp) == 0
}

func mustKey(t testing.TB) *identity.Key {
	t.Helper()
	k, err := identity.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pipelineHeader returns the header that stores data through nodes, with a
// ticket from the nodes' meta node.
func pipelineHeader(task string, data []byte, id string, nodes ...*testNode) *storagev1.StoreHeader {
	h := &storagev1.StoreHeader{TaskId: task, SliceId: id, Size: uint64(len(data))}
	var all []*storagev1.Peer
	for i, n := range nodes {
		all = append(all, n.peer())
		if i > 0 {
			h.Downstream = append(h.Downstream, n.peer())
		}
	}
	h.Ticket = ticket(nodes[0].meta.key, task, id, uint64(len(data)), all)
	return h
}

// The receipt key of the tests' downloads.
var testReceiptKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// testWindow is the fetch tickets' window in these tests.
const testWindow = 4 << 20

// fetchTicket is the meta node's ticket for n to serve length bytes of a
// slice from off to the task's downloader, valid for an hour.
func fetchTicket(n *testNode, task, id string, off, length uint64) *storagev1.FetchTicket {
	t := &storagev1.FetchTicket{TaskId: task, Owner: "alice", SliceId: id, Offset: off, Length: length, NodeId: n.key.ID(),
		ReceiptKey: testReceiptKey.Public().(ed25519.PublicKey), Window: testWindow, ExpiresUnixNano: time.Now().Add(time.Hour).UnixNano()}
	n.meta.key.SignFetchTicket(t)
	return t
}

// ticket signs a ticket for nodes, valid for an hour.
func ticket(meta *identity.Key, task, id string, size uint64, nodes []*storagev1.Peer) *storagev1.Ticket {
	t := &storagev1.Ticket{TaskId: task, SliceId: id, Size: size, Nodes: nodes, ExpiresUnixNano: time.Now().Add(time.Hour).UnixNano()}
	meta.SignTicket(t)
	return t
}
