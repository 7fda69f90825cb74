package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/slice"
)

// reconcile makes the index agree with the files, which are the truth:
// entries whose file is gone are dropped; files the index does not know (a
// crash after the rename, before the unsynced index write reached disk) are
// hashed and adopted, or quarantined if they do not match their name.
func (s *Store) reconcile() error {
	files, err := s.scanFiles()
	if err != nil {
		return err
	}
	var b kv.Batch
	lower, upper := []byte(metaPrefix), kv.PrefixEnd([]byte(metaPrefix))
	err = s.meta.Scan(lower, upper, func(k, v []byte) error {
		k = bytes.Clone(k) // valid only during the call, and the batch keeps it
		info, err := decodeMeta(k, v)
		if err != nil {
			s.log.Warn("dropped bad index entry", "key", string(k))
			b.Delete(k)
			return nil
		}
		size, ok := files[info.ID]
		switch {
		case !ok:
			s.log.Warn("slice file is gone; dropped from the index", "slice", info.ID)
			b.Delete(k)
		case size == info.Size:
			delete(files, info.ID)
			s.count++
			s.used += size
		default: // left in files: hashed below like an unknown file
			s.log.Warn("slice file size differs from the index", "slice", info.ID, "file", size, "index", info.Size)
			b.Delete(k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan index: %w", err)
	}
	for id, size := range files {
		if err := s.adopt(id, size, &b); err != nil {
			return err
		}
	}
	if err := s.meta.Write(&b, false); err != nil {
		return fmt.Errorf("reconcile index: %w", err)
	}
	return nil
}

// adopt checks a file the index does not know against its name and indexes
// it, stamped now: its real age is unknown, and a young stamp only delays
// the deletion of an orphan.
func (s *Store) adopt(id slice.ID, size uint64, b *kv.Batch) error {
	err := verifyFile(s.path(id), id)
	if errors.Is(err, slice.ErrMismatch) {
		s.quarantine(id, err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("check slice %s: %w", id, err)
	}
	s.log.Info("adopted slice file missing from the index", "slice", id, "size", size)
	b.Set(metaKey(id), encodeMeta(size, s.opts.Now()))
	s.count++
	s.used += size
	return nil
}

func verifyFile(path string, id slice.ID) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	v := slice.NewVerifier(id)
	if _, err := io.Copy(v, f); err != nil {
		return err
	}
	return v.Verify()
}

// scanFiles lists the slice files and their sizes. Anything in slices/ that
// is not a slice file in its right shard is quarantined.
func (s *Store) scanFiles() (map[slice.ID]uint64, error) {
	shards, err := os.ReadDir(s.slicesDir)
	if err != nil {
		return nil, err
	}
	files := make(map[slice.ID]uint64)
	for _, shard := range shards {
		dir := filepath.Join(s.slicesDir, shard.Name())
		if !shard.IsDir() || len(shard.Name()) != 2 {
			s.quarantineFile(dir, shard.Name(), "not a shard directory")
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			id, err := slice.ParseID("sha256-" + e.Name())
			if err != nil || !e.Type().IsRegular() || e.Name()[:2] != shard.Name() {
				s.quarantineFile(path, shard.Name()+"-"+e.Name(), "not a slice file")
				continue
			}
			fi, err := e.Info()
			if err != nil {
				return nil, err
			}
			files[id] = uint64(fi.Size())
		}
	}
	return files, nil
}
