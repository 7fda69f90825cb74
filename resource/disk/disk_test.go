package disk

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/slice"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts storetest.Options) resource.SliceStore {
		return open(t, t.TempDir(), Options{Capacity: opts.Capacity, Now: opts.Now})
	})
}

func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return open(t, s.dir, s.opts)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestFileNamedByDigest(t *testing.T) {
	// The operator finds a slice by its ID and can check it with sha256sum.
	s := open(t, t.TempDir(), Options{})
	data, _ := storetest.Data(1, 70<<10)
	id := storetest.Put(t, s, data, 4096)
	h := id.Hex()
	want := filepath.Join(s.dir, "slices", h[:2], h)
	if s.Path(id) != want {
		t.Fatalf("Path = %s, want %s", s.Path(id), want)
	}
	got, err := os.ReadFile(want)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("slice file %s: %v", want, err)
	}
	if names := dirNames(t, s.tmpDir); len(names) != 0 {
		t.Fatalf("tmp/ not empty after commit: %v", names)
	}
}

func TestReopenKeepsSlices(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := open(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	data, _ := storetest.Data(2, 10<<10)
	id := storetest.Put(t, s, data, 1000)
	s = reopen(t, s)
	info, err := s.Stat(id)
	if err != nil || info.Size != uint64(len(data)) || !info.Stored.Equal(now) {
		t.Fatalf("after reopen Stat = %+v, %v", info, err)
	}
	if u, _ := s.Usage(); u != (resource.Usage{Slices: 1, Bytes: uint64(len(data))}) {
		t.Fatalf("after reopen Usage = %+v", u)
	}
}

func TestReconcile(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	kept, _ := storetest.Data(3, 5000)
	keptID := storetest.Put(t, s, kept, 5000)
	lost, _ := storetest.Data(4, 6000)
	lostID := storetest.Put(t, s, lost, 6000)
	truncated, _ := storetest.Data(5, 7000)
	truncID := storetest.Put(t, s, truncated, 7000)

	// A file whose index entry never reached the disk.
	orphan, orphanID := storetest.Data(6, 8000)
	mustWrite(t, s.Path(orphanID), orphan)
	// A file that does not match its name.
	corrupt, corruptID := storetest.Data(7, 9000)
	corrupt[0] ^= 1
	mustWrite(t, s.Path(corruptID), corrupt)
	// An interrupted write, and junk.
	mustWrite(t, filepath.Join(s.tmpDir, "x.123.tmp"), []byte("partial"))
	mustWrite(t, filepath.Join(s.slicesDir, "ab", "notes.txt"), []byte("hello"))
	// An index entry whose file was removed, and a file cut short.
	if err := os.Remove(s.Path(lostID)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(s.Path(truncID), 100); err != nil {
		t.Fatal(err)
	}

	s = reopen(t, s)
	if got := storetest.Get(t, s, keptID); !bytes.Equal(got, kept) {
		t.Error("indexed slice damaged")
	}
	if got := storetest.Get(t, s, orphanID); !bytes.Equal(got, orphan) {
		t.Error("orphan file not adopted")
	}
	for name, id := range map[string]slice.ID{"lost": lostID, "corrupt": corruptID, "truncated": truncID} {
		if _, err := s.Stat(id); !errors.Is(err, resource.ErrNotFound) {
			t.Errorf("%s slice: Stat err = %v, want ErrNotFound", name, err)
		}
	}
	if u, _ := s.Usage(); u != (resource.Usage{Slices: 2, Bytes: uint64(len(kept) + len(orphan))}) {
		t.Errorf("Usage = %+v", u)
	}
	if names := dirNames(t, s.tmpDir); len(names) != 0 {
		t.Errorf("tmp/ not cleaned: %v", names)
	}
	q := strings.Join(dirNames(t, s.quarantineDir), " ")
	for _, want := range []string{corruptID.Hex(), truncID.Hex(), "notes.txt"} {
		if !strings.Contains(q, want) {
			t.Errorf("quarantine/ = %q, missing %s", q, want)
		}
	}
}

func TestOpenCorruptFile(t *testing.T) {
	// A file damaged while the node runs must not crash the reader: Open
	// notices the size and moves the file away.
	s := open(t, t.TempDir(), Options{})
	data, _ := storetest.Data(8, 5000)
	id := storetest.Put(t, s, data, 5000)
	if err := os.Truncate(s.Path(id), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(id); !errors.Is(err, resource.ErrCorrupt) {
		t.Fatalf("Open of truncated file: err = %v, want ErrCorrupt", err)
	}
	if _, err := s.Open(id); !errors.Is(err, resource.ErrNotFound) {
		t.Fatalf("second Open: err = %v, want ErrNotFound", err)
	}
	if u, _ := s.Usage(); u != (resource.Usage{}) {
		t.Fatalf("Usage = %+v", u)
	}
	storetest.Put(t, s, data, 5000) // a repair can bring it back
}

func TestDiskFull(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	s.createTemp = func(dir, pattern string) (tempFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		return &fullFile{File: f, room: 10000}, err
	}
	data, id := storetest.Data(9, 50000)
	w, err := s.Create(id, uint64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for off := 0; off < len(data) && werr == nil; off += 4096 {
		_, werr = w.Write(data[off:min(off+4096, len(data))])
	}
	if !errors.Is(werr, resource.ErrNoSpace) || !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: err = %v, want ErrNoSpace wrapping ENOSPC", werr)
	}
	if names := dirNames(t, s.tmpDir); len(names) != 0 {
		t.Fatalf("a failed write left %v in tmp/", names)
	}
	if err := w.Commit(); err == nil {
		t.Fatal("Commit after a failed Write succeeded")
	}
	w.Abort()
	if _, err := s.Stat(id); !errors.Is(err, resource.ErrNotFound) {
		t.Fatalf("Stat = %v", err)
	}
	if s.reserved != 0 {
		t.Fatalf("reservation of %d bytes leaked", s.reserved)
	}
}

func TestCapacityLeavesNothing(t *testing.T) {
	s := open(t, t.TempDir(), Options{Capacity: 1000})
	data, id := storetest.Data(10, 2000)
	if _, err := s.Create(id, uint64(len(data))); !errors.Is(err, resource.ErrNoSpace) {
		t.Fatalf("Create over capacity: err = %v, want ErrNoSpace", err)
	}
	if names := dirNames(t, s.tmpDir); len(names) != 0 {
		t.Fatalf("tmp/ = %v", names)
	}
}

func TestInterruptedWriteCleanedOnOpen(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	data, id := storetest.Data(11, 3000)
	w, err := s.Create(id, uint64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data[:1000]) // and the process dies
	s = reopen(t, s)
	if names := dirNames(t, s.tmpDir); len(names) != 0 {
		t.Fatalf("tmp/ = %v", names)
	}
	if _, err := s.Stat(id); !errors.Is(err, resource.ErrNotFound) {
		t.Fatalf("Stat = %v", err)
	}
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fullFile fails with ENOSPC once room bytes are written, as a full disk does.
type fullFile struct {
	*os.File
	room int
}

func (f *fullFile) Write(p []byte) (int, error) {
	if len(p) > f.room {
		n, _ := f.File.Write(p[:f.room])
		f.room = 0
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.room -= len(p)
	return f.File.Write(p)
}

func TestStoreOverRottenCopyReplacesIt(t *testing.T) {
	// DESIGN §6.2: each node "hashes, fsyncs and signs a receipt": a receipt
	// says the node holds good bytes. A store of a slice the node already
	// holds must not be acknowledged over a copy that rotted on disk: the
	// rotten copy is quarantined and the incoming bytes take its place.
	dir := t.TempDir()
	s := open(t, dir, Options{})
	data, _ := storetest.Data(9, 5000)
	id := storetest.Put(t, s, data, 5000)
	b, err := os.ReadFile(s.Path(id))
	if err != nil {
		t.Fatal(err)
	}
	b[2500] ^= 0x40
	if err := os.WriteFile(s.Path(id), b, 0o600); err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, s, data, 5000)
	if got, err := os.ReadFile(s.Path(id)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after a store over a rotten copy the file is not the slice (err %v)", err)
	}
	q, err := os.ReadDir(QuarantineDir(dir))
	if err != nil || len(q) != 1 || !strings.HasPrefix(q[0].Name(), id.Hex()) {
		t.Fatalf("quarantine holds %v (err %v), want the rotten copy", q, err)
	}
	if u, _ := s.Usage(); u.Slices != 1 || u.Bytes != 5000 {
		t.Fatalf("Usage = %+v, want one slice of 5000 bytes", u)
	}

	// A good copy is kept: a second store keeps no bytes and quarantines nothing.
	storetest.Put(t, s, data, 5000)
	if q, _ := os.ReadDir(QuarantineDir(dir)); len(q) != 1 {
		t.Fatalf("a store over a good copy quarantined it: %v", q)
	}
}
