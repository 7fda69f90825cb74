package index

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/pebblekv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

func snapshot(t testing.TB, ix *Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := ix.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// populated returns an index with some of everything.
func populated(t testing.TB, store kv.Store) *Index {
	t.Helper()
	ix := newIndex(t, store)
	mustApply(t, ix, registerCmd(1000, "n1"))
	put(t, ix, 1000, content("alice", "/docs/a.txt", "hello", "world"))
	put(t, ix, 1000, content("bob", "/b", "hello"))
	mustApply(t, ix, uploadCmd(1000, "alice", "/pending", false))
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 42), entry("n2", "bob", 7)))
	return ix
}

func openPebble(t testing.TB, dir string) kv.Store {
	t.Helper()
	s, err := pebblekv.Open(dir, pebblekv.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Snapshot and Restore move the whole state between replicas on any store:
// the restored index answers the same queries, has nothing of its old state,
// and snapshots to the same bytes.
func TestSnapshotRestore(t *testing.T) {
	stores := map[string]func(t *testing.T) kv.Store{
		"mem":    func(t *testing.T) kv.Store { return kv.NewMem() },
		"pebble": func(t *testing.T) kv.Store { return openPebble(t, t.TempDir()) },
	}
	for from, openFrom := range stores {
		for to, openTo := range stores {
			t.Run(from+"→"+to, func(t *testing.T) {
				src := populated(t, openFrom(t))
				snap := snapshot(t, src)
				dst := newIndex(t, openTo(t))
				put(t, dst, 1000, content("carol", "/old", "old state"))
				for range 2 { // twice: the second restore goes back to the first generation
					if err := dst.Restore(bytes.NewReader(snap)); err != nil {
						t.Fatal(err)
					}
					if got := snapshot(t, dst); !bytes.Equal(got, snap) {
						t.Fatal("restored index snapshots to different bytes")
					}
				}
				if _, err := dst.File("carol", "/old"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("old state survived Restore: %v", err)
				}
				if !dst.HasSlice(sliceID("world")) { // the Bloom filter was rebuilt
					t.Fatal("restored slice missing")
				}
				if f, err := dst.File("alice", "/docs/a.txt"); err != nil || f.Size != 10 {
					t.Fatalf("File = %v, %v", f, err)
				}
				if files, slices, _ := dst.Stats(); files != 2 || slices != 2 {
					t.Fatalf("Stats = %d, %d", files, slices)
				}
				if n, err := dst.NodeTraffic("n1"); n != 42 || err != nil {
					t.Fatalf("NodeTraffic = %d, %v", n, err)
				}
				// The restored index carries on: task IDs continue, the pending task commits.
				if res := mustApply(t, dst, uploadCmd(1000, "alice", "/next", false)); res.Task.Id != "t4" {
					t.Fatalf("next task %s, want t4", res.Task.Id)
				}
				mustApply(t, dst, commitCmd(1000, "t3", content("alice", "/pending", "p"), replicas(1, "n1")))
				if n := len(dump(t, dst.store)); n == 0 {
					t.Fatal("empty store")
				}
			})
		}
	}
}

// A restored Pebble index reopens in its new generation, and Open clears
// what an interrupted Restore left in the other one.
func TestRestoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	store := openPebble(t, dir)
	ix := newIndex(t, store)
	if err := ix.Restore(bytes.NewReader(snapshot(t, populated(t, nil)))); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, ix)
	var junk kv.Batch
	junk.Set(phys(otherGen(ix.gen), []byte("n/half-restored")), []byte("x"))
	if err := store.Write(&junk, true); err != nil {
		t.Fatal(err)
	}
	store.Close()
	store = openPebble(t, dir)
	ix = newIndex(t, store)
	if got := snapshot(t, ix); !bytes.Equal(got, want) {
		t.Fatal("state changed across reopen")
	}
	if _, err := store.Get(junk.Ops[0].Key); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Open left an interrupted restore's keys: %v", err)
	}
}

// A truncated or corrupted snapshot is rejected and the state in use is
// untouched: every truncation and every single-byte change is tried.
func TestRestoreRejectsDamage(t *testing.T) {
	snap := snapshot(t, populated(t, nil))
	ix := populated(t, nil)
	put(t, ix, 2000, content("dave", "/mine", "mine"))
	before := dump(t, ix.store)
	check := func(what string, data []byte) {
		t.Helper()
		err := ix.Restore(bytes.NewReader(data))
		if !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("%s: Restore = %v, want ErrBadSnapshot", what, err)
		}
		if after := dump(t, ix.store); len(after) != len(before) {
			t.Fatalf("%s: failed Restore changed the store", what)
		}
	}
	for n := range len(snap) {
		check("truncated", snap[:n])
	}
	for i := range snap {
		bad := bytes.Clone(snap)
		bad[i] ^= 0x20
		check("corrupted", bad)
	}
	if _, err := ix.File("dave", "/mine"); err != nil {
		t.Fatalf("state lost: %v", err)
	}
	if after := dump(t, ix.store); !equalDumps(before, after) {
		t.Fatal("failed restores changed the store")
	}
}

func equalDumps(a, b [][2][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][0], b[i][0]) || !bytes.Equal(a[i][1], b[i][1]) {
			return false
		}
	}
	return true
}

// The snapshot is self-delimiting: Restore reads exactly its bytes.
func TestSnapshotSelfDelimiting(t *testing.T) {
	snap := snapshot(t, populated(t, nil))
	r := strings.NewReader(string(snap) + "trailing data")
	if err := newIndex(t, nil).Restore(r); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "trailing data" {
		t.Fatalf("Restore consumed past the snapshot; left %q", rest)
	}
}

// Restore decodes untrusted bytes: it must never panic, and a failure leaves
// the state as it was.
func FuzzRestore(f *testing.F) {
	snap := snapshot(f, populated(f, nil))
	f.Add(snap)
	f.Add(snap[:len(snap)/2])
	f.Add([]byte(snapshotMagic))
	f.Add([]byte{})
	f.Add(append([]byte(snapshotMagic), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRestore(t, data)
		fuzzRestore(t, reseal(data)) // past the checksum, into the record checks
	})
}

// reseal replaces the last 32 bytes of data with the SHA-256 of the rest.
func reseal(data []byte) []byte {
	if len(data) < sha256.Size {
		return data
	}
	body := data[:len(data)-sha256.Size]
	sum := sha256.Sum256(body)
	return append(bytes.Clone(body), sum[:]...)
}

func fuzzRestore(t *testing.T, data []byte) {
	{
		ix := newIndex(t, nil)
		put(t, ix, 1000, content("alice", "/x", "x"))
		before := snapshot(t, ix)
		if err := ix.Restore(bytes.NewReader(data)); err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("Restore = %v, want ErrBadSnapshot", err)
			}
			if !bytes.Equal(snapshot(t, ix), before) {
				t.Fatal("failed Restore changed the state")
			}
			return
		}
		if !bytes.Equal(snapshot(t, ix), data[:len(snapshot(t, ix))]) {
			t.Fatal("restored state snapshots differently")
		}
		_, _, _ = ix.Stats()
		_, _, _ = ix.List("alice", "/", "", 0)
		_, _ = ix.FilesByID(content("", "", "x").FileId)
		_ = ix.Tasks(func(*metav1.Task) error { return nil })
		_, _ = ix.Apply(deleteCmd(1, "alice", "/x"))
		_, _ = ix.Apply(uploadCmd(1, "alice", "/y", true))
	}
}
