package index

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/kv"
)

// lockStores are the stores the lock tests run on: both implement
// kv.Snapshotter.
var lockStores = map[string]func(t testing.TB) kv.Store{
	"mem":    func(t testing.TB) kv.Store { return kv.NewMem() },
	"pebble": func(t testing.TB) kv.Store { return openPebble(t, t.TempDir()) },
}

// plainStore hides a store's Snapshot, for the path that holds the lock.
type plainStore struct{ kv.Store }

// pausingWriter blocks in its first Write until resumed, after closing
// paused. Snapshot buffers 4 KiB before its first Write, so with a bigger
// state that is in the middle of the scan.
type pausingWriter struct {
	paused, resumed chan struct{}
	pause, resume   sync.Once
	buf             bytes.Buffer
}

func newPausingWriter() *pausingWriter {
	return &pausingWriter{paused: make(chan struct{}), resumed: make(chan struct{})}
}

func (w *pausingWriter) Write(p []byte) (int, error) {
	w.pause.Do(func() {
		close(w.paused)
		<-w.resumed
	})
	return w.buf.Write(p)
}

// Resume lets the paused Write return; calling it again does nothing.
func (w *pausingWriter) Resume() { w.resume.Do(func() { close(w.resumed) }) }

// lockTimeout bounds every wait, so a test that would hang fails instead.
const lockTimeout = 10 * time.Second

// wait fails the test if ch is not ready in time.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(lockTimeout):
		t.Fatalf("%s: still waiting after %v", what, lockTimeout)
		var zero T
		return zero
	}
}

// bigIndex returns an index whose snapshot is several write buffers long.
func bigIndex(t *testing.T, store kv.Store) *Index {
	t.Helper()
	ix := newIndex(t, store)
	mustApply(t, ix, registerCmd(1000, "n1"))
	for i := range 100 {
		put(t, ix, 1000, content("alice", fmt.Sprintf("/docs/%03d", i), fmt.Sprintf("slice %d", i)))
	}
	if n := len(snapshot(t, ix)); n < 4*4096 {
		t.Fatalf("snapshot of %d bytes: too small to pause mid-scan", n)
	}
	return ix
}

// pausedSnapshot starts ix.Snapshot into a pausingWriter and returns once
// it is paused mid-scan. The test calls w.Resume and then reads done; if it
// fails first, a cleanup resumes the snapshot and waits for it, before the
// store's own cleanup closes the store under it.
func pausedSnapshot(t *testing.T, ix *Index) (w *pausingWriter, done <-chan error) {
	t.Helper()
	w = newPausingWriter()
	errc := make(chan error, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		errc <- ix.Snapshot(w)
	}()
	t.Cleanup(func() {
		w.Resume()
		<-ended
	})
	wait(t, w.paused, "snapshot reaching its first write")
	return w, errc
}

// A snapshot, which a replica catching up is sent, covers the whole index.
// Taking it must not stall uploads: an Apply made while a snapshot is
// paused mid-scan completes, and the snapshot is still of the state at its
// start, which restores to the root taken before the Apply.
func TestApplyDuringSnapshot(t *testing.T) {
	for name, open := range lockStores {
		t.Run(name, func(t *testing.T) {
			ix := bigIndex(t, open(t))
			before := snapshot(t, ix)
			rootBefore := rootOf(t, ix)

			w, done := pausedSnapshot(t, ix)
			applied := make(chan error, 1)
			go func() {
				_, err := ix.Apply(uploadCmd(2000, "bob", "/during", false))
				applied <- err
			}()
			if err := wait(t, applied, "Apply during a paused snapshot"); err != nil {
				t.Fatalf("Apply during a snapshot: %v", err)
			}
			w.Resume()
			if err := wait(t, done, "snapshot after resuming"); err != nil {
				t.Fatalf("Snapshot: %v", err)
			}

			if !bytes.Equal(w.buf.Bytes(), before) {
				t.Error("the snapshot differs from one of the state at its start")
			}
			fresh := newIndex(t, kv.NewMem())
			if err := fresh.Restore(&w.buf); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if got := rootOf(t, fresh); !bytes.Equal(got, rootBefore) {
				t.Errorf("restored snapshot has root %x, want %x from before the write", got, rootBefore)
			}
			if bytes.Equal(rootOf(t, ix), rootBefore) {
				t.Error("the Apply made during the snapshot did not change the root")
			}
		})
	}
}

// A Restore during a snapshot switches generations and clears the old one
// in the store; the snapshot still writes exactly the generation it began
// with, whole.
func TestRestoreDuringSnapshot(t *testing.T) {
	for name, open := range lockStores {
		t.Run(name, func(t *testing.T) {
			ix := bigIndex(t, open(t))
			before := snapshot(t, ix)
			other := snapshot(t, populated(t, kv.NewMem()))

			w, done := pausedSnapshot(t, ix)
			restored := make(chan error, 1)
			go func() { restored <- ix.Restore(bytes.NewReader(other)) }()
			if err := wait(t, restored, "Restore during a paused snapshot"); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			w.Resume()
			if err := wait(t, done, "snapshot after resuming"); err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if !bytes.Equal(w.buf.Bytes(), before) {
				t.Error("the snapshot is not of the generation it began with")
			}
			if !bytes.Equal(snapshot(t, ix), other) {
				t.Error("the index after Restore is not the restored state")
			}
		})
	}
}

// A store without kv.Snapshotter takes the old path, the lock held
// throughout, and writes the same bytes as the view.
func TestSnapshotWithoutSnapshotter(t *testing.T) {
	mem := kv.NewMem()
	ix := populated(t, mem)
	mustApply(t, ix, uploadCmd(1000, "carol", "/x", false))
	viaView := snapshot(t, ix)
	locked, err := Open(plainStore{mem}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := locked.store.(kv.Snapshotter); ok {
		t.Fatal("plainStore is a kv.Snapshotter")
	}
	if got := snapshot(t, locked); !bytes.Equal(got, viaView) {
		t.Fatal("the locked path writes different bytes from the view")
	}
}

// BenchmarkSnapshotBlocksApply takes a snapshot of an index of 100,000
// files on Pebble while another goroutine applies one-entry AddTraffic
// commands back to back, and reports the longest of those Applies: the
// time a write waits for a snapshot. "locked" is the store without
// kv.Snapshotter, which is how every store behaved before views.
func BenchmarkSnapshotBlocksApply(b *testing.B) {
	const files = 100_000
	src := newIndex(b, kv.NewMem())
	mustApply(b, src, registerCmd(1000, "n1"))
	for i := range files {
		put(b, src, 1000, content("alice", fmt.Sprintf("/bench/%03d/%d", i%1000, i), fmt.Sprintf("slice %d", i)))
	}
	state := snapshot(b, src)
	for _, variant := range []string{"view", "locked"} {
		b.Run(variant, func(b *testing.B) {
			var store kv.Store = openPebble(b, b.TempDir())
			if variant == "locked" {
				store = plainStore{store}
			}
			ix := newIndex(b, store)
			if err := ix.Restore(bytes.NewReader(state)); err != nil {
				b.Fatal(err)
			}
			var worst time.Duration
			for b.Loop() {
				worst = max(worst, snapshotWhileApplying(b, ix))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-apply-ms")
		})
	}
}

// snapshotWhileApplying takes a snapshot while applying commands, and
// returns the longest Apply.
func snapshotWhileApplying(b *testing.B, ix *Index) time.Duration {
	stop := make(chan struct{})
	worst := make(chan time.Duration, 1)
	defer close(stop) // also on failure, so the applier ends
	go func() {
		var w time.Duration
		for i := 0; ; i++ {
			select {
			case <-stop:
				worst <- w
				return
			default:
			}
			start := time.Now()
			if _, err := ix.Apply(addTrafficCmd(entry("n1", fmt.Sprintf("user%d", i%100), 1))); err != nil {
				b.Error(err)
			}
			w = max(w, time.Since(start))
		}
	}()
	if err := ix.Snapshot(io.Discard); err != nil {
		b.Fatal(err)
	}
	stop <- struct{}{}
	return <-worst
}
