package index

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
)

// txn stages the writes of one command: reads see the command's own earlier
// writes, and commit turns them into one atomic batch whose operations come
// in the order the command first touched each key, so the same command on
// the same state gives the same batch.
type txn struct {
	ix      *Index
	pending map[string]*kv.Op // logical key → last write
	order   []string
	added   [][]byte                  // file and slice keys for the Bloom filter
	seen    map[string]committedValue // what get read from the store, for the root (root.go)
}

func (ix *Index) begin() *txn {
	return &txn{ix: ix, pending: make(map[string]*kv.Op), seen: make(map[string]committedValue)}
}

var marshal = proto.MarshalOptions{Deterministic: true}

func (t *txn) put(key []byte, op kv.Op) {
	k := string(key)
	if _, ok := t.pending[k]; !ok {
		t.order = append(t.order, k)
	}
	t.pending[k] = &op
}

func (t *txn) setRaw(key, value []byte) { t.put(key, kv.Op{Key: key, Value: value}) }

func (t *txn) del(key []byte) { t.put(key, kv.Op{Key: key, Delete: true}) }

func (t *txn) set(key []byte, m proto.Message) error {
	v, err := marshal.Marshal(m)
	if err != nil { // only invalid UTF-8 in a string field gets here
		return fmt.Errorf("encode %T: %w: %w", m, err, ErrBadCommand)
	}
	t.setRaw(key, v)
	return nil
}

// get reads key as the command sees it; kv.ErrNotFound if absent. With
// bloom, a key the filter has never seen is absent without a store read.
func (t *txn) get(key []byte, bloom bool) ([]byte, error) {
	if op, ok := t.pending[string(key)]; ok {
		if op.Delete {
			return nil, kv.ErrNotFound
		}
		return op.Value, nil
	}
	if bloom && !t.ix.mayHave(key) {
		t.knownAbsent(key)
		return nil, kv.ErrNotFound
	}
	v, err := t.ix.get(key)
	t.saw(key, v, err)
	return v, err
}

// getMsg decodes key into m and reports whether it was there.
func (t *txn) getMsg(key []byte, m proto.Message, bloom bool) (bool, error) {
	v, err := t.get(key, bloom)
	if errors.Is(err, kv.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return false, fmt.Errorf("index corrupt: decode %q: %w", key, err)
	}
	return true, nil
}

func (t *txn) counter(key string) (uint64, error) {
	v, err := t.get([]byte(key), false)
	return decodeCounter(key, v, err)
}

// addCounter adds delta to a counter; it never goes below zero.
func (t *txn) addCounter(key string, delta int64) error {
	if delta == 0 {
		return nil
	}
	n, err := t.counter(key)
	if err != nil {
		return err
	}
	switch {
	case delta > 0:
		n += uint64(delta)
	case uint64(-delta) > n:
		return fmt.Errorf("index corrupt: counter %s would go below zero", key)
	default:
		n -= uint64(-delta)
	}
	t.setRaw([]byte(key), binary.BigEndian.AppendUint64(nil, n))
	return nil
}

// commit writes everything in one batch, synced if sync, with the index
// root the writes leave (root.go), and feeds the Bloom filter.
func (t *txn) commit(sync bool) error {
	acc, err := t.rootAfter()
	if err != nil {
		return err
	}
	var b kv.Batch
	for _, k := range t.order {
		op := t.pending[k]
		op.Key = phys(t.ix.gen, op.Key)
		b.Ops = append(b.Ops, *op)
	}
	if acc != t.ix.acc {
		acc.write(&b, t.ix.gen)
	}
	if b.Len() > 0 {
		if err := t.ix.store.Write(&b, sync); err != nil {
			return err
		}
	}
	t.ix.acc = acc
	t.ix.addBloom(t.added)
	return nil
}

var errStop = kv.ErrStop

func isNotFound(err error) bool { return errors.Is(err, kv.ErrNotFound) }
