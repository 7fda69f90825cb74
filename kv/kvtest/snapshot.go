package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stratos-net/stratos/kv"
)

// snapshotTests check the kv.Snapshotter contract; Run skips them for a
// store that does not implement it.
var snapshotTests = []struct {
	name string
	fn   func(*testing.T, kv.Store, kv.Snapshotter)
}{
	{"SnapshotIsolation", testSnapshotIsolation},
	{"SnapshotScan", testSnapshotScan},
	{"SnapshotScanWrite", testSnapshotScanWrite},
	{"SnapshotRelease", testSnapshotRelease},
	{"SnapshotReleaseDuringScan", testSnapshotReleaseDuringScan},
	{"SnapshotStoreClose", testSnapshotStoreClose},
	{"SnapshotWholeBatches", testSnapshotWholeBatches},
}

func runSnapshot(t *testing.T, open func(t *testing.T) kv.Store) {
	for _, tt := range snapshotTests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			ss, ok := s.(kv.Snapshotter)
			if !ok {
				t.Skipf("%T is not a kv.Snapshotter", s)
			}
			tt.fn(t, s, ss)
		})
	}
}

func snapshot(t *testing.T, s kv.Snapshotter) (kv.Reader, func()) {
	t.Helper()
	v, release, err := s.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return v, release
}

// scanReader is scan for any kv.Reader.
func scanReader(t *testing.T, r kv.Reader, lower, upper []byte) []string {
	t.Helper()
	var got []string
	err := r.Scan(lower, upper, func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): %v", lower, upper, err)
	}
	return got
}

// Writes after Snapshot, overwrites, deletes and new keys alike, are not
// seen through the view, and the store sees them as usual.
func testSnapshotIsolation(t *testing.T, s kv.Store, ss kv.Snapshotter) {
	write(t, s, func(b *kv.Batch) {
		b.Set([]byte("a"), []byte("1"))
		b.Set([]byte("b"), []byte("1"))
		b.Set([]byte("c"), []byte("1"))
	})
	v, release := snapshot(t, ss)
	defer release()
	write(t, s, func(b *kv.Batch) {
		b.Set([]byte("a"), []byte("2"))
		b.Delete([]byte("b"))
		b.Set([]byte("d"), []byte("2"))
	})
	if got, err := v.Get([]byte("a")); err != nil || string(got) != "1" {
		t.Errorf("view Get(a) = %q, %v; want the value before the write", got, err)
	}
	if got, err := v.Get([]byte("b")); err != nil || string(got) != "1" {
		t.Errorf("view Get(b) = %q, %v; want the key deleted after Snapshot", got, err)
	}
	if got, err := v.Get([]byte("d")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("view Get(d) = %q, %v; want ErrNotFound for a key added after Snapshot", got, err)
	}
	if got, want := scanReader(t, v, nil, nil), []string{"a=1", "b=1", "c=1"}; !equal(got, want) {
		t.Errorf("view Scan = %q, want %q", got, want)
	}
	if got, want := scan(t, s, nil, nil), []string{"a=2", "c=1", "d=2"}; !equal(got, want) {
		t.Errorf("store Scan = %q, want %q", got, want)
	}
}

// A view scans like the store: bounds, ErrStop, errors, and values that are
// copies.
func testSnapshotScan(t *testing.T, s kv.Store, ss kv.Snapshotter) {
	write(t, s, func(b *kv.Batch) {
		for i := range 300 {
			b.Set(fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "v%d", i))
		}
	})
	v, release := snapshot(t, ss)
	defer release()
	got := scanReader(t, v, []byte("k100"), []byte("k103"))
	if want := []string{"k100=v100", "k101=v101", "k102=v102"}; !equal(got, want) {
		t.Errorf("view Scan(k100, k103) = %q, want %q", got, want)
	}
	if got := scanReader(t, v, []byte("k299\x00"), nil); len(got) != 0 {
		t.Errorf("view Scan past the end = %q", got)
	}
	n := 0
	err := v.Scan(nil, nil, func(k, val []byte) error {
		val[0] = 'Z' // must not reach the view's or the store's data
		if n++; n == 150 {
			return kv.ErrStop
		}
		return nil
	})
	if err != nil || n != 150 {
		t.Errorf("view Scan with ErrStop at 150 = %v after %d keys", err, n)
	}
	boom := errors.New("boom")
	if err := v.Scan(nil, nil, func(k, v []byte) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("view Scan = %v, want the callback's error", err)
	}
	for _, r := range []kv.Reader{v, s} {
		if got, err := r.Get([]byte("k000")); err != nil || string(got) != "v0" {
			t.Errorf("%T Get(k000) after scribbling on scanned values = %q, %v", r, got, err)
		}
	}
	if got := scanReader(t, v, nil, nil); len(got) != 300 {
		t.Errorf("view Scan = %d keys, want 300", len(got))
	}
}

// A view's Scan callback may write to the store (the index streams a
// snapshot while Apply goes on); the view still sees every key.
func testSnapshotScanWrite(t *testing.T, s kv.Store, ss kv.Snapshotter) {
	write(t, s, func(b *kv.Batch) {
		for i := range 100 {
			b.Set(fmt.Appendf(nil, "k%03d", i), nil)
		}
	})
	v, release := snapshot(t, ss)
	defer release()
	n := 0
	err := v.Scan(nil, nil, func(k, _ []byte) error {
		n++
		var b kv.Batch
		b.Delete(bytes.Clone(k))
		b.Set(append(bytes.Clone(k), '+'), nil) // lands ahead of the scan
		return s.Write(&b, false)
	})
	if err != nil || n != 100 {
		t.Fatalf("view Scan deleting as it goes = %v after %d keys, want 100", err, n)
	}
	if got := scan(t, s, nil, nil); len(got) != 100 || got[0] != "k000+=" {
		t.Fatalf("store after the scan: %d keys, first %q", len(got), got[:min(1, len(got))])
	}
}

// After release a view fails with ErrClosed; release is idempotent, and
// other views and the store are untouched.
func testSnapshotRelease(t *testing.T, s kv.Store, ss kv.Snapshotter) {
	write(t, s, func(b *kv.Batch) { b.Set([]byte("a"), []byte("1")) })
	v1, release1 := snapshot(t, ss)
	v2, release2 := snapshot(t, ss)
	defer release2()
	release1()
	release1()
	if _, err := v1.Get([]byte("a")); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Get on a released view = %v, want ErrClosed", err)
	}
	if err := v1.Scan(nil, nil, func(k, v []byte) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Scan on a released view = %v, want ErrClosed", err)
	}
	if got, err := v2.Get([]byte("a")); err != nil || string(got) != "1" {
		t.Errorf("other view after a release: Get(a) = %q, %v", got, err)
	}
	write(t, s, func(b *kv.Batch) { b.Set([]byte("a"), []byte("2")) })
	if got := mustGet(t, s, "a"); got != "2" {
		t.Errorf("store after a release: Get(a) = %q", got)
	}
	for range 100 { // taking and releasing many views leaks nothing that Close minds
		_, release := snapshot(t, ss)
		release()
	}
}

// release from another goroutine during a Scan of the view lets the scan
// complete or fail with ErrClosed, never see freed data (run with -race).
func testSnapshotReleaseDuringScan(t *testing.T, s kv.Store, ss kv.Snapshotter) {
	write(t, s, func(b *kv.Batch) {
		for i := range 100 {
			b.Set(fmt.Appendf(nil, "k%03d", i), []byte("v"))
		}
	})
	v, release := snapshot(t, ss)
	inScan, resume := make(chan struct{}), make(chan struct{})
	scanned := make(chan error, 1)
	go func() {
		first := true
		scanned <- v.Scan(nil, nil, func(k, val []byte) error {
			if first {
				first = false
				close(inScan)
				<-resume
			}
			if string(val) != "v" {
				return fmt.Errorf("key %q: value %q", k, val)
			}
			return nil
		})
	}()
	<-inScan
	released := make(chan struct{})
	go func() { release(); close(released) }()
	close(resume)
	if err := <-scanned; err != nil && !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Scan released under it = %v, want nil or ErrClosed", err)
	}
	<-released
	if _, err := v.Get([]byte("k000")); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Get after release = %v, want ErrClosed", err)
	}
}

// Closing the store ends its open views, and releasing them afterwards is
// harmless.
func testSnapshotStoreClose(t *testing.T, s kv.Store, ss kv.Snapshotter) {
	write(t, s, func(b *kv.Batch) { b.Set([]byte("a"), nil) })
	v, release := snapshot(t, ss)
	if err := s.Close(); err != nil {
		t.Fatalf("Close with a view open: %v", err)
	}
	if _, err := v.Get([]byte("a")); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("view Get after the store's Close = %v, want ErrClosed", err)
	}
	if err := v.Scan(nil, nil, func(k, v []byte) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("view Scan after the store's Close = %v, want ErrClosed", err)
	}
	release()
	if _, _, err := ss.Snapshot(); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Snapshot after Close = %v, want ErrClosed", err)
	}
}

// Views taken while batches are written see each batch whole or not at
// all (run with -race).
func testSnapshotWholeBatches(t *testing.T, s kv.Store, ss kv.Snapshotter) {
	const keys, batches = 50, 100
	setAll := func(b *kv.Batch, n int) {
		for i := range keys {
			b.Set(fmt.Appendf(nil, "k%02d", i), fmt.Appendf(nil, "%d", n))
		}
	}
	write(t, s, func(b *kv.Batch) { setAll(b, 0) })
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Go(func() {
		for n := 1; n <= batches; n++ {
			var b kv.Batch
			setAll(&b, n)
			if err := s.Write(&b, false); err != nil {
				errs <- err
				return
			}
		}
	})
	for range 50 {
		v, release := snapshot(t, ss)
		got := scanReader(t, v, nil, nil)
		release()
		if len(got) != keys {
			t.Fatalf("view of %d keys, want %d", len(got), keys)
		}
		for _, e := range got[1:] {
			if e[3:] != got[0][3:] {
				t.Fatalf("view mixes batches: %q and %q", got[0], e)
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
