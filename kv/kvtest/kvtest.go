// Package kvtest is the conformance suite every kv.Store implementation runs
// (STYLE: one suite per interface, run against each implementation).
package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stratos-net/stratos/kv"
)

// Run checks the kv.Store contract, and the kv.Snapshotter one if the
// stores implement it, on stores made by open, which must return a new
// empty store each time. The suite closes the stores it opens.
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, kv.Store)
	}{
		{"GetMissing", testGetMissing},
		{"SetGetDelete", testSetGetDelete},
		{"BatchAtomicAndOrdered", testBatchOrdered},
		{"EmptyValue", testEmptyValue},
		{"ValuesAreCopies", testValuesAreCopies},
		{"ScanOrderAndBounds", testScanBounds},
		{"ScanPrefix", testScanPrefix},
		{"ScanStop", testScanStop},
		{"ScanError", testScanError},
		{"ScanWriteInCallback", testScanWrite},
		{"Concurrent", testConcurrent},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tt.fn(t, s)
		})
	}
	runSnapshot(t, open)
}

func write(t *testing.T, s kv.Store, fn func(b *kv.Batch)) {
	t.Helper()
	var b kv.Batch
	fn(&b)
	if err := s.Write(&b, true); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func mustGet(t *testing.T, s kv.Store, key string) string {
	t.Helper()
	v, err := s.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v)
}

func wantMissing(t *testing.T, s kv.Store, key string) {
	t.Helper()
	if v, err := s.Get([]byte(key)); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

// scan returns "k=v" strings for [lower, upper).
func scan(t *testing.T, s kv.Store, lower, upper []byte) []string {
	t.Helper()
	var got []string
	err := s.Scan(lower, upper, func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): %v", lower, upper, err)
	}
	return got
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testGetMissing(t *testing.T, s kv.Store) {
	wantMissing(t, s, "nothing")
	wantMissing(t, s, "")
}

func testSetGetDelete(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) { b.Set([]byte("a"), []byte("1")) })
	if got := mustGet(t, s, "a"); got != "1" {
		t.Fatalf("Get(a) = %q, want 1", got)
	}
	write(t, s, func(b *kv.Batch) { b.Set([]byte("a"), []byte("2")) })
	if got := mustGet(t, s, "a"); got != "2" {
		t.Fatalf("overwrite: Get(a) = %q, want 2", got)
	}
	write(t, s, func(b *kv.Batch) { b.Delete([]byte("a")); b.Delete([]byte("never-there")) })
	wantMissing(t, s, "a")
}

// A batch is applied as a whole and in order: a later op on the same key wins.
func testBatchOrdered(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) { b.Set([]byte("gone"), []byte("x")) })
	write(t, s, func(b *kv.Batch) {
		b.Set([]byte("k1"), []byte("a"))
		b.Delete([]byte("gone"))
		b.Set([]byte("k2"), []byte("b"))
		b.Delete([]byte("k2"))
		b.Set([]byte("k3"), []byte("c"))
		b.Set([]byte("k3"), []byte("d"))
	})
	wantMissing(t, s, "gone")
	wantMissing(t, s, "k2")
	got := scan(t, s, nil, nil)
	if want := []string{"k1=a", "k3=d"}; !equal(got, want) {
		t.Fatalf("after batch: %q, want %q", got, want)
	}
	write(t, s, func(*kv.Batch) {}) // an empty batch is fine
}

func testEmptyValue(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) { b.Set([]byte("e"), nil) })
	v, err := s.Get([]byte("e"))
	if err != nil || len(v) != 0 {
		t.Fatalf("Get(e) = %q, %v; want empty value", v, err)
	}
}

func testValuesAreCopies(t *testing.T, s kv.Store) {
	key, val := []byte("key"), []byte("value")
	write(t, s, func(b *kv.Batch) { b.Set(key, val) })
	key[0], val[0] = 'X', 'X' // the store must have copied the batch
	v, err := s.Get([]byte("key"))
	if err != nil || string(v) != "value" {
		t.Fatalf("after mutating the batch's slices: Get = %q, %v", v, err)
	}
	v[0] = 'Y' // and Get must return a copy
	if got := mustGet(t, s, "key"); got != "value" {
		t.Fatalf("after mutating Get's result: Get = %q", got)
	}
	err = s.Scan(nil, nil, func(k, v []byte) error {
		v[0] = 'Z' // scan values are only valid during the call, but never alias a later Get
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "key"); got != "value" {
		t.Fatalf("after mutating a scanned value: Get = %q", got)
	}
}

func testScanBounds(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) {
		for _, k := range []string{"b", "a", "c\x00", "c", "ab", "\xff\xff", "d"} {
			b.Set([]byte(k), []byte("v"+k))
		}
	})
	tests := []struct {
		lower, upper []byte
		want         []string
	}{
		{nil, nil, []string{"a=va", "ab=vab", "b=vb", "c=vc", "c\x00=vc\x00", "d=vd", "\xff\xff=v\xff\xff"}},
		{[]byte("ab"), []byte("c"), []string{"ab=vab", "b=vb"}},                             // lower inclusive, upper exclusive
		{[]byte("c"), []byte("c\x00"), []string{"c=vc"}},                                    // the tightest range
		{[]byte("bb"), nil, []string{"c=vc", "c\x00=vc\x00", "d=vd", "\xff\xff=v\xff\xff"}}, // nil upper: no bound
		{[]byte("x"), []byte("y"), nil},
		{[]byte("c"), []byte("c"), nil}, // empty range
	}
	for _, tt := range tests {
		if got := scan(t, s, tt.lower, tt.upper); !equal(got, tt.want) {
			t.Errorf("Scan(%q, %q) = %q, want %q", tt.lower, tt.upper, got, tt.want)
		}
	}
}

func testScanPrefix(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) {
		for _, k := range []string{"p", "p/1", "p/2", "p0", "p\xff", "p/\xff", "q"} {
			b.Set([]byte(k), nil)
		}
	})
	prefix := []byte("p/")
	got := scan(t, s, prefix, kv.PrefixEnd(prefix))
	if want := []string{"p/1=", "p/2=", "p/\xff="}; !equal(got, want) {
		t.Fatalf("prefix scan %q = %q, want %q", prefix, got, want)
	}
	prefix = []byte("p\xff")
	got = scan(t, s, prefix, kv.PrefixEnd(prefix))
	if want := []string{"p\xff="}; !equal(got, want) {
		t.Fatalf("prefix scan %q = %q, want %q", prefix, got, want)
	}
}

// ErrStop ends a scan early and is not an error.
func testScanStop(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) {
		for i := range 300 { // more than one chunk of any paging implementation
			b.Set(fmt.Appendf(nil, "k%03d", i), nil)
		}
	})
	for _, stopAt := range []int{1, 2, 150, 300} {
		n := 0
		err := s.Scan(nil, nil, func(k, v []byte) error {
			n++
			if n == stopAt {
				return kv.ErrStop
			}
			return nil
		})
		if err != nil || n != stopAt {
			t.Errorf("stop at %d: Scan = %v after %d keys", stopAt, err, n)
		}
	}
	n := 0
	if err := s.Scan(nil, nil, func(k, v []byte) error { n++; return nil }); err != nil || n != 300 {
		t.Fatalf("full scan: %v after %d keys, want 300", err, n)
	}
}

func testScanError(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) { b.Set([]byte("a"), nil); b.Set([]byte("b"), nil) })
	boom := errors.New("boom")
	n := 0
	err := s.Scan(nil, nil, func(k, v []byte) error { n++; return fmt.Errorf("wrapped: %w", boom) })
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("Scan = %v after %d keys, want the callback's error after 1", err, n)
	}
}

// A callback may write to the store it scans (the index deletes what it
// scans when it clears a key range).
func testScanWrite(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) {
		for i := range 100 {
			b.Set(fmt.Appendf(nil, "k%03d", i), nil)
		}
	})
	err := s.Scan(nil, nil, func(k, v []byte) error {
		var b kv.Batch
		b.Delete(bytes.Clone(k))
		return s.Write(&b, false)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := scan(t, s, nil, nil); len(got) != 0 {
		t.Fatalf("after deleting while scanning: %d keys left", len(got))
	}
}

func testClose(t *testing.T, s kv.Store) {
	write(t, s, func(b *kv.Batch) { b.Set([]byte("a"), nil) })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get([]byte("a")); err == nil {
		t.Error("Get after Close succeeded")
	}
	if err := s.Scan(nil, nil, func(k, v []byte) error { return nil }); err == nil {
		t.Error("Scan after Close succeeded")
	}
	var b kv.Batch
	b.Set([]byte("b"), nil)
	if err := s.Write(&b, true); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// Stores are safe for concurrent use: writers and scanners at once (run
// with -race), and every write lands.
func testConcurrent(t *testing.T, s kv.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				var b kv.Batch
				b.Set(fmt.Appendf(nil, "w%d/%03d", w, i), []byte("v"))
				if err := s.Write(&b, false); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 20 {
				var prev []byte
				err := s.Scan(nil, nil, func(k, v []byte) error {
					if prev != nil && bytes.Compare(prev, k) >= 0 {
						return fmt.Errorf("scan out of order: %q after %q", k, prev)
					}
					prev = bytes.Clone(k)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(scan(t, s, nil, nil)); got != 200 {
		t.Fatalf("%d keys after 200 concurrent writes", got)
	}
}
