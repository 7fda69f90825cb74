package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/pebblekv"
	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/placement"
	"github.com/stratos-net/stratos/meta/raftnode"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/wire"
)

// Server is a meta node.
type Server struct {
	metav1.UnimplementedMetaServiceServer

	cfg     Config
	key     *identity.Key
	started atomic.Int64 // unix nanos: when this node became the leader
	raft    *raftnode.Node
	peers   *peers
	ready   atomic.Bool // leads, and has applied the log of earlier terms

	elect election // the PoA master vote (election.go)

	stopLead  context.CancelFunc
	leadDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
	log       *slog.Logger
	now       func() time.Time
	store     kv.Store
	ix        *index.Index
	health    *health.Tracker
	placer    *placement.Placer
	chain     *chainCache // the chain's registry, prices and balances; owns its lock

	// applyMu orders commands: applies share it, so they batch into log
	// entries; a handler that checks state and then applies a command holds
	// it alone across both (applyLocked).
	applyMu sync.RWMutex

	traffic *ledger     // seals, settles and unseals the periods' reports; owns its state
	commits *commitMemo // recently committed tasks, for repeated commits; owns its lock
	// accounts and nodes are the token buckets of signed requests and of
	// node calls (ratelimit.go); they own their locks.
	accounts, nodes *buckets

	// mu guards the random source, the orders (deletes, verifications and
	// open placements for the resource nodes) and which repair queue the
	// current leadership uses; the queue and the orders are replaced at
	// each leadership (dropLeaderState), and the queue has its own lock.
	mu      sync.Mutex
	rng     *rand.Rand
	repairs *repairQueue
	orders  *orders
	unheard map[string]bool // nodes seeded alive at leadership, no heartbeat yet
}

// New opens the meta node's index under cfg.DataDir.
func New(cfg Config, key *identity.Key) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.Chain != nil:
	case cfg.AdmitAny:
		cfg.Logger.Warn("no chain, and admit_any: any resource node that holds its key is admitted, and uploads need no prepay; for test networks only")
	default:
		cfg.Logger.Warn("no chain: admitting only the resource nodes listed in admit; uploads need no prepay", "admit", len(cfg.Admit))
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	store, err := pebblekv.Open(filepath.Join(cfg.DataDir, "index"), pebblekv.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("open meta index store: %w", err)
	}
	ix, err := index.Open(store, cfg.Index)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("open meta index: %w", err)
	}
	placer, err := placement.New(cfg.Placement, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
	if err != nil {
		store.Close()
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		key:      key,
		log:      cfg.Logger,
		now:      cfg.Now,
		store:    store,
		peers:    newPeers(cfg.Peers),
		ix:       ix,
		health:   health.NewTracker(cfg.Health, cfg.Now),
		placer:   placer,
		rng:      rand.New(rand.NewPCG(seed+1, seed)),
		repairs:  newRepairQueue(),
		orders:   newOrders(),
		chain:    newChainCache(cfg.Chain, cfg.Now),
		commits:  newCommitMemo(commitMemory),
		accounts: newBuckets(cfg.Rates.AccountRate, cfg.Rates.AccountBurst, cfg.Rates.MaxKeys, cfg.Now),
		nodes:    newBuckets(cfg.Rates.NodeRate, cfg.Rates.NodeBurst, cfg.Rates.MaxKeys, cfg.Now),
	}
	s.started.Store(cfg.Now().UnixNano())
	s.traffic = newLedger(s.apply, cfg.Logger)
	if err := s.openRaft(); err != nil {
		store.Close()
		return nil, err
	}
	leadCtx, stop := context.WithCancel(context.Background())
	s.stopLead = stop
	s.leadDone = make(chan struct{})
	go func() { defer close(s.leadDone); s.leadLoop(leadCtx) }()
	return s, nil
}

// seedLiveness counts every registered node as seen at start-up with no free
// space: nothing is placed on a node before its first real heartbeat, but a
// node that never comes back still goes suspect, then dead, and its slices
// get repaired.
func (s *Server) seedLiveness() error {
	nodes, err := s.ix.Nodes()
	if err != nil {
		return fmt.Errorf("load registered nodes: %w", err)
	}
	s.mu.Lock()
	s.unheard = make(map[string]bool, len(nodes))
	s.mu.Unlock()
	for _, n := range nodes {
		s.health.Observe(n.GetNodeId(), health.Load{Capacity: n.GetCapacity()})
		s.mu.Lock()
		s.unheard[n.GetNodeId()] = true
		s.mu.Unlock()
	}
	return nil
}

// heard notes a node's heartbeat to this leader.
func (s *Server) heard(id string) {
	s.mu.Lock()
	delete(s.unheard, id)
	s.mu.Unlock()
}

// unheardAmong reports whether a node of cands has not heartbeated to this
// leader yet, so its free space is not known.
func (s *Server) unheardAmong(cands []placement.Node) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cands {
		if s.unheard[c.ID] {
			return true
		}
	}
	return false
}

// Close stops the Raft node and releases the index store. Run closes it
// on return.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stopLead()
		<-s.leadDone
		s.peers.close()
		s.closeErr = errors.Join(s.raft.Close(), s.store.Close())
	})
	return s.closeErr
}

// WaitLeader returns once this node leads the cluster and has applied the
// log of earlier terms, or ctx ends.
func (s *Server) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !s.leading() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("meta node %s: no leadership: %w", s.ID(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Index is the node's replica of the index, for reads.
func (s *Server) Index() *index.Index { return s.ix }

// ID is the meta node's node ID.
func (s *Server) ID() string { return s.key.ID() }

// Run serves the meta service until ctx ends, calling ready with the
// listening address once clients can connect.
func (s *Server) Run(ctx context.Context, ready func(addr string)) error {
	defer s.Close()
	ln, err := wire.Listen(s.cfg.Listen, wire.DefaultLimits())
	if err != nil {
		return fmt.Errorf("meta node listen on %s: %w", s.cfg.Listen, err)
	}
	srv, err := wire.NewServer(s.key, wire.DefaultLimits(), grpc.ChainUnaryInterceptor(s.leaderOnly, s.limitNodes))
	if err != nil {
		ln.Close()
		return err
	}
	metav1.RegisterMetaServiceServer(srv, s)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.repairLoop(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); s.joinLoop(ctx) }()
	if s.cfg.Authorities != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.authorityLoop(ctx) }()
	}
	if s.cfg.Chain != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.chainLoop(ctx) }()
	}
	if s.cfg.MasterTerm > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); s.electionLoop(ctx) }()
	}
	if s.cfg.Anchors != nil || s.cfg.Reporter != nil {
		wg.Add(1)
		go func() { defer wg.Done(); s.periodLoop(ctx) }()
	}
	if s.cfg.Challenges != nil && s.cfg.ChallengeEvery > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); s.challengeLoop(ctx) }()
	}
	defer wg.Wait() // before the deferred Close: the loop applies commands
	defer cancel()
	s.log.Info("meta node serving", "addr", ln.Addr().String(), "node_id", s.ID())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case <-ctx.Done():
		wire.Stop(srv, 5*time.Second)
		return nil
	case err := <-errc:
		return fmt.Errorf("meta node serve: %w", err)
	}
}

// apply stamps cmd with the clock and applies it to the index. Callers that
// read state to decide on a command hold applyMu themselves and call
// applyLocked.
func (s *Server) apply(cmd *metav1.Command) (*metav1.CommandResult, error) {
	s.applyMu.RLock()
	defer s.applyMu.RUnlock()
	return s.applyLocked(cmd)
}

// applyLocked replicates cmd through the log (stamped there with the
// leader's clock) and returns its result once applied here.
func (s *Server) applyLocked(cmd *metav1.Command) (*metav1.CommandResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	return s.raft.Apply(ctx, cmd)
}

// applyTimeout bounds how long a command waits for the log to commit it.
const applyTimeout = 15 * time.Second

// queueDeletes tells the holders of released slices to delete them at their
// next heartbeat.
func (s *Server) queueDeletes(released []*metav1.SliceEntry) {
	if len(released) == 0 {
		return
	}
	for _, sl := range released {
		for _, n := range sl.GetReplicas() {
			s.queueDelete(n, sl.GetId())
		}
		s.dropRepair(sl.GetId())
	}
}

// shuffle returns holders in a random order (whitepaper §3.2.2: the download
// holder is assigned at random so nobody can steer traffic to a node).
func (s *Server) shuffle(n int, swap func(i, j int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng.Shuffle(n, swap)
}
