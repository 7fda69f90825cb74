package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/traffic"
)

// Storage accounting (DESIGN §7: "storage fees are settled to the nodes that
// hold replicas"). Each ledger period the meta node reports, as of that
// moment, the bytes each resource node holds and the bytes each owner
// stores. Apply keeps both as counters, so the report reads O(nodes +
// owners) keys instead of scanning every file and slice:
//
//	w/<node id>                held bytes: Σ size of the slices whose replica list names the node
//	q/<owner>                  stored bytes: Σ over slices of the owner's share (below)
//	o/<slice id>\x00<owner>    how many references the owner's files make to the slice
//
// all 8 bytes big-endian and never zero (a counter that drops to zero is
// deleted).
//
// A slice is stored once however many files use it, on the replicas its
// entry lists, so its stored bytes, size × replicas, are split among the
// owners by their references:
//
//	share(owner, slice) = floor(size × replicas × refs(owner) / refs(all owners))
//
// Owners thus pay for the replicas actually held, not for a replica target
// (a slice that lost a replica costs less until repair restores it), and
// what all owners store adds up to what all nodes hold, less under one
// byte per (slice, owner) of rounding. Each upload places its own replicas
// (there is no deduplication at placement), so storing content twice
// stores twice the replicas, and its owners pay for them once each, not
// once per reference and replica.
//
// When a slice's references or replicas change, every owner's share of it
// changes: the o/ records of the slice, one prefix read, give its owners,
// and their counters move from the old share to the new. A command costs
// the slices it touches times their owners, never a scan of the index.
//
// c/storage marks an index that keeps these records. Indexes written
// before they existed have slices and no marker: the first command that
// changes storage rebuilds the records from the files and slices
// (prepareStorage), and Storage computes them the same way until then.
// Every replica rebuilds the same records from the same state, and the
// records after any command equal a rebuild from scratch, so replicas agree
// whenever each of them migrated.

// Storage returns the storage of the index now (DESIGN §7): the bytes of
// replicas each resource node holds and the bytes each owner stores,
// counting every replica, each in ID order and non-zero. It reads the
// counters Apply keeps under one read lock, so both lists describe the same
// state. An index that does not keep them yet (see above) is read whole,
// a page at a time without the lock, so Apply is not held up.
func (ix *Index) Storage() (nodes, owners []traffic.Volume, err error) {
	ix.mu.RLock()
	legacy, err := ix.storageLegacy()
	if err == nil && !legacy {
		nodes, err = ix.volumes(prefixHeldNode)
		if err == nil {
			owners, err = ix.volumes(prefixStoredUser)
		}
	}
	ix.mu.RUnlock()
	if err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	if !legacy {
		return nodes, owners, nil
	}
	rec, err := computeStorage(ix.scanPaged)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	return rec.volumes(rec.held), rec.volumes(rec.stored), nil
}

// HeldBy returns the bytes of replicas node holds (0 if none).
func (ix *Index) HeldBy(node string) (uint64, error) {
	return ix.storageOf(heldNodeKey(node), func(nodes, _ []traffic.Volume) []traffic.Volume { return nodes }, node)
}

// StoredBy returns the bytes owner stores, every replica counted (0 if none).
func (ix *Index) StoredBy(owner string) (uint64, error) {
	return ix.storageOf(storedUserKey(owner), func(_, owners []traffic.Volume) []traffic.Volume { return owners }, owner)
}

// storageOf reads one counter, or, from an index that does not keep them
// yet, the whole Storage.
func (ix *Index) storageOf(key []byte, pick func(nodes, owners []traffic.Volume) []traffic.Volume, id string) (uint64, error) {
	ix.mu.RLock()
	legacy, err := ix.storageLegacy()
	var n uint64
	if err == nil && !legacy {
		n, err = ix.counter(string(key))
	}
	ix.mu.RUnlock()
	if err != nil || !legacy {
		return n, err
	}
	nodes, owners, err := ix.Storage()
	if err != nil {
		return 0, err
	}
	vols := pick(nodes, owners)
	if i, ok := slices.BinarySearchFunc(vols, id, func(v traffic.Volume, id string) int { return cmp.Compare(v.ID, id) }); ok {
		return vols[i].Bytes, nil
	}
	return 0, nil
}

// storageLegacy reports whether the index has slices but no storage
// records: it was written before Apply kept them. The keyStorage marker
// comes with the first records, so an index that has it keeps them.
func (ix *Index) storageLegacy() (bool, error) {
	switch _, err := ix.get([]byte(keyStorage)); {
	case err == nil:
		return false, nil
	case !isNotFound(err):
		return false, err
	}
	found := false
	err := ix.scan([]byte(prefixSlice), func(_, _ []byte) error { found = true; return errStop })
	return found, err
}

// storageRecords is the storage accounting computed from the files and
// slices: references per (slice, owner), stored bytes per owner, held bytes
// per node.
type storageRecords struct {
	refs   map[string]map[string]uint64 // slice ID → owner → references
	stored map[string]uint64
	held   map[string]uint64
}

// computeStorage computes the storage records from every file and slice,
// read with scan (Index.scan under a lock, or Index.scanPaged). It reads the
// whole index, which only an index that does not keep the records needs.
func computeStorage(scan func(prefix []byte, fn func(k, v []byte) error) error) (*storageRecords, error) {
	rec := &storageRecords{refs: map[string]map[string]uint64{}, stored: map[string]uint64{}, held: map[string]uint64{}}
	err := scan([]byte(prefixFile), func(k, v []byte) error {
		f := new(metav1.FileEntry)
		if err := proto.Unmarshal(v, f); err != nil {
			return fmt.Errorf("index corrupt: decode %q: %w", k, err)
		}
		for _, ref := range f.Slices {
			if rec.refs[ref.Id] == nil {
				rec.refs[ref.Id] = map[string]uint64{}
			}
			rec.refs[ref.Id][f.Owner]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = scan([]byte(prefixSlice), func(k, v []byte) error {
		s := new(metav1.SliceEntry)
		if err := proto.Unmarshal(v, s); err != nil {
			return fmt.Errorf("index corrupt: decode %q: %w", k, err)
		}
		for _, n := range s.Replicas {
			rec.held[n] = traffic.AddBytes(rec.held[n], s.Size)
		}
		owners := make([]ownerRefs, 0, len(rec.refs[s.Id]))
		for _, o := range sortedKeys(rec.refs[s.Id]) {
			owners = append(owners, ownerRefs{o, rec.refs[s.Id][o]})
		}
		bytes, err := shares(s.Size, len(s.Replicas), owners)
		if err != nil {
			return fmt.Errorf("slice %s: %w", s.Id, err)
		}
		for i, o := range owners {
			rec.stored[o.owner] = traffic.AddBytes(rec.stored[o.owner], bytes[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// volumes returns the non-zero counts of m in ID order.
func (rec *storageRecords) volumes(m map[string]uint64) []traffic.Volume {
	var out []traffic.Volume
	for id, n := range m {
		if n > 0 {
			out = append(out, traffic.Volume{ID: id, Bytes: n})
		}
	}
	slices.SortFunc(out, func(a, b traffic.Volume) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// prepareStorage readies the storage records for a command that changes
// them. An index that keeps them needs nothing. An index written before
// they were kept (storageLegacy) gets them first, rebuilt from its files
// and slices in a batch of their own: the command then reads them from the
// store like any other. An index with no slices yet starts keeping them
// with this command, which writes the marker with its own changes, so a
// refused command still writes nothing.
func (t *txn) prepareStorage() error {
	switch _, err := t.ix.get([]byte(keyStorage)); {
	case err == nil:
		return nil
	case !isNotFound(err):
		return err
	}
	legacy, err := t.ix.storageLegacy()
	switch {
	case err != nil:
		return err
	case legacy:
		return t.ix.migrateStorage()
	}
	t.setRaw([]byte(keyStorage), binary.BigEndian.AppendUint64(nil, 1))
	return nil
}

// migrateStorage writes the storage records of a legacy index, and the
// marker, in one batch. The caller holds the write lock.
func (ix *Index) migrateStorage() error {
	rec, err := computeStorage(ix.scan)
	if err != nil {
		return fmt.Errorf("migrate storage records: %w", err)
	}
	t := ix.begin()
	for _, id := range sortedKeys(rec.refs) {
		for _, owner := range sortedKeys(rec.refs[id]) {
			t.setRaw(sliceOwnerKey(id, owner), binary.BigEndian.AppendUint64(nil, rec.refs[id][owner]))
		}
	}
	for _, owner := range sortedKeys(rec.stored) {
		if n := rec.stored[owner]; n > 0 {
			t.setRaw(storedUserKey(owner), binary.BigEndian.AppendUint64(nil, n))
		}
	}
	for _, node := range sortedKeys(rec.held) {
		if n := rec.held[node]; n > 0 {
			t.setRaw(heldNodeKey(node), binary.BigEndian.AppendUint64(nil, n))
		}
	}
	t.setRaw([]byte(keyStorage), binary.BigEndian.AppendUint64(nil, 1))
	if err := t.commit(true); err != nil {
		return fmt.Errorf("migrate storage records: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isStorageKey reports whether a logical key is a storage record or the
// marker.
func isStorageKey(k []byte) bool {
	return bytes.HasPrefix(k, []byte(prefixSliceOwner)) || bytes.HasPrefix(k, []byte(prefixStoredUser)) ||
		bytes.HasPrefix(k, []byte(prefixHeldNode)) || string(k) == keyStorage
}

// checkStorageRecord checks a storage record of a snapshot: a key of the
// layout above and a non-zero 8-byte count.
func checkStorageRecord(k, v []byte) error {
	var err error
	switch {
	case string(k) == keyStorage:
		if len(v) != 8 || binary.BigEndian.Uint64(v) != 1 {
			return fmt.Errorf("storage marker: value %x", v)
		}
		return nil
	case bytes.HasPrefix(k, []byte(prefixSliceOwner)):
		id, owner, ok := bytes.Cut(k[len(prefixSliceOwner):], []byte{sepOwner})
		if !ok {
			return fmt.Errorf("slice owner key %q: no separator", clip(string(k)))
		}
		if _, perr := slice.ParseID(string(id)); perr != nil {
			return fmt.Errorf("slice owner key %q: %w", clip(string(k)), perr)
		}
		err = checkName("owner", string(owner))
	case bytes.HasPrefix(k, []byte(prefixStoredUser)):
		err = checkName("owner", string(k[len(prefixStoredUser):]))
	case bytes.HasPrefix(k, []byte(prefixHeldNode)):
		err = checkName("node ID", string(k[len(prefixHeldNode):]))
	default:
		return fmt.Errorf("unknown key %q", clip(string(k)))
	}
	if err != nil {
		return err
	}
	if len(v) != 8 || binary.BigEndian.Uint64(v) == 0 {
		return fmt.Errorf("storage counter %q: value %x", clip(string(k)), v)
	}
	return nil
}
