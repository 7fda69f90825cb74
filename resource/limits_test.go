package resource_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/wire"
)

// openStore opens a Store stream to n and sends msgs, then leaves it open
// until cancel or the end of the test.
func openStore(t *testing.T, n *testNode, msgs ...*storagev1.StoreRequest) (st storagev1.SliceService_StoreClient, cancel func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := n.client(t).Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		st.Send(m) // an error shows in the answer
	}
	return st, cancel
}

// answer waits for the node to end the stream, without closing it first: a
// silent client. It gives up after a while, so a node that never ends the
// stream fails the test (with Canceled) instead of hanging it.
func answer(st storagev1.SliceService_StoreClient, cancel func()) error {
	stop := time.AfterFunc(10*time.Second, cancel)
	defer stop.Stop()
	return st.RecvMsg(new(storagev1.StoreResponse))
}

func headerMsg(h *storagev1.StoreHeader) *storagev1.StoreRequest {
	return &storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: h}}
}

func dataMsg(p []byte) *storagev1.StoreRequest {
	return &storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: p}}
}

func TestStoreIdleTimeout(t *testing.T) {
	// A client that goes silent is cut off, and leaves neither a partial
	// slice nor a reservation behind, on this node or downstream.
	meta := newFakeMeta(t)
	data, id := storetest.Data(30, 3<<20)
	short := func(c *resource.Config, _ *disk.Options) {
		c.StoreIdleTimeout = 200 * time.Millisecond
		c.Capacity = uint64(len(data)) // so a leaked reservation shows
	}
	a, b := startNode(t, meta, short), startNode(t, meta, short)
	h := pipelineHeader("t", data, id.String(), a, b)
	for name, msgs := range map[string][]*storagev1.StoreRequest{
		"before the header": nil,
		"after the header":  {headerMsg(h)},
		"mid-slice":         {headerMsg(h), dataMsg(data[:wire.FrameSize]), dataMsg(data[wire.FrameSize : 2*wire.FrameSize])},
	} {
		t.Run(name, func(t *testing.T) {
			st, cancel := openStore(t, a, msgs...)
			wantCode(t, "silent client", answer(st, cancel), codes.DeadlineExceeded)
			for _, n := range []*testNode{a, b} {
				eventually(t, "nothing is left behind", n.empty)
			}
		})
	}
	// The reservations are gone too: the whole capacity can be stored.
	if _, err := resource.StoreSlice(context.Background(), a.client(t), pipelineHeader("t", data, id.String(), a), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func TestMaxStores(t *testing.T) {
	// Store streams beyond MaxStores are refused at once, before their
	// header, so silent clients cannot pile them up.
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) { c.MaxStores = 2 })
	data, id := storetest.Data(31, 100_000)
	h := pipelineHeader("t", data, id.String(), n)
	_, cancelFirst := openStore(t, n, headerMsg(h))
	openStore(t, n, headerMsg(h))
	eventually(t, "both streams are being served", func() bool { return tmpFiles(n) == 2 })

	st, cancel := openStore(t, n) // sends nothing: the refusal comes first
	wantCode(t, "a third stream", answer(st, cancel), codes.ResourceExhausted)
	cancelFirst() // and its slot is free again
	eventually(t, "a store is served again", func() bool {
		_, err := resource.StoreSlice(context.Background(), n.client(t), h, bytes.NewReader(data))
		return err == nil
	})
}
