package index

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Snapshot format, all integers big-endian:
//
//	magic    "stratos-index-snapshot/1\n"
//	records  u32 key length (> 0), u32 value length, key, value
//	         (logical keys, strictly ascending)
//	end      u32 0, u32 0
//	trailer  u64 number of records, SHA-256 of every byte before it
//
// It is self-delimiting: Restore reads exactly these bytes and no more.
const snapshotMagic = "stratos-index-snapshot/1\n"

const (
	maxSnapshotKey   = 16 << 10
	maxSnapshotValue = 64 << 20
)

// ErrBadSnapshot is returned by Restore for bytes that are not a complete,
// intact snapshot.
var ErrBadSnapshot = errors.New("bad index snapshot")

// Snapshot writes the whole state, as it is when Snapshot is called, to w.
// Two indexes with the same state write the same bytes; the index root's
// accumulator (root.go) is left out, as Restore computes it. If the store
// is a kv.Snapshotter, Apply and Restore wait only while a view of the
// store is opened, not while it is scanned and written: a snapshot covers
// the whole index, and a slow w must not stall writes.
// Otherwise they wait until Snapshot is done.
func (ix *Index) Snapshot(w io.Writer) error {
	v, err := ix.View()
	if err != nil {
		return err
	}
	defer v.Close()
	return v.WriteSnapshot(w)
}

// View is the state of the index at one moment, to be written as a
// snapshot later: a replicated log takes it between two applies and
// streams it while applying goes on (with a kv.Snapshotter store; without
// one, applies wait until Close).
type View struct {
	r       kv.Reader
	g       byte
	applied Position
	release func()
}

// View opens a view of the current state. Close it when done.
func (ix *Index) View() (*View, error) {
	r, g, release, err := ix.view()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	var applied Position
	switch b, err := r.Get(phys(g, []byte(keyApplied))); { // read from the view: consistent with it
	case errors.Is(err, kv.ErrNotFound):
	case err != nil:
		release()
		return nil, fmt.Errorf("snapshot: %w", err)
	default:
		if applied, err = decodePosition(b); err != nil {
			release()
			return nil, fmt.Errorf("snapshot: %w", err)
		}
	}
	return &View{r: r, g: g, applied: applied, release: release}, nil
}

// Applied is the position of the last command applied from a log the view
// holds.
func (v *View) Applied() Position { return v.applied }

// WriteSnapshot writes the view in the snapshot format.
func (v *View) WriteSnapshot(w io.Writer) error { return writeSnapshot(w, v.r, v.g) }

// Close releases the view.
func (v *View) Close() { v.release() }

// view returns a reader of the current state, the generation it is kept
// in, and the function to call when done reading. With a kv.Snapshotter
// the view is opened under the read lock, so it holds every Apply and
// Restore before it and none after, and the generation read with it is the
// one it holds whole: a later Restore fills and switches to the other
// generation and clears this one in the store, not in the view. Without
// one the reader is the store, and the read lock is held until release.
func (ix *Index) view() (kv.Reader, byte, func(), error) {
	ix.mu.RLock()
	ss, ok := ix.store.(kv.Snapshotter)
	if !ok {
		return ix.store, ix.gen, ix.mu.RUnlock, nil
	}
	defer ix.mu.RUnlock()
	r, release, err := ss.Snapshot()
	if err != nil {
		return nil, 0, nil, err
	}
	return r, ix.gen, release, nil
}

// writeSnapshot writes generation g of r in the snapshot format.
func writeSnapshot(w io.Writer, r kv.Reader, g byte) error {
	bw := bufio.NewWriter(w)
	h := sha256.New()
	out := io.MultiWriter(bw, h)
	if _, err := io.WriteString(out, snapshotMagic); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	var n uint64
	var hdr [8]byte
	err := scanGen(r, g, nil, func(k, v []byte) error {
		if string(k) == keyRoot { // derived from the records: Restore computes it
			return nil
		}
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(k)))
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(v)))
		n++
		for _, b := range [][]byte{hdr[:], k, v} {
			if _, err := out.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	var tail [16]byte // end marker, count
	binary.BigEndian.PutUint64(tail[8:], n)
	if _, err := out.Write(tail[:]); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if _, err := bw.Write(h.Sum(nil)); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// Restore replaces the whole state with a snapshot read from r and rebuilds
// the Bloom filter. The snapshot goes into the unused generation of keys and
// becomes current, in one small write, only once it is read to the end and
// its checksum and every record are valid; a truncated or corrupt snapshot
// is an error wrapping ErrBadSnapshot and leaves the old state in place.
func (ix *Index) Restore(r io.Reader) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	next := otherGen(ix.gen)
	if err := ix.clearGen(next); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	acc, err := ix.load(r, next)
	if err != nil {
		_ = ix.clearGen(next) // else Open clears it
		return fmt.Errorf("restore: %w", err)
	}
	var b kv.Batch
	b.Set([]byte(keyCurrGen), []byte{next})
	if err := ix.store.Write(&b, true); err != nil {
		_ = ix.clearGen(next)
		return fmt.Errorf("restore: %w", err)
	}
	old := ix.gen
	ix.gen = next
	ix.acc = acc
	_ = ix.clearGen(old) // garbage only now; Open clears what is left
	if err := ix.loadApplied(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := ix.rebuildBloom(0); err != nil {
		return fmt.Errorf("restore: %w", err) // the state is restored; the filter is off
	}
	return nil
}

// load copies a snapshot's records into generation g, checking each, with
// the index root they add up to (root.go), which it returns.
func (ix *Index) load(r io.Reader, g byte) (ltHash, error) {
	var acc ltHash
	sr := snapReader{r: r, h: sha256.New()}
	magic, err := sr.read(len(snapshotMagic))
	if err != nil {
		return acc, err
	}
	if string(magic) != snapshotMagic {
		return acc, fmt.Errorf("%w: not an index snapshot", ErrBadSnapshot)
	}
	var b kv.Batch
	var prev []byte
	var n uint64
	for {
		k, v, err := sr.record()
		if err != nil {
			return acc, err
		}
		if k == nil {
			break
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return acc, fmt.Errorf("%w: record %d: keys out of order", ErrBadSnapshot, n)
		}
		if err := checkRecord(k, v); err != nil {
			return acc, fmt.Errorf("%w: record %d: %w", ErrBadSnapshot, n, err)
		}
		prev = k
		n++
		acc.addRecord(&ix.eh, k, v) // the caller holds the write lock
		b.Set(phys(g, k), v)
		if b.Len() >= writeChunk {
			if err := ix.store.Write(&b, false); err != nil {
				return acc, err
			}
			b = kv.Batch{}
		}
	}
	if err := sr.trailer(n); err != nil {
		return acc, err
	}
	acc.write(&b, g)
	return acc, ix.store.Write(&b, false) // the generation switch after it syncs
}

// snapReader reads a snapshot and hashes what it reads.
type snapReader struct {
	r io.Reader
	h hash.Hash
}

// read returns the next n bytes. It grows its buffer as data arrives, so a
// lying length costs no more memory than the bytes really sent.
func (s *snapReader) read(n int) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, s.r, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	s.h.Write(buf.Bytes())
	return buf.Bytes(), nil
}

// record returns the next key and value, or a nil key at the end marker.
func (s *snapReader) record() (k, v []byte, err error) {
	hdr, err := s.read(8)
	if err != nil {
		return nil, nil, err
	}
	kl, vl := binary.BigEndian.Uint32(hdr[:4]), binary.BigEndian.Uint32(hdr[4:])
	switch {
	case kl == 0 && vl == 0:
		return nil, nil, nil
	case kl == 0 || kl > maxSnapshotKey || vl > maxSnapshotValue:
		return nil, nil, fmt.Errorf("%w: record of key length %d, value length %d", ErrBadSnapshot, kl, vl)
	}
	if k, err = s.read(int(kl)); err != nil {
		return nil, nil, err
	}
	if v, err = s.read(int(vl)); err != nil {
		return nil, nil, err
	}
	return k, v, nil
}

// trailer checks the record count and the checksum.
func (s *snapReader) trailer(n uint64) error {
	count, err := s.read(8)
	if err != nil {
		return err
	}
	if got := binary.BigEndian.Uint64(count); got != n {
		return fmt.Errorf("%w: %d records, trailer says %d", ErrBadSnapshot, n, got)
	}
	want := s.h.Sum(nil)
	sum, err := s.read(sha256.Size)
	if err != nil {
		return err
	}
	if !bytes.Equal(sum, want) {
		return fmt.Errorf("%w: checksum mismatch", ErrBadSnapshot)
	}
	return nil
}

// checkRecord checks that a key belongs to the layout and its value decodes
// as the record that key holds, so a snapshot from elsewhere (or a bug)
// cannot plant keys the index does not understand.
func checkRecord(k, v []byte) error {
	var m proto.Message
	switch {
	case isSoftKey(k):
		return checkSoftRecord(k, v)
	case bytes.HasPrefix(k, []byte(prefixFile)):
		m = new(metav1.FileEntry)
	case bytes.HasPrefix(k, []byte(prefixSlice)):
		m = new(metav1.SliceEntry)
	case bytes.HasPrefix(k, []byte(prefixTask)) && len(k) == len(prefixTask)+8:
		m = new(metav1.Task)
	case bytes.HasPrefix(k, []byte(prefixNode)):
		m = new(metav1.NodeRecord)
	case bytes.HasPrefix(k, []byte(prefixSeal)) && len(k) == len(prefixSeal)+8:
		m = new(metav1.TrafficReport)
	case bytes.HasPrefix(k, []byte(prefixBucket)):
		m = new(metav1.BucketEntry)
	case bytes.HasPrefix(k, []byte(prefixFileID)), bytes.HasPrefix(k, []byte(prefixHolder)), bytes.HasPrefix(k, []byte(prefixObjectKey)):
		if len(v) != 0 {
			return fmt.Errorf("key %q: index record with a value", clip(string(k)))
		}
		return nil
	case bytes.HasPrefix(k, []byte(prefixTrafficNode)):
		return checkVolumeRecord(k[len(prefixTrafficNode):], v)
	case bytes.HasPrefix(k, []byte(prefixTrafficUser)):
		return checkVolumeRecord(k[len(prefixTrafficUser):], v)
	case isStorageKey(k):
		return checkStorageRecord(k, v)
	case string(k) == keyApplied:
		_, err := decodePosition(v)
		return err
	case string(k) == keyFiles || string(k) == keySlices || string(k) == keyTaskSeq:
		if len(v) != 8 {
			return fmt.Errorf("counter %s of %d bytes", k, len(v))
		}
		return nil
	default:
		return fmt.Errorf("unknown key %q", clip(string(k)))
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return fmt.Errorf("key %q: %w", clip(string(k)), err)
	}
	return nil
}

// checkVolumeRecord checks the traffic counter of id: a valid name and a
// non-zero count (a cleared counter is deleted, so Take never reports zero
// bytes).
func checkVolumeRecord(id, v []byte) error {
	if err := checkName("traffic counter", string(id)); err != nil {
		return err
	}
	if len(v) != 8 || binary.BigEndian.Uint64(v) == 0 {
		return fmt.Errorf("traffic counter %q: value %x", clip(string(id)), v)
	}
	return nil
}
