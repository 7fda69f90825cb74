// Package kv is the small ordered key-value interface that node state is kept
// in (DESIGN §10): the meta index and a resource node's slice metadata. The
// production implementation wraps Pebble (kv/pebblekv); Mem is for tests.
package kv

import "errors"

// ErrNotFound is returned by Get for a key that is not there.
var ErrNotFound = errors.New("key not found")

// ErrStop may be returned by a Scan callback to end the scan early; Scan then
// returns nil.
var ErrStop = errors.New("stop scan")

// Reader reads keys.
type Reader interface {
	// Get returns a copy of the value of key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Scan calls fn for each key in [lower, upper) in ascending order; a nil
	// upper means no bound. key and value are valid only during the call.
	Scan(lower, upper []byte, fn func(key, value []byte) error) error
}

// Store is a Reader whose writes come in atomic batches.
type Store interface {
	Reader
	// Write applies every operation of b atomically. With sync the batch is
	// durable when Write returns.
	Write(b *Batch, sync bool) error
	Close() error
}

// Snapshotter is a Store that can also be read as of one instant. It is
// optional: a caller that needs a consistent read while writes go on (the
// meta index hashing its whole state every period) asks for it with a type
// assertion, and otherwise holds its writers off itself.
type Snapshotter interface {
	// Snapshot returns a read-only view of the store as of one instant
	// between its call and its return: every batch is seen whole or not at
	// all, and nothing written after Snapshot returns is seen. The view is
	// safe for concurrent use and its Scan callbacks may write to the store.
	// release must be called when done with the view; after it, or after
	// the store's Close, the view's methods return ErrClosed. release may be
	// called more than once, and while another goroutine is in a call on the
	// view (which then completes or fails with ErrClosed), but not from
	// inside a Scan callback of the view.
	Snapshot() (view Reader, release func(), err error)
}

// Batch is a list of writes applied together.
type Batch struct {
	Ops []Op
}

// Op is one write: a Set, or a Delete when Delete is true.
type Op struct {
	Key, Value []byte
	Delete     bool
}

// Set adds a write of value to key.
func (b *Batch) Set(key, value []byte) { b.Ops = append(b.Ops, Op{Key: key, Value: value}) }

// Delete adds a deletion of key.
func (b *Batch) Delete(key []byte) { b.Ops = append(b.Ops, Op{Key: key, Delete: true}) }

// Len is the number of operations.
func (b *Batch) Len() int { return len(b.Ops) }

// PrefixEnd returns the smallest key greater than every key with prefix p,
// the upper bound that scans a prefix; nil if there is none.
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
