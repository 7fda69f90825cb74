package index

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// DESIGN §4: the index root anchored on chain must be the same on every
// replica with the same state, and change with the state.
func TestRootFollowsState(t *testing.T) {
	open := func() *Index {
		ix, err := Open(kv.NewMem(), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	a, b := open(), open()
	ra, _ := a.Root()
	rb, _ := b.Root()
	if len(ra) != 32 || !bytes.Equal(ra, rb) {
		t.Fatalf("empty indexes: roots %x and %x", ra, rb)
	}
	cmd := &metav1.Command{UnixNano: 1, Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_UPLOAD, Owner: "alice", Path: "/a", Size: 1, TtlNanos: 10}}}
	if _, err := a.Apply(cmd); err != nil {
		t.Fatal(err)
	}
	ra2, _ := a.Root()
	if bytes.Equal(ra, ra2) {
		t.Fatal("the root did not change with the state")
	}
	if _, err := b.Apply(cmd); err != nil {
		t.Fatal(err)
	}
	if rb2, _ := b.Root(); !bytes.Equal(ra2, rb2) {
		t.Fatal("two replicas with the same commands have different roots")
	}
}

// recomputed is the root of ix's state computed from scratch, from every
// record in the store.
func recomputed(t testing.TB, ix *Index) []byte {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	acc, err := computeRoot(ix.store, ix.gen, new(hasher))
	if err != nil {
		t.Fatal(err)
	}
	return acc.root()
}

// The lane arithmetic agrees with 16-bit arithmetic lane by lane, and a
// record added then taken out leaves the accumulator as it was.
func TestLtHashLanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		var a, b ltHash
		for i := range a {
			a[i], b[i] = rng.Uint64(), rng.Uint64()
		}
		if rng.IntN(4) == 0 { // the edges: all ones, all top bits
			a[rng.IntN(ltWords)], b[rng.IntN(ltWords)] = ^uint64(0), hiBits
		}
		sum, diff := a, a
		sum.add(&b)
		diff.sub(&b)
		for lane := range ltLanes {
			x, y := laneOf(&a, lane), laneOf(&b, lane)
			if got := laneOf(&sum, lane); got != x+y {
				t.Fatalf("lane %d: %#x + %#x = %#x", lane, x, y, got)
			}
			if got := laneOf(&diff, lane); got != x-y {
				t.Fatalf("lane %d: %#x - %#x = %#x", lane, x, y, got)
			}
		}
		if sum.sub(&b); sum != a {
			t.Fatal("(a + b) - b != a")
		}
		if back, err := decodeLtHash(a.encode()); err != nil || back != a {
			t.Fatalf("encoding does not round-trip: %v", err)
		}
	}
	if _, err := decodeLtHash(make([]byte, ltBytes-1)); err == nil {
		t.Fatal("a short accumulator decoded")
	}
}

func laneOf(h *ltHash, lane int) uint16 { return uint16(h[lane/4] >> (16 * (lane % 4))) }

// The root Apply keeps is the root computed from scratch, after any
// sequence of commands, valid or refused, with seals among them; a seal
// carries the root of the state just before it; a snapshot restores to
// the same root.
func TestRootMatchesRecompute(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			cmds := withSeals(randomCommands(t, newIndex(t, nil), seed, 300))
			rng := rand.New(rand.NewPCG(seed, 99))
			ix := newIndex(t, nil)
			sealed := map[uint64][]byte{}
			for i, cmd := range cmds {
				before := rootOf(t, ix)
				res, err := ix.Apply(proto.CloneOf(cmd))
				if c := cmd.GetTakeTraffic(); c.GetSeal() && err == nil {
					want, again := sealed[c.GetPeriod()]
					if !again {
						want, sealed[c.GetPeriod()] = before, before
					}
					if got := res.GetTraffic().GetIndexRoot(); !bytes.Equal(got, want) {
						t.Fatalf("command %d: seal of period %d took root %x, want %x (sealed before: %v)", i, c.GetPeriod(), got, want, again)
					}
					if got, err := ix.SealedRoot(c.GetPeriod()); err != nil || !bytes.Equal(got, want) {
						t.Fatalf("command %d: SealedRoot = %x, %v", i, got, err)
					}
				}
				if seed < 2 || rng.IntN(10) == 0 {
					if got, want := rootOf(t, ix), recomputed(t, ix); !bytes.Equal(got, want) {
						t.Fatalf("after command %d (%v): root %x, recomputed %x", i, cmd, got, want)
					}
				}
			}
			want := recomputed(t, ix)
			if got := rootOf(t, ix); !bytes.Equal(got, want) {
				t.Fatalf("root %x, recomputed %x", got, want)
			}
			dst := newIndex(t, nil)
			put(t, dst, 1000, content("carol", "/old", "old state"))
			if err := dst.Restore(bytes.NewReader(snapshot(t, ix))); err != nil {
				t.Fatal(err)
			}
			if got := rootOf(t, dst); !bytes.Equal(got, want) {
				t.Fatalf("restored root %x, want %x", got, want)
			}
		})
	}
}

// withSeals puts a seal of the next period after every 40 commands, with
// the replay of one in between (a new leader sealing again).
func withSeals(cmds []*metav1.Command, _ []string) []*metav1.Command {
	var out []*metav1.Command
	period := uint64(0)
	for i, cmd := range cmds {
		out = append(out, cmd)
		if i%40 == 39 {
			period++
			out = append(out, sealCmd(period, 2))
		}
		if i%40 == 9 && period > 0 {
			out = append(out, sealCmd(period, 2))
		}
	}
	return out
}

// Two replicas that apply the same log have the same root and the same
// sealed roots, whatever else they do: one on Pebble through ApplyAt,
// asking for its root after every command, syncing, reopening its store
// and restoring its own snapshot at random points; the other in memory,
// asking once at the end.
func TestRootSameAcrossReplicaTiming(t *testing.T) {
	cmds := withSeals(randomCommands(t, newIndex(t, nil), 11, 400))
	rng := rand.New(rand.NewPCG(11, 12))
	dir := t.TempDir()
	a := newIndex(t, openPebble(t, dir))
	b := newIndex(t, nil)
	for i, cmd := range cmds {
		_, errA := a.ApplyAt(Position{Index: uint64(i + 1)}, proto.CloneOf(cmd))
		_, errB := b.Apply(proto.CloneOf(cmd))
		if (errA == nil) != (errB == nil) {
			t.Fatalf("command %d: %v on one replica, %v on the other", i, errA, errB)
		}
		rootOf(t, a)
		switch rng.IntN(40) {
		case 0:
			if err := a.Sync(); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := a.Sync(); err != nil {
				t.Fatal(err)
			}
			a.store.Close()
			a = newIndex(t, openPebble(t, dir))
		case 2:
			if err := a.Restore(bytes.NewReader(snapshot(t, a))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ra, rb := rootOf(t, a), rootOf(t, b); !bytes.Equal(ra, rb) {
		t.Fatalf("roots %x and %x", ra, rb)
	}
	sealed := 0
	for p := uint64(1); p <= 20; p++ {
		ra, errA := a.SealedRoot(p)
		rb, errB := b.SealedRoot(p)
		if !bytes.Equal(ra, rb) || (errA == nil) != (errB == nil) {
			t.Fatalf("period %d: sealed roots %x (%v) and %x (%v)", p, ra, errA, rb, errB)
		}
		if errA == nil {
			sealed++
		}
	}
	if sealed < 8 {
		t.Fatalf("only %d periods sealed", sealed)
	}
}

// The root moves with every change of the state a file, slice, replica,
// node, task or traffic counter makes, and comes back when the state does;
// a record changed behind the index's back shows as a root that no longer
// matches the records (DESIGN §5.2: a tampered index becomes visible).
func TestRootChangesWithEveryChange(t *testing.T) {
	ix := populated(t, nil)
	f := content("alice", "/docs/a.txt", "hello", "world")
	changes := []struct {
		name string
		cmd  *metav1.Command
	}{
		{"overwrite a file", nil}, // put below
		{"register a node", registerCmd(2000, "n9")},
		{"open a task", uploadCmd(2000, "bob", "/new", false)},
		{"end a task", endCmd(2000, "t3")},
		{"add a replica", addReplicasCmd(2000, sliceID("hello"), "n7")},
		{"remove a replica", removeReplicasCmd(2000, sliceID("hello"), "n2")},
		{"count traffic", addTrafficCmd(entry("n1", "alice", 1))},
		{"delete a file", deleteCmd(2000, "bob", "/b")},
		{"seal a period", sealCmd(1, 10)},
	}
	seen := map[string]string{string(rootOf(t, ix)): "the start"}
	for _, c := range changes {
		if c.cmd == nil {
			put(t, ix, 2000, content(f.Owner, f.Path, "hello", "world", "!"))
		} else {
			mustApply(t, ix, c.cmd)
		}
		root := string(rootOf(t, ix))
		if prev, ok := seen[root]; ok {
			t.Fatalf("%s: the root is that of %s", c.name, prev)
		}
		seen[root] = c.name
	}

	// The same state, reached another way, has the same root: a replica
	// added and removed again, traffic taken and given back.
	mustApply(t, ix, addTrafficCmd(entry("n2", "bob", 5)))
	before := rootOf(t, ix)
	mustApply(t, ix, addReplicasCmd(3000, sliceID("world"), "n8"))
	mustApply(t, ix, removeReplicasCmd(3000, sliceID("world"), "n8"))
	if after := rootOf(t, ix); !bytes.Equal(after, before) {
		t.Fatal("a replica added and removed again left the root changed")
	}
	r := mustApply(t, ix, takeTrafficCmd(10)).Traffic
	if bytes.Equal(rootOf(t, ix), before) {
		t.Fatal("taking the traffic left the root as it was")
	}
	mustApply(t, ix, restoreTrafficCmd(r))
	if _, err := ix.Apply(restoreTrafficCmd(&metav1.TrafficReport{})); err == nil {
		t.Fatal("an empty restore was accepted")
	}
	if after := rootOf(t, ix); !bytes.Equal(after, before) {
		t.Fatal("traffic taken and given back left the root changed")
	}

	// Tampering: one byte of one file's record.
	anchored := rootOf(t, ix)
	key := phys(ix.gen, fileKey("alice", "/docs/a.txt"))
	v, err := ix.store.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	v[len(v)-1] ^= 1
	var b kv.Batch
	b.Set(key, v)
	if err := ix.store.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(recomputed(t, ix), anchored) {
		t.Fatal("a tampered record leaves the root as anchored")
	}
}

// The same state has the same root whichever commands reached it.
func TestRootIsAFunctionOfState(t *testing.T) {
	a, b := newIndex(t, nil), newIndex(t, nil)
	if _, err := a.Apply(addReplicasCmd(1, sliceID("x"), "n1")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replicas of a missing slice: %v", err)
	}
	for _, ix := range []*Index{a, b} {
		put(t, ix, 1000, content("alice", "/f", "one"), "n1", "n2")
	}
	mustApply(t, a, addTrafficCmd(entry("n1", "alice", 3), entry("n2", "alice", 4)))
	mustApply(t, b, addTrafficCmd(entry("n2", "alice", 4)))
	mustApply(t, b, addTrafficCmd(entry("n1", "alice", 3)))
	mustApply(t, a, removeReplicasCmd(2000, sliceID("one"), "n2"))
	mustApply(t, a, addReplicasCmd(2000, sliceID("one"), "n2"))
	if ra, rb := rootOf(t, a), rootOf(t, b); !bytes.Equal(ra, rb) {
		t.Fatalf("the same state, two roots: %x and %x", ra, rb)
	}
}

// An index written before the root was kept (no c/root) gets it when it
// is opened, computed from its records; an empty index stays an empty
// store.
func TestRootMigration(t *testing.T) {
	store := kv.NewMem()
	ix := populated(t, store)
	want := rootOf(t, ix)
	var b kv.Batch
	b.Delete(phys(ix.gen, []byte(keyRoot)))
	if err := store.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	older := newIndex(t, store)
	if got := rootOf(t, older); !bytes.Equal(got, want) {
		t.Fatalf("migrated root %x, want %x", got, want)
	}
	if _, err := store.Get(phys(older.gen, []byte(keyRoot))); err != nil {
		t.Fatalf("the migration did not store the root: %v", err)
	}
	put(t, older, 2000, content("alice", "/more", "more"))
	if got, want := rootOf(t, older), recomputed(t, older); !bytes.Equal(got, want) {
		t.Fatal("the migrated root is not kept up to date")
	}

	empty := kv.NewMem()
	newIndex(t, empty)
	if n := len(dump(t, empty)); n != 0 {
		t.Fatalf("opening an empty index wrote %d keys", n)
	}
}

// Snapshots leave the root's accumulator out, and Restore refuses one that
// carries it: the restored root is always computed from the records.
func TestSnapshotLeavesOutRoot(t *testing.T) {
	ix := populated(t, nil)
	if _, err := ix.get([]byte(keyRoot)); err != nil {
		t.Fatalf("no accumulator in a populated index: %v", err)
	}
	if bytes.Contains(snapshot(t, ix), []byte(keyRoot)) {
		t.Fatal("the snapshot carries the accumulator")
	}
	planted := handSnapshot([2]string{keyRoot, string(make([]byte, ltBytes))})
	if err := newIndex(t, nil).Restore(bytes.NewReader(planted)); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("Restore of a snapshot with an accumulator: %v, want ErrBadSnapshot", err)
	}
}

// BenchmarkElement measures e(k, v) for a file record's size of key and
// value, the unit of the root's cost per write.
func BenchmarkElement(b *testing.B) {
	var h hasher
	k, v := fileKey("alice", "/bench/123/456789"), make([]byte, 120)
	for b.Loop() {
		element(&h, k, v)
	}
}
