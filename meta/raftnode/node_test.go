package raftnode

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/pebblekv"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// member is one meta node of a test cluster: its key, directories and
// reserved transport address survive a stop, as a process's disk would.
type member struct {
	key   *identity.Key
	dir   string
	addr  string
	store kv.Store
	ix    *index.Index
	node  *Node
}

type testCluster struct {
	t       testing.TB
	members []*member
	allowed map[string]bool
	mu      sync.Mutex
	tweak   func(*Config)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newCluster starts n meta nodes that bootstrap one cluster.
func newCluster(t testing.TB, n int, tweak func(*Config)) *testCluster {
	c := &testCluster{t: t, allowed: map[string]bool{}, tweak: tweak}
	var peers []Peer
	for range n {
		key, err := identity.Generate(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		m := &member{key: key, dir: t.TempDir(), addr: freeAddr(t)}
		c.members = append(c.members, m)
		c.allowed[key.ID()] = true
		peers = append(peers, Peer{ID: key.ID(), Addr: m.addr})
	}
	for _, m := range c.members {
		c.start(m, peers)
	}
	t.Cleanup(func() {
		for _, m := range c.members {
			c.stop(m)
		}
	})
	return c
}

func (c *testCluster) allow(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.allowed[id]
}

func (c *testCluster) start(m *member, bootstrap []Peer) {
	c.t.Helper()
	store, err := pebblekv.Open(m.dir+"/index", pebblekv.DefaultOptions())
	if err != nil {
		c.t.Fatal(err)
	}
	opts := index.DefaultOptions()
	opts.BloomItems = 1 << 12
	ix, err := index.Open(store, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ID, cfg.Dir, cfg.Listen, cfg.Bootstrap = m.key.ID(), m.dir+"/raft", m.addr, bootstrap
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 50*time.Millisecond
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	node, err := Open(cfg, ix, m.key, c.allow)
	if err != nil {
		c.t.Fatal(err)
	}
	m.store, m.ix, m.node = store, ix, node
}

func (c *testCluster) stop(m *member) {
	if m.node == nil {
		return
	}
	m.node.Close()
	m.store.Close()
	m.node, m.ix, m.store = nil, nil, nil
}

// leader waits for one live member to lead.
func (c *testCluster) leader() *member {
	c.t.Helper()
	var l *member
	eventually(c.t, 10*time.Second, func() error {
		for _, m := range c.members {
			if m.node != nil && m.node.IsLeader() {
				l = m
				return nil
			}
		}
		return errors.New("no leader")
	})
	return l
}

func register(i int) *metav1.Command {
	pub := make([]byte, 32)
	copy(pub, fmt.Sprintf("node-%d", i))
	return &metav1.Command{Op: &metav1.Command_RegisterNode{RegisterNode: &metav1.RegisterNodeCmd{
		Node: &metav1.NodeRecord{NodeId: fmt.Sprintf("node-%d", i), PublicKey: pub, Addr: "127.0.0.1:1", Capacity: 1 << 30},
	}}}
}

func createTask(owner, path string) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_UPLOAD, Owner: owner, Path: path, TtlNanos: int64(time.Hour),
	}}}
}

// sameRoots waits until every live member holds the same index as the
// leader.
func (c *testCluster) sameRoots() {
	c.t.Helper()
	eventually(c.t, 15*time.Second, func() error {
		var want []byte
		for _, m := range c.members {
			if m.ix == nil {
				continue
			}
			root, err := m.ix.Root()
			if err != nil {
				return err
			}
			if want == nil {
				want = root
			} else if !bytes.Equal(root, want) {
				return fmt.Errorf("%s has root %x, another %x", m.key.ID()[:8], root[:6], want[:6])
			}
		}
		return nil
	})
}

// DESIGN §5.1: the index is replicated; every meta node applies the same
// commands and holds the same index, and a follower points at the leader.
func TestReplicatesAndRedirects(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	ctx := context.Background()
	for i := range 50 {
		if _, err := l.node.Apply(ctx, register(i)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := l.node.Apply(ctx, createTask("alice", "/a"))
	if err != nil || res.GetTask().GetId() == "" {
		t.Fatalf("create task: %v, %v", res, err)
	}
	c.sameRoots()
	for _, m := range c.members {
		if m == l {
			continue
		}
		_, err := m.node.Apply(ctx, register(99))
		var nl *NotLeaderError
		if !errors.As(err, &nl) || !errors.Is(err, ErrNotLeader) {
			t.Fatalf("a follower applied, or failed with %v", err)
		}
		if nl.LeaderID != l.key.ID() || nl.LeaderAddr != l.addr {
			t.Fatalf("follower names leader %s at %s, want %s at %s", nl.LeaderID, nl.LeaderAddr, l.key.ID(), l.addr)
		}
	}
	if _, err := l.node.Apply(ctx, createTask("alice", "../bad")); !errors.Is(err, index.ErrBadCommand) {
		t.Fatalf("a bad command: %v, want ErrBadCommand", err)
	}
}

// Many concurrent commands share log entries (DESIGN §5.1) and each gets
// its own result.
func TestConcurrentCommandsBatched(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	before := l.node.Stats().Commit
	var wg sync.WaitGroup
	ids := make([]string, 400)
	errs := make([]error, 400)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.node.Apply(context.Background(), createTask("bob", fmt.Sprintf("/f%d", i)))
			ids[i], errs[i] = res.GetTask().GetId(), err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, id := range ids {
		if errs[i] != nil || id == "" || seen[id] {
			t.Fatalf("command %d: task %q, %v", i, id, errs[i])
		}
		seen[id] = true
	}
	if entries := l.node.Stats().Commit - before; entries >= 400 {
		t.Fatalf("400 commands took %d log entries: not batched", entries)
	}
	c.sameRoots()
}

// A leader killed mid-stream: every command it acknowledged is on the new
// leader, and the cluster goes on (DESIGN §5.2: "If a leader dies, Raft
// elects a new one at once").
func TestLeaderFailover(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	var acked []string
	for i := range 30 {
		if _, err := l.node.Apply(context.Background(), createTask("carol", fmt.Sprintf("/before%d", i))); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, fmt.Sprintf("/before%d", i))
	}
	c.stop(l)
	nl := c.leader()
	if nl == l {
		t.Fatal("the stopped node still leads")
	}
	if err := nl.node.Barrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	var tasks int
	if err := nl.ix.Tasks(func(*metav1.Task) error { tasks++; return nil }); err != nil {
		t.Fatal(err)
	}
	if tasks != len(acked) {
		t.Fatalf("new leader holds %d tasks, %d were acknowledged", tasks, len(acked))
	}
	if _, err := nl.node.Apply(context.Background(), createTask("carol", "/after")); err != nil {
		t.Fatal(err)
	}
	c.start(l, nil)
	c.sameRoots()
}

// A node restarted after missing many entries catches up from a snapshot
// plus the log tail (issue 7), and a restart replays nothing twice.
func TestRestartCatchesUpFromSnapshot(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold, cfg.TrailingLogs, cfg.SnapshotInterval = 64, 16, 50*time.Millisecond
		cfg.MaxBatch = 1 // an entry per command, so the log outruns the trailing logs
	})
	l := c.leader()
	var lagging *member
	for _, m := range c.members {
		if m != l {
			lagging = m
			break
		}
	}
	c.stop(lagging)
	for i := range 600 {
		if _, err := l.node.Apply(context.Background(), createTask("dave", fmt.Sprintf("/x%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, func() error {
		if s, ok := snapshotIndex(l); !ok || s < 500 {
			return fmt.Errorf("leader's snapshot at %d", s)
		}
		// Raft compacts its log just after it records the snapshot: until
		// then the lagging node could still catch up from the log alone.
		if first, err := l.node.store.FirstIndex(); err != nil || first < 400 {
			return fmt.Errorf("leader's log starts at %d (%v)", first, err)
		}
		return nil
	})
	c.start(lagging, nil)
	c.sameRoots()
	// Raft restores the snapshot into the index before it records it as
	// its last snapshot: the roots can match a moment before the stats say
	// so.
	eventually(t, 2*time.Second, func() error {
		if s, _ := snapshotIndex(lagging); s < 500 {
			return fmt.Errorf("the lagging node caught up without the leader's snapshot (its last snapshot at %d)", s)
		}
		return nil
	})
	// And a restart of a current node applies no entry twice: same root.
	c.stop(lagging)
	c.start(lagging, nil)
	if _, err := c.leader().node.Apply(context.Background(), createTask("dave", "/last")); err != nil {
		t.Fatal(err)
	}
	c.sameRoots()
}

func snapshotIndex(m *member) (uint64, bool) {
	var idx uint64
	_, err := fmt.Sscan(m.node.r.Stats()["last_snapshot_index"], &idx)
	return idx, err == nil
}

// The log transport admits only the meta authorities (DESIGN §3: a peer is
// accepted only if its key is registered and active).
func TestTransportRefusesStrangers(t *testing.T) {
	c := newCluster(t, 1, nil)
	l := c.leader()
	stranger, _ := identity.Generate(rand.Reader)
	layer, err := listen("127.0.0.1:0", "", stranger, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	defer layer.Close()
	conn, err := layer.Dial(nodeAddrOf(l), time.Second)
	if err == nil {
		// TLS 1.3: the server checks the client's certificate after the
		// client's handshake ends; the refusal shows on the first read.
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("a stranger's connection was accepted")
	}
	if _, err := layer.Dial(nodeAddrOf(l)[:10], time.Second); !errors.Is(err, ErrBadAddress) {
		t.Fatalf("an address without a node ID: %v", err)
	}
}

func nodeAddrOf(m *member) raftAddr { return raftAddr(Address(m.key.ID(), m.addr)) }

// eventually polls f until it succeeds or the time is up.
func eventually(t testing.TB, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
