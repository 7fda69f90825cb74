package index

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/stratos-net/stratos/kv"
)

var (
	// ErrApplied is returned by ApplyAt for a command the index already
	// holds.
	ErrApplied = errors.New("command already applied")
	// ErrStore wraps a failure of the store under the index, which, unlike
	// a refused command, another replica applying the same command does not
	// share: a replicated log must stop rather than go on without it.
	ErrStore = errors.New("index store failed")
)

// Position is a command's place in a replicated log: the log entry's index
// and the command's place inside that entry (one entry carries a batch of
// commands, DESIGN §5.1). The zero Position is before every command.
type Position struct {
	Index uint64 // the log entry, from 1
	Cmd   uint32 // the command inside the entry, from 0
}

// Less reports whether p comes before q in the log.
func (p Position) Less(q Position) bool {
	return p.Index < q.Index || (p.Index == q.Index && p.Cmd < q.Cmd)
}

func (p Position) String() string { return fmt.Sprintf("%d.%d", p.Index, p.Cmd) }

func (p Position) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 12), p.Index)
	return binary.BigEndian.AppendUint32(b, p.Cmd)
}

func decodePosition(v []byte) (Position, error) {
	if len(v) != 12 {
		return Position{}, fmt.Errorf("index corrupt: applied position of %d bytes, want 12", len(v))
	}
	return Position{Index: binary.BigEndian.Uint64(v), Cmd: binary.BigEndian.Uint32(v[8:])}, nil
}

// Applied is the position of the last command applied with ApplyAt (or
// restored with a snapshot): a log replayed after a restart starts after
// it.
func (ix *Index) Applied() Position {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.applied
}

// loadApplied reads the applied position of the current generation.
func (ix *Index) loadApplied() error {
	v, err := ix.get([]byte(keyApplied))
	switch {
	case errors.Is(err, kv.ErrNotFound):
		ix.applied = Position{}
		return nil
	case err != nil:
		return fmt.Errorf("read applied position: %w", err)
	}
	p, err := decodePosition(v)
	if err != nil {
		return err
	}
	ix.applied = p
	return nil
}

// Sync makes every command applied so far durable. ApplyAt does not sync;
// a log calls Sync before it forgets entries the index has applied (a
// snapshot), so those are never needed again.
func (ix *Index) Sync() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var b kv.Batch
	b.Set(phys(ix.gen, []byte(keyApplied)), ix.applied.encode())
	if err := ix.store.Write(&b, true); err != nil {
		return fmt.Errorf("index: sync: %w", err)
	}
	return nil
}
