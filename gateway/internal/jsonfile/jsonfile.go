// Package jsonfile keeps a JSON document on disk that more than one
// process writes: the gateway's keys and share links, which the CLI adds
// and the gateway reads. Load reads the file again only when its
// modification time or size changed; Save replaces it durably, readable by
// its owner only. A File is not safe for concurrent use: its owner locks.
package jsonfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stratos-net/stratos/durable"
)

// File is the document at a path.
type File[T any] struct {
	path, what string
	v          T
	loaded     bool
	mtime      time.Time
	size       int64
}

// New is the document at path; what names it in errors.
func New[T any](path, what string) *File[T] { return &File[T]{path: path, what: what} }

// Load returns the document, read again if the file changed; a missing
// file is the zero T.
func (f *File[T]) Load() (T, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, os.ErrNotExist) {
		var zero T
		f.v, f.loaded = zero, false
		return zero, nil
	}
	if err != nil {
		return f.v, fmt.Errorf("%s: %w", f.what, err)
	}
	if f.loaded && fi.ModTime().Equal(f.mtime) && fi.Size() == f.size {
		return f.v, nil
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return f.v, fmt.Errorf("%s: %w", f.what, err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return f.v, fmt.Errorf("%s %s: %w", f.what, f.path, err)
	}
	f.v, f.loaded, f.mtime, f.size = v, true, fi.ModTime(), fi.Size()
	return v, nil
}

// Save replaces the file with v.
func (f *File[T]) Save(v T) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("%s: %w", f.what, err)
	}
	if err := durable.WriteFile(f.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("%s: %w", f.what, err)
	}
	f.v, f.loaded = v, false // read again next time, with the new mtime
	return nil
}
