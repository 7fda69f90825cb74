package pebblekv_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/kvtest"
	"github.com/stratos-net/stratos/kv/pebblekv"
)

func open(t *testing.T, dir string) *pebblekv.Store {
	t.Helper()
	s, err := pebblekv.Open(dir, pebblekv.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store { return open(t, t.TempDir()) })
}

func fill(t *testing.T, s kv.Store, n int, sync bool) {
	t.Helper()
	var b kv.Batch
	for i := range n {
		b.Set(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%d", i))
	}
	if err := s.Write(&b, sync); err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, s kv.Store, n int) {
	t.Helper()
	i := 0
	err := s.Scan(nil, nil, func(k, v []byte) error {
		if want := fmt.Sprintf("k%04d=v%d", i, i); string(k)+"="+string(v) != want {
			return fmt.Errorf("key %d: got %s=%s, want %s", i, k, v, want)
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("scan: %v, %d keys, want %d", err, i, n)
	}
}

// Data written with sync survives closing and reopening.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	fill(t, s, 500, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	check(t, s, 500)
}

// A checkpoint is a consistent, independent copy that opens as a store
// (DESIGN §5.1: Raft snapshots from Pebble checkpoints).
func TestCheckpoint(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	fill(t, s, 100, false)
	cp := filepath.Join(t.TempDir(), "cp")
	if err := s.Checkpoint(cp); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(cp); err == nil {
		t.Fatal("checkpoint into an existing directory succeeded")
	}
	var b kv.Batch
	b.Set([]byte("later"), nil) // not in the checkpoint
	if err := s.Write(&b, false); err != nil {
		t.Fatal(err)
	}
	c := open(t, cp)
	defer c.Close()
	check(t, c, 100)
	s.Close()
	if err := s.Checkpoint(filepath.Join(t.TempDir(), "x")); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Checkpoint after Close = %v, want ErrClosed", err)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	opts := pebblekv.DefaultOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := pebblekv.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, 10, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Pebble's chatter went to slog (if it said anything), tagged as such.
	if buf.Len() > 0 && !bytes.Contains(buf.Bytes(), []byte("component=pebble")) {
		t.Fatalf("log output without component: %s", buf.String())
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := pebblekv.Open(t.TempDir(), pebblekv.Options{CacheSize: -1}); err == nil {
		t.Fatal("negative cache size accepted")
	}
}
