// Package storetest is the conformance suite for resource.SliceStore
// implementations, in the style of litestream's RunWithReplicaClient: every
// implementation runs the same tests from its own package.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/slice"
)

// NewStore returns an empty store for one test, configured by opts. The
// test's cleanup should close it.
type NewStore func(t *testing.T, opts Options) resource.SliceStore

// Options are what the suite sets on the stores it makes.
type Options struct {
	// Capacity bounds the bytes the store may hold; 0 means no bound.
	Capacity uint64
	// Now is the clock the store stamps slices with; nil means time.Now.
	Now func() time.Time
}

// Run runs the suite against the stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReadAt", testReadAt},
		{"InvisibleUntilCommit", testInvisibleUntilCommit},
		{"HashMismatch", testHashMismatch},
		{"SizeMismatch", testSizeMismatch},
		{"Duplicate", testDuplicate},
		{"DuplicateConcurrent", testDuplicateConcurrent},
		{"Delete", testDelete},
		{"ReaderOutlivesDelete", testReaderOutlivesDelete},
		{"List", testList},
		{"Capacity", testCapacity},
		{"WriterLifecycle", testWriterLifecycle},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

// Data returns n pseudo-random bytes determined by seed, and their ID.
func Data(seed uint64, n int) ([]byte, slice.ID) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b, slice.Sum(b)
}

// Put stores data as one slice, writing it in chunks of chunk bytes.
func Put(t testing.TB, s resource.SliceStore, data []byte, chunk int) slice.ID {
	t.Helper()
	id := slice.Sum(data)
	if err := write(s, id, data, chunk); err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
	return id
}

// Rot flips one bit in the middle of the file at path, keeping its size:
// only the slice's hash can tell.
func Rot(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Quarantined reports whether a file of slice id is in the quarantine
// directory qdir (disk.QuarantineDir of a store's directory).
func Quarantined(t testing.TB, qdir string, id slice.ID) bool {
	t.Helper()
	q, err := os.ReadDir(qdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range q {
		if strings.HasPrefix(e.Name(), id.Hex()) {
			return true
		}
	}
	return false
}

func write(s resource.SliceStore, id slice.ID, data []byte, chunk int) error {
	w, err := s.Create(id, uint64(len(data)))
	if err != nil {
		return err
	}
	defer w.Abort()
	for len(data) > 0 {
		n := min(chunk, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return w.Commit()
}

// Get reads a whole stored slice.
func Get(t testing.TB, s resource.SliceStore, id slice.ID) []byte {
	t.Helper()
	r, err := s.Open(id)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.NewSectionReader(r, 0, int64(r.Size())))
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return b
}

func wantAbsent(t *testing.T, s resource.SliceStore, id slice.ID) {
	t.Helper()
	if _, err := s.Stat(id); !errors.Is(err, resource.ErrNotFound) {
		t.Errorf("Stat(%s) err = %v, want ErrNotFound", id, err)
	}
	if _, err := s.Open(id); !errors.Is(err, resource.ErrNotFound) {
		t.Errorf("Open(%s) err = %v, want ErrNotFound", id, err)
	}
}

func wantUsage(t *testing.T, s resource.SliceStore, want resource.Usage) {
	t.Helper()
	got, err := s.Usage()
	if err != nil || got != want {
		t.Errorf("Usage() = %+v, %v; want %+v", got, err, want)
	}
}

func testRoundTrip(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	data, _ := Data(1, 300<<10+7)
	id := Put(t, s, data, 64<<10)
	if got := Get(t, s, id); !bytes.Equal(got, data) {
		t.Fatal("read back different bytes")
	}
	info, err := s.Stat(id)
	if err != nil || info.ID != id || info.Size != uint64(len(data)) || info.Stored.IsZero() {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	wantUsage(t, s, resource.Usage{Slices: 1, Bytes: uint64(len(data))})
}

func testReadAt(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	data, _ := Data(2, 100<<10)
	id := Put(t, s, data, len(data))
	r, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != uint64(len(data)) {
		t.Fatalf("Size = %d, want %d", r.Size(), len(data))
	}
	for _, rg := range [][2]int{{0, 1}, {5, 1000}, {len(data) - 10, 10}, {50 << 10, 50 << 10}} {
		buf := make([]byte, rg[1])
		if n, err := r.ReadAt(buf, int64(rg[0])); n != rg[1] || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", rg[0], rg[1], n, err)
		}
		if !bytes.Equal(buf, data[rg[0]:rg[0]+rg[1]]) {
			t.Fatalf("ReadAt(%d, %d): wrong bytes", rg[0], rg[1])
		}
	}
	if n, err := r.ReadAt(make([]byte, 10), int64(len(data)-5)); n != 5 || err != io.EOF {
		t.Fatalf("ReadAt past the end = %d, %v; want 5, EOF", n, err)
	}
}

func testInvisibleUntilCommit(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	data, id := Data(3, 10<<10)
	w, err := s.Create(id, uint64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s, id)
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s, id)
	wantUsage(t, s, resource.Usage{})
}

func testHashMismatch(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	data, id := Data(4, 10<<10)
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	if err := write(s, id, bad, 4096); !errors.Is(err, slice.ErrMismatch) {
		t.Fatalf("corrupt bytes: err = %v, want ErrMismatch", err)
	}
	wantAbsent(t, s, id)
	wantUsage(t, s, resource.Usage{})
}

func testSizeMismatch(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	data, id := Data(5, 10<<10)
	for name, announce := range map[string]uint64{"short": uint64(len(data)) + 1, "long": uint64(len(data)) - 1} {
		w, err := s.Create(id, announce)
		if err != nil {
			t.Fatal(err)
		}
		_, werr := w.Write(data)
		cerr := w.Commit()
		if !errors.Is(werr, slice.ErrMismatch) && !errors.Is(cerr, slice.ErrMismatch) {
			t.Errorf("%s: write err %v, commit err %v; want ErrMismatch", name, werr, cerr)
		}
		w.Abort()
		wantAbsent(t, s, id)
	}
	wantUsage(t, s, resource.Usage{})
}

// A slice received again is as young as its latest upload: the orphan
// grace protects slices by their stored time (DESIGN §5.4), and an upload
// retried hours after an aborted one must not lose its slices to the next
// slice report before it commits.
func testDuplicate(t *testing.T, newStore NewStore) {
	t0 := time.Unix(1_700_000_000, 0)
	clk := &clock{t: t0}
	s := newStore(t, Options{Now: clk.Now})
	data, id := Data(6, 20<<10)
	Put(t, s, data, 1000)
	clk.Set(t0.Add(2 * time.Hour))
	Put(t, s, data, 3000) // content addressed: a cheap success
	wantUsage(t, s, resource.Usage{Slices: 1, Bytes: uint64(len(data))})
	wantStored(t, s, id, t0.Add(2*time.Hour))
	clk.Set(t0.Add(3 * time.Hour))
	bad := bytes.Clone(data)
	bad[0] ^= 0xff
	if err := write(s, id, bad, 4096); !errors.Is(err, slice.ErrMismatch) {
		t.Fatalf("duplicate with corrupt bytes: err = %v, want ErrMismatch", err)
	}
	if got := Get(t, s, id); !bytes.Equal(got, data) {
		t.Fatal("a failed duplicate damaged the stored slice")
	}
	wantStored(t, s, id, t0.Add(2*time.Hour)) // bad bytes are no upload
}

func wantStored(t *testing.T, s resource.SliceStore, id slice.ID, want time.Time) {
	t.Helper()
	if info, err := s.Stat(id); err != nil || !info.Stored.Equal(want) {
		t.Errorf("Stat(%s) = %+v, %v; want stored at %v", id, info, err, want)
	}
}

// clock is a settable clock for the stored times.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func testDuplicateConcurrent(t *testing.T, newStore NewStore) {
	t0 := time.Unix(1_700_000_000, 0)
	clk := &clock{t: t0}
	s := newStore(t, Options{Now: clk.Now})
	data, id := Data(7, 50<<10)
	var ws []resource.SliceWriter
	for range 3 {
		w, err := s.Create(id, uint64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		ws = append(ws, w)
	}
	for i, w := range ws {
		clk.Set(t0.Add(time.Duration(i) * time.Hour))
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	wantUsage(t, s, resource.Usage{Slices: 1, Bytes: uint64(len(data))})
	wantStored(t, s, id, t0.Add(time.Duration(len(ws)-1)*time.Hour)) // the latest commit
	if got := Get(t, s, id); !bytes.Equal(got, data) {
		t.Fatal("wrong bytes")
	}
}

func testDelete(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	a, _ := Data(8, 1000)
	b, _ := Data(9, 2000)
	ida, idb := Put(t, s, a, 100), Put(t, s, b, 100)
	if err := s.Delete(ida); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s, ida)
	if err := s.Delete(ida); !errors.Is(err, resource.ErrNotFound) {
		t.Fatalf("second Delete err = %v, want ErrNotFound", err)
	}
	wantUsage(t, s, resource.Usage{Slices: 1, Bytes: 2000})
	if got := Get(t, s, idb); !bytes.Equal(got, b) {
		t.Fatal("deleting one slice damaged another")
	}
	Put(t, s, a, 100) // and it can come back
	wantUsage(t, s, resource.Usage{Slices: 2, Bytes: 3000})
}

func testReaderOutlivesDelete(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	data, _ := Data(10, 5000)
	id := Put(t, s, data, 5000)
	r, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := s.Delete(id); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(data))
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		t.Fatalf("read after delete: %v", err)
	}
	if !bytes.Equal(buf, data) {
		t.Fatal("read after delete: wrong bytes")
	}
}

func testList(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	want := map[slice.ID]uint64{}
	for i := range 40 {
		data, _ := Data(uint64(100+i), 100+i)
		want[Put(t, s, data, 64)] = uint64(len(data))
	}
	got := map[slice.ID]uint64{}
	if err := s.List(func(info resource.SliceInfo) error {
		if _, dup := got[info.ID]; dup {
			return fmt.Errorf("%s listed twice", info.ID)
		}
		got[info.ID] = info.Size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d slices, want %d", len(got), len(want))
	}
	for id, size := range want {
		if got[id] != size {
			t.Errorf("%s: listed size %d, want %d", id, got[id], size)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := s.List(func(resource.SliceInfo) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with failing callback: err = %v after %d calls", err, n)
	}
	// The callback may change the store: delete everything while listing.
	if err := s.List(func(info resource.SliceInfo) error { return s.Delete(info.ID) }); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, s, resource.Usage{})
}

func testCapacity(t *testing.T, newStore NewStore) {
	const capacity = 100 << 10
	s := newStore(t, Options{Capacity: capacity})
	a, ida := Data(11, 60<<10)
	b, idb := Data(12, 60<<10)
	wa, err := s.Create(ida, uint64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	// An open writer holds its announced size, so two uploads cannot both
	// count on the same free bytes.
	if _, err := s.Create(idb, uint64(len(b))); !errors.Is(err, resource.ErrNoSpace) {
		t.Fatalf("over capacity while another write is open: err = %v, want ErrNoSpace", err)
	}
	wa.Abort()
	Put(t, s, b, 4096)
	if err := write(s, ida, a, 4096); !errors.Is(err, resource.ErrNoSpace) {
		t.Fatalf("over capacity: err = %v, want ErrNoSpace", err)
	}
	wantAbsent(t, s, ida)
	wantUsage(t, s, resource.Usage{Slices: 1, Bytes: uint64(len(b))})
	Put(t, s, b, 4096) // a duplicate needs no space
	if err := s.Delete(idb); err != nil {
		t.Fatal(err)
	}
	Put(t, s, a, 4096)
}

func testWriterLifecycle(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	data, id := Data(13, 1000)
	w, err := s.Create(id, uint64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	if err := w.Commit(); err == nil {
		t.Fatal("second Commit succeeded")
	}
	if _, err := w.Write(data); err == nil {
		t.Fatal("Write after Commit succeeded")
	}
	if _, err := s.Stat(id); err != nil {
		t.Fatalf("Abort after Commit removed the slice: %v", err)
	}
}

func testConcurrent(t *testing.T, newStore NewStore) {
	s := newStore(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			data, id := Data(uint64(200+i%8), 30<<10) // pairs write the same slice
			if err := write(s, id, data, 1000); err != nil {
				errs <- err
				return
			}
			if i%8 == 0 {
				if err := s.Delete(id); err != nil && !errors.Is(err, resource.ErrNotFound) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	u, _ := s.Usage()
	if u.Slices != 7 && u.Slices != 8 {
		t.Fatalf("Usage = %+v after concurrent writes, want 7 or 8 slices", u)
	}
	n := uint64(0)
	s.List(func(info resource.SliceInfo) error {
		n++
		if got := Get(t, s, info.ID); slice.Sum(got) != info.ID {
			t.Errorf("%s: wrong bytes", info.ID)
		}
		return nil
	})
	if n != u.Slices {
		t.Fatalf("listed %d slices, Usage says %d", n, u.Slices)
	}
}
