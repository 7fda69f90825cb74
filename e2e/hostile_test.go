package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/internal/cluster"
	"github.com/stratos-net/stratos/meta"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/wire"
)

// The hostile-peer suite (issue 8): attackers play every trick the issue
// lists against every node of an in-process network while honest clients
// upload and download. TestHostilePeers checks that every honest transfer
// succeeds, byte for byte, and that no node dies; BenchmarkHostilePeers
// measures the honest clients' latency quiet and under attack.

const (
	hostileSlice  = 4 << 20
	hostileWindow = wire.FrameSize // the smallest fetch window: a stalled reader stops its node soonest
	honestFile    = 1 << 20
	honestClients = 4
)

// hostileCluster is the devnet's shape with 4 MiB slices, so a reader can
// stop in the middle of one.
func hostileCluster(tb testing.TB) *cluster.Cluster {
	opts := cluster.DefaultOptions()
	opts.Metas = 3
	opts.SliceSize = hostileSlice
	opts.Meta = func(_ int, cfg *meta.Config) { cfg.FetchWindow = hostileWindow }
	return cluster.Start(tb, opts)
}

// honestRound has each honest client put a file and get it back, and
// returns the time each put and each get took; any failure or wrong byte
// fails tb.
func honestRound(tb testing.TB, clients []*client.Client, round int, paths *[]string, mu *sync.Mutex) []time.Duration {
	var wg sync.WaitGroup
	lat := make([]time.Duration, 2*len(clients))
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Go(func() {
			path := fmt.Sprintf("/honest/%d/%d", i, round)
			data := make([]byte, honestFile)
			var seed [32]byte
			seed[0], seed[1], seed[2] = 'h', byte(i), byte(round)
			rand.NewChaCha8(seed).Read(data)
			start := time.Now()
			if _, err := c.Put(context.Background(), path, bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
				errs[i] = fmt.Errorf("put %s: %w", path, err)
				return
			}
			lat[2*i] = time.Since(start)
			start = time.Now()
			var got bytes.Buffer
			if _, err := c.Get(context.Background(), path, &got, client.GetOptions{}); err != nil {
				errs[i] = fmt.Errorf("get %s: %w", path, err)
				return
			}
			lat[2*i+1] = time.Since(start)
			if !bytes.Equal(got.Bytes(), data) {
				errs[i] = fmt.Errorf("get %s: %d bytes, not what was put", path, got.Len())
				return
			}
			mu.Lock()
			*paths = append(*paths, path)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
	return lat
}

// attacks counts what the attackers tried.
type attacks struct {
	idle, junk, oversize, forged, replayed, unknownNodes, stalled atomic.Int64
}

func (a *attacks) String() string {
	return fmt.Sprintf("%d idle streams, %d junk connections, %d oversize frames, %d forged tickets and requests, %d replayed requests, %d calls from unknown nodes, %d stalled downloads",
		a.idle.Load(), a.junk.Load(), a.oversize.Load(), a.forged.Load(), a.replayed.Load(), a.unknownNodes.Load(), a.stalled.Load())
}

// peer is a node an attacker aims at.
type peer struct{ addr, id string }

// targets are what the attackers aim at: the network's nodes, the honest
// owner to forge requests for, and the attacker's own account. stall, if
// set, is one download that stops reading mid-slice and returns when ctx
// ends.
type targets struct {
	resources, metas []peer
	honestOwner      string
	signer           account.Signer
	owner            string
	stall            func(ctx context.Context)
}

// attack starts every attacker; stop ends them and waits until they have.
func attack(tg targets) (a *attacks, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	a = &attacks{}
	var wg sync.WaitGroup
	loop := func(f func()) {
		wg.Go(func() {
			for ctx.Err() == nil {
				f()
			}
		})
	}
	for _, n := range tg.resources {
		// Idle streams: up to 1,500 Store and Fetch streams per node that
		// never send a message, over six connections (a node takes 64 from
		// one host, and 256 streams on each).
		wg.Go(func() { idleStreams(ctx, n, a) })
		// Junk: bytes that are not TLS, and streams whose messages are
		// junk, forged or larger than any message a node decodes.
		loop(func() { junkConn(n.addr, a) })
		loop(func() { badStreams(ctx, n, tg.honestOwner, a) })
	}
	// Meta nodes: calls from node keys nobody registered, and signed
	// requests forged or replayed.
	var members []wire.Member
	for _, m := range tg.metas {
		loop(func() { unknownNode(ctx, m, a) })
		members = append(members, wire.Member{ID: m.id, Addr: m.addr})
	}
	conn, err := wire.NewLeaderConn(members, wire.Dial)
	if err == nil {
		mc := metav1.NewMetaServiceClient(conn)
		loop(func() { badRequests(ctx, mc, tg, a) })
	}
	// Downloads that stop reading mid-slice.
	if tg.stall != nil {
		for range 8 {
			loop(func() {
				a.stalled.Add(1)
				sctx, scancel := context.WithTimeout(ctx, 3*time.Second)
				defer scancel()
				tg.stall(sctx)
			})
		}
	}
	return a, func() {
		cancel()
		wg.Wait()
		if conn != nil {
			conn.Close()
		}
	}
}

// clusterTargets aims at an in-process cluster. The attacker is a user
// too, with an account of its own and a file of its own, put before the
// attack starts; its downloads of it stop mid-slice.
func clusterTargets(tb testing.TB, c *cluster.Cluster) targets {
	tg := targets{honestOwner: cluster.Owner}
	for _, n := range c.Nodes {
		tg.resources = append(tg.resources, peer{n.Addr, n.Key.ID()})
	}
	for _, m := range c.Metas {
		tg.metas = append(tg.metas, peer{m.Addr, m.Key.ID()})
	}
	var err error
	if tg.signer, tg.owner, err = account.FromSecret([]byte("stratos hostile-peer test attacker")); err != nil {
		tb.Fatal(err)
	}
	stall := attackerClient(tb, c, tg.signer, tg.owner)
	big := make([]byte, 8*hostileSlice)
	if _, err := stall.Put(context.Background(), "/big", bytes.NewReader(big), int64(len(big)), client.PutOptions{}); err != nil {
		tb.Fatalf("the attacker's own upload: %v", err)
	}
	tg.stall = func(ctx context.Context) { stall.Get(ctx, "/big", stuckWriter{ctx}, client.GetOptions{}) }
	return tg
}

// stuckWriter takes nothing until its context ends: a reader that stopped.
type stuckWriter struct{ ctx context.Context }

func (w stuckWriter) Write(p []byte) (int, error) {
	<-w.ctx.Done()
	return 0, w.ctx.Err()
}

func attackerClient(tb testing.TB, c *cluster.Cluster, signer account.Signer, owner string) *client.Client {
	cfg := client.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner = c.Metas[0].Addr, c.Metas[0].Key.ID(), owner
	cfg.Signer = signer
	for _, m := range c.Metas {
		cfg.Metas = append(cfg.Metas, wire.Member{ID: m.Key.ID(), Addr: m.Addr})
	}
	cfg.RetryFor = 20 * time.Second
	cl, err := client.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cl.Close() })
	return cl
}

func idleStreams(ctx context.Context, n peer, a *attacks) {
	var conns []storagev1.SliceServiceClient
	for range 6 {
		cc, err := wire.Dial(n.addr, n.id)
		if err != nil {
			return
		}
		defer cc.Close()
		conns = append(conns, storagev1.NewSliceServiceClient(cc))
	}
	for ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		for i := range 1500 {
			sc := conns[i%len(conns)]
			var err error
			if i%2 == 0 {
				_, err = sc.Store(sctx)
			} else {
				_, err = sc.Fetch(sctx)
			}
			if err != nil {
				break
			}
			a.idle.Add(1)
		}
		<-sctx.Done()
		cancel()
	}
}

func junkConn(addr string, a *attacks) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	a.junk.Add(1)
	junk := make([]byte, 1+rand.IntN(64<<10))
	crand.Read(junk)
	conn.SetDeadline(time.Now().Add(time.Second))
	conn.Write(junk)
	io.Copy(io.Discard, conn)
}

// badStreams sends, on one connection, a Store stream with a maximal data
// frame and no header, one with a junk header, one whose ticket was
// signed by a key that is no meta node's, and a Fetch with a forged
// ticket.
func badStreams(ctx context.Context, n peer, honestOwner string, a *attacks) {
	cc, err := wire.Dial(n.addr, n.id)
	if err != nil {
		return
	}
	defer cc.Close()
	sc := storagev1.NewSliceServiceClient(cc)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	key, _ := identity.Generate(crand.Reader)
	try := func(first *storagev1.StoreRequest) {
		st, err := sc.Store(sctx)
		if err != nil {
			return
		}
		st.Send(first)
		st.CloseSend()
		st.CloseAndRecv()
	}
	a.oversize.Add(1)
	try(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: make([]byte, 4<<20)}})
	a.junk.Add(1)
	try(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: &storagev1.StoreHeader{TaskId: "junk", SliceId: "not a slice", Size: 1 << 62}}})
	tk := &storagev1.Ticket{TaskId: "forged", SliceId: "s" + fmt.Sprint(rand.Int64()), Size: 10, Nodes: []*storagev1.Peer{{NodeId: n.id, Addr: n.addr}},
		ExpiresUnixNano: time.Now().Add(time.Hour).UnixNano()}
	key.SignTicket(tk)
	a.forged.Add(1)
	try(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: &storagev1.StoreHeader{TaskId: "forged", SliceId: tk.SliceId, Size: 10, Ticket: tk}}})
	ft := &storagev1.FetchTicket{TaskId: "forged", Owner: honestOwner, SliceId: tk.SliceId, Length: 10, NodeId: n.id,
		ReceiptKey: make([]byte, ed25519.PublicKeySize), Window: hostileWindow, ExpiresUnixNano: time.Now().Add(time.Hour).UnixNano()}
	key.SignFetchTicket(ft)
	if st, err := sc.Fetch(sctx); err == nil {
		a.forged.Add(1)
		st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Ticket{Ticket: ft}})
		st.Recv()
	}
}

// unknownNode calls the meta node as a resource node nobody registered,
// with a new key each time.
func unknownNode(ctx context.Context, m peer, a *attacks) {
	key, _ := identity.Generate(crand.Reader)
	cc, err := wire.DialAs(m.addr, m.id, key)
	if err != nil {
		return
	}
	defer cc.Close()
	mc := metav1.NewMetaServiceClient(cc)
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for range 20 {
		a.unknownNodes.Add(1)
		mc.Heartbeat(cctx, &metav1.HeartbeatRequest{NodeId: key.ID(), Load: &metav1.NodeLoad{}})
		a.unknownNodes.Add(1)
		mc.ReportTraffic(cctx, &metav1.ReportTrafficRequest{})
	}
}

// badRequests sends signed requests in the honest owner's name that its
// key did not sign, and one request of the attacker's own, signed once,
// again and again.
func badRequests(ctx context.Context, mc metav1.MetaServiceClient, tg targets, a *attacks) {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	forged := &metav1.BeginUploadRequest{Owner: tg.honestOwner, Path: "/honest/forged", Size: 1}
	if err := account.Sign(forged, tg.signer, time.Now()); err != nil {
		return
	}
	once := &metav1.BeginUploadRequest{Owner: tg.owner, Path: fmt.Sprintf("/replayed/%d", rand.Int64()), Size: 1}
	if err := account.Sign(once, tg.signer, time.Now()); err != nil {
		return
	}
	for range 20 {
		a.forged.Add(1)
		mc.BeginUpload(cctx, forged)
		a.replayed.Add(1)
		mc.BeginUpload(cctx, once)
	}
}

// p is the q-quantile of d.
func p(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// hostile runs rounds of honest transfers quiet, then as many under
// attack, and checks afterwards that every file put reads back and every
// node is alive. It returns the latencies of both.
func hostile(tb testing.TB, rounds int) (quiet, attacked []time.Duration, a *attacks) {
	c := hostileCluster(tb)
	clients := make([]*client.Client, honestClients)
	for i := range clients {
		clients[i] = c.Client()
	}
	var paths []string
	var mu sync.Mutex
	for r := range rounds {
		quiet = append(quiet, honestRound(tb, clients, r, &paths, &mu)...)
	}
	a, stop := attack(clusterTargets(tb, c))
	time.Sleep(time.Second) // let the attack build up
	for r := range rounds {
		attacked = append(attacked, honestRound(tb, clients, rounds+r, &paths, &mu)...)
	}
	// The 10,000 idle streams, at least, before the attack ends.
	for deadline := time.Now().Add(30 * time.Second); a.idle.Load() < 10_000 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	// Nothing lost, nobody down.
	for i := range c.Nodes {
		if !c.Running(i) {
			tb.Fatalf("resource node %d stopped under attack", i)
		}
	}
	c.WaitAlive(len(c.Nodes))
	for _, path := range paths {
		var got bytes.Buffer
		if _, err := clients[0].Get(context.Background(), path, &got, client.GetOptions{}); err != nil || got.Len() != honestFile {
			tb.Fatalf("after the attack, %s: %d bytes, %v", path, got.Len(), err)
		}
	}
	return quiet, attacked, a
}

// TestHostilePeers: issue 8's hostile-peer suite, in process. Every honest
// upload and download succeeds while attackers open thousands of idle
// streams, send junk, oversize frames, forged tickets, forged and replayed
// signed requests, calls from unknown nodes and downloads that stop
// mid-slice; every file reads back after, and no node stops.
func TestHostilePeers(t *testing.T) {
	if testing.Short() {
		t.Skip("a network under attack for several seconds")
	}
	quiet, attacked, a := hostile(t, 5)
	t.Logf("attackers tried %s", a)
	t.Logf("honest put/get of 1 MiB, %d each: quiet p50 %v p99 %v; under attack p50 %v p99 %v",
		len(quiet), p(quiet, .5), p(quiet, .99), p(attacked, .5), p(attacked, .99))
	if a.idle.Load() < 10_000 {
		t.Errorf("only %d idle streams opened; the suite means 10,000", a.idle.Load())
	}
}

// go test -run x -bench HostilePeers -benchtime 1x ./e2e/
//
// Issue 8: the honest clients' p99 "must stay within a stated factor of
// the quiet case (measure it)": 20 rounds of four clients each putting and
// getting 1 MiB, quiet and then under every attack of TestHostilePeers.
func BenchmarkHostilePeers(b *testing.B) {
	for b.Loop() {
		quiet, attacked, a := hostile(b, 20)
		b.ReportMetric(float64(p(quiet, .5).Microseconds())/1000, "quiet-p50-ms")
		b.ReportMetric(float64(p(quiet, .99).Microseconds())/1000, "quiet-p99-ms")
		b.ReportMetric(float64(p(attacked, .5).Microseconds())/1000, "attacked-p50-ms")
		b.ReportMetric(float64(p(attacked, .99).Microseconds())/1000, "attacked-p99-ms")
		b.ReportMetric(float64(p(attacked, .99))/float64(p(quiet, .99)), "p99-factor")
		b.Logf("attackers tried %s", a)
	}
}
