package disk

import (
	"fmt"
	"os"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/slice"
)

// writer streams one slice into a temporary file, hashing as it goes. For a
// slice the store already holds, f is nil and the bytes are only verified.
type writer struct {
	s    *Store
	id   slice.ID
	size uint64
	v    *slice.Verifier
	f    tempFile
	// reserved says the writer holds size bytes of the store's capacity.
	reserved bool
	done     bool // committed or discarded
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
	if w.f == nil {
		return len(p), nil
	}
	if n, err := w.f.Write(p); err != nil {
		w.Abort() // leave nothing behind, above all on a full disk
		return n, fmt.Errorf("write slice %s: %w", w.id, classify(err))
	}
	return len(p), nil
}

// Commit verifies size and hash, fsyncs the file, renames it into place and
// fsyncs its directory.
func (w *writer) Commit() error {
	if w.done {
		return fmt.Errorf("commit slice %s: %w", w.id, resource.ErrClosed)
	}
	defer w.Abort()
	if err := w.v.Check(w.size); err != nil {
		return fmt.Errorf("commit slice %s: %w", w.id, err)
	}
	if w.f == nil {
		// ErrNotFound here: deleted while we verified, and we kept no bytes.
		if err := w.s.touch(w.id); err != nil {
			return fmt.Errorf("commit slice %s: restamp the stored copy: %w", w.id, err)
		}
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("commit slice %s: fsync: %w", w.id, classify(err))
	}
	f := w.f
	w.f = nil // from here on the file is the store's to move or remove
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("commit slice %s: %w", w.id, classify(err))
	}
	if err := w.s.commit(w, f.Name()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("commit slice %s: %w", w.id, err)
	}
	return nil
}

// Abort discards the slice. It is a no-op once the writer is done.
func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.f != nil {
		w.f.Close()
		if err := os.Remove(w.f.Name()); err != nil {
			w.s.log.Error("cannot remove temporary slice file", "file", w.f.Name(), "err", err)
		}
		w.f = nil
	}
	if w.reserved {
		w.s.release(w.size)
	}
	return nil
}
