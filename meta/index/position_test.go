package index

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// logOf lays cmds out as a log of entries of three commands each.
func logOf(cmds []*metav1.Command) []Position {
	at := make([]Position, len(cmds))
	for i := range cmds {
		at[i] = Position{Index: uint64(i/3 + 1), Cmd: uint32(i % 3)}
	}
	return at
}

// replay applies the log to ix; commands the index holds already are
// skipped, as a replicated log replayed after a restart does. It counts
// the commands that changed the index: a refused command writes nothing,
// not even its position, so a replay runs it again and it is refused again.
func replay(t *testing.T, ix *Index, cmds []*metav1.Command, at []Position) (applied int) {
	t.Helper()
	for i, cmd := range cmds {
		_, err := ix.ApplyAt(at[i], proto.CloneOf(cmd))
		switch {
		case errors.Is(err, ErrApplied):
		case err == nil:
			applied++
		case errors.Is(err, ErrBadCommand) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) || errors.Is(err, ErrTaskExpired) || errors.Is(err, ErrBadPath):
		default:
			t.Fatalf("command %d at %v: %v", i, at[i], err)
		}
	}
	return applied
}

// DESIGN §5.1: "The last applied log index is written in the same atomic
// batch as the state it produced, so a restart never applies an entry
// twice." A crash after any prefix of the log, then a replay of the whole
// log, leaves the state of one clean run.
func TestApplyAtReplayAfterRestart(t *testing.T) {
	first := newIndex(t, kv.NewMem())
	cmds, _ := randomCommands(t, first, 7, 300)
	at := logOf(cmds)
	clean := newIndex(t, kv.NewMem())
	replay(t, clean, cmds, at)
	for _, cut := range []int{0, 1, 2, 3, 100, 299} {
		store := kv.NewMem()
		ix := newIndex(t, store)
		replay(t, ix, cmds[:cut], at[:cut])
		reopened := newIndex(t, store) // the restart: only the store is left
		if reopened.Applied() != ix.Applied() {
			t.Fatalf("cut %d: reopened at %v, was at %v", cut, reopened.Applied(), ix.Applied())
		}
		replay(t, reopened, cmds, at)
		if a, b := rootOf(t, clean), rootOf(t, reopened); !bytes.Equal(a, b) {
			t.Fatalf("cut %d: root %x after restart and replay, %x in one run", cut, b, a)
		}
		if n := replay(t, reopened, cmds, at); n != 0 {
			t.Fatalf("cut %d: a second replay applied %d commands", cut, n)
		}
	}
}

// A snapshot carries the applied position: a replica restored from it
// goes on from the log after the snapshot, and skips what it holds.
func TestSnapshotCarriesApplied(t *testing.T) {
	src := newIndex(t, kv.NewMem())
	cmds, _ := randomCommands(t, newIndex(t, kv.NewMem()), 3, 60)
	at := logOf(cmds)
	replay(t, src, cmds[:30], at[:30])
	v, err := src.View()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if v.Applied() != src.Applied() {
		t.Fatalf("view at %v, index at %v", v.Applied(), src.Applied())
	}
	v.Close()
	dst := newIndex(t, kv.NewMem())
	if err := dst.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if dst.Applied() != src.Applied() {
		t.Fatalf("restored at %v, snapshot of %v", dst.Applied(), src.Applied())
	}
	replay(t, src, cmds, at)
	replay(t, dst, cmds, at)
	if a, b := rootOf(t, src), rootOf(t, dst); !bytes.Equal(a, b) {
		t.Fatalf("roots differ after the log tail: %x, %x", a, b)
	}
}

func TestPositionRecordChecked(t *testing.T) {
	if err := checkRecord([]byte(keyApplied), []byte{1, 2, 3}); err == nil {
		t.Fatal("a short applied position passed the snapshot check")
	}
	if err := checkRecord([]byte(keyApplied), Position{Index: 9, Cmd: 2}.encode()); err != nil {
		t.Fatal(err)
	}
}
