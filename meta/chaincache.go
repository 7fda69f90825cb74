package meta

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// chainCache is the meta node's soft copy of the chain's registry,
// refreshed in the background so placement never waits for the chain: the
// active resource nodes and their keys, the prices, the chain's ledger
// period, the prepaid balances asked lately and the chain's meta registry.
// It owns that state behind its own lock; nothing of it is under Server.mu.
// It reads the chain through Chain, which is just what it asks of it
// (ActiveResourceNodes, Prices, Prepaid); with no chain (Config.Chain nil)
// nothing asks it for nodes, prices or balances.
type chainCache struct {
	chain Chain
	now   func() time.Time

	// refreshing serializes reads of the registry; started counts them, so
	// callers that waited share the read that began after they asked.
	refreshing sync.Mutex

	mu       sync.Mutex // guards the fields below
	started  uint64
	nodes    map[string][]byte
	caps     map[string]uint64 // registered capacity, if the chain tells (CapacitySource)
	fetched  time.Time
	price    uint64                  // ustos per GiB of traffic
	storage  uint64                  // ustos per GiB per 30 days of storage
	period   time.Duration           // the chain's ledger period, once known
	balances map[string]prepaidEntry // prepaid balances by account
	metas    authorities             // the chain's meta registry (Config.Authorities)
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

func newChainCache(chain Chain, now func() time.Time) *chainCache {
	return &chainCache{chain: chain, now: now, balances: map[string]prepaidEntry{}}
}

// refresh fetches the active resource nodes and the prices.
func (c *chainCache) refresh(ctx context.Context) error {
	c.refreshing.Lock()
	defer c.refreshing.Unlock()
	return c.read(ctx)
}

// refreshSince reads the registry again unless a read that began after
// the call did so meanwhile: a flood of unknown node IDs shares reads
// instead of costing the chain a query each.
func (c *chainCache) refreshSince(ctx context.Context) error {
	c.mu.Lock()
	asked := c.started
	c.mu.Unlock()
	c.refreshing.Lock()
	defer c.refreshing.Unlock()
	// Reads are numbered when they begin, and none is in flight now: one
	// numbered past asked began after the call, and has ended.
	c.mu.Lock()
	shared := c.started > asked
	c.mu.Unlock()
	if shared {
		return nil
	}
	return c.read(ctx)
}

// read does the read; c.refreshing must be held. A failed read of the
// prices keeps the last ones, and the nodes just read.
func (c *chainCache) read(ctx context.Context) error {
	c.mu.Lock()
	c.started++
	c.mu.Unlock()
	nodes, err := c.chain.ActiveResourceNodes(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrChainDown, err)
	}
	var caps map[string]uint64
	if cs, ok := c.chain.(CapacitySource); ok {
		if caps, err = cs.ResourceCapacities(ctx); err != nil {
			return fmt.Errorf("%w: %w", ErrChainDown, err)
		}
	}
	price, storage, perr := c.chain.Prices(ctx)
	c.mu.Lock()
	c.nodes, c.caps, c.fetched = nodes, caps, c.now()
	if perr == nil {
		c.price, c.storage = price, storage
	}
	c.mu.Unlock()
	if perr != nil {
		return fmt.Errorf("%w: %w", ErrChainDown, perr)
	}
	return nil
}

// capacity is what node id registered on chain, if the chain tells.
func (c *chainCache) capacity(id string) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.caps[id]
	return n, ok
}

// has reports whether the copy holds id as an active resource node, with
// the key pub (any key, if pub is nil).
func (c *chainCache) has(id string, pub []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.nodes[id]
	return ok && (pub == nil || string(k) == string(pub))
}

// prices returns the last prices read (traffic in ustos per GiB, storage
// in ustos per GiB per 30 days) and the chain's ledger period, 0 until
// known.
func (c *chainCache) prices() (traffic, storage uint64, period time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.price, c.storage, c.period
}

// setPeriod notes the chain's ledger period.
func (c *chainCache) setPeriod(d time.Duration) {
	c.mu.Lock()
	c.period = d
	c.mu.Unlock()
}

// prepaid returns the ustos owner has prepaid: the chain's balance, cached
// for prepaidTTL so a burst of uploads costs one query.
func (c *chainCache) prepaid(ctx context.Context, owner string) (uint64, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.balances[owner]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) > prepaidTTL {
		amount, err := c.chain.Prepaid(ctx, owner)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrChainDown, err)
		}
		e = prepaidEntry{amount: amount, at: now}
		c.mu.Lock()
		if len(c.balances) >= maxPrepaidCache {
			for k, old := range c.balances {
				if now.Sub(old.at) > prepaidTTL {
					delete(c.balances, k)
				}
			}
		}
		c.balances[owner] = e
		c.mu.Unlock()
	}
	return e.amount, nil
}

// forgetPrepaid drops the cached balances of owners: the next check asks
// the chain.
func (c *chainCache) forgetPrepaid(owners ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range owners {
		delete(c.balances, o)
	}
}

// setAuthorities replaces the copy of the chain's meta registry.
func (c *chainCache) setAuthorities(active, pending map[string][]byte) {
	c.mu.Lock()
	c.metas = authorities{known: true, active: active, pending: pending}
	c.mu.Unlock()
}

// authority reports whether the chain registers id as a meta node:
// active (voted in), or pending (registered, waiting for votes).
func (c *chainCache) authority(id string) (active, pending bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, active = c.metas.active[id]
	_, pending = c.metas.pending[id]
	return active, pending
}

// metaRegistry returns the copy of the chain's meta registry. Its maps are
// replaced, never changed, so the caller may read them without the lock.
func (c *chainCache) metaRegistry() authorities {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metas
}
