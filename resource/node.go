package resource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// shutdownGrace is how long Run lets streams in flight finish before it
// cuts them off.
const shutdownGrace = 3 * time.Second

// Node is a resource node: it serves SliceService and keeps the meta node
// informed. The node does not own its store; the caller closes it after Run.
type Node struct {
	cfg      Config
	key      *identity.Key
	store    SliceStore
	log      *slog.Logger
	pool     *peerPool // connections to downstream nodes and repair targets
	capacity uint64

	conns       atomic.Int32  // Store and Fetch streams in flight
	stores      chan struct{} // a slot per Store stream in flight, MaxStores in all
	headers     *waitLine     // Store and Fetch streams waiting for their first message
	fetches     chan struct{} // a slot per Fetch stream, MaxFetches in all
	userFetches userSlots     // Fetch streams per user, MaxFetchesPerUser each
	served      servedLog     // receipts of fetches, until reported (served.go)

	// verifyQ holds the slices the meta node asked to re-hash; one
	// goroutine works through it (see verify.go).
	verifyQ chan slice.ID

	// The scrubber (scrub.go): its rate limit (nil when scrubbing is off),
	// the clock it paces itself by, and what it has done.
	scrubLim *rate.Limiter
	clock    scrubClock
	scrubbed scrubCounters

	mu        sync.Mutex
	reserved  uint64 // bytes announced by Store streams in flight
	running   bool
	repairs   map[string]bool   // task IDs of repairs in flight
	repairSem chan struct{}     // bounds the repairs running at once
	verifying map[slice.ID]bool // queued or being verified

	registered map[string][]byte // the chain's active resource nodes (soft state)
	registryAt time.Time
}

// New returns a node with key serving the slices of store.
func New(cfg Config, key *identity.Key, store SliceStore) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if key == nil || store == nil {
		return nil, fmt.Errorf("%w: a node needs a key and a slice store", ErrConfig)
	}
	cfg = cfg.withDefaults()
	n := &Node{
		cfg:         cfg,
		key:         key,
		store:       store,
		log:         cfg.Logger.With("node", key.ID()[:8]),
		pool:        newPeerPool(key),
		capacity:    cfg.Capacity,
		stores:      make(chan struct{}, cfg.MaxStores),
		headers:     newWaitLine(cfg.MaxPendingHeaders),
		fetches:     make(chan struct{}, cfg.MaxFetches),
		userFetches: userSlots{max: cfg.MaxFetchesPerUser, n: map[string]int{}},
		verifyQ:     make(chan slice.ID, verifyQueue),
		scrubLim:    newScrubLimiter(cfg.ScrubRate),
		clock:       wallClock{},
		repairs:     make(map[string]bool),
		repairSem:   make(chan struct{}, cfg.Repairs),
		verifying:   make(map[slice.ID]bool),
	}
	if n.capacity == 0 {
		free, err := freeSpace(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		u, err := store.Usage()
		if err != nil {
			return nil, fmt.Errorf("new resource node: %w", err)
		}
		n.capacity = free + u.Bytes // what it holds is offered too
	}
	return n, nil
}

// ID returns the node ID.
func (n *Node) ID() string { return n.key.ID() }

// Capacity returns the bytes the node offers: Config.Capacity, or what it
// measured at start.
func (n *Node) Capacity() uint64 { return n.capacity }

// Run serves until ctx ends: it listens, calls ready with the listening
// address, then registers with the meta node (retrying while it is
// unreachable; Fetch is served meanwhile) and heartbeats, and scrubs the
// store in the background unless ScrubRate is 0. It returns nil
// after a clean shutdown. Run may be called once.
func (n *Node) Run(ctx context.Context, ready func(addr string)) error {
	n.mu.Lock()
	if n.running {
		n.mu.Unlock()
		return errors.New("resource node: Run called twice")
	}
	n.running = true
	n.mu.Unlock()
	defer n.pool.close()

	// Dialing does not connect, so this fails only on a malformed address;
	// an unreachable meta node is retried by the meta loop. The node
	// presents its certificate: the meta node accepts heartbeats, reports
	// and a node's own bad-replica reports only from the node they name.
	metaConn, err := wire.NewLeaderConn(n.cfg.metaMembers(), func(addr, id string) (*grpc.ClientConn, error) { return wire.DialAs(addr, id, n.key) })
	if err != nil {
		return fmt.Errorf("resource node: meta node: %w", err)
	}
	defer metaConn.Close()

	// Receipts of fetches served before a crash are still to report.
	if n.cfg.DataDir != "" {
		if err := n.served.open(filepath.Join(n.cfg.DataDir, servedJournal)); err != nil {
			return fmt.Errorf("resource node: %w", err)
		}
		defer func() {
			if err := n.served.close(); err != nil {
				n.log.Warn("cannot close the served log", "err", err)
			}
		}()
		if c := n.served.len(); c > 0 {
			n.log.Info("receipts of fetches served before the last stop, to report", "claims", c)
		}
	}

	srv, ln, err := n.listen()
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	n.log.Info("resource node serving", "addr", addr, "capacity", n.capacity)
	if ready != nil {
		ready(addr)
	}

	advertise := n.cfg.AdvertiseAddr
	if advertise == "" {
		advertise = addr
	}
	runCtx, cancel := context.WithCancel(ctx)
	meta := metav1.NewMetaServiceClient(metaConn)
	var wg sync.WaitGroup
	wg.Go(func() { n.metaLoop(runCtx, meta, advertise) })
	if n.cfg.Registry != nil {
		wg.Go(func() { n.registryLoop(runCtx) })
	}
	if n.scrubLim != nil {
		wg.Go(func() { n.scrubLoop(runCtx, meta) })
	}

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("resource node: serve: %w", err)
	}
	cancel()
	wire.Stop(srv, shutdownGrace)
	wg.Wait() // the meta loop waits for its repairs; the scrubber stops between reads
	n.log.Info("resource node stopped")
	return err
}

// listen makes the gRPC server, presenting the node key, and its listener.
func (n *Node) listen() (*grpc.Server, net.Listener, error) {
	srv, err := wire.NewServer(n.key, wire.NodeLimits())
	if err != nil {
		return nil, nil, fmt.Errorf("resource node: %w", err)
	}
	storagev1.RegisterSliceServiceServer(srv, service{n: n})
	ln, err := wire.Listen(n.cfg.Listen, wire.NodeLimits())
	if err != nil {
		return nil, nil, fmt.Errorf("resource node: listen: %w", err)
	}
	return srv, ln, nil
}

// reserve holds size bytes of the node's capacity for a Store in flight.
func (n *Node) reserve(size uint64) (release func(), err error) {
	u, err := n.store.Usage()
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if u.Bytes+n.reserved+size > n.capacity {
		return nil, fmt.Errorf("%w: %d bytes wanted, %d of %d offered in use", ErrNoSpace, size, u.Bytes+n.reserved, n.capacity)
	}
	n.reserved += size
	return func() {
		n.mu.Lock()
		n.reserved -= size
		n.mu.Unlock()
	}, nil
}

// service is the SliceService of a node.
type service struct {
	storagev1.UnimplementedSliceServiceServer
	n *Node
}
