package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

const ss = slice.MinSize // the fakes' slice size: small, so files have many slices

func randBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	mrand.NewChaCha8(s).Read(b)
	return b
}

// wantFileID computes a file's ID the slow way, independent of Put.
func wantFileID(data []byte, sliceSize int) string {
	var ids []slice.ID
	for off := 0; off < len(data); off += sliceSize {
		ids = append(ids, slice.Sum(data[off:min(off+sliceSize, len(data))]))
	}
	return slice.Root(ids).String()
}

func put(t *testing.T, c *Client, p string, data []byte) *metav1.FileEntry {
	t.Helper()
	f, err := c.Put(context.Background(), p, bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		t.Fatalf("put %s: %v", p, err)
	}
	return f
}

func TestRoundTrip(t *testing.T) {
	// DESIGN §6.1-6.3: what goes in comes out byte for byte, under the
	// Merkle-root file ID, by path and by ID.
	net := newFakeNet(t, 4, ss)
	c := net.client(t)
	for _, n := range []int{0, 1, ss - 1, ss, 3*ss + 5} {
		data := randBytes(n, uint64(n))
		p := "/sizes/" + strings.Repeat("x", 1+n%7) + string(rune('a'+n%26))
		f := put(t, c, p, data)
		if want := wantFileID(data, ss); f.GetFileId() != want {
			t.Fatalf("size %d: file ID %s, want %s", n, f.GetFileId(), want)
		}
		if f.GetSize() != uint64(n) || len(f.GetSlices()) != slice.Count(uint64(n), ss) {
			t.Fatalf("size %d: entry has size %d, %d slices", n, f.GetSize(), len(f.GetSlices()))
		}
		for _, key := range []string{p, f.GetFileId()} {
			var got bytes.Buffer
			g, err := c.Get(context.Background(), key, &got, GetOptions{})
			if err != nil {
				t.Fatalf("size %d: get %s: %v", n, key, err)
			}
			if !bytes.Equal(got.Bytes(), data) || g.GetFileId() != f.GetFileId() {
				t.Fatalf("size %d: get %s returned %d different bytes", n, key, got.Len())
			}
		}
		st, err := c.Stat(context.Background(), f.GetFileId())
		if err != nil || st.GetFile().GetPath() != p || len(st.GetSlices()) != len(f.GetSlices()) {
			t.Fatalf("size %d: stat = %v, %v", n, st, err)
		}
	}
}

func TestPutSmallFileIsPlacedWithTheTask(t *testing.T) {
	// A file that surely fits one slice is named in BeginUpload, so its
	// pipeline comes back at once: no PlaceSlice round trip.
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	put(t, c, "/small", []byte("hello"))
	begins := get(net.meta, func(m *fakeMeta) []*metav1.BeginUploadRequest { return m.begins })
	if len(begins[0].GetSlices()) != 1 || net.meta.count("PlaceSlice") != 0 {
		t.Fatalf("BeginUpload slices %v, PlaceSlice calls %d", begins[0].GetSlices(), net.meta.count("PlaceSlice"))
	}
	// A larger file is not read ahead.
	put(t, c, "/big", randBytes(2*ss, 1))
	begins = get(net.meta, func(m *fakeMeta) []*metav1.BeginUploadRequest { return m.begins })
	if len(begins[1].GetSlices()) != 0 {
		t.Fatalf("big file named %d slices in BeginUpload", len(begins[1].GetSlices()))
	}
}

func TestPutDedup(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	// Identical slices in one file are sent once and all committed.
	data := make([]byte, 4*ss)
	f := put(t, c, "/zeros", data)
	if got := net.nodes[0].storeCount(); got != 1 {
		t.Fatalf("4 identical slices stored %d times", got)
	}
	commit := get(net.meta, func(m *fakeMeta) *metav1.CommitUploadRequest { return m.commits[0] })
	for i, us := range commit.GetSlices() {
		if len(us.GetReceipts()) != 3 {
			t.Fatalf("slice %d committed with %d receipts", i, len(us.GetReceipts()))
		}
	}
	// Slices the network already holds come back done and are not sent.
	put(t, c, "/zeros-again", data)
	if got := net.nodes[0].storeCount(); got != 1 {
		t.Fatalf("slice the network holds was stored again (%d stores)", got)
	}
	var got bytes.Buffer
	if _, err := c.Get(context.Background(), f.GetPath(), &got, GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("get: %v", err)
	}
}

func TestPutProgress(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	data := randBytes(5*ss+3, 2)
	var calls []int64
	_, err := c.Put(context.Background(), "/p", bytes.NewReader(data), int64(len(data)), PutOptions{
		Progress: func(done, total int64) {
			if total != int64(len(data)) {
				t.Errorf("total %d", total)
			}
			calls = append(calls, done)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(calls) || calls[len(calls)-1] != int64(len(data)) {
		t.Fatalf("progress %v", calls)
	}
}

func TestPutRecoversFromPipelineFailure(t *testing.T) {
	// DESIGN §6.2 step 4: a failed pipeline member is replaced by the
	// leader (PlaceSlice with it excluded) and the slice is resent.
	for _, tc := range []struct {
		name      string
		bad       int // node index; the fake places n0, n1, n2 first
		breakNode func(n *fakeNode)
	}{
		{"middle node fails", 1, func(n *fakeNode) { n.failStore = "disk full" }},
		{"first node fails", 0, func(n *fakeNode) { n.failStore = "disk full" }},
		{"first node drops the connection", 0, func(n *fakeNode) { n.dropStore = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := newFakeNet(t, 4, ss)
			bad := net.nodes[tc.bad]
			bad.set(tc.breakNode)
			c := net.client(t, func(c *Config) { c.Concurrency = 1 })
			data := randBytes(ss, 3)
			put(t, c, "/f", data)
			places := get(net.meta, func(m *fakeMeta) []*metav1.PlaceSliceRequest { return m.places })
			// The first pipeline came with BeginUpload (a one-slice file).
			if len(places) != 1 {
				t.Fatalf("%d PlaceSlice calls, want 1 (the replacement)", len(places))
			}
			if ex := places[0].GetExclude(); !slices.Contains(ex, bad.id()) {
				t.Fatalf("replacement placement excludes %v, not the failed node %s", ex, bad.id())
			}
			commit := get(net.meta, func(m *fakeMeta) *metav1.CommitUploadRequest { return m.commits[0] })
			var holders []string
			for _, r := range commit.GetSlices()[0].GetReceipts() {
				holders = append(holders, r.GetNodeId())
			}
			if len(holders) != 3 || slices.Contains(holders, bad.id()) {
				t.Fatalf("committed with receipts from %v (bad node %s)", holders, bad.id())
			}
			var got bytes.Buffer
			if _, err := c.Get(context.Background(), "/f", &got, GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("get after recovery: %v", err)
			}
		})
	}
}

func TestPutAcceptsMinReplicas(t *testing.T) {
	// Two of R=3 is at least the minimum: accepted, repair tops up later.
	net := newFakeNet(t, 3, ss)
	net.nodes[2].set(func(n *fakeNode) { n.failStore = "disk full" })
	c := net.client(t)
	put(t, c, "/f", randBytes(2*ss, 4))
	commit := get(net.meta, func(m *fakeMeta) *metav1.CommitUploadRequest { return m.commits[0] })
	for i, us := range commit.GetSlices() {
		if len(us.GetReceipts()) != 2 {
			t.Fatalf("slice %d: %d receipts, want 2", i, len(us.GetReceipts()))
		}
	}
}

func TestPutTooFewReplicas(t *testing.T) {
	// DESIGN §6.2 step 4: never report success for a slice held by fewer
	// than the minimum replicas; step 5: a failed upload leaves no file.
	net := newFakeNet(t, 3, ss)
	for _, n := range net.nodes[1:] {
		n.set(func(n *fakeNode) { n.failStore = "disk on fire" })
	}
	c := net.client(t)
	data := randBytes(ss+1, 5)
	_, err := c.Put(context.Background(), "/f", bytes.NewReader(data), int64(len(data)), PutOptions{})
	if !errors.Is(err, ErrTooFewReplicas) {
		t.Fatalf("err = %v, want ErrTooFewReplicas", err)
	}
	for _, want := range []string{net.nodes[1].id(), net.nodes[2].id(), "disk on fire", "sha256-"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	aborts := get(net.meta, func(m *fakeMeta) []string { return m.aborts })
	commits := get(net.meta, func(m *fakeMeta) int { return len(m.commits) })
	if len(aborts) != 1 || commits != 0 {
		t.Fatalf("aborts %v, commits %d; want one abort, no commit", aborts, commits)
	}
	if _, err := c.Stat(context.Background(), "/f"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stat after failed put: %v, want ErrNotFound", err)
	}
}

func TestPutNoNodes(t *testing.T) {
	net := newFakeNet(t, 0, ss)
	c := net.client(t)
	_, err := c.Put(context.Background(), "/f", bytes.NewReader(make([]byte, 2*ss)), 2*ss, PutOptions{})
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("err = %v, want ErrNoSpace", err)
	}
	if aborts := get(net.meta, func(m *fakeMeta) []string { return m.aborts }); len(aborts) != 1 {
		t.Fatalf("aborts %v", aborts)
	}
}

func TestPutSizeMismatch(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	for _, tc := range []struct {
		name      string
		data      int
		size      int64
		wantBegin bool
	}{
		{"small file shorter than said", 10, 11, false},
		{"small file longer than said", 11, 10, true},
		{"large file shorter than said", 3 * ss, 3*ss + 1, true},
		{"large file longer than said", 3*ss + 1, 3 * ss, true},
		{"empty file longer than said", 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := get(net.meta, func(m *fakeMeta) [3]int { return [3]int{len(m.begins), len(m.aborts), len(m.commits)} })
			_, err := c.Put(context.Background(), "/m", bytes.NewReader(randBytes(tc.data, 6)), tc.size, PutOptions{})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "file changed while uploading") {
				t.Fatalf("err = %v, want ErrInvalid: file changed", err)
			}
			after := get(net.meta, func(m *fakeMeta) [3]int { return [3]int{len(m.begins), len(m.aborts), len(m.commits)} })
			began := after[0] > before[0]
			if began != tc.wantBegin || (began && after[1] != before[1]+1) || after[2] != before[2] {
				t.Fatalf("begins/aborts/commits %v -> %v", before, after)
			}
		})
	}
}

func TestPutExistsAndOverwrite(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	put(t, c, "/f", []byte("one"))
	_, err := c.Put(context.Background(), "/f", strings.NewReader("two"), 3, PutOptions{})
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "/f exists") {
		t.Fatalf("err = %v, want ErrExists with the meta node's message", err)
	}
	if _, err := c.Put(context.Background(), "/f", strings.NewReader("two"), 3, PutOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := c.Get(context.Background(), "/f", &got, GetOptions{}); err != nil || got.String() != "two" {
		t.Fatalf("get = %q, %v", got.String(), err)
	}
}

func TestPutCancel(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	entered := make(chan struct{}, 16)
	net.nodes[0].set(func(n *fakeNode) {
		n.storeHook = func(ctx context.Context) error {
			entered <- struct{}{}
			return blockUntilDone(ctx)
		}
	})
	c := net.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	_, err := c.Put(ctx, "/f", bytes.NewReader(randBytes(8*ss, 7)), 8*ss, PutOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	aborts := get(net.meta, func(m *fakeMeta) []string { return m.aborts })
	if len(aborts) != 1 || net.meta.count("CommitUpload") != 0 {
		t.Fatalf("aborts %v, commits %d", aborts, net.meta.count("CommitUpload"))
	}
}

func TestPutReaderError(t *testing.T) {
	net := newFakeNet(t, 3, ss)
	c := net.client(t)
	boom := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(make([]byte, 2*ss)), iotestErrReader{boom})
	_, err := c.Put(context.Background(), "/f", r, 4*ss, PutOptions{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	if aborts := get(net.meta, func(m *fakeMeta) []string { return m.aborts }); len(aborts) != 1 {
		t.Fatalf("aborts %v", aborts)
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestCollectReceipts(t *testing.T) {
	// The client keeps only receipts that can count for this slice and
	// task; it blames only nodes that failed or stayed silent.
	ref := &metav1.SliceRef{Id: slice.Sum([]byte("s")).String(), Size: 1}
	peers := []*storagev1.Peer{{NodeId: "a"}, {NodeId: "b"}, {NodeId: "c"}}
	rec := func(node, task, sliceID string, size uint64) *storagev1.Receipt {
		return &storagev1.Receipt{NodeId: node, TaskId: task, SliceId: sliceID, Size: size}
	}
	for _, tc := range []struct {
		name        string
		resp        *storagev1.StoreResponse
		err         error
		wantHolders string
		wantFailed  string
	}{
		{"all good", &storagev1.StoreResponse{Receipts: []*storagev1.Receipt{
			rec("a", "t", ref.Id, 1), rec("b", "t", ref.Id, 1), rec("c", "t", ref.Id, 1)}}, nil, "a,b,c", ""},
		{"duplicate and foreign receipts ignored", &storagev1.StoreResponse{Receipts: []*storagev1.Receipt{
			rec("a", "t", ref.Id, 1), rec("a", "t", ref.Id, 1), rec("z", "t", ref.Id, 1),
			rec("b", "other-task", ref.Id, 1), rec("c", "t", "sha256-other", 1)}}, nil, "a", "b,c"},
		{"wrong size ignored", &storagev1.StoreResponse{Receipts: []*storagev1.Receipt{
			rec("a", "t", ref.Id, 2), rec("b", "t", ref.Id, 1), rec("c", "t", ref.Id, 1)}}, nil, "b,c", "a"},
		{"failure blames only the failed node", &storagev1.StoreResponse{
			Receipts: []*storagev1.Receipt{rec("a", "t", ref.Id, 1)},
			Failures: []*storagev1.Failure{{NodeId: "b", Error: "disk full"}}}, nil, "a", "b"},
		{"error on the first node", nil, errors.New("connection refused"), "", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := &replicaSet{holders: map[string]bool{}, failed: map[string]string{}}
			rs.collect("t", ref, peers, tc.resp, tc.err)
			var holders []string
			for _, r := range rs.receipts {
				holders = append(holders, r.GetNodeId())
			}
			failed := slices.Sorted(maps.Keys(rs.failed))
			if strings.Join(holders, ",") != tc.wantHolders || strings.Join(failed, ",") != tc.wantFailed {
				t.Fatalf("holders %v failed %v, want %s / %s", holders, failed, tc.wantHolders, tc.wantFailed)
			}
		})
	}
}

// DESIGN §6.2 step 4: failed pipeline members are replaced. A head that
// stops taking bytes (paused, half cut off) counts as failed after the
// stall timeout, as on download, not after gRPC keepalive's quarter
// minute. Found with the Docker fault test (a paused node).
func TestPutReplacesStalledHead(t *testing.T) {
	net := newFakeNet(t, 4, ss)
	c := net.client(t, func(c *Config) { c.Concurrency = 1; c.StallTimeout = 200 * time.Millisecond })
	var once sync.Once
	stalledNode := make(chan *fakeNode, 1)
	for _, n := range net.nodes {
		n.set(func(n *fakeNode) {
			n.storeHook = func(ctx context.Context) error {
				first := false
				once.Do(func() { first = true })
				if !first {
					return nil
				}
				stalledNode <- n
				select { // takes nothing, as a paused node
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(10 * time.Second):
					return nil
				}
			}
		})
	}
	data := randBytes(ss, 21)
	f := put(t, c, "/stall", data)
	stalled := <-stalledNode
	stalled.mu.Lock()
	_, held := stalled.slices[f.GetSlices()[0].GetId()]
	stalled.mu.Unlock()
	if held {
		t.Fatal("the upload waited for the stalled head instead of replacing it")
	}
}
