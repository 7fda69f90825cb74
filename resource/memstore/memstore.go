// Package memstore is a SliceStore in memory, for tests and for nodes that
// need no durability.
package memstore

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/slice"
)

// Options configure a Store.
type Options struct {
	// Capacity bounds the bytes stored plus those being written; 0 means
	// no bound.
	Capacity uint64
	// Now is the clock stamped on stored slices; nil means time.Now.
	Now func() time.Time
}

// Store is an in-memory SliceStore.
type Store struct {
	opts Options

	mu       sync.Mutex
	slices   map[slice.ID]*entry
	used     uint64 // bytes of committed slices
	reserved uint64 // bytes announced by writers still open
	closed   bool
}

type entry struct {
	data   []byte
	stored time.Time
}

var _ resource.SliceStore = (*Store)(nil)

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{opts: opts, slices: make(map[slice.ID]*entry)}
}

// Create implements resource.SliceStore.
func (s *Store) Create(id slice.ID, size uint64) (resource.SliceWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, resource.ErrClosed
	}
	w := &writer{s: s, id: id, size: size, v: slice.NewVerifier(id)}
	if _, ok := s.slices[id]; ok {
		w.dup = true // verify only: the bytes are already here
		return w, nil
	}
	if c := s.opts.Capacity; c > 0 && s.used+s.reserved+size > c {
		return nil, fmt.Errorf("create slice %s: %w: %d bytes wanted, %d of %d in use", id, resource.ErrNoSpace, size, s.used+s.reserved, c)
	}
	s.reserved += size
	return w, nil
}

// Open implements resource.SliceStore.
func (s *Store) Open(id slice.ID) (resource.SliceReader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.slices[id]
	if !ok {
		return nil, fmt.Errorf("open slice %s: %w", id, resource.ErrNotFound)
	}
	return reader{bytes.NewReader(e.data)}, nil
}

// Stat implements resource.SliceStore.
func (s *Store) Stat(id slice.ID) (resource.SliceInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.slices[id]
	if !ok {
		return resource.SliceInfo{}, fmt.Errorf("stat slice %s: %w", id, resource.ErrNotFound)
	}
	return resource.SliceInfo{ID: id, Size: uint64(len(e.data)), Stored: e.stored}, nil
}

// Delete implements resource.SliceStore.
func (s *Store) Delete(id slice.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.slices[id]
	if !ok {
		return fmt.Errorf("delete slice %s: %w", id, resource.ErrNotFound)
	}
	delete(s.slices, id)
	s.used -= uint64(len(e.data))
	return nil
}

// List implements resource.SliceStore.
func (s *Store) List(fn func(resource.SliceInfo) error) error {
	s.mu.Lock()
	infos := make([]resource.SliceInfo, 0, len(s.slices))
	for id, e := range s.slices {
		infos = append(infos, resource.SliceInfo{ID: id, Size: uint64(len(e.data)), Stored: e.stored})
	}
	s.mu.Unlock()
	for _, info := range infos {
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Usage implements resource.SliceStore.
func (s *Store) Usage() (resource.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return resource.Usage{Slices: uint64(len(s.slices)), Bytes: s.used}, nil
}

// Close implements resource.SliceStore.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

type writer struct {
	s    *Store
	id   slice.ID
	size uint64
	v    *slice.Verifier
	buf  bytes.Buffer
	dup  bool
	done bool // committed or aborted
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write slice %s: %w", w.id, resource.ErrClosed)
	}
	if w.v.Size()+uint64(len(p)) > w.size {
		w.Abort()
		return 0, fmt.Errorf("write slice %s: %w: more than the %d bytes announced", w.id, slice.ErrMismatch, w.size)
	}
	w.v.Write(p)
	if !w.dup {
		w.buf.Write(p)
	}
	return len(p), nil
}

func (w *writer) Commit() error {
	if w.done {
		return fmt.Errorf("commit slice %s: %w", w.id, resource.ErrClosed)
	}
	defer w.Abort()
	if err := w.v.Check(w.size); err != nil {
		return fmt.Errorf("commit slice %s: %w", w.id, err)
	}
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("commit slice %s: %w", w.id, resource.ErrClosed)
	}
	if e, ok := s.slices[w.id]; ok {
		// Received again: as young as its latest upload, for the orphan
		// grace and the node's delete guard.
		e.stored = s.opts.Now()
		return nil
	}
	if w.dup { // deleted while we were verifying, and we kept no bytes
		return fmt.Errorf("commit slice %s: deleted during the write: %w", w.id, resource.ErrNotFound)
	}
	s.slices[w.id] = &entry{data: w.buf.Bytes(), stored: s.opts.Now()}
	s.used += w.size
	return nil
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.buf = bytes.Buffer{}
	if !w.dup {
		w.s.mu.Lock()
		w.s.reserved -= w.size
		w.s.mu.Unlock()
	}
	return nil
}

type reader struct{ r *bytes.Reader }

func (r reader) ReadAt(p []byte, off int64) (int, error) { return r.r.ReadAt(p, off) }
func (r reader) Close() error                            { return nil }
func (r reader) Size() uint64                            { return uint64(r.r.Size()) }
