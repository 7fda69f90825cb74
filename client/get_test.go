package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

func TestGetOrderUnderConcurrency(t *testing.T) {
	// DESIGN §6.3: slices are fetched in parallel but reach the output in
	// order; at most Concurrency are in flight.
	net := newFakeNet(t, 4, ss)
	c := net.client(t, func(c *Config) { c.Concurrency = 3 })
	data := randBytes(20*ss+17, 8)
	put(t, c, "/f", data)
	for _, n := range net.nodes {
		n.set(func(n *fakeNode) { n.latency = 3 * time.Millisecond })
	}
	var got bytes.Buffer
	var progress []int64
	_, err := c.Get(context.Background(), "/f", &got, GetOptions{Progress: func(done, total int64) {
		progress = append(progress, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("bytes differ")
	}
	if m := net.maxFetching.Load(); m > 3 || m < 2 {
		t.Fatalf("%d fetches in flight at once, want 2..3 (Concurrency 3)", m)
	}
	if len(progress) != 21 || progress[20] != int64(len(data)) {
		t.Fatalf("progress %v", progress)
	}
}

func TestGetBadReplica(t *testing.T) {
	// DESIGN §6.3: on a bad or missing slice the client moves to the next
	// holder and reports the bad replica (which triggers repair).
	// Only what the holder's copy is to blame for is reported: bytes that
	// do not hash to the ID, or a slice it does not have. A broken
	// connection, a dead node or a stalled one says nothing about its disk,
	// and a report would only make it re-verify.
	hang := func(n *fakeNode) {
		n.fetchHook = func(ctx context.Context, _ string) error { <-ctx.Done(); return ctx.Err() }
	}
	for _, tc := range []struct {
		name        string
		breakNode   func(n *fakeNode)
		wantReports bool
		wantMissing bool
	}{
		{"corrupt bytes", func(n *fakeNode) { n.corrupt = true }, true, false},
		{"slice missing", func(n *fakeNode) { n.missing = true }, true, true},
		{"connection dropped mid-slice", func(n *fakeNode) { n.dropFetch, n.frame = true, 16<<10 }, false, false},
		{"node down", func(n *fakeNode) { n.srv.Stop() }, false, false},
		{"node hangs", hang, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := newFakeNet(t, 3, ss)
			c := net.client(t, func(c *Config) { c.StallTimeout = 100 * time.Millisecond })
			data := randBytes(3*ss, 9) // whole slices: each spans several of the dropping frames
			put(t, c, "/f", data)
			bad := net.nodes[0] // first holder in the fake's Locate order
			bad.set(tc.breakNode)
			var got bytes.Buffer
			if _, err := c.Get(context.Background(), "/f", &got, GetOptions{}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatal("bytes differ")
			}
			c.reports.Wait()
			reports := get(net.meta, func(m *fakeMeta) []*metav1.ReportBadReplicaRequest { return m.bad })
			if !tc.wantReports {
				if len(reports) != 0 {
					t.Fatalf("%d bad-replica reports for a fault of the network, not of the copy", len(reports))
				}
				return
			}
			if len(reports) != 3 {
				t.Fatalf("%d bad-replica reports, want one per slice (3)", len(reports))
			}
			for _, r := range reports {
				if r.GetNodeId() != bad.id() || r.GetMissing() != tc.wantMissing || r.GetReason() == "" {
					t.Fatalf("report %v, want node %s missing=%v", r, bad.id(), tc.wantMissing)
				}
			}
		})
	}
}

func TestGetAllHoldersBad(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	f := put(t, c, "/f", randBytes(ss+1, 10))
	for _, n := range net.nodes {
		n.set(func(n *fakeNode) { n.corrupt = true })
	}
	var got bytes.Buffer
	_, err := c.Get(context.Background(), "/f", &got, GetOptions{})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), f.GetSlices()[0].GetId()) && !strings.Contains(err.Error(), f.GetSlices()[1].GetId()) {
		t.Errorf("error %q names no slice", err)
	}
	for _, want := range []string{net.nodes[0].id(), net.nodes[1].id(), net.nodes[2].id(), "corrupt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if got.Len() != 0 {
		t.Fatalf("wrote %d bytes of a file whose first slice is unavailable", got.Len())
	}
}

func TestGetEmptyFile(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	put(t, c, "/empty", nil)
	var got bytes.Buffer
	f, err := c.Get(context.Background(), "/empty", &got, GetOptions{})
	if err != nil || got.Len() != 0 || f.GetSize() != 0 {
		t.Fatalf("get empty = %v, %d bytes, %v", f, got.Len(), err)
	}
}

func TestGetRange(t *testing.T) {
	// DESIGN §6.3/§9: range reads fetch only the slices they touch.
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	data := randBytes(3*ss+5, 11)
	put(t, c, "/f", data)
	size := int64(len(data))
	for _, tc := range []struct {
		name           string
		offset, length int64
		slices         int // slices fetched
	}{
		{"nothing", 0, 0, 0},
		{"nothing at the end", size, 0, 0},
		{"first byte", 0, 1, 1},
		{"last byte of a slice", ss - 1, 1, 1},
		{"across a boundary", ss - 1, 2, 2},
		{"exactly one slice", ss, ss, 1},
		{"exactly two slices", ss, 2 * ss, 2},
		{"the short last slice", 3 * ss, 5, 1},
		{"last byte", size - 1, 1, 1},
		{"all", 0, size, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := totalFetches(net)
			var got bytes.Buffer
			if err := c.GetRange(context.Background(), "/f", tc.offset, tc.length, &got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data[tc.offset:tc.offset+tc.length]) {
				t.Fatalf("got %d bytes, not the range", got.Len())
			}
			if n := totalFetches(net) - before; n != tc.slices {
				t.Fatalf("fetched %d slices, want %d", n, tc.slices)
			}
		})
	}
	for _, r := range [][2]int64{{-1, 1}, {0, -1}, {size, 1}, {size + 1, 0}, {1, size}} {
		if err := c.GetRange(context.Background(), "/f", r[0], r[1], io.Discard); !errors.Is(err, ErrInvalid) {
			t.Errorf("range %v: err = %v, want ErrInvalid", r, err)
		}
	}
}

func totalFetches(net *fakeNet) int {
	n := 0
	for _, node := range net.nodes {
		n += node.fetchCount()
	}
	return n
}

// cancelWriter cancels a context on its first write.
type cancelWriter struct {
	once   sync.Once
	cancel context.CancelFunc
	n      int
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.once.Do(w.cancel)
	return len(p), nil
}

func TestGetCancelMidTransfer(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	f := put(t, c, "/f", randBytes(10*ss, 12))
	first := f.GetSlices()[0].GetId()
	for _, n := range net.nodes {
		n.set(func(n *fakeNode) {
			n.fetchHook = func(ctx context.Context, id string) error {
				if id == first {
					return nil
				}
				return blockUntilDone(ctx)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelWriter{cancel: cancel}
	done := make(chan error)
	go func() {
		_, err := c.Get(ctx, "/f", w, GetOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second): // a hang, not a timing assertion
		t.Fatal("Get did not return after cancellation")
	}
	if w.n != ss {
		t.Fatalf("wrote %d bytes, want the first slice (%d)", w.n, ss)
	}
	c.reports.Wait()
	if bad := get(net.meta, func(m *fakeMeta) int { return len(m.bad) }); bad != 0 {
		t.Fatalf("%d bad-replica reports for a canceled fetch", bad)
	}
}

func TestGetFollowsLeadersHolderOrder(t *testing.T) {
	// DESIGN §7 (whitepaper §3.2.2, condition 3): the leader assigns the
	// download holder at random; the client must not pick its own, so with
	// healthy holders every slice comes from the first one listed.
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	put(t, c, "/f", randBytes(5*ss, 18))
	if _, err := c.Get(context.Background(), "/f", io.Discard, GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := []int{net.nodes[0].fetchCount(), net.nodes[1].fetchCount(), net.nodes[2].fetchCount()}; got[0] != 5 || got[1]+got[2] != 0 {
		t.Fatalf("fetches per node %v, want all 5 from the first holder", got)
	}
}

// DESIGN §7: the downloader signs a cumulative receipt for every byte it
// received, so the holders can prove all of their traffic; when a holder
// fails, the meta node, not the client, picks the next one.
func TestGetSignsReceiptsAndAsksForTheNextHolder(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	data := randBytes(5*ss+3, 9)
	put(t, c, "/f", data)
	var got bytes.Buffer
	if _, err := c.Get(context.Background(), "/f", &got, GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("get: %v", err)
	}
	var signed uint64
	for _, n := range net.nodes {
		n.mu.Lock()
		signed += n.signed
		n.mu.Unlock()
	}
	if signed != uint64(len(data)) {
		t.Fatalf("receipts signed for %d bytes of a %d-byte download", signed, len(data))
	}
	net.nodes[0].set(func(n *fakeNode) { n.missing = true })
	got.Reset()
	if _, err := c.Get(context.Background(), "/f", &got, GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("get with the first holder missing its slices: %v", err)
	}
	net.meta.mu.Lock()
	defer net.meta.mu.Unlock()
	if len(net.meta.reassigned) == 0 || net.meta.reassigned[0].GetFailedNode() != net.nodes[0].id() {
		t.Fatalf("reassignments %v, want the failed first holder named", net.meta.reassigned)
	}
}
