package meta

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingChain is a chain that counts what it is asked. With hold set,
// each registry read announces itself on entered, then waits for a token
// on hold.
type countingChain struct {
	mu           sync.Mutex
	nodes        map[string][]byte
	prepaid      map[string]uint64
	price        uint64
	storagePrice uint64
	down         bool // every read fails
	pricesDown   bool // only Prices fails
	hold         chan struct{}
	entered      chan struct{}

	registryReads atomic.Int64
	priceReads    atomic.Int64
	prepaidReads  atomic.Int64
}

func (f *countingChain) ActiveResourceNodes(context.Context) (map[string][]byte, error) {
	f.registryReads.Add(1)
	f.mu.Lock()
	hold, entered := f.hold, f.entered
	f.mu.Unlock()
	if hold != nil {
		entered <- struct{}{}
		<-hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("connection refused")
	}
	out := make(map[string][]byte, len(f.nodes))
	for k, v := range f.nodes {
		out[k] = v
	}
	return out, nil
}

func (f *countingChain) Prices(context.Context) (uint64, uint64, error) {
	f.priceReads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.pricesDown {
		return 0, 0, errors.New("connection refused")
	}
	return f.price, f.storagePrice, nil
}

func (f *countingChain) Prepaid(_ context.Context, owner string) (uint64, error) {
	f.prepaidReads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return 0, errors.New("connection refused")
	}
	return f.prepaid[owner], nil
}

func (f *countingChain) set(fn func(f *countingChain)) { f.mu.Lock(); defer f.mu.Unlock(); fn(f) }

func newTestChainCache() (*chainCache, *countingChain, *fakeClock) {
	fc := &countingChain{nodes: map[string][]byte{}, prepaid: map[string]uint64{}}
	clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	return newChainCache(fc, clock.Now), fc, clock
}

func (c *chainCache) cachedBalances() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.balances)
}

func (c *chainCache) cachedBalance(owner string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.balances[owner]
	return ok
}

// A balance is trusted for prepaidTTL: a second check within it does not
// ask the chain, one after it does.
func TestChainCachePrepaidTTL(t *testing.T) {
	c, fc, clock := newTestChainCache()
	fc.set(func(f *countingChain) { f.prepaid["alice"] = 7 })
	prepaid := func(want uint64, reads int64) {
		t.Helper()
		got, err := c.prepaid(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got != want || fc.prepaidReads.Load() != reads {
			t.Fatalf("prepaid %d after %d chain queries, want %d after %d", got, fc.prepaidReads.Load(), want, reads)
		}
	}
	prepaid(7, 1)
	fc.set(func(f *countingChain) { f.prepaid["alice"] = 9 })
	prepaid(7, 1)
	clock.Advance(prepaidTTL) // trusted for prepaidTTL, that included
	prepaid(7, 1)
	clock.Advance(time.Nanosecond)
	prepaid(9, 2)
	prepaid(9, 2)

	// A balance the chain charged is forgotten: the next check asks again.
	fc.set(func(f *countingChain) { f.prepaid["alice"] = 3 })
	c.forgetPrepaid("bob", "alice")
	prepaid(3, 3)

	// A failed query is the chain being down, and nothing is cached.
	clock.Advance(prepaidTTL + time.Second)
	fc.set(func(f *countingChain) { f.down = true })
	if _, err := c.prepaid(context.Background(), "alice"); !errors.Is(err, ErrChainDown) {
		t.Fatalf("chain down: %v, want ErrChainDown", err)
	}
	fc.set(func(f *countingChain) { f.down, f.prepaid["alice"] = false, 4 })
	prepaid(4, 5)
}

// Past maxPrepaidCache balances, the stale ones are dropped; fresh ones
// stay, and below the bound stale ones are kept.
func TestChainCachePrepaidBound(t *testing.T) {
	c, fc, clock := newTestChainCache()
	ask := func(owner string) {
		t.Helper()
		if _, err := c.prepaid(context.Background(), owner); err != nil {
			t.Fatal(err)
		}
	}
	half := maxPrepaidCache / 2
	for i := range half {
		ask(fmt.Sprint("old", i))
	}
	clock.Advance(prepaidTTL + time.Second)
	for i := range maxPrepaidCache - half {
		ask(fmt.Sprint("new", i))
	}
	if n := c.cachedBalances(); n != maxPrepaidCache {
		t.Fatalf("%d balances cached at the bound, want %d (stale ones kept until then)", n, maxPrepaidCache)
	}
	ask("one more")
	if n, want := c.cachedBalances(), maxPrepaidCache-half+1; n != want {
		t.Fatalf("%d balances cached past the bound, want %d: the fresh ones and the new one", n, want)
	}
	if c.cachedBalance("old0") || !c.cachedBalance("new0") || !c.cachedBalance("one more") {
		t.Fatal("past the bound, want the stale balances dropped and the fresh ones kept")
	}
	before := fc.prepaidReads.Load()
	ask("new1")
	ask("old1")
	if n := fc.prepaidReads.Load() - before; n != 1 {
		t.Fatalf("%d chain queries for a kept and a dropped balance, want 1", n)
	}
}

// Callers that arrive while a registry read is in flight share the next
// read instead of each querying the chain; a caller with no read in flight
// reads.
func TestChainCacheRefreshSinceShares(t *testing.T) {
	c, fc, _ := newTestChainCache()
	const callers = 20
	hold, entered := make(chan struct{}), make(chan struct{}, callers+1)
	fc.set(func(f *countingChain) { f.hold, f.entered = hold, entered })
	ctx := context.Background()

	first := make(chan error, 1)
	go func() { first <- c.refresh(ctx) }()
	<-entered // the first read is in flight

	var arrived atomic.Int64
	errs := make(chan error, callers)
	for range callers {
		go func() {
			arrived.Add(1)
			errs <- c.refreshSince(ctx)
		}()
	}
	for arrived.Load() < callers {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let them all ask while the first read waits
	if n := fc.registryReads.Load(); n != 1 {
		t.Fatalf("%d registry reads while the first is in flight, want 1: the callers wait for it", n)
	}
	close(hold) // the first read ends, and any later one goes through
	timeout := time.After(10 * time.Second)
	for range callers + 1 {
		var err error
		select {
		case err = <-first:
		case err = <-errs:
		case <-timeout:
			t.Fatal("callers of refreshSince still waiting after 10s")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fc.registryReads.Load(); n != 2 {
		t.Fatalf("%d registry reads for %d callers arriving during the first, want 2: they share the next", n, callers)
	}

	fc.set(func(f *countingChain) { f.hold = nil })
	if err := c.refreshSince(ctx); err != nil {
		t.Fatal(err)
	}
	if n := fc.registryReads.Load(); n != 3 {
		t.Fatalf("%d registry reads, want 3: with none in flight, refreshSince reads", n)
	}
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if n := fc.registryReads.Load(); n != 4 {
		t.Fatalf("%d registry reads, want 4: refresh always reads", n)
	}
}

// has holds a node the chain registers as active, with its key, or with
// any key when none is given.
func TestChainCacheHas(t *testing.T) {
	c, fc, _ := newTestChainCache()
	ctx := context.Background()
	keyA, keyB := []byte("key a"), []byte("key b")
	fc.set(func(f *countingChain) { f.nodes["a"] = keyA })
	if c.has("a", nil) {
		t.Fatal("a node before the registry was read")
	}
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		pub  []byte
		want bool
	}{
		{"a", nil, true},
		{"a", keyA, true},
		{"a", keyB, false},
		{"b", nil, false},
		{"b", keyB, false},
	} {
		if got := c.has(tc.id, tc.pub); got != tc.want {
			t.Errorf("has(%q, %q) = %v, want %v", tc.id, tc.pub, got, tc.want)
		}
	}

	// A failed read keeps the last copy.
	fc.set(func(f *countingChain) { f.down = true; delete(f.nodes, "a") })
	if err := c.refresh(ctx); !errors.Is(err, ErrChainDown) {
		t.Fatalf("chain down: %v, want ErrChainDown", err)
	}
	if !c.has("a", keyA) {
		t.Fatal("a failed read dropped the copy")
	}
	fc.set(func(f *countingChain) { f.down = false })
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c.has("a", nil) {
		t.Fatal("a node deactivated on chain is still held")
	}
}

// The prices are those last read; a failed read of them keeps them (and
// the nodes just read), and is the chain being down.
func TestChainCachePrices(t *testing.T) {
	c, fc, _ := newTestChainCache()
	ctx := context.Background()
	fc.set(func(f *countingChain) { f.price, f.storagePrice = 5, 6 })
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	c.setPeriod(10 * time.Minute)
	if tr, st, p := c.prices(); tr != 5 || st != 6 || p != 10*time.Minute {
		t.Fatalf("prices %d, %d, period %v; want 5, 6, 10m", tr, st, p)
	}
	fc.set(func(f *countingChain) { f.pricesDown, f.price, f.nodes["n"] = true, 50, []byte("k") })
	if err := c.refresh(ctx); !errors.Is(err, ErrChainDown) {
		t.Fatalf("prices unreadable: %v, want ErrChainDown", err)
	}
	if tr, st, _ := c.prices(); tr != 5 || st != 6 || !c.has("n", nil) {
		t.Fatalf("after a failed price read: prices %d, %d, node held %v; want the last prices and the new node", tr, st, c.has("n", nil))
	}
}

// The copy of the meta registry: unknown until set, then active or pending.
func TestChainCacheAuthorities(t *testing.T) {
	c, _, _ := newTestChainCache()
	if reg := c.metaRegistry(); reg.known {
		t.Fatal("the meta registry is known before it was read")
	}
	c.setAuthorities(map[string][]byte{"m1": []byte("k1")}, map[string][]byte{"m2": []byte("k2")})
	for id, want := range map[string][2]bool{"m1": {true, false}, "m2": {false, true}, "m3": {false, false}} {
		if a, p := c.authority(id); a != want[0] || p != want[1] {
			t.Errorf("authority(%s) = %v, %v; want %v, %v", id, a, p, want[0], want[1])
		}
	}
	if reg := c.metaRegistry(); !reg.known || len(reg.active) != 1 || len(reg.pending) != 1 {
		t.Fatalf("meta registry %+v", reg)
	}
}
