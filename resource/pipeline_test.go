package resource_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/identity"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

func startNodes(t testing.TB, meta *fakeMeta, k int) []*testNode {
	nodes := make([]*testNode, k)
	for i := range nodes {
		nodes[i] = startNode(t, meta)
	}
	return nodes
}

// fetch reads length bytes of a slice from off on n, with a ticket from
// n's meta node, as a downloader does (DESIGN §7).
func fetch(t testing.TB, n *testNode, id string, off, length uint64) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	_, err := client.FetchSlice(context.Background(), n.client(t), fetchTicket(n, "d1", id, off, length), testReceiptKey, func(p []byte) error {
		buf.Write(p)
		return nil
	})
	return buf.Bytes(), err
}

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Errorf("%s: err = %v, want %s", what, err, code)
	}
}

func TestPipelineThreeNodes(t *testing.T) {
	// DESIGN §6.2 step 3: the client streams to the first node, each node
	// writes and forwards; every node answers with a signed receipt once its
	// copy is verified and on disk.
	meta := newFakeMeta(t)
	nodes := startNodes(t, meta, 3)
	data, id := storetest.Data(1, 5<<20+123)
	h := pipelineHeader("task-1", data, id.String(), nodes...)
	resp, err := resource.StoreSlice(context.Background(), nodes[0].client(t), h, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Failures) != 0 || len(resp.Receipts) != 3 {
		t.Fatalf("receipts %d, failures %v; want 3 receipts", len(resp.Receipts), resp.Failures)
	}
	for i, n := range nodes {
		r := resp.Receipts[i]
		if err := identity.VerifyReceipt(n.key.Public(), r); err != nil {
			t.Errorf("receipt %d: %v", i, err)
		}
		if r.TaskId != "task-1" || r.SliceId != id.String() || r.Size != uint64(len(data)) {
			t.Errorf("receipt %d = %v", i, r)
		}
		onDisk, err := os.ReadFile(n.store.Path(id))
		if err != nil || !bytes.Equal(onDisk, data) {
			t.Errorf("node %d: slice file: %v", i, err)
		}
		got, err := fetch(t, n, id.String(), 0, uint64(len(data)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("node %d: Fetch = %d bytes, %v", i, len(got), err)
		}
	}

	// Ranged fetches, across frame boundaries.
	for _, rg := range [][2]uint64{{0, 1}, {wire.FrameSize - 3, 10}, {1 << 20, 3 << 20}, {uint64(len(data)) - 5, 5}} {
		got, err := fetch(t, nodes[1], id.String(), rg[0], rg[1])
		end := rg[0] + rg[1]
		if err != nil || !bytes.Equal(got, data[rg[0]:end]) {
			t.Errorf("Fetch range %v: %d bytes, %v", rg, len(got), err)
		}
	}
	_, err = fetch(t, nodes[0], id.String(), uint64(len(data))-1, 2)
	wantCode(t, "range past the end", err, codes.InvalidArgument)
	_, err = fetch(t, nodes[0], id.String(), uint64(len(data))+1, 1)
	wantCode(t, "offset past the end", err, codes.InvalidArgument)
	_, err = fetch(t, nodes[0], "sha256-../../etc/passwd", 0, 1)
	wantCode(t, "bad ID", err, codes.InvalidArgument)
	other := slice.Sum([]byte("absent"))
	_, err = fetch(t, nodes[0], other.String(), 0, 1)
	wantCode(t, "absent slice", err, codes.NotFound)

	// Storing it again is a cheap success with fresh receipts.
	h = pipelineHeader("task-2", data, id.String(), nodes...)
	resp, err = resource.StoreSlice(context.Background(), nodes[0].client(t), h, bytes.NewReader(data))
	if err != nil || len(resp.Receipts) != 3 || resp.Receipts[2].TaskId != "task-2" {
		t.Fatalf("store again: %v, %v", resp, err)
	}
}

func TestPipelineSmallFrames(t *testing.T) {
	// A client may send frames of any size; nodes forward full frames.
	meta := newFakeMeta(t)
	nodes := startNodes(t, meta, 2)
	data, id := storetest.Data(2, 3<<20+5)
	st, err := nodes[0].client(t).Store(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: pipelineHeader("t", data, id.String(), nodes...)}})
	for off := 0; off < len(data); off += 100_000 {
		st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: data[off:min(off+100_000, len(data))]}})
	}
	resp, err := st.CloseAndRecv()
	if err != nil || len(resp.Receipts) != 2 {
		t.Fatalf("resp %v, err %v", resp, err)
	}
	if got := storetest.Get(t, nodes[1].store, id); !bytes.Equal(got, data) {
		t.Fatal("downstream copy differs")
	}
}

func TestPipelineCorruptInFlight(t *testing.T) {
	// Bytes that do not match the slice ID are refused by every node, and
	// none keeps a copy.
	meta := newFakeMeta(t)
	nodes := startNodes(t, meta, 3)
	data, id := storetest.Data(3, 2<<20)
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	_, err := resource.StoreSlice(context.Background(), nodes[0].client(t), pipelineHeader("t", data, id.String(), nodes...), bytes.NewReader(bad))
	wantCode(t, "corrupt upload", err, codes.InvalidArgument)
	for i, n := range nodes {
		eventually(t, "no node holds the corrupt slice", n.empty)
		if _, err := os.Stat(n.store.Path(id)); !os.IsNotExist(err) {
			t.Errorf("node %d has a slice file: %v", i, err)
		}
	}
	// Too short, too long.
	for name, body := range map[string][]byte{"short": data[:len(data)-1], "long": append(bytes.Clone(data), 0)} {
		_, err := resource.StoreSlice(context.Background(), nodes[0].client(t), pipelineHeader("t", data, id.String(), nodes...), bytes.NewReader(body))
		wantCode(t, name, err, codes.InvalidArgument)
	}
	for _, n := range nodes {
		eventually(t, "no node holds a partial slice", n.empty)
	}
}

func TestPipelineDeadDownstream(t *testing.T) {
	// A pipeline member that cannot be reached is reported as a failure; the
	// nodes before it still store and sign (the client then asks the meta
	// node for a replacement, DESIGN §6.2 step 4).
	meta := newFakeMeta(t)
	for _, dead := range []int{1, 2} {
		t.Run([]string{"", "middle", "last"}[dead], func(t *testing.T) {
			nodes := startNodes(t, meta, 3)
			nodes[dead].stop()
			data, id := storetest.Data(4, 3<<20)
			resp, err := resource.StoreSlice(context.Background(), nodes[0].client(t), pipelineHeader("t", data, id.String(), nodes...), bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Receipts) != dead {
				t.Fatalf("%d receipts, want %d", len(resp.Receipts), dead)
			}
			for i, r := range resp.Receipts {
				if err := identity.VerifyReceipt(nodes[i].key.Public(), r); err != nil {
					t.Error(err)
				}
			}
			if len(resp.Failures) != 1 || resp.Failures[0].NodeId != nodes[dead].ID() || resp.Failures[0].Error == "" {
				t.Fatalf("failures = %v, want one naming node %d", resp.Failures, dead)
			}
		})
	}
}

func TestPipelineClientDisconnects(t *testing.T) {
	// A client that dies mid-slice leaves no partial slice on any node.
	meta := newFakeMeta(t)
	nodes := startNodes(t, meta, 3)
	data, id := storetest.Data(5, 4<<20)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := nodes[0].client(t).Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: pipelineHeader("t", data, id.String(), nodes...)}})
	st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: data[:wire.FrameSize]}})
	st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: data[wire.FrameSize : 2*wire.FrameSize]}})
	// Wait until the last node has started receiving, then vanish.
	eventually(t, "the last node receives data", func() bool { return tmpFiles(nodes[2]) > 0 })
	cancel()
	for _, n := range nodes {
		eventually(t, "every node dropped the partial slice", n.empty)
		if _, err := n.store.Stat(id); err == nil {
			t.Errorf("node %s kept the slice", n.ID())
		}
	}
}

func tmpFiles(n *testNode) int {
	entries, _ := os.ReadDir(filepath.Join(n.dir, "tmp"))
	return len(entries)
}

func TestStoreRejectsBadHeaders(t *testing.T) {
	meta := newFakeMeta(t)
	nodes := startNodes(t, meta, 2)
	self, other := nodes[0], nodes[1]
	data, id := storetest.Data(6, 1000)
	good := func() *storagev1.StoreHeader { return pipelineHeader("t", data, id.String(), self, other) }
	tests := map[string]func(h *storagev1.StoreHeader){
		"path in ID":      func(h *storagev1.StoreHeader) { h.SliceId = "sha256-../../x" },
		"empty ID":        func(h *storagev1.StoreHeader) { h.SliceId = "" },
		"zero size":       func(h *storagev1.StoreHeader) { h.Size = 0 },
		"oversize":        func(h *storagev1.StoreHeader) { h.Size = slice.MaxSize + 1 },
		"no task":         func(h *storagev1.StoreHeader) { h.TaskId = "" },
		"huge task":       func(h *storagev1.StoreHeader) { h.TaskId = strings.Repeat("t", 10000) },
		"duplicate":       func(h *storagev1.StoreHeader) { h.Downstream = append(h.Downstream, other.peer()) },
		"self downstream": func(h *storagev1.StoreHeader) { h.Downstream = append(h.Downstream, self.peer()) },
		"no address":      func(h *storagev1.StoreHeader) { h.Downstream[0].Addr = "" },
		"no node ID":      func(h *storagev1.StoreHeader) { h.Downstream[0].NodeId = "" },
		"nil peer":        func(h *storagev1.StoreHeader) { h.Downstream = append(h.Downstream, nil) },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			h := good()
			mutate(h)
			_, err := resource.StoreSlice(context.Background(), self.client(t), h, bytes.NewReader(data))
			wantCode(t, name, err, codes.InvalidArgument)
		})
	}
	t.Run("data first", func(t *testing.T) {
		st, _ := self.client(t).Store(context.Background())
		st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: data}})
		_, err := st.CloseAndRecv()
		wantCode(t, "data first", err, codes.InvalidArgument)
	})
	t.Run("second header", func(t *testing.T) {
		st, _ := self.client(t).Store(context.Background())
		st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: good()}})
		st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: good()}})
		_, err := st.CloseAndRecv()
		wantCode(t, "second header", err, codes.InvalidArgument)
	})
	t.Run("oversize frame", func(t *testing.T) {
		big, bigID := storetest.Data(7, wire.FrameSize+1)
		st, _ := self.client(t).Store(context.Background())
		st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: pipelineHeader("t", big, bigID.String(), self)}})
		st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: big}})
		_, err := st.CloseAndRecv()
		wantCode(t, "oversize frame", err, codes.InvalidArgument)
	})
	for _, n := range nodes {
		eventually(t, "nothing stored", n.empty)
	}
}

func TestStoreOverCapacity(t *testing.T) {
	meta := newFakeMeta(t)
	small := startNode(t, meta, func(c *resource.Config, _ *disk.Options) { c.Capacity = 1 << 20 })
	data, id := storetest.Data(8, 2<<20)
	_, err := resource.StoreSlice(context.Background(), small.client(t), pipelineHeader("t", data, id.String(), small), bytes.NewReader(data))
	wantCode(t, "over capacity", err, codes.ResourceExhausted)
	eventually(t, "nothing stored", small.empty)
}

func TestFetchCorruptFile(t *testing.T) {
	// A slice file damaged on disk must not crash the node; the client gets
	// an error and moves to another holder.
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	data, id := storetest.Data(9, 2<<20)
	if _, err := resource.StoreSlice(context.Background(), n.client(t), pipelineHeader("t", data, id.String(), n), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(n.store.Path(id), 1000); err != nil {
		t.Fatal(err)
	}
	_, err := fetch(t, n, id.String(), 0, uint64(len(data)))
	wantCode(t, "truncated file", err, codes.DataLoss)
	_, err = fetch(t, n, id.String(), 0, uint64(len(data)))
	wantCode(t, "after quarantine", err, codes.NotFound)
}
