package resource

import (
	"errors"
	"io"
	"time"

	"github.com/stratos-net/stratos/slice"
)

// Errors a SliceStore returns, wrapped with detail. A bad hash or a size that
// does not match the one announced wraps slice.ErrMismatch.
var (
	// ErrNotFound: the store does not hold the slice.
	ErrNotFound = errors.New("slice not found")
	// ErrCorrupt: a stored slice no longer matches its ID or recorded size.
	// Stores move such slices out of the way, so a retry reports ErrNotFound.
	ErrCorrupt = errors.New("slice corrupt")
	// ErrNoSpace: the write would exceed the store's capacity or the disk is
	// full. Nothing of the slice is left behind.
	ErrNoSpace = errors.New("no space for slice")
	// ErrClosed: the store or writer was already closed.
	ErrClosed = errors.New("slice store closed")
)

// SliceStore keeps slices by ID (DESIGN §6.4). Slices are content addressed:
// storing bytes that are already there is a cheap success, and a slice is
// never visible until its bytes have been verified against its ID and made
// durable. Implementations are safe for concurrent use.
type SliceStore interface {
	// Create starts writing the slice id of size bytes. The slice appears
	// only when the writer's Commit succeeds.
	Create(id slice.ID, size uint64) (SliceWriter, error)
	// Open returns a reader of a stored slice, or ErrNotFound.
	Open(id slice.ID) (SliceReader, error)
	// Stat describes a stored slice, or returns ErrNotFound.
	Stat(id slice.ID) (SliceInfo, error)
	// Delete removes a slice; ErrNotFound if it was not there.
	Delete(id slice.ID) error
	// List calls fn for every stored slice, in no particular order. fn may
	// call the store's other methods. An error from fn ends the listing and
	// is returned.
	List(fn func(SliceInfo) error) error
	// Usage reports how many slices and bytes are stored.
	Usage() (Usage, error)
	Close() error
}

// Quarantiner is a SliceStore that can set a slice found corrupt aside
// instead of deleting it, keeping the evidence of a disk or memory fault for
// an operator.
type Quarantiner interface {
	// Quarantine removes the slice from the store, as Delete does, but
	// keeps its bytes out of the way; ErrNotFound if it was not there.
	Quarantine(id slice.ID, reason string) error
}

// SliceWriter streams a new slice into a store. Write verifies as it goes;
// Commit checks the size and hash, makes the slice durable and visible.
// Abort discards everything written; it is a no-op after Commit, so
// `defer w.Abort()` is the usual pattern. A writer whose Write or Commit
// failed has already discarded its data.
type SliceWriter interface {
	io.Writer
	Commit() error
	Abort() error
}

// SliceReader reads a stored slice. It stays readable after the slice is
// deleted, until it is closed.
type SliceReader interface {
	io.ReaderAt
	io.Closer
	Size() uint64
}

// SliceInfo describes a stored slice.
type SliceInfo struct {
	ID     slice.ID
	Size   uint64
	Stored time.Time // when this store committed it
}

// Usage is what a store holds.
type Usage struct {
	Slices uint64
	Bytes  uint64
}
