// Package disk is the SliceStore of a resource node: one file per slice,
// named by its hex digest, with a small index in a kv.Store (DESIGN §6.4).
//
// Layout under the data directory:
//
//	slices/<first 2 hex>/<hex digest>   the slices; the files are the truth
//	tmp/                                slices being written
//	quarantine/<hex digest>.<unix ns>   files found not to match their name
//	meta/                               the index: slice → size, stored time
//
// A slice is written to tmp/, hashed as it streams in, fsynced, renamed into
// slices/ and its directory fsynced; only then is it in the index. The index
// is written without fsync: Open reconciles it with the files, adopting files
// the index lost (after checking their hash) and dropping entries whose file
// is gone.
package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/slice"
)

// Options configure a Store.
type Options struct {
	// Capacity bounds the bytes stored plus those being written; 0 means
	// only the disk bounds it.
	Capacity uint64
	// OpenMeta opens the index kept under dir; nil means Pebble
	// (kv/pebblekv with its default options).
	OpenMeta func(dir string) (kv.Store, error)
	// Now is the clock stamped on stored slices; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultOptions returns no capacity bound, a Pebble index and the wall clock.
func DefaultOptions() Options { return Options{} }

// Store is the disk SliceStore. It is safe for concurrent use.
type Store struct {
	dir, slicesDir, tmpDir, quarantineDir string

	meta       kv.Store
	opts       Options
	log        *slog.Logger
	createTemp func(dir, pattern string) (tempFile, error) // replaced in tests

	// mu orders every change to the set of slices: renames into slices/,
	// removals and index writes, so the index and the files agree.
	mu       sync.Mutex
	count    uint64 // committed slices
	used     uint64 // bytes of committed slices
	reserved uint64 // bytes announced by writers still open
	closed   bool
}

var (
	_ resource.SliceStore  = (*Store)(nil)
	_ resource.Quarantiner = (*Store)(nil)
)

// tempFile is the part of *os.File a writer uses.
type tempFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

// Open opens the store in dir, creating it if needed, and reconciles the
// index with the slice files.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OpenMeta == nil {
		opts.OpenMeta = openPebble
	}
	s := &Store{
		dir:           dir,
		slicesDir:     filepath.Join(dir, "slices"),
		tmpDir:        filepath.Join(dir, "tmp"),
		quarantineDir: QuarantineDir(dir),
		opts:          opts,
		log:           opts.Logger,
		createTemp: func(dir, pattern string) (tempFile, error) {
			return os.CreateTemp(dir, pattern)
		},
	}
	if err := s.makeDirs(); err != nil {
		return nil, fmt.Errorf("open slice store %s: %w", dir, err)
	}
	meta, err := opts.OpenMeta(filepath.Join(dir, "meta"))
	if err != nil {
		return nil, fmt.Errorf("open slice store %s: index: %w", dir, err)
	}
	s.meta = meta
	if err := s.reconcile(); err != nil {
		meta.Close()
		return nil, fmt.Errorf("open slice store %s: %w", dir, err)
	}
	return s, nil
}

// makeDirs creates the layout, all 256 shard directories included so a
// commit never has to create (and fsync) a parent, and empties tmp/.
func (s *Store) makeDirs() error {
	for _, d := range []string{s.dir, s.slicesDir, s.tmpDir, s.quarantineDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	for i := range 256 {
		if err := os.MkdirAll(filepath.Join(s.slicesDir, fmt.Sprintf("%02x", i)), 0o700); err != nil {
			return err
		}
	}
	if err := syncDir(s.slicesDir); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	return s.clearTmp()
}

// clearTmp deletes what interrupted writes left behind.
func (s *Store) clearTmp() error {
	entries, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.tmpDir, e.Name())); err != nil {
			return err
		}
		s.log.Info("removed leftover temporary file", "file", e.Name())
	}
	return nil
}

// QuarantineDir is where the store in dir sets aside the files it found bad.
func QuarantineDir(dir string) string { return filepath.Join(dir, "quarantine") }

func (s *Store) path(id slice.ID) string {
	h := id.Hex()
	return filepath.Join(s.slicesDir, h[:2], h)
}

// Path returns where the slice id is (or would be) stored, so operators and
// tests can find it.
func (s *Store) Path(id slice.ID) string { return s.path(id) }

// Create implements resource.SliceStore. For a slice already stored, the
// stored copy is hashed first: a good one makes the writer only verify the
// incoming bytes and keep none; a rotten one is quarantined and the
// incoming bytes replace it, so a node never acknowledges a store while it
// holds a bad copy.
func (s *Store) Create(id slice.ID, size uint64) (resource.SliceWriter, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, resource.ErrClosed
	}
	info, err := s.getInfo(id)
	s.mu.Unlock()
	switch {
	case err == nil:
		if s.intact(id, info.Size) {
			return s.verifyOnly(id, size), nil
		}
		if err := s.Quarantine(id, "a new store found the stored copy rotten"); err != nil && !errors.Is(err, resource.ErrNotFound) {
			return nil, fmt.Errorf("create slice %s: %w", id, err)
		}
	case !errors.Is(err, resource.ErrNotFound):
		return nil, fmt.Errorf("create slice %s: %w", id, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, resource.ErrClosed
	}
	if _, err := s.getInfo(id); err == nil {
		return s.verifyOnly(id, size), nil // stored meanwhile by another writer
	}
	if c := s.opts.Capacity; c > 0 && s.used+s.reserved+size > c {
		return nil, fmt.Errorf("create slice %s: %w: %d bytes wanted, %d of %d in use", id, resource.ErrNoSpace, size, s.used+s.reserved, c)
	}
	f, err := s.createTemp(s.tmpDir, id.Hex()+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create slice %s: %w", id, classify(err))
	}
	s.reserved += size
	w := s.verifyOnly(id, size)
	w.f, w.reserved = f, true
	return w, nil
}

// verifyOnly is a writer that checks the bytes of id and keeps none.
func (s *Store) verifyOnly(id slice.ID, size uint64) *writer {
	return &writer{s: s, id: id, size: size, v: slice.NewVerifier(id)}
}

// intact reports whether the stored copy of id reads back with its size and
// hash. It runs without the store's lock: hashing a slice takes a while.
func (s *Store) intact(id slice.ID, size uint64) bool {
	f, err := os.Open(s.path(id))
	if err != nil {
		return false
	}
	defer f.Close()
	v := slice.NewVerifier(id)
	if _, err := io.Copy(v, f); err != nil {
		return false
	}
	return v.Check(size) == nil
}

// Open implements resource.SliceStore. A file whose size no longer matches
// the index is quarantined and reported as ErrCorrupt.
func (s *Store) Open(id slice.ID) (resource.SliceReader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := s.getInfo(id)
	if err != nil {
		return nil, fmt.Errorf("open slice %s: %w", id, err)
	}
	f, err := os.Open(s.path(id))
	if errors.Is(err, os.ErrNotExist) {
		s.forgetLocked(id, info.Size)
		return nil, fmt.Errorf("open slice %s: file is gone: %w", id, resource.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open slice %s: %w", id, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open slice %s: %w", id, err)
	}
	if uint64(fi.Size()) != info.Size {
		f.Close()
		s.quarantine(id, fmt.Sprintf("file is %d bytes, index says %d", fi.Size(), info.Size))
		s.forgetLocked(id, info.Size)
		return nil, fmt.Errorf("open slice %s: %w: file is %d bytes, want %d", id, resource.ErrCorrupt, fi.Size(), info.Size)
	}
	return fileReader{f, info.Size}, nil
}

// Stat implements resource.SliceStore.
func (s *Store) Stat(id slice.ID) (resource.SliceInfo, error) {
	info, err := s.getInfo(id)
	if err != nil {
		return info, fmt.Errorf("stat slice %s: %w", id, err)
	}
	return info, nil
}

// Delete implements resource.SliceStore.
func (s *Store) Delete(id slice.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := s.getInfo(id)
	if err != nil {
		return fmt.Errorf("delete slice %s: %w", id, err)
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete slice %s: %w", id, err)
	}
	// No fsync: a deletion lost in a crash brings back an orphan, which the
	// next slice report finds.
	return s.forgetLocked(id, info.Size)
}

// Quarantine implements resource.Quarantiner: the file goes to quarantine/
// and the slice leaves the index.
func (s *Store) Quarantine(id slice.ID, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := s.getInfo(id)
	if err != nil {
		return fmt.Errorf("quarantine slice %s: %w", id, err)
	}
	if err := s.quarantine(id, reason); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("quarantine slice %s: %w", id, err)
	}
	return s.forgetLocked(id, info.Size)
}

// forgetLocked drops id from the index and the counters.
func (s *Store) forgetLocked(id slice.ID, size uint64) error {
	var b kv.Batch
	b.Delete(metaKey(id))
	if err := s.meta.Write(&b, false); err != nil {
		return fmt.Errorf("forget slice %s: %w", id, err)
	}
	s.count--
	s.used -= size
	return nil
}

// List implements resource.SliceStore. It reads the index a page at a time
// and calls fn outside the scan, so fn may change the store.
func (s *Store) List(fn func(resource.SliceInfo) error) error {
	const page = 1024
	lower, upper := []byte(metaPrefix), kv.PrefixEnd([]byte(metaPrefix))
	for {
		infos := make([]resource.SliceInfo, 0, page)
		var last []byte
		err := s.meta.Scan(lower, upper, func(k, v []byte) error {
			if info, err := decodeMeta(k, v); err == nil {
				infos = append(infos, info)
			}
			last = append(last[:0], k...)
			if len(infos) == page {
				return kv.ErrStop
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("list slices: %w", err)
		}
		for _, info := range infos {
			if err := fn(info); err != nil {
				return err
			}
		}
		if len(infos) < page {
			return nil
		}
		lower = append(last, 0) // the next key after last
	}
}

// Usage implements resource.SliceStore.
func (s *Store) Usage() (resource.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return resource.Usage{Slices: s.count, Bytes: s.used}, nil
}

// Close implements resource.SliceStore. Writers still open fail to commit.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.meta.Close()
}

// commit moves a verified, fsynced temporary file into place.
func (s *Store) commit(w *writer, tmp string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return resource.ErrClosed
	}
	if _, err := s.getInfo(w.id); err == nil {
		// Someone stored it meanwhile; the slice was still just received.
		err := s.touchLocked(w.id)
		s.mu.Unlock()
		return errors.Join(err, os.Remove(tmp))
	}
	final := s.path(w.id)
	if err := os.Rename(tmp, final); err != nil {
		s.mu.Unlock()
		return err
	}
	var b kv.Batch
	b.Set(metaKey(w.id), encodeMeta(w.size, s.opts.Now()))
	if err := s.meta.Write(&b, false); err != nil {
		os.Remove(final)
		s.mu.Unlock()
		return fmt.Errorf("index: %w", err)
	}
	s.count++
	s.used += w.size
	s.mu.Unlock()
	// The rename is durable once its directory is: only then may a receipt
	// say the slice is on disk.
	return syncDir(filepath.Dir(final))
}

// touch restamps a stored slice with the current time: a slice received
// again is as young as its latest upload, which the orphan grace and the
// node's delete guard rely on (an upload retried hours later must not lose
// its slices to a report that finds them unreferenced before the commit).
func (s *Store) touch(id slice.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return resource.ErrClosed
	}
	return s.touchLocked(id)
}

func (s *Store) touchLocked(id slice.ID) error {
	info, err := s.getInfo(id)
	if err != nil {
		return err
	}
	var b kv.Batch
	b.Set(metaKey(id), encodeMeta(info.Size, s.opts.Now()))
	if err := s.meta.Write(&b, false); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

func (s *Store) release(size uint64) {
	s.mu.Lock()
	s.reserved -= size
	s.mu.Unlock()
}

// getInfo reads the index entry of id.
func (s *Store) getInfo(id slice.ID) (resource.SliceInfo, error) {
	v, err := s.meta.Get(metaKey(id))
	if errors.Is(err, kv.ErrNotFound) {
		return resource.SliceInfo{}, resource.ErrNotFound
	}
	if err != nil {
		return resource.SliceInfo{}, err
	}
	return decodeMeta(metaKey(id), v)
}

// quarantine moves the file of id out of slices/, keeping it for an operator
// to look at rather than deleting evidence.
func (s *Store) quarantine(id slice.ID, reason string) error {
	return s.quarantineFile(s.path(id), id.Hex(), reason)
}

// quarantineFile logs its failure too: most callers can only go on.
func (s *Store) quarantineFile(path, name, reason string) error {
	dst := filepath.Join(s.quarantineDir, name+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Rename(path, dst); err != nil {
		s.log.Error("cannot quarantine slice file", "file", path, "reason", reason, "err", err)
		return err
	}
	s.log.Warn("quarantined slice file", "file", path, "to", dst, "reason", reason)
	return nil
}

// The index: "s/<slice ID>" → size (8 bytes) ‖ stored unix nanoseconds (8).
const metaPrefix = "s/"

func metaKey(id slice.ID) []byte { return []byte(metaPrefix + id.String()) }

func encodeMeta(size uint64, stored time.Time) []byte {
	b := binary.BigEndian.AppendUint64(nil, size)
	return binary.BigEndian.AppendUint64(b, uint64(stored.UnixNano()))
}

var errBadMeta = errors.New("bad index entry")

func decodeMeta(k, v []byte) (resource.SliceInfo, error) {
	id, err := slice.ParseID(string(k[len(metaPrefix):]))
	if err != nil || len(v) != 16 {
		return resource.SliceInfo{}, fmt.Errorf("%w: %q", errBadMeta, k)
	}
	return resource.SliceInfo{
		ID:     id,
		Size:   binary.BigEndian.Uint64(v),
		Stored: time.Unix(0, int64(binary.BigEndian.Uint64(v[8:]))),
	}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return d.Close()
}

type fileReader struct {
	f    *os.File
	size uint64
}

func (r fileReader) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r fileReader) Close() error                            { return r.f.Close() }
func (r fileReader) Size() uint64                            { return r.size }
