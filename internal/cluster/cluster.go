// Package cluster runs a whole Stratos network inside one test process: a
// meta node and resource nodes, each with its own data directory and its own
// gRPC server on loopback, any of which a test can stop and start again.
package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratos-net/stratos/account"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/wire"
)

// Options shape a cluster.
type Options struct {
	Metas       int // meta nodes in one Raft cluster; 0 means 1
	Resources   int
	Replicas    int
	MinReplicas int
	SliceSize   int
	Regions     []string
	Capacity    uint64 // per resource node; 0: the disk's
	Verbose     bool   // log to the test output
	// Meta, if set, edits meta node i's configuration before it starts.
	Meta func(i int, cfg *meta.Config)
}

// DefaultOptions: six nodes in three regions, 3 replicas, 256 KiB slices.
func DefaultOptions() Options {
	return Options{Resources: 6, Replicas: 3, MinReplicas: 2, SliceSize: 256 << 10, Regions: []string{"a", "b", "c"}}
}

// Timing of an in-process cluster: fast, so failure detection takes about a
// second rather than the tens of seconds of a real network.
const (
	heartbeat    = 50 * time.Millisecond
	suspectAfter = 300 * time.Millisecond
	deadAfter    = time.Second
)

// Cluster is a running network.
type Cluster struct {
	t        testing.TB
	opts     Options
	dir      string
	log      *slog.Logger
	Metas    []*MetaNode
	MetaAddr string // the first meta node's
	metaKey  *identity.Key
	Nodes    []*Node
}

// MetaNode is one meta node.
type MetaNode struct {
	Key      *identity.Key
	Dir      string
	Addr     string
	RaftAddr string
	proc     *proc
	srv      *meta.Server
}

// Node is one resource node.
type Node struct {
	Key    *identity.Key
	Dir    string
	Addr   string
	Region string
	proc   *proc
}

type proc struct {
	cancel context.CancelFunc
	done   chan error
}

func (p *proc) stop() error {
	if p == nil {
		return nil
	}
	p.cancel()
	return <-p.done
}

// Start runs a cluster until the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c := &Cluster{t: t, opts: opts, dir: t.TempDir(), log: slog.New(slog.DiscardHandler)}
	if opts.Verbose {
		c.log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	metas := max(1, opts.Metas)
	ports := freePorts(t, 2*metas+opts.Resources)
	for i := range metas {
		k, err := identity.Generate(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c.Metas = append(c.Metas, &MetaNode{Key: k, Dir: filepath.Join(c.dir, fmt.Sprintf("meta-%d", i)), Addr: ports[2*i], RaftAddr: ports[2*i+1]})
	}
	c.metaKey, c.MetaAddr = c.Metas[0].Key, c.Metas[0].Addr
	for i := range opts.Resources {
		k, err := identity.Generate(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, &Node{Key: k, Dir: filepath.Join(c.dir, fmt.Sprintf("resource-%d", i)), Addr: ports[2*metas+i], Region: opts.Regions[i%len(opts.Regions)]})
	}
	t.Cleanup(c.StopAll)
	c.StartMeta()
	for i := range c.Nodes {
		c.StartNode(i)
	}
	c.WaitAlive(len(c.Nodes))
	return c
}

// StartMeta starts (or restarts) every meta node that is not running.
func (c *Cluster) StartMeta() {
	for i := range c.Metas {
		if c.Metas[i].proc == nil {
			c.StartMetaNode(i)
		}
	}
}

// peers is the meta cluster as every member is configured with it.
func (c *Cluster) peers() []meta.Peer {
	var ps []meta.Peer
	for _, m := range c.Metas {
		ps = append(ps, meta.Peer{ID: m.Key.ID(), Addr: m.Addr, RaftAddr: m.RaftAddr})
	}
	return ps
}

// StartMetaNode starts (or restarts) meta node i on its addresses.
func (c *Cluster) StartMetaNode(i int) {
	m := c.Metas[i]
	cfg := meta.DefaultConfig()
	cfg.DataDir = m.Dir
	cfg.Listen = m.Addr
	cfg.Raft.Listen = m.RaftAddr
	cfg.Raft.HeartbeatTimeout, cfg.Raft.ElectionTimeout, cfg.Raft.LeaderLeaseTimeout = 200*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	cfg.Peers = c.peers()
	for _, n := range c.Nodes {
		cfg.Admit = append(cfg.Admit, n.Key.ID())
	}
	cfg.SliceSize, cfg.Replicas, cfg.MinReplicas = c.opts.SliceSize, c.opts.Replicas, c.opts.MinReplicas
	cfg.Health.HeartbeatInterval, cfg.Health.SuspectAfter, cfg.Health.DeadAfter = heartbeat, suspectAfter, deadAfter
	cfg.RepairInterval, cfg.RepairTimeout = 100*time.Millisecond, 5*time.Second
	cfg.Logger = c.log.With("node", fmt.Sprintf("meta-%d", i))
	if c.opts.Meta != nil {
		c.opts.Meta(i, &cfg)
	}
	srv, err := meta.New(cfg, m.Key)
	if err != nil {
		c.t.Fatal(err)
	}
	m.srv = srv
	m.proc = run(func(ctx context.Context, ready func(string)) error { return srv.Run(ctx, ready) })
}

// StopMeta stops every meta node.
func (c *Cluster) StopMeta() {
	for i := range c.Metas {
		if c.Metas[i].proc != nil {
			c.StopMetaNode(i)
		}
	}
}

// StopMetaNode stops meta node i.
func (c *Cluster) StopMetaNode(i int) {
	if err := c.Metas[i].proc.stop(); err != nil {
		c.t.Errorf("meta node %d: %v", i, err)
	}
	c.Metas[i].proc, c.Metas[i].srv = nil, nil
}

// Leader returns the index of the running meta node that leads, waiting
// for an election to end.
func (c *Cluster) Leader() int {
	c.t.Helper()
	leader := -1
	c.Eventually(10*time.Second, func() error {
		for i, m := range c.Metas {
			if m.srv != nil && m.srv.WaitLeader(expired) == nil {
				leader = i
				return nil
			}
		}
		return errors.New("no meta leader")
	})
	return leader
}

// Index is meta node i's index, for checks of what it holds.
func (c *Cluster) Index(i int) *index.Index { return c.Metas[i].srv.Index() }

// StartNode starts (or restarts) resource node i with its data.
func (c *Cluster) StartNode(i int) {
	n := c.Nodes[i]
	opts := disk.DefaultOptions()
	opts.Capacity = c.opts.Capacity
	store, err := disk.Open(n.Dir, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := resource.DefaultConfig()
	cfg.DataDir, cfg.Listen, cfg.MetaAddr, cfg.MetaID, cfg.Region = n.Dir, n.Addr, c.MetaAddr, c.metaKey.ID(), n.Region
	cfg.Metas = c.members()
	cfg.Capacity = c.opts.Capacity
	cfg.HeartbeatInterval, cfg.ReportInterval, cfg.OrphanGrace = heartbeat, time.Second, time.Hour
	cfg.Logger = c.log.With("node", fmt.Sprintf("resource-%d", i))
	node, err := resource.New(cfg, n.Key, store)
	if err != nil {
		c.t.Fatal(err)
	}
	n.proc = run(func(ctx context.Context, ready func(string)) error {
		defer store.Close()
		return node.Run(ctx, ready)
	})
}

// StopNode stops resource node i as a crash would: its server goes away;
// its data stays on disk.
func (c *Cluster) StopNode(i int) {
	if err := c.Nodes[i].proc.stop(); err != nil {
		c.t.Errorf("resource node %d: %v", i, err)
	}
	c.Nodes[i].proc = nil
}

// Running reports whether node i runs.
func (c *Cluster) Running(i int) bool { return c.Nodes[i].proc != nil }

// StopAll stops every node.
func (c *Cluster) StopAll() {
	for i := range c.Nodes {
		if c.Nodes[i].proc != nil {
			c.StopNode(i)
		}
	}
	c.StopMeta()
}

// NodeIndex returns the index of the node with this ID, or -1.
func (c *Cluster) NodeIndex(id string) int {
	for i, n := range c.Nodes {
		if n.Key.ID() == id {
			return i
		}
	}
	return -1
}

// members lists the meta nodes for clients and resource nodes.
func (c *Cluster) members() []wire.Member {
	var ms []wire.Member
	for _, m := range c.Metas {
		ms = append(ms, wire.Member{ID: m.Key.ID(), Addr: m.Addr})
	}
	return ms
}

// expired is a context already done: WaitLeader with it only looks.
var expired = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// Meta returns a raw connection to the meta cluster's service (following
// the leader), for tests that need what the SDK does not show (such as the
// order of a Locate).
func (c *Cluster) Meta() metav1.MetaServiceClient {
	conn, err := wire.NewLeaderConn(c.members(), wire.Dial)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { conn.Close() })
	return metav1.NewMetaServiceClient(conn)
}

// Signer is the account key the cluster's clients sign with, and Owner its
// address: every meta node checks users' signatures, with a chain or
// without.
var Signer, Owner = testAccount()

func testAccount() (account.Signer, string) {
	s, addr, err := account.FromSecret([]byte("stratos internal/cluster test account"))
	if err != nil {
		panic(err)
	}
	return s, addr
}

// Client returns a client of the cluster, closed when the test ends.
func (c *Cluster) Client() *client.Client {
	cfg := client.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner, cfg.Region = c.MetaAddr, c.metaKey.ID(), Owner, c.opts.Regions[0]
	cfg.Signer = Signer
	cfg.Metas = c.members()
	cfg.RetryFor = 20 * time.Second
	cfg.Logger = c.log.With("node", "client")
	cl, err := client.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// WaitAlive waits until n resource nodes are alive with free space.
func (c *Cluster) WaitAlive(n int) {
	c.t.Helper()
	cl := c.Client()
	c.Eventually(20*time.Second, func() error {
		st, err := cl.Status(context.Background())
		if err != nil {
			return err
		}
		alive := 0
		for _, ns := range st.GetNodes() {
			if ns.GetState() == "alive" && ns.GetLoad().GetFree() > 0 {
				alive++
			}
		}
		if alive < n {
			return fmt.Errorf("%d of %d nodes alive", alive, n)
		}
		return nil
	})
}

// Eventually polls cond until it returns nil or the deadline passes.
func (c *Cluster) Eventually(within time.Duration, cond func() error) {
	c.t.Helper()
	Eventually(c.t, within, cond)
}

// Eventually polls cond every 50 ms until it returns nil, and fails t with
// cond's last error if that takes longer than within.
func Eventually(t testing.TB, within time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func run(f func(ctx context.Context, ready func(string)) error) *proc {
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	var once bool
	go func() {
		p.done <- f(ctx, func(string) {
			if !once {
				once = true
				close(ready)
			}
		})
	}()
	select {
	case <-ready:
	case err := <-p.done:
		p.done <- err
	}
	return p
}

func freePorts(t testing.TB, n int) []string {
	var out []string
	var lns []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range lns {
		l.Close()
	}
	return out
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// SliceFiles returns the paths of slice files on node i's disk.
func (c *Cluster) SliceFiles(i int) []string {
	var out []string
	filepath.WalkDir(filepath.Join(c.Nodes[i].Dir, "slices"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}
