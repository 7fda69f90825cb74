package meta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/traffic"
)

// Chain is what the meta node asks of the value layer (DESIGN §3, §4). With
// no chain (Config.Chain nil) any node that holds its key may register and
// uploads need no prepay: the in-process test clusters run that way.
type Chain interface {
	// ActiveResourceNodes returns the registered, active resource nodes:
	// node ID to ed25519 public key.
	ActiveResourceNodes(ctx context.Context) (map[string][]byte, error)
	// Prepaid returns the ustos an account has prepaid.
	Prepaid(ctx context.Context, owner string) (uint64, error)
	// Prices returns what a user pays (x/sds): for traffic, in ustos per
	// GiB; for storage, in ustos per GiB per 30 days; rounded up.
	Prices(ctx context.Context) (traffic, storage uint64, err error)
}

// Errors of the chain's rules.
var (
	ErrNotRegistered = errors.New("not registered and active on chain")
	ErrNoPrepay      = errors.New("prepaid balance too low")
	ErrChainDown     = errors.New("chain unreachable")
	ErrNotOwner      = errors.New("request not signed by the owner's account")
)

// authorize checks, when there is a chain (and so accounts), that the
// account owning what req touches signed it (DESIGN §3): nobody writes into
// another's namespace or spends another's prepay.
func (s *Server) authorize(req proto.Message, owner string) error {
	if s.cfg.Chain == nil {
		return nil
	}
	signer, err := account.Verify(req, s.now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotOwner, err)
	}
	if signer != owner {
		return fmt.Errorf("%w: signed by %s, for the namespace of %s", ErrNotOwner, signer, owner)
	}
	sig, at, _ := account.SignatureOf(req)
	return s.replay.first(sig, at, s.now())
}

// chainState is the meta node's soft copy of the chain's registry,
// refreshed in the background so placement never waits for the chain.
type chainState struct {
	nodes   map[string][]byte
	fetched time.Time
	price   uint64        // ustos per GiB of traffic
	storage uint64        // ustos per GiB per 30 days of storage
	period  time.Duration // the chain's ledger period, once known
	prepaid map[string]prepaidEntry
	// reserved is the traffic open tasks may still cause, per owner and
	// task: it is held against the owner's prepay until the task ends.
	reserved map[string]map[string]reservation
	// refreshing serializes reads of the registry; started counts them, so
	// callers that waited share the read that began after they asked.
	refreshing sync.Mutex
	started    uint64
}

type reservation struct {
	bytes uint64
	until time.Time
}

type prepaidEntry struct {
	amount uint64
	at     time.Time
}

// prepaidTTL is how long a prepaid balance is trusted before it is asked
// again: uploads in a burst cost one chain query.
const prepaidTTL = 5 * time.Second

// maxPrepaidCache bounds the prepaid balances remembered; past it, stale
// entries are dropped.
const maxPrepaidCache = 10_000

// refreshChain fetches the active resource nodes and the traffic price.
func (s *Server) refreshChain(ctx context.Context) error {
	s.chain.refreshing.Lock()
	defer s.chain.refreshing.Unlock()
	return s.readChain(ctx)
}

// readChain does the read; s.chain.refreshing must be held.
func (s *Server) readChain(ctx context.Context) error {
	s.mu.Lock()
	s.chain.started++
	s.mu.Unlock()
	nodes, err := s.cfg.Chain.ActiveResourceNodes(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrChainDown, err)
	}
	price, storage, perr := s.cfg.Chain.Prices(ctx)
	s.mu.Lock()
	s.chain.nodes, s.chain.fetched = nodes, s.now()
	if perr == nil {
		s.chain.price, s.chain.storage = price, storage
	}
	s.mu.Unlock()
	if perr != nil {
		return fmt.Errorf("%w: %w", ErrChainDown, perr)
	}
	return nil
}

func (s *Server) chainLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.ChainRefresh)
	defer t.Stop()
	for {
		if err := s.refreshChain(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot read the node registry from the chain", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// onChain reports whether a node is active on chain with this key. With no
// chain every node is. A node missing from the copy is asked about again at
// once: it may have registered a moment ago.
func (s *Server) onChain(ctx context.Context, id string, pub []byte) error {
	if s.cfg.Chain == nil {
		return nil
	}
	if s.chainHas(id, pub) {
		return nil
	}
	if err := s.refreshChainSince(ctx); err != nil {
		return err
	}
	if !s.chainHas(id, pub) {
		return fmt.Errorf("%w: node %s; its operator registers it with `stratos tx register register-resource-node <public key hex> <address> <capacity> <deposit> --region <region> --from <operator>`", ErrNotRegistered, id)
	}
	return nil
}

// refreshChainSince reads the registry again unless a read that began after
// the call did so meanwhile: a flood of unknown node IDs shares reads
// instead of costing the chain a query each.
func (s *Server) refreshChainSince(ctx context.Context) error {
	s.mu.Lock()
	asked := s.chain.started
	s.mu.Unlock()
	s.chain.refreshing.Lock()
	defer s.chain.refreshing.Unlock()
	// Reads are numbered when they begin, and none is in flight now: one
	// numbered past asked began after the call, and has ended.
	s.mu.Lock()
	shared := s.chain.started > asked
	s.mu.Unlock()
	if shared {
		return nil
	}
	return s.readChain(ctx)
}

func (s *Server) chainHas(id string, pub []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.chain.nodes[id]
	return ok && (pub == nil || string(k) == string(pub))
}

// checkPrepaid refuses a transfer of more bytes of traffic, which leaves
// the owner storing stored more bytes (replicas counted), when the owner's
// prepay cannot pay for it on top of what is not yet settled: audited
// traffic waiting for its period's report, what open tasks may still cause,
// and one ledger period's storage of everything the owner keeps (DESIGN §7:
// the client's prepay is charged for the traffic it used, and storage fees
// are settled to the holders; x/sds charges at most the prepaid balance, so
// anything beyond it would be served or kept for free).
func (s *Server) checkPrepaid(ctx context.Context, owner string, more, stored uint64) error {
	if s.cfg.Chain == nil {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	e, ok := s.chain.prepaid[owner]
	s.mu.Unlock()
	if !ok || now.Sub(e.at) > prepaidTTL {
		amount, err := s.cfg.Chain.Prepaid(ctx, owner)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrChainDown, err)
		}
		e = prepaidEntry{amount: amount, at: now}
		s.mu.Lock()
		if len(s.chain.prepaid) >= maxPrepaidCache {
			for k, old := range s.chain.prepaid {
				if now.Sub(old.at) > prepaidTTL {
					delete(s.chain.prepaid, k)
				}
			}
		}
		s.chain.prepaid[owner] = e
		s.mu.Unlock()
	}
	if e.amount == 0 {
		return fmt.Errorf("%w for %s: nothing prepaid; prepay first, e.g. `stratos tx sds prepay 10000000ustos --from <your key>`", ErrNoPrepay, owner)
	}
	s.mu.Lock()
	price, sprice, period := s.chain.price, s.chain.storage, s.chain.period
	pending := s.reservedBy(owner, now)
	s.mu.Unlock()
	if period <= 0 {
		period = s.cfg.LedgerPeriod
	}
	pending = traffic.AddBytes(pending, s.traffic.UserBytes(owner))
	kept, err := s.ix.StoredBy(owner)
	if err != nil {
		return err
	}
	kept = traffic.AddBytes(kept, stored)
	fee := traffic.AddBytes(trafficFee(traffic.AddBytes(pending, more), price), storageFee(kept, sprice, uint64(period/time.Second)))
	if fee > e.amount {
		return fmt.Errorf("%w for %s: %d ustos prepaid, but %d bytes of traffic not yet settled and %d more, and a period's storage of %d bytes, cost %d ustos (%d ustos/GiB of traffic, %d ustos/GiB per 30 days stored); prepay more, e.g. `stratos tx sds prepay %dustos --from <your key>`",
			ErrNoPrepay, owner, e.amount, pending, more, kept, fee, price, sprice, fee-e.amount)
	}
	return nil
}

// storageFee is x/sds's fee for keeping bytes for seconds:
// ceil(bytes × price × seconds / (GiB × 30 days)), saturated to 64 bits.
func storageFee(bytes, price, seconds uint64) uint64 {
	n := new(big.Int).SetUint64(bytes)
	n.Mul(n, new(big.Int).SetUint64(price))
	n.Mul(n, new(big.Int).SetUint64(seconds))
	d := big.NewInt(1 << 30 * 2_592_000)
	q, r := n.QuoRem(n, d, new(big.Int))
	if r.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsUint64() {
		return math.MaxUint64
	}
	return q.Uint64()
}

// trafficFee is x/sds's fee for bytes of traffic: ceil(bytes × price / GiB).
func trafficFee(bytes, price uint64) uint64 {
	hi, lo := bits.Mul64(bytes, price)
	if hi >= 1<<30 { // the fee does not fit in 64 bits
		return math.MaxUint64
	}
	q, r := bits.Div64(hi, lo, 1<<30)
	if r != 0 {
		q++
	}
	return q
}

// mulSat is a × b, or the largest uint64 if that overflows.
func mulSat(a, b uint64) uint64 {
	if hi, lo := bits.Mul64(a, b); hi == 0 {
		return lo
	}
	return math.MaxUint64
}

// reserve holds bytes of traffic a task may cause against its owner's
// prepay until the task ends (release) or until its TTL passes.
func (s *Server) reserve(owner, taskID string, bytes uint64) {
	if s.cfg.Chain == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.chain.reserved[owner]
	if m == nil {
		m = map[string]reservation{}
		s.chain.reserved[owner] = m
	}
	m[taskID] = reservation{bytes: bytes, until: s.now().Add(s.cfg.TaskTTL)}
}

// release ends a task's reservation: its traffic, if any, is in the ledger.
func (s *Server) release(owner, taskID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.chain.reserved[owner]; m != nil {
		delete(m, taskID)
		if len(m) == 0 {
			delete(s.chain.reserved, owner)
		}
	}
}

// reservedBy sums owner's live reservations and drops expired ones. s.mu
// must be held.
func (s *Server) reservedBy(owner string, now time.Time) uint64 {
	var sum uint64
	for id, r := range s.chain.reserved[owner] {
		if now.After(r.until) {
			delete(s.chain.reserved[owner], id)
			continue
		}
		sum = traffic.AddBytes(sum, r.bytes)
	}
	return sum
}
