package resource_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/resource/memstore"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/slice"
)

// The scrubber (scrub.go) serves DESIGN §5.4: a replica that went bad must
// leave the index and be repaired from a good holder. Downloads find bad
// replicas only where somebody reads (DESIGN §6.3); the scrubber finds the
// others.

// stepClock is a scrub clock whose Sleep returns at once, moving its time
// on by the pause asked for.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func newStepClock() *stepClock { return &stepClock{now: time.Unix(1_700_000_000, 0)} }

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
	return nil
}

// gateClock is a scrub clock that stands still: each Sleep announces its
// pause on asleep and returns only when the test lets it (moving the time
// on by the pause) or when its context ends.
type gateClock struct {
	mu     sync.Mutex
	now    time.Time
	asleep chan time.Duration
	wake   chan struct{}
}

func newGateClock() *gateClock {
	return &gateClock{now: time.Unix(1_700_000_000, 0), asleep: make(chan time.Duration), wake: make(chan struct{})}
}

func (c *gateClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *gateClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case c.asleep <- d:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.wake:
		c.mu.Lock()
		c.now = c.now.Add(d)
		c.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// next waits until the scrubber pauses and returns the pause it asks for.
func (c *gateClock) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.asleep:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the scrubber did not pause")
		return 0
	}
}

// newScrubNode returns a node that is not running and scrubs store at
// bytesPerSecond, paced by clk.
func newScrubNode(t *testing.T, store resource.SliceStore, bytesPerSecond uint64, clk resource.ScrubClock) *resource.Node {
	t.Helper()
	cfg := resource.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Capacity = "127.0.0.1:1", "meta", 1<<30
	cfg.ScrubRate = bytesPerSecond
	n, err := resource.New(cfg, mustKey(t), store)
	if err != nil {
		t.Fatal(err)
	}
	n.SetScrubClock(clk)
	return n
}

func openDisk(t *testing.T) (*disk.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := disk.Open(dir, disk.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestScrubHandlesCorruptSliceLikeVerifyOrder(t *testing.T) {
	// DESIGN §5.4: a replica that rotted on disk where nobody reads it is
	// found by a scrub pass and handled exactly as a verify order handles a
	// corrupt copy (verify.go): quarantined, and reported by the node itself
	// as a corrupt (not missing) replica, so the meta node drops it and
	// repairs the slice. Good slices are left alone.
	damages := map[string]func(t testing.TB, path string){
		"byte flipped": storetest.Rot,
		"truncated": func(t testing.TB, path string) {
			if err := os.Truncate(path, 1000); err != nil {
				t.Fatal(err)
			}
		},
	}
	goodData := [][]byte{}
	for i := range 2 {
		d, _ := storetest.Data(uint64(30+i), 70_000)
		goodData = append(goodData, d)
	}
	badData, bad := storetest.Data(32, 50_000)

	// setup returns a node whose store holds the good slices and the bad
	// one, damaged.
	setup := func(t *testing.T, damage func(testing.TB, string)) (*resource.Node, *disk.Store, string) {
		store, dir := openDisk(t)
		for _, d := range goodData {
			storetest.Put(t, store, d, 4096)
		}
		storetest.Put(t, store, badData, 4096)
		damage(t, store.Path(bad))
		return newScrubNode(t, store, 1<<20, newStepClock()), store, dir
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			// What a verify order does is the reference.
			n, _, _ := setup(t, damage)
			verified := &reportRecorder{}
			n.VerifyOrder(context.Background(), verified, bad)

			n, store, dir := setup(t, damage)
			scrubbed := &reportRecorder{}
			if err := n.ScrubPass(context.Background(), scrubbed); err != nil {
				t.Fatal(err)
			}
			if len(scrubbed.reports) != 1 || len(verified.reports) != 1 {
				t.Fatalf("scrub reported %v, verify order %v; want one report each", scrubbed.reports, verified.reports)
			}
			got, want := scrubbed.reports[0], proto.CloneOf(verified.reports[0])
			want.NodeId = n.ID()
			if !proto.Equal(got, want) {
				t.Errorf("scrub reported %v, a verify order %v", got, want)
			}
			if _, err := store.Stat(bad); !errors.Is(err, resource.ErrNotFound) || !storetest.Quarantined(t, disk.QuarantineDir(dir), bad) {
				t.Errorf("corrupt slice not quarantined: Stat err = %v", err)
			}
			for _, d := range goodData {
				if b, err := os.ReadFile(store.Path(slice.Sum(d))); err != nil || !bytes.Equal(b, d) {
					t.Errorf("good slice %s touched: %v", slice.Sum(d), err)
				}
			}
			st := n.ScrubStats()
			if st.Passes != 1 || st.Slices != 2 || st.Bad != 1 || st.Skipped != 0 || st.Unreadable != 0 || st.LastPass.IsZero() {
				t.Errorf("stats after one pass = %+v", st)
			}

			// The next pass finds nothing more.
			if err := n.ScrubPass(context.Background(), scrubbed); err != nil {
				t.Fatal(err)
			}
			if st := n.ScrubStats(); len(scrubbed.reports) != 1 || st.Passes != 2 || st.Slices != 4 || st.Bad != 1 {
				t.Errorf("after a second pass: %d reports, stats %+v", len(scrubbed.reports), st)
			}
		})
	}
}

// deletingStore deletes another slice the first time one is opened, as the
// meta node's delete orders can while a scrub pass walks.
type deletingStore struct {
	resource.SliceStore
	deleted *slice.ID
}

func (s *deletingStore) Open(id slice.ID) (resource.SliceReader, error) {
	if s.deleted == nil {
		s.SliceStore.List(func(info resource.SliceInfo) error {
			if info.ID != id && s.deleted == nil {
				s.deleted = &info.ID
				return s.SliceStore.Delete(info.ID)
			}
			return nil
		})
	}
	return s.SliceStore.Open(id)
}

func TestScrubSkipsSlicesDeletedDuringPass(t *testing.T) {
	// A slice deleted after the pass listed it is neither an error nor a
	// lost replica (DESIGN §5.4 counts only replicas the index expects).
	mem := memstore.New(memstore.Options{})
	for i := range 4 {
		d, _ := storetest.Data(uint64(40+i), 10_000)
		storetest.Put(t, mem, d, 4096)
	}
	store := &deletingStore{SliceStore: mem}
	n := newScrubNode(t, store, 1<<20, newStepClock())
	meta := &reportRecorder{}
	if err := n.ScrubPass(context.Background(), meta); err != nil {
		t.Fatal(err)
	}
	if store.deleted == nil {
		t.Fatal("no slice was deleted during the pass")
	}
	st := n.ScrubStats()
	if st.Passes != 1 || st.Slices != 3 || st.Skipped != 1 || st.Bad != 0 || st.Unreadable != 0 || len(meta.reports) != 0 {
		t.Errorf("stats = %+v, reports = %v; want 3 slices checked, 1 skipped, nothing reported", st, meta.reports)
	}
}

// restoredStore serves damaged copies (damagedStore) and, as one is opened,
// receives the slice again, as a new upload of the same bytes would.
type restoredStore struct {
	damagedStore
	data []byte
}

func (s restoredStore) Open(id slice.ID) (resource.SliceReader, error) {
	r, err := s.damagedStore.Open(id)
	if w, err := s.SliceStore.Create(id, uint64(len(s.data))); err == nil {
		w.Write(s.data)
		w.Commit()
	}
	return r, err
}

func TestScrubLeavesSliceStoredAgainDuringRead(t *testing.T) {
	// A slice stored again while the scrubber read it may no longer be the
	// copy it read: it is left for the next pass rather than dropped.
	var tick time.Duration
	mem := memstore.New(memstore.Options{Now: func() time.Time { tick += time.Second; return time.Unix(0, 0).Add(tick) }})
	data, _ := storetest.Data(45, 10_000)
	id := storetest.Put(t, mem, data, 4096)
	n := newScrubNode(t, restoredStore{damagedStore{mem}, data}, 1<<20, newStepClock())
	meta := &reportRecorder{}
	if err := n.ScrubPass(context.Background(), meta); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Stat(id); err != nil || len(meta.reports) != 0 {
		t.Errorf("slice stored again was dropped (Stat err = %v) or reported (%v)", err, meta.reports)
	}
	if st := n.ScrubStats(); st.Skipped != 1 || st.Bad != 0 {
		t.Errorf("stats = %+v, want the slice skipped", st)
	}
}

// meteredStore records, at every read, the bytes read so far and the time
// of the scrub clock.
type meteredStore struct {
	resource.SliceStore
	clk *stepClock

	mu    sync.Mutex
	total int
	reads []meteredRead
}

type meteredRead struct {
	at    time.Time
	total int // bytes read up to and including this read
}

func (s *meteredStore) Open(id slice.ID) (resource.SliceReader, error) {
	r, err := s.SliceStore.Open(id)
	if err != nil {
		return nil, err
	}
	return meteredReader{r, s}, nil
}

type meteredReader struct {
	resource.SliceReader
	s *meteredStore
}

func (r meteredReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.SliceReader.ReadAt(p, off)
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.total += n
	r.s.reads = append(r.s.reads, meteredRead{r.s.clk.Now(), r.s.total})
	return n, err
}

func TestScrubHonoursRate(t *testing.T) {
	// The scrubber must not compete seriously with traffic: by the scrub
	// clock, it never reads more than its burst plus ScrubRate per second.
	const rate = 100_000 // bytes per second
	mem := memstore.New(memstore.Options{})
	var size int
	for i := range 5 {
		d, _ := storetest.Data(uint64(50+i), 90_000+i)
		storetest.Put(t, mem, d, 4096)
		size += len(d)
	}
	clk := newStepClock()
	store := &meteredStore{SliceStore: mem, clk: clk}
	n := newScrubNode(t, store, rate, clk)
	start := clk.Now()
	if err := n.ScrubPass(context.Background(), &reportRecorder{}); err != nil {
		t.Fatal(err)
	}
	if st := n.ScrubStats(); st.Slices != 5 || st.Bytes != uint64(size) {
		t.Fatalf("stats = %+v, want 5 slices and %d bytes", st, size)
	}
	for _, r := range store.reads {
		// One byte of slack for the limiter's rounding of durations.
		if allowed := resource.ScrubChunk + rate*r.at.Sub(start).Seconds() + 1; float64(r.total) > allowed {
			t.Fatalf("%d bytes read after %s, more than the %.0f allowed", r.total, r.at.Sub(start), allowed)
		}
	}
	// Nor does it wait longer than the rate asks.
	if most := time.Duration(float64(size)/rate*float64(time.Second)) + time.Second; clk.slept > most {
		t.Errorf("slept %s for %d bytes at %d B/s", clk.slept, size, rate)
	}
}

func TestScrubberRunsInNode(t *testing.T) {
	// DESIGN §5.4: a running node scrubs on its own, and its report of the
	// corrupt replica reaches the meta node from the node itself.
	meta := newFakeMeta(t)
	clk := newGateClock()
	goodData, good := storetest.Data(60, 40_000)
	badData, bad := storetest.Data(61, 40_000)
	n := startNodeWith(t, meta, func(tn *testNode) {
		storetest.Put(t, tn.store, goodData, 4096)
		storetest.Put(t, tn.store, badData, 4096)
		storetest.Rot(t, tn.store.Path(bad))
		tn.SetScrubClock(clk)
	}, func(c *resource.Config, _ *disk.Options) {
		c.ScrubRate, c.ScrubInterval = 1<<30, 7*time.Hour
	})
	// At 1 GiB/s the pass paces only to stay in the rate; it ends with the
	// pause before the next one.
	for d := clk.next(t); d != 7*time.Hour; d = clk.next(t) {
		clk.wake <- struct{}{}
	}
	var reports []*metav1.ReportBadReplicaRequest
	meta.snapshot(func(m *fakeMeta) { reports = m.badReports })
	if len(reports) != 1 || reports[0].SliceId != bad.String() || reports[0].NodeId != n.ID() || reports[0].Missing {
		t.Errorf("bad replica reports = %v, want the corrupt slice", reports)
	}
	if has(n, bad) || !has(n, good) {
		t.Errorf("holds corrupt slice %v, good slice %v; want false, true", has(n, bad), has(n, good))
	}
	if st := n.ScrubStats(); st.Passes != 1 || st.Slices != 1 || st.Bad != 1 {
		t.Errorf("stats = %+v, want one pass, one good slice and one bad", st)
	}
	// Stopping the node ends the pause between passes.
	stopWithin(t, n)
}

func TestScrubberBlocksNothingAndStops(t *testing.T) {
	// While the scrubber is half way through a slice, stores and fetches go
	// on (it holds no lock while it reads), and stopping the node ends it.
	meta := newFakeMeta(t)
	clk := newGateClock()
	var ids []slice.ID
	n := startNodeWith(t, meta, func(tn *testNode) {
		for i := range 2 {
			d, _ := storetest.Data(uint64(70+i), 3*resource.ScrubChunk)
			ids = append(ids, storetest.Put(t, tn.store, d, 4096))
		}
		tn.SetScrubClock(clk)
	}, func(c *resource.Config, _ *disk.Options) {
		c.ScrubRate = resource.ScrubChunk // a chunk a second: it must pause in the first slice
	})
	if d := clk.next(t); d <= 0 || d > time.Second {
		t.Fatalf("first pause %s, want the pace of a read", d)
	}
	// A deadline, so a lock held by the scrubber fails the test, not hangs it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range ids {
		if _, err := fetch(t, n, id.String(), 0, 1); err != nil {
			t.Errorf("fetch %s while scrubbing: %v", id, err)
		}
	}
	d, id := storetest.Data(72, 10_000)
	if _, err := resource.StoreSlice(ctx, n.client(t), pipelineHeader("t", d, id.String(), n), bytes.NewReader(d)); err != nil {
		t.Errorf("store while scrubbing: %v", err)
	}
	if st := n.ScrubStats(); st.Passes != 0 || st.Slices != 0 {
		t.Errorf("stats = %+v, want a pass under way", st)
	}
	stopWithin(t, n)
}

// stopWithin stops the node and fails the test if Run does not return: the
// scrubber must not keep it running.
func stopWithin(t *testing.T, n *testNode) {
	t.Helper()
	stopped := make(chan struct{})
	go func() { n.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the node did not stop")
	}
}
