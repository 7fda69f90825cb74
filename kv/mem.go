package kv

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("store closed")

// Mem is an in-memory Store for tests: a skip list, so writes and seeks cost
// O(log n) and big test indexes stay fast. It is safe for concurrent use.
// Writes are atomic; sync is ignored.
type Mem struct {
	mu     sync.RWMutex
	head   memNode // sentinel; head.next[i] starts level i
	rng    uint64  // xorshift state for node heights: deterministic, no global randomness
	n      int
	closed bool
}

const memMaxHeight = 24 // enough for 4^24 keys at p = 1/4

type memNode struct {
	key  string
	val  []byte // replaced on write, never changed in place: views share it
	next []*memNode
}

var (
	_ Store       = (*Mem)(nil)
	_ Snapshotter = (*Mem)(nil)
)

// NewMem returns an empty Mem.
func NewMem() *Mem {
	return &Mem{head: memNode{next: make([]*memNode, memMaxHeight)}, rng: 0x9e3779b97f4a7c15}
}

// seek returns the first node with key >= k (nil if none) and fills prev, if
// not nil, with the last node before it at every level.
func (s *Mem) seek(k string, prev *[memMaxHeight]*memNode) *memNode {
	x := &s.head
	for i := memMaxHeight - 1; i >= 0; i-- {
		for x.next[i] != nil && x.next[i].key < k {
			x = x.next[i]
		}
		if prev != nil {
			prev[i] = x
		}
	}
	return x.next[0]
}

func (s *Mem) height() int {
	s.rng ^= s.rng << 13
	s.rng ^= s.rng >> 7
	s.rng ^= s.rng << 17
	h := 1
	for r := s.rng; h < memMaxHeight && r&3 == 0; r >>= 2 {
		h++
	}
	return h
}

// Get returns a copy of the value of key, or ErrNotFound.
func (s *Mem) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	x := s.seek(string(key), nil)
	if x == nil || x.key != string(key) {
		return nil, ErrNotFound
	}
	return bytes.Clone(x.val), nil
}

// memScanChunk is how many entries Scan copies out per lock acquisition, so
// that fn runs without the lock held (it may write to the store).
const memScanChunk = 64

// Scan calls fn for each key in [lower, upper) with copies of the key and
// value. It does not see a single instant (a view from Snapshot does): a key
// written during the scan is seen if the scan has not passed it.
func (s *Mem) Scan(lower, upper []byte, fn func(key, value []byte) error) error {
	from := string(lower)
	for {
		chunk, err := s.chunk(from, upper)
		if err != nil {
			return err
		}
		for _, kv := range chunk {
			if err := fn([]byte(kv[0]), []byte(kv[1])); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		if len(chunk) < memScanChunk {
			return nil
		}
		from = chunk[len(chunk)-1][0] + "\x00" // the next possible key
	}
}

// chunk copies out up to memScanChunk entries from from below upper.
func (s *Mem) chunk(from string, upper []byte) ([][2]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out [][2]string
	for x := s.seek(from, nil); x != nil && len(out) < memScanChunk; x = x.next[0] {
		if upper != nil && x.key >= string(upper) {
			break
		}
		out = append(out, [2]string{x.key, string(x.val)})
	}
	return out, nil
}

// Write applies b atomically.
func (s *Mem) Write(b *Batch, sync bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	var prev [memMaxHeight]*memNode
	for _, op := range b.Ops {
		k := string(op.Key)
		x := s.seek(k, &prev)
		found := x != nil && x.key == k
		switch {
		case op.Delete && found:
			for i := range x.next {
				prev[i].next[i] = x.next[i]
			}
			s.n--
		case op.Delete:
		case found:
			x.val = bytes.Clone(op.Value)
		default:
			x = &memNode{key: k, val: bytes.Clone(op.Value), next: make([]*memNode, s.height())}
			for i := range x.next {
				x.next[i], prev[i].next[i] = prev[i].next[i], x
			}
			s.n++
		}
	}
	return nil
}

// Snapshot copies the ordered keys out, sharing the values, which Write
// never changes in place. The copy is O(n) with writes held off, unlike
// Pebble's O(1) snapshot, which is fine for a test store.
func (s *Mem) Snapshot() (Reader, func(), error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, ErrClosed
	}
	v := &memView{s: s, ents: make([]memEntry, 0, s.n)}
	for x := s.head.next[0]; x != nil; x = x.next[0] {
		v.ents = append(v.ents, memEntry{x.key, x.val})
	}
	return v, func() { v.released.Store(true) }, nil
}

type memEntry struct {
	key string
	val []byte
}

// memView is a Mem as of one instant: its entries in key order.
type memView struct {
	s        *Mem
	ents     []memEntry
	released atomic.Bool
}

// usable reports ErrClosed once the view is released or its store closed.
func (v *memView) usable() error {
	if v.released.Load() {
		return ErrClosed
	}
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	if v.s.closed {
		return ErrClosed
	}
	return nil
}

// seek returns the index of the first entry with key >= k.
func (v *memView) seek(k string) int {
	i, _ := slices.BinarySearchFunc(v.ents, k, func(e memEntry, k string) int { return strings.Compare(e.key, k) })
	return i
}

func (v *memView) Get(key []byte) ([]byte, error) {
	if err := v.usable(); err != nil {
		return nil, err
	}
	i := v.seek(string(key))
	if i == len(v.ents) || v.ents[i].key != string(key) {
		return nil, ErrNotFound
	}
	return bytes.Clone(v.ents[i].val), nil
}

// Scan passes fn copies in buffers reused between calls, so a callback that
// scribbles on them cannot reach the shared values.
func (v *memView) Scan(lower, upper []byte, fn func(key, value []byte) error) error {
	if err := v.usable(); err != nil {
		return err
	}
	var kbuf, vbuf []byte
	for _, e := range v.ents[v.seek(string(lower)):] {
		if upper != nil && e.key >= string(upper) {
			break
		}
		kbuf, vbuf = append(kbuf[:0], e.key...), append(vbuf[:0], e.val...)
		if err := fn(kbuf, vbuf); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Close makes later calls, and calls on its views, fail with ErrClosed.
// Closing twice is harmless.
func (s *Mem) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.head = memNode{next: make([]*memNode, memMaxHeight)}
	s.n = 0
	return nil
}

// Len is the number of keys, for tests.
func (s *Mem) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}
