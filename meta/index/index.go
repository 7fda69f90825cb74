package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

var (
	ErrNotFound    = errors.New("not found")      // path, file ID, slice, task or node
	ErrExists      = errors.New("already exists") // path taken and overwrite not set
	ErrBadPath     = errors.New("invalid path")
	ErrBadCommand  = errors.New("invalid command") // malformed/missing fields, wrong task kind, owner/path mismatch
	ErrTaskExpired = errors.New("task expired")
)

// Options configures an Index.
type Options struct {
	// BloomItems is how many paths and slice IDs the Bloom filter is sized
	// for at first; it is rebuilt twice as large when the index outgrows it.
	BloomItems uint
	// BloomFalsePositive is the target false-positive rate at that size.
	BloomFalsePositive float64
}

// DefaultOptions sizes the Bloom filter for a million entries at 1% false
// positives (about 1.2 MB).
func DefaultOptions() Options { return Options{BloomItems: 1 << 20, BloomFalsePositive: 0.01} }

// Validate reports an unusable option.
func (o Options) Validate() error {
	if o.BloomItems == 0 {
		return errors.New("index: BloomItems must be positive")
	}
	if !(o.BloomFalsePositive > 0 && o.BloomFalsePositive < 1) {
		return fmt.Errorf("index: BloomFalsePositive %v not in (0, 1)", o.BloomFalsePositive)
	}
	return nil
}

// Index is the index state machine over a kv.Store it owns the contents of.
// Queries may run concurrently with each other and with Apply.
type Index struct {
	store kv.Store
	opts  Options

	mu       sync.RWMutex
	gen      byte               // generation of physical keys in use
	bloom    *bloom.BloomFilter // every file key and slice key ever added; nil: unusable, ask the store
	bloomCap uint               // items the filter was sized for
	bloomN   uint               // items added since it was built
	applied  Position           // of the last command applied from a log
	acc      ltHash             // the root's accumulator, as c/root holds it (root.go)
	eh       hasher             // for acc, under the write lock
}

// Open opens the index kept in store, clears what an interrupted Restore
// left behind, computes the index root if the index predates it (root.go),
// and rebuilds the Bloom filter.
func Open(store kv.Store, opts Options) (*Index, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ix := &Index{store: store, opts: opts, gen: generations[0]}
	switch g, err := store.Get([]byte(keyCurrGen)); {
	case errors.Is(err, kv.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("index: open: %w", err)
	case len(g) == 1 && (g[0] == generations[0] || g[0] == generations[1]):
		ix.gen = g[0]
	default:
		return nil, fmt.Errorf("index: open: corrupt generation marker %q", g)
	}
	if err := ix.clearGen(otherGen(ix.gen)); err != nil {
		return nil, fmt.Errorf("index: open: %w", err)
	}
	if err := ix.loadApplied(); err != nil {
		return nil, fmt.Errorf("index: open: %w", err)
	}
	// An index written before the root was kept gets it here, once.
	if err := ix.loadRoot(); err != nil {
		return nil, fmt.Errorf("index: open: %w", err)
	}
	if err := ix.rebuildBloom(0); err != nil {
		return nil, fmt.Errorf("index: open: %w", err)
	}
	return ix, nil
}

// clearGen deletes every key of generation g.
func (ix *Index) clearGen(g byte) error {
	var b kv.Batch
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		err := ix.store.Write(&b, false)
		b = kv.Batch{}
		return err
	}
	err := ix.store.Scan([]byte{g}, []byte{g + 1}, func(k, _ []byte) error {
		b.Delete(bytes.Clone(k))
		if b.Len() >= writeChunk {
			return flush()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear generation %c: %w", g, err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("clear generation %c: %w", g, err)
	}
	return nil
}

// writeChunk bounds the batches of bulk work (Restore, clearing).
const writeChunk = 1024

// rebuildBloom builds a new filter from every file and slice key, sized for
// at least minCap items and twice the current count.
func (ix *Index) rebuildBloom(minCap uint) error {
	var keys [][]byte
	for _, p := range []string{prefixFile, prefixSlice} {
		prefix := phys(ix.gen, []byte(p))
		err := ix.store.Scan(prefix, kv.PrefixEnd(prefix), func(k, _ []byte) error {
			keys = append(keys, bytes.Clone(k[1:]))
			return nil
		})
		if err != nil {
			ix.bloom = nil // better slow than wrong
			return fmt.Errorf("rebuild bloom filter: %w", err)
		}
	}
	n := max(ix.opts.BloomItems, minCap, 2*uint(len(keys)))
	f := bloom.NewWithEstimates(n, ix.opts.BloomFalsePositive)
	for _, k := range keys {
		f.Add(k)
	}
	ix.bloom, ix.bloomCap, ix.bloomN = f, n, uint(len(keys))
	return nil
}

// addBloom records keys just written. Past the filter's capacity its false
// positives climb, so it is rebuilt twice as large; that costs a scan of the
// namespace, paid once per doubling.
func (ix *Index) addBloom(keys [][]byte) {
	if ix.bloom == nil {
		return
	}
	for _, k := range keys {
		ix.bloom.Add(k)
	}
	ix.bloomN += uint(len(keys))
	if ix.bloomN > ix.bloomCap {
		_ = ix.rebuildBloom(2 * ix.bloomCap) // on failure the filter is off, not wrong
	}
}

// mayHave reports whether the logical key may be in the store: false means
// definitely absent (whitepaper §4.2.6).
func (ix *Index) mayHave(key []byte) bool { return ix.bloom == nil || ix.bloom.Test(key) }

// get reads a logical key of the current generation.
func (ix *Index) get(key []byte) ([]byte, error) { return ix.store.Get(phys(ix.gen, key)) }

// getMsg decodes the record at key into m; kv.ErrNotFound if absent.
func (ix *Index) getMsg(key []byte, m proto.Message) error {
	v, err := ix.get(key)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return fmt.Errorf("index corrupt: decode %q: %w", key, err)
	}
	return nil
}

// scan calls fn with the logical key and value of every key under prefix.
func (ix *Index) scan(prefix []byte, fn func(k, v []byte) error) error {
	return scanGen(ix.store, ix.gen, prefix, fn)
}

// scanGen is scan over generation g of r, the store or a view of it.
func scanGen(r kv.Reader, g byte, prefix []byte, fn func(k, v []byte) error) error {
	p := phys(g, prefix)
	return r.Scan(p, kv.PrefixEnd(p), func(k, v []byte) error { return fn(k[1:], v) })
}

// scanPaged is scan for callbacks that run without the lock held, a page at
// a time, so they may call Apply. It is not a snapshot: a page sees the
// writes made before it was read.
func (ix *Index) scanPaged(prefix []byte, fn func(k, v []byte) error) error {
	const page = 256
	from := prefix
	for {
		var keys, vals [][]byte
		ix.mu.RLock()
		p := phys(ix.gen, from)
		err := ix.store.Scan(p, phys(ix.gen, kv.PrefixEnd(prefix)), func(k, v []byte) error {
			keys, vals = append(keys, bytes.Clone(k[1:])), append(vals, bytes.Clone(v))
			if len(keys) == page {
				return kv.ErrStop
			}
			return nil
		})
		ix.mu.RUnlock()
		if err != nil {
			return err
		}
		for i := range keys {
			if err := fn(keys[i], vals[i]); err != nil {
				if errors.Is(err, kv.ErrStop) {
					return nil
				}
				return err
			}
		}
		if len(keys) < page {
			return nil
		}
		from = append(keys[len(keys)-1], 0) // the next key after the last
	}
}

func (ix *Index) counter(key string) (uint64, error) {
	v, err := ix.get([]byte(key))
	return decodeCounter(key, v, err)
}

// decodeCounter reads a counter's stored value; a missing one is zero.
func decodeCounter(key string, v []byte, err error) (uint64, error) {
	switch {
	case errors.Is(err, kv.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	case len(v) != 8:
		return 0, fmt.Errorf("index corrupt: counter %s is %d bytes", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func notFound(what, id string, err error) error {
	if errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("%s %q: %w", what, clip(id), ErrNotFound)
	}
	return fmt.Errorf("%s %q: %w", what, clip(id), err)
}

// Node returns the record of a registered resource node.
func (ix *Index) Node(id string) (*metav1.NodeRecord, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := new(metav1.NodeRecord)
	if err := ix.getMsg(nodeKey(id), n); err != nil {
		return nil, notFound("node", id, err)
	}
	return n, nil
}

// Nodes returns every registered node, sorted by node ID.
func (ix *Index) Nodes() ([]*metav1.NodeRecord, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []*metav1.NodeRecord
	err := ix.scan([]byte(prefixNode), func(k, v []byte) error {
		n := new(metav1.NodeRecord)
		if err := proto.Unmarshal(v, n); err != nil {
			return fmt.Errorf("index corrupt: decode %q: %w", k, err)
		}
		out = append(out, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	return out, nil
}

// Task returns an open task.
func (ix *Index) Task(id string) (*metav1.Task, error) {
	seq, ok := parseTaskID(id)
	if !ok {
		return nil, fmt.Errorf("task %q: malformed ID: %w", clip(id), ErrNotFound)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	t := new(metav1.Task)
	if err := ix.getMsg(taskKey(seq), t); err != nil {
		return nil, notFound("task", id, err)
	}
	return t, nil
}

// Tasks calls fn for every open task (expired ones included: EndTask removes
// them) in ID order. fn runs without the index lock, so it may call Apply;
// an error from fn ends the walk and is returned, except kv.ErrStop which
// just ends it.
func (ix *Index) Tasks(fn func(*metav1.Task) error) error {
	return ix.scanPaged([]byte(prefixTask), func(k, v []byte) error {
		t := new(metav1.Task)
		if err := proto.Unmarshal(v, t); err != nil {
			return fmt.Errorf("index corrupt: decode %q: %w", k, err)
		}
		return fn(t)
	})
}

// File returns the entry at (owner, path). A path the Bloom filter has never
// seen is answered without reading the store.
func (ix *Index) File(owner, path string) (*metav1.FileEntry, error) {
	p, err := queryPath(owner, path)
	if err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	key := fileKey(owner, p)
	if !ix.mayHave(key) {
		return nil, fmt.Errorf("file %s %s: %w", clip(owner), clip(p), ErrNotFound)
	}
	f := new(metav1.FileEntry)
	if err := ix.getMsg(key, f); isNotFound(err) {
		return nil, fmt.Errorf("file %s %s: %w", clip(owner), clip(p), ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("file %s %s: %w", clip(owner), clip(p), err)
	}
	return f, nil
}

// queryPath validates the owner and path of a query.
func queryPath(owner, path string) (string, error) {
	if err := checkName("owner", owner); err != nil {
		return "", err
	}
	return CleanPath(path)
}

// FilesByID returns every file entry whose content has this file ID (the
// same content may be stored under several paths and owners), ordered by
// owner then path; ErrNotFound if none.
func (ix *Index) FilesByID(fileID string) ([]*metav1.FileEntry, error) {
	if _, err := slice.ParseFileID(fileID); err != nil {
		return nil, fmt.Errorf("file ID %q: malformed: %w", clip(fileID), ErrNotFound)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	prefix := fileIDPrefix(fileID)
	var out []*metav1.FileEntry
	err := ix.scan(prefix, func(k, _ []byte) error {
		owner, path, ok := parseFileIDKey(k, prefix)
		if !ok {
			return fmt.Errorf("index corrupt: file ID key %q", k)
		}
		f := new(metav1.FileEntry)
		if err := ix.getMsg(fileKey(owner, path), f); err != nil {
			return fmt.Errorf("index corrupt: file ID %s names missing file %s %s: %w", fileID, owner, path, err)
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("files by ID %s: %w", fileID, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("file ID %s: %w", fileID, ErrNotFound)
	}
	return out, nil
}

// Slice returns a slice's entry. An ID the Bloom filter has never seen is
// answered without reading the store.
func (ix *Index) Slice(id string) (*metav1.SliceEntry, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	key := sliceKey(id)
	if !ix.mayHave(key) {
		return nil, fmt.Errorf("slice %q: %w", clip(id), ErrNotFound)
	}
	s := new(metav1.SliceEntry)
	if err := ix.getMsg(key, s); err != nil {
		return nil, notFound("slice", id, err)
	}
	return s, nil
}

// HasSlice reports whether the index has the slice: the Bloom filter answers
// "definitely absent" without touching the store (whitepaper §4.2.6).
func (ix *Index) HasSlice(id string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	key := sliceKey(id)
	if !ix.mayHave(key) {
		return false
	}
	_, err := ix.get(key)
	return err == nil
}

// SlicesOn calls fn with the ID of every slice the index says nodeID holds,
// in ID order. Like Tasks, fn runs without the lock and may call Apply.
func (ix *Index) SlicesOn(nodeID string, fn func(sliceID string) error) error {
	if checkName("node ID", nodeID) != nil {
		return nil // no such node can hold anything
	}
	prefix := holderPrefix(nodeID)
	return ix.scanPaged(prefix, func(k, _ []byte) error { return fn(string(k[len(prefix):])) })
}

// Stats returns the number of files and slices, from counters Apply keeps.
func (ix *Index) Stats() (files, slices uint64, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if files, err = ix.counter(keyFiles); err != nil {
		return 0, 0, fmt.Errorf("stats: %w", err)
	}
	if slices, err = ix.counter(keySlices); err != nil {
		return 0, 0, fmt.Errorf("stats: %w", err)
	}
	return files, slices, nil
}
