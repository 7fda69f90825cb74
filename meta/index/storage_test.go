package index

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/traffic"
)

// storageOf returns Storage as maps.
func storageOf(t testing.TB, ix *Index) (nodes, owners map[string]uint64) {
	t.Helper()
	n, o, err := ix.Storage()
	if err != nil {
		t.Fatal(err)
	}
	asMap := func(vols []traffic.Volume) map[string]uint64 {
		m := map[string]uint64{}
		for i, v := range vols {
			if v.Bytes == 0 || (i > 0 && vols[i-1].ID >= v.ID) {
				t.Fatalf("storage volumes not non-zero and in ID order: %v", vols)
			}
			m[v.ID] = v.Bytes
		}
		return m
	}
	return asMap(n), asMap(o)
}

func wantStorage(t testing.TB, ix *Index, nodes, owners map[string]uint64) {
	t.Helper()
	gotNodes, gotOwners := storageOf(t, ix)
	if !maps.Equal(gotNodes, nodes) || !maps.Equal(gotOwners, owners) {
		t.Fatalf("storage: nodes %v, owners %v; want nodes %v, owners %v", gotNodes, gotOwners, nodes, owners)
	}
	for n, b := range nodes {
		if got, err := ix.HeldBy(n); err != nil || got != b {
			t.Fatalf("HeldBy(%s) = %d, %v; want %d", n, got, err, b)
		}
	}
	for o, b := range owners {
		if got, err := ix.StoredBy(o); err != nil || got != b {
			t.Fatalf("StoredBy(%s) = %d, %v; want %d", o, got, err, b)
		}
	}
}

// DESIGN §7: "storage fees are settled to the nodes that hold replicas".
// A node holds the bytes of every slice its replicas hold; a slice's bytes
// on its replicas are split among its owners by their references, so an
// upload of the same content, a lost replica and its repair all show, and
// the owners together store what the nodes hold.
func TestStorageFollowsReplicas(t *testing.T) {
	ix := newIndex(t, nil)
	a, b := sliceID("aaaaaa"), sliceID("bbb") // 6 and 3 bytes
	put(t, ix, 1000, content("alice", "/f", "aaaaaa", "bbb"), "n1", "n2")
	wantStorage(t, ix, map[string]uint64{"n1": 9, "n2": 9}, map[string]uint64{"alice": 18})

	// bob stores the same slice twice in one file, placing it on n3: a now
	// has three replicas (18 bytes), a third of its references alice's.
	task := mustApply(t, ix, uploadCmd(1000, "bob", "/g", false)).Task
	mustApply(t, ix, commitCmd(1000, task.Id, content("bob", "/g", "aaaaaa", "aaaaaa"),
		[]*metav1.ReplicaSet{{NodeIds: []string{"n3"}}, {NodeIds: []string{"n3", "n1"}}}))
	wantStorage(t, ix, map[string]uint64{"n1": 9, "n2": 9, "n3": 6}, map[string]uint64{"alice": 6 + 6, "bob": 12})

	// n1 loses its replica of a (12 bytes left), and repair places one on n4.
	mustApply(t, ix, removeReplicasCmd(1000, a, "n1"))
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 9, "n3": 6}, map[string]uint64{"alice": 4 + 6, "bob": 8})
	mustApply(t, ix, addReplicasCmd(1000, a, "n4", "n4"))
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 9, "n3": 6, "n4": 6}, map[string]uint64{"alice": 12, "bob": 12})
	// Removing a node that holds nothing of a changes nothing.
	mustApply(t, ix, removeReplicasCmd(1000, a, "n9"))
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 9, "n3": 6, "n4": 6}, map[string]uint64{"alice": 12, "bob": 12})

	// bob deletes his file: a stays, all alice's.
	mustApply(t, ix, deleteCmd(1000, "bob", "/g"))
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 9, "n3": 6, "n4": 6}, map[string]uint64{"alice": 18 + 6})

	// alice overwrites /f with b and new content c: a is released by its
	// last reference, so its holders no longer hold it.
	put(t, ix, 1000, content("alice", "/f", "bbb", "cc"), "n2", "n5")
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 5, "n5": 5},
		map[string]uint64{"alice": 3*3 + 2*2}) // b on n1, n2, n5; c on n2, n5
	if _, err := ix.Slice(a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("slice a: %v", err)
	}
	if _, err := ix.Slice(b); err != nil {
		t.Fatalf("slice b: %v", err)
	}

	mustApply(t, ix, deleteCmd(1000, "alice", "/f"))
	wantStorage(t, ix, map[string]uint64{}, map[string]uint64{})
	if n := countKeys(t, ix, prefixSliceOwner) + countKeys(t, ix, prefixStoredUser) + countKeys(t, ix, prefixHeldNode); n != 0 {
		t.Fatalf("%d storage records left in an empty index", n)
	}
}

// Each upload places its own replicas, so content stored twice is held
// twice; its owner pays for those replicas once each, not for every
// replica once per reference, and an odd split rounds down per owner.
func TestStorageSharesOfSharedContent(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1000, content("alice", "/one", "xyz"), "n1", "n2")
	put(t, ix, 1000, content("alice", "/two", "xyz"), "n3", "n4")
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 3, "n3": 3, "n4": 3}, map[string]uint64{"alice": 12})

	// bob and carol use it too, with no new replica: 12 bytes, 4 references.
	put(t, ix, 1000, content("bob", "/b", "xyz"), "n1")
	put(t, ix, 1000, content("carol", "/c", "xyz"), "n2")
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 3, "n3": 3, "n4": 3}, map[string]uint64{"alice": 6, "bob": 3, "carol": 3})

	// 5 replicas (15 bytes) over 4 references: 7, 3, 3; a byte rounds away.
	mustApply(t, ix, addReplicasCmd(1000, sliceID("xyz"), "n5"))
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 3, "n3": 3, "n4": 3, "n5": 3}, map[string]uint64{"alice": 7, "bob": 3, "carol": 3})

	mustApply(t, ix, deleteCmd(1000, "alice", "/one"))
	mustApply(t, ix, deleteCmd(1000, "alice", "/two"))
	wantStorage(t, ix, map[string]uint64{"n1": 3, "n2": 3, "n3": 3, "n4": 3, "n5": 3}, map[string]uint64{"bob": 7, "carol": 7})
}

func countKeys(t testing.TB, ix *Index, prefix string) int {
	t.Helper()
	n := 0
	if err := ix.scan([]byte(prefix), func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkStorageRecords compares the records Apply kept with the records
// computed from the files and slices alone.
func checkStorageRecords(t testing.TB, ix *Index) {
	t.Helper()
	want, err := computeStorage(ix.scan)
	if err != nil {
		t.Fatal(err)
	}
	got := &storageRecords{refs: map[string]map[string]uint64{}, stored: map[string]uint64{}, held: map[string]uint64{}}
	read := func(prefix string, fn func(id string, n uint64)) {
		err := ix.scan([]byte(prefix), func(k, v []byte) error {
			if err := checkStorageRecord(k, v); err != nil {
				return err
			}
			n, err := decodeCounter(string(k), v, nil)
			fn(string(k[len(prefix):]), n)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read(prefixSliceOwner, func(id string, n uint64) {
		s, owner, _ := bytes.Cut([]byte(id), []byte{sepOwner})
		if got.refs[string(s)] == nil {
			got.refs[string(s)] = map[string]uint64{}
		}
		got.refs[string(s)][string(owner)] = n
	})
	read(prefixStoredUser, func(id string, n uint64) { got.stored[id] = n })
	read(prefixHeldNode, func(id string, n uint64) { got.held[id] = n })
	nonZero := func(m map[string]uint64) map[string]uint64 {
		out := map[string]uint64{}
		for k, v := range m {
			if v > 0 {
				out[k] = v
			}
		}
		return out
	}
	if !maps.Equal(got.stored, nonZero(want.stored)) || !maps.Equal(got.held, nonZero(want.held)) {
		t.Fatalf("records: stored %v held %v; computed stored %v held %v", got.stored, got.held, want.stored, want.held)
	}
	if !maps.EqualFunc(got.refs, want.refs, maps.Equal) {
		t.Fatalf("references: records %v, computed %v", got.refs, want.refs)
	}
	// The owners store what the nodes hold, less the rounding of each
	// (slice, owner) share: under one byte each.
	var held, stored, pairs uint64
	for _, n := range got.held {
		held += n
	}
	for _, n := range got.stored {
		stored += n
	}
	for _, owners := range got.refs {
		pairs += uint64(len(owners))
	}
	if stored > held || held-stored >= max(pairs, 1) {
		t.Fatalf("owners store %d bytes, nodes hold %d, over %d (slice, owner) pairs", stored, held, pairs)
	}
}

// The records after every command, valid or refused, equal what the files
// and slices say: commits (with slices used twice and merged replica sets),
// overwrites, deletes and replica changes keep them exact.
func TestStorageRecordsAfterEveryCommand(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			cmds, _ := randomCommands(t, newIndex(t, nil), seed, 400)
			ix := newIndex(t, nil)
			stored := false
			for i, cmd := range cmds {
				_, _ = ix.Apply(cmd) // refused commands are part of the test
				if i%10 == 0 || i == len(cmds)-1 {
					checkStorageRecords(t, ix)
					nodes, owners := storageOf(t, ix)
					stored = stored || len(nodes) > 0 && len(owners) > 0
				}
			}
			if !stored {
				t.Fatal("the random sequence stored nothing")
			}
		})
	}
}

// Storage records are part of the state: a snapshot carries them, Restore
// checks them, and the root moves with them.
func TestStorageInSnapshot(t *testing.T) {
	src := populated(t, nil)
	nodes, owners := storageOf(t, src)
	if len(nodes) == 0 || len(owners) == 0 {
		t.Fatal("populated index stores nothing")
	}
	dst := newIndex(t, nil)
	if err := dst.Restore(bytes.NewReader(snapshot(t, src))); err != nil {
		t.Fatal(err)
	}
	wantStorage(t, dst, nodes, owners)
	if a, b := rootOf(t, src), rootOf(t, dst); !bytes.Equal(a, b) {
		t.Fatal("roots differ after restore")
	}

	one := "\x00\x00\x00\x00\x00\x00\x00\x01"
	id := sliceID("x")
	for _, tc := range []struct{ key, value string }{
		{"q/alice", "\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"w/n1", "\x01"},
		{"w/", one},
		{"q/a\x00b", one},
		{"o/" + id, one},
		{"o/not-a-slice\x00alice", one},
		{"o/" + id + "\x00", one},
		{"c/storage", "\x00\x00\x00\x00\x00\x00\x00\x02"},
	} {
		t.Run(fmt.Sprintf("%q", tc.key), func(t *testing.T) {
			snap := handSnapshot([2]string{tc.key, tc.value})
			if err := newIndex(t, nil).Restore(bytes.NewReader(snap)); !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("Restore = %v, want ErrBadSnapshot", err)
			}
		})
	}
	good := handSnapshot([2]string{"c/storage", one}, [2]string{"o/" + id + "\x00alice", one}, [2]string{"q/alice", one}, [2]string{"w/n1", one})
	if err := newIndex(t, nil).Restore(bytes.NewReader(good)); err != nil {
		t.Fatalf("valid storage records: %v", err)
	}
}

// An index written before the storage records existed (files and slices,
// no records) answers Storage from its files and slices, and gets the
// records at its first command that changes storage.
func TestStorageMigratesOlderIndex(t *testing.T) {
	store := kv.NewMem()
	ix := populated(t, store)
	put(t, ix, 1000, content("carol", "/c", "hello", "hello", "other"), "n2", "n3")
	nodes, owners := storageOf(t, ix)

	// Forget the records, as an older index never had them, nor the root
	// (root.go), which Open then computes from what is left.
	var b kv.Batch
	b.Delete(phys(ix.gen, []byte(keyStorage)))
	b.Delete(phys(ix.gen, []byte(keyRoot)))
	for _, p := range []string{prefixSliceOwner, prefixStoredUser, prefixHeldNode} {
		err := ix.scan([]byte(p), func(k, _ []byte) error { b.Delete(phys(ix.gen, bytes.Clone(k))); return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	older := newIndex(t, store)
	wantStorage(t, older, nodes, owners)

	// A refused command that would change storage still migrates: the
	// records are a function of the state, whenever they are written.
	if _, err := older.Apply(deleteCmd(1000, "carol", "/missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete of a missing file: %v", err)
	}
	checkStorageRecords(t, older)
	if countKeys(t, older, prefixSliceOwner) == 0 {
		t.Fatal("no records written")
	}
	mustApply(t, older, deleteCmd(1000, "carol", "/c"))
	checkStorageRecords(t, older)

	// The migrated index is the index that kept its records all along.
	fresh := populated(t, nil)
	put(t, fresh, 1000, content("carol", "/c", "hello", "hello", "other"), "n2", "n3")
	mustApply(t, fresh, deleteCmd(1000, "carol", "/c"))
	if a, b := rootOf(t, fresh), rootOf(t, older); !bytes.Equal(a, b) {
		t.Fatal("a migrated index differs from one that kept its records")
	}
}

// Stored bytes beyond 2^64-1 refuse the command, which writes nothing.
func TestStorageOverflowRefused(t *testing.T) {
	ix := newIndex(t, nil)
	id := slice.Sum([]byte("big"))
	f := &metav1.FileEntry{Owner: "alice", Path: "/big", Size: 1 << 63,
		Slices: []*metav1.SliceRef{{Id: id.String(), Size: 1 << 63}}, FileId: slice.Root([]slice.ID{id}).String()}
	task := mustApply(t, ix, uploadCmd(1000, "alice", "/big", false)).Task
	before := dump(t, ix.store)
	_, err := ix.Apply(commitCmd(1000, task.Id, f, replicas(1, "n1", "n2")))
	if !errors.Is(err, ErrBadCommand) {
		t.Fatalf("commit of 2 × 2^63 stored bytes: %v, want ErrBadCommand", err)
	}
	if !equalDumps(before, dump(t, ix.store)) {
		t.Fatal("a refused commit changed the store")
	}
	// One replica fits.
	mustApply(t, ix, commitCmd(1000, task.Id, f, replicas(1, "n1")))
	wantStorage(t, ix, map[string]uint64{"n1": 1 << 63}, map[string]uint64{"alice": 1 << 63})
}
