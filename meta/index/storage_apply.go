package index

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// The storage records as Apply keeps them (storage.go has the layout and
// the rules).

// changesStorage reports whether cmd may change the storage records, so
// Apply migrates an index without them first.
func changesStorage(cmd *metav1.Command) bool {
	switch cmd.GetOp().(type) {
	case *metav1.Command_CommitFile, *metav1.Command_DeleteFile, *metav1.Command_AddReplicas, *metav1.Command_RemoveReplicas,
		*metav1.Command_ComposeFile:
		return true
	}
	return false
}

// sliceUse is one distinct slice of a file: the positions where the file
// uses it.
type sliceUse struct {
	ref *metav1.SliceRef
	at  []int
}

func (u *sliceUse) count() uint64 { return uint64(len(u.at)) }

// sliceUses groups a file's slice references by slice, in the order of
// first use. A file may use a slice more than once; each distinct slice is
// then changed once, with all its uses.
func sliceUses(refs []*metav1.SliceRef) []*sliceUse {
	var out []*sliceUse
	byID := make(map[string]*sliceUse, len(refs))
	for i, ref := range refs {
		u := byID[ref.Id]
		if u == nil {
			u = &sliceUse{ref: ref}
			byID[ref.Id] = u
			out = append(out, u)
		}
		u.at = append(u.at, i)
	}
	return out
}

// ownerRefs is one owner's references to a slice.
type ownerRefs struct {
	owner string
	refs  uint64
}

// sliceOwners returns the owners of slice id, in owner order, with their
// references as this command sees them; owner, if not empty, is among them
// (with 0 references if it has none). The owners come from the store, so
// no owner but owner may have gained its first reference to the slice
// earlier in this command: a command changes the references of one owner
// only (commit, delete) or none (replica changes).
func (t *txn) sliceOwners(id, owner string) ([]ownerRefs, error) {
	prefix := sliceOwnerPrefix(id)
	var names []string
	err := t.ix.scan(prefix, func(k, _ []byte) error {
		names = append(names, string(k[len(prefix):]))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if i, found := slices.BinarySearch(names, owner); owner != "" && !found {
		names = slices.Insert(names, i, owner)
	}
	out := make([]ownerRefs, len(names))
	for i, n := range names {
		refs, err := t.counter(string(sliceOwnerKey(id, n)))
		if err != nil {
			return nil, err
		}
		out[i] = ownerRefs{n, refs}
	}
	return out, nil
}

// shares returns each owner's share of a slice of size bytes on replicas
// nodes: floor(size × replicas × refs / Σ refs). A slice whose stored bytes
// pass 2^64-1 is refused (ErrBadCommand).
func shares(size uint64, replicas int, owners []ownerRefs) ([]uint64, error) {
	out := make([]uint64, len(owners))
	var total uint64
	for _, o := range owners {
		if total+o.refs < total {
			return nil, fmt.Errorf("index corrupt: references overflow")
		}
		total += o.refs
	}
	if total == 0 || replicas == 0 {
		return out, nil
	}
	hi, stored := bits.Mul64(size, uint64(replicas))
	if hi != 0 {
		return nil, badCommand("a slice of %d bytes on %d nodes stores more than 2^64-1 bytes", size, replicas)
	}
	for i, o := range owners {
		hi, lo := bits.Mul64(stored, o.refs)
		out[i], _ = bits.Div64(hi, lo, total) // hi < total: refs ≤ total
	}
	return out, nil
}

// changeSlice runs change on slice s, which may change its replicas, adds
// delta references of owner (none if owner is empty), and moves every
// owner's stored bytes from its share before to its share after.
func (t *txn) changeSlice(s *metav1.SliceEntry, owner string, delta int64, change func() error) error {
	// A slice's references are its owners': one without (just created) has
	// none to read.
	owners := []ownerRefs{{owner, 0}}
	if s.Refs == 0 && owner != "" {
		t.knownAbsent(sliceOwnerKey(s.Id, owner))
	}
	if s.Refs > 0 {
		var err error
		if owners, err = t.sliceOwners(s.Id, owner); err != nil {
			return err
		}
	} else if owner == "" {
		owners = nil
	}
	before, err := shares(s.Size, len(s.Replicas), owners)
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	if owner != "" {
		i, _ := slices.BinarySearchFunc(owners, owner, func(o ownerRefs, name string) int { return strings.Compare(o.owner, name) })
		refs := owners[i].refs
		switch {
		case delta < 0 && uint64(-delta) > refs:
			return fmt.Errorf("index corrupt: %s has %d references to slice %s, %d are released", owner, refs, s.Id, -delta)
		case delta < 0:
			refs -= uint64(-delta)
		default:
			refs += uint64(delta)
		}
		owners[i].refs = refs
		t.setCount(sliceOwnerKey(s.Id, owner), refs)
	}
	after, err := shares(s.Size, len(s.Replicas), owners)
	if err != nil {
		return err
	}
	for i, o := range owners {
		key := storedUserKey(o.owner)
		if after[i] >= before[i] {
			err = t.addStorage(key, after[i]-before[i], true)
		} else {
			err = t.addStorage(key, before[i]-after[i], false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// setCount writes a count, deleting it at zero.
func (t *txn) setCount(key []byte, n uint64) {
	if n == 0 {
		t.del(key)
		return
	}
	t.setRaw(key, binary.BigEndian.AppendUint64(nil, n))
}

// addHeld adds (or removes) a replica of size bytes to node's held bytes.
func (t *txn) addHeld(node string, size uint64, add bool) error {
	return t.addStorage(heldNodeKey(node), size, add)
}

// addStorage adds n to (add) or subtracts n from a storage counter, which
// is deleted at zero. Going past 2^64-1 refuses the command (a file that
// large cannot be real); going below zero means the records are corrupt.
func (t *txn) addStorage(key []byte, n uint64, add bool) error {
	if n == 0 {
		return nil
	}
	v, err := t.get(key, false)
	cur, err := decodeCounter(string(key), v, err)
	if err != nil {
		return err
	}
	switch {
	case add && cur+n < cur:
		return badCommand("storage counter %q overflows", clip(string(key)))
	case add:
		cur += n
	case n > cur:
		return fmt.Errorf("index corrupt: storage counter %q would go below zero", clip(string(key)))
	default:
		cur -= n
	}
	t.setCount(key, cur)
	return nil
}
