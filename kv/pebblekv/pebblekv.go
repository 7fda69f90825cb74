// Package pebblekv is the production kv.Store: a Pebble database in a
// directory (DESIGN §5.1, §10).
package pebblekv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratos-net/stratos/kv"
)

// Options configures a Store.
type Options struct {
	// CacheSize is the block cache size in bytes.
	CacheSize int64
	// Logger receives Pebble's own messages (at debug level for its chatter,
	// error for its errors). Nil discards them.
	Logger *slog.Logger
}

// DefaultOptions returns 64 MiB of cache and no logging.
func DefaultOptions() Options { return Options{CacheSize: 64 << 20} }

// Validate reports an unusable option.
func (o Options) Validate() error {
	if o.CacheSize < 0 {
		return fmt.Errorf("pebblekv: negative cache size %d", o.CacheSize)
	}
	return nil
}

// Store is a kv.Store on Pebble. It is safe for concurrent use; once Close
// has been called every method returns kv.ErrClosed.
type Store struct {
	mu     sync.RWMutex // write-locked only by Close, so no call races it
	db     *pebble.DB
	closed bool

	viewsMu sync.Mutex
	views   map[*view]struct{} // open snapshots, which Pebble's Close wants closed
}

var (
	_ kv.Store       = (*Store)(nil)
	_ kv.Snapshotter = (*Store)(nil)
)

// Open opens or creates the database in dir.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // the DB holds its own reference
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             slogLogger{logger},
	})
	if err != nil {
		return nil, fmt.Errorf("pebblekv: open %s: %w", dir, err)
	}
	return &Store{db: db, views: make(map[*view]struct{})}, nil
}

// Get returns a copy of the value of key, or kv.ErrNotFound.
func (s *Store) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, kv.ErrClosed
	}
	return get(s.db, key)
}

// get reads key from r, the database or a snapshot of it.
func get(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pebblekv: get: %w", err)
	}
	out := make([]byte, len(v)) // v belongs to Pebble until closer.Close
	copy(out, v)
	return out, closer.Close()
}

// Scan calls fn for each key in [lower, upper) in a consistent snapshot.
// fn must not call Close. Key and value are copies in buffers reused between
// calls: Pebble's own slices may point into its memtable, and a callback
// that scribbled on them would corrupt the database.
func (s *Store) Scan(lower, upper []byte, fn func(key, value []byte) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return kv.ErrClosed
	}
	return scan(s.db, lower, upper, fn)
}

// scan iterates r, the database or a snapshot of it.
func scan(r pebble.Reader, lower, upper []byte, fn func(key, value []byte) error) (err error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebblekv: scan: %w", err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("pebblekv: scan: %w", cerr)
		}
	}()
	var kbuf, vbuf []byte
	for ok := it.First(); ok; ok = it.Next() {
		v, verr := it.ValueAndErr()
		if verr != nil {
			return fmt.Errorf("pebblekv: scan: %w", verr)
		}
		kbuf, vbuf = append(kbuf[:0], it.Key()...), append(vbuf[:0], v...)
		if err := fn(kbuf, vbuf); err != nil {
			if errors.Is(err, kv.ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil // a failed iterator's error is returned by Close above
}

// Write applies b atomically; with sync it is on disk when Write returns.
func (s *Store) Write(b *kv.Batch, sync bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return kv.ErrClosed
	}
	pb := s.db.NewBatch()
	defer pb.Close()
	for _, op := range b.Ops {
		var err error
		if op.Delete {
			err = pb.Delete(op.Key, nil)
		} else {
			err = pb.Set(op.Key, op.Value, nil)
		}
		if err != nil {
			return fmt.Errorf("pebblekv: write: %w", err)
		}
	}
	wo := pebble.NoSync
	if sync {
		wo = pebble.Sync
	}
	if err := s.db.Apply(pb, wo); err != nil {
		return fmt.Errorf("pebblekv: write: %w", err)
	}
	return nil
}

// Snapshot returns a view of the database as of now, a Pebble snapshot:
// O(1) to take, and it pins the versions it sees until release, so release
// it promptly. Close releases any still open.
func (s *Store) Snapshot() (kv.Reader, func(), error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, kv.ErrClosed
	}
	v := &view{s: s, snap: s.db.NewSnapshot()}
	s.viewsMu.Lock()
	s.views[v] = struct{}{}
	s.viewsMu.Unlock()
	return v, v.release, nil
}

// view is a Pebble snapshot as a kv.Reader. Its methods hold s.mu, then
// v.mu, read-locked; release write-locks v.mu, so it waits for calls in
// progress; Close, holding s.mu write-locked, excludes both.
type view struct {
	s    *Store
	mu   sync.RWMutex
	snap *pebble.Snapshot // nil once released
}

// read runs fn on the snapshot, or returns kv.ErrClosed.
func (v *view) read(fn func(*pebble.Snapshot) error) error {
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.s.closed || v.snap == nil {
		return kv.ErrClosed
	}
	return fn(v.snap)
}

func (v *view) Get(key []byte) (val []byte, err error) {
	err = v.read(func(snap *pebble.Snapshot) error {
		val, err = get(snap, key)
		return err
	})
	return val, err
}

func (v *view) Scan(lower, upper []byte, fn func(key, value []byte) error) error {
	return v.read(func(snap *pebble.Snapshot) error { return scan(snap, lower, upper, fn) })
}

func (v *view) release() {
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.s.closed || v.snap == nil {
		return // Close has closed it
	}
	_ = v.snap.Close() // never fails: it only unlinks the snapshot
	v.snap = nil
	v.s.viewsMu.Lock()
	delete(v.s.views, v)
	v.s.viewsMu.Unlock()
}

// Checkpoint writes a consistent copy of the database to dir, which must not
// exist, after flushing the WAL; the copy opens with Open. SST files are
// hard-linked where the filesystem allows, so it is cheap (Raft snapshots).
func (s *Store) Checkpoint(dir string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return kv.ErrClosed
	}
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("pebblekv: checkpoint to %s: %w", dir, err)
	}
	return nil
}

// Close closes the database. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.viewsMu.Lock()
	for v := range s.views {
		_ = v.snap.Close()
		v.snap = nil
	}
	clear(s.views)
	s.viewsMu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pebblekv: close: %w", err)
	}
	return nil
}

// slogLogger adapts slog to Pebble's logger.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Infof(format string, args ...any) {
	s.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (s slogLogger) Errorf(format string, args ...any) {
	s.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by Pebble on corruption it cannot survive; Pebble expects
// it not to return. Panicking rather than exiting lets the process's owner
// decide.
func (s slogLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.l.Log(context.Background(), slog.LevelError+4, msg, "component", "pebble")
	panic("pebble: " + msg)
}
