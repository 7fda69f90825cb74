package resource_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
		c.StoreIdleTimeout, c.HeaderTimeout = 200*time.Millisecond, 200*time.Millisecond
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

// Issue 8: "a store slot taken only after the ticket in the header is
// verified". Streams with a verified header beyond MaxStores are refused;
// a stream with a forged ticket is refused for the ticket and never holds
// a slot; streams waiting for their header wait in a line of their own,
// MaxPendingHeaders long, for HeaderTimeout at most, and a newcomer to a
// full line pushes out the stream that waited longest.
func TestMaxStores(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) {
		c.MaxStores, c.MaxPendingHeaders, c.HeaderTimeout = 2, 2, 300*time.Millisecond
	})
	data, id := storetest.Data(31, 100_000)
	h := pipelineHeader("t", data, id.String(), n)
	_, cancelFirst := openStore(t, n, headerMsg(h))
	openStore(t, n, headerMsg(h))
	eventually(t, "both streams are being served", func() bool { return tmpFiles(n) == 2 })

	st, cancel := openStore(t, n, headerMsg(h))
	wantCode(t, "a third verified stream", answer(st, cancel), codes.ResourceExhausted)
	forged := pipelineHeader("t", data, id.String(), n)
	forged.Ticket.Signature[0] ^= 1
	for range 5 { // more than MaxStores and MaxPendingHeaders: none holds a slot
		st, cancel := openStore(t, n, headerMsg(forged))
		wantCode(t, "a forged ticket", answer(st, cancel), codes.PermissionDenied)
	}
	// Silent streams wait for their header in their own line, and leave it
	// after HeaderTimeout.
	silent1, c1 := openStore(t, n)
	time.Sleep(20 * time.Millisecond) // silent1 is the oldest in the line
	silent2, c2 := openStore(t, n)
	time.Sleep(50 * time.Millisecond) // both are in the line
	silent3, c3 := openStore(t, n)
	err := answer(silent1, c1)
	wantCode(t, "the oldest silent stream, pushed out", err, codes.ResourceExhausted)
	if !strings.Contains(err.Error(), "pushed out of the line") {
		t.Fatalf("the pushed-out stream is not told why: %v", err)
	}
	wantCode(t, "a silent stream", answer(silent2, c2), codes.DeadlineExceeded)
	wantCode(t, "a silent stream", answer(silent3, c3), codes.DeadlineExceeded)

	cancelFirst() // and its slot is free again
	eventually(t, "a store is served again", func() bool {
		_, err := resource.StoreSlice(context.Background(), n.client(t), h, bytes.NewReader(data))
		return err == nil
	})
}

// Issue 8: "a total deadline on every stream, not only an idle timer". A
// client that sends a frame just often enough to beat the idle timeout is
// cut off once the slice's deadline (TransferGrace plus its size at
// MinRate) has passed, and leaves nothing behind.
func TestStoreTotalDeadline(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) {
		c.StoreIdleTimeout, c.TransferGrace, c.MinRate = 300*time.Millisecond, 500*time.Millisecond, 1<<40
	})
	data, id := storetest.Data(32, 64<<10)
	st, cancel := openStore(t, n, headerMsg(pipelineHeader("t", data, id.String(), n)))
	start := time.Now()
	go func() {
		for i := 0; i < len(data); i += 100 { // 100 bytes every 100 ms: never idle, never done
			if st.Send(dataMsg(data[i:i+100])) != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	wantCode(t, "a trickling client", answer(st, cancel), codes.DeadlineExceeded)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("cut off after %v, want about the 500 ms deadline", took)
	}
	eventually(t, "nothing is left behind", n.empty)
}

// Issue 8: fetches are bounded per node, and a client that stops reading
// mid-slice holds its fetch only until the range's deadline.
func TestFetchBounds(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) {
		c.MaxFetches, c.TransferGrace, c.MinRate = 1, 500*time.Millisecond, 1<<40
	})
	data, id := storetest.Data(33, 16<<20)
	if _, err := resource.StoreSlice(context.Background(), n.client(t), pipelineHeader("t", data, id.String(), n), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One connection for every try: a node accepts only so many from one
	// host (wire.Listen).
	c := n.client(t)
	open := func(length uint64) (storagev1.SliceService_FetchClient, error) {
		st, err := c.Fetch(ctx)
		if err != nil {
			return nil, err
		}
		tk := fetchTicket(n, "d", id.String(), 0, length)
		if err := st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Ticket{Ticket: tk}}); err != nil {
			_, rerr := st.Recv()
			return nil, fmt.Errorf("%w: %w", err, rerr)
		}
		_, err = st.Recv()
		return st, err
	}
	if _, err := open(uint64(len(data))); err != nil { // one frame, then it reads no more
		t.Fatal(err)
	}
	_, err := open(uint64(len(data)))
	wantCode(t, "a fetch beyond MaxFetches", err, codes.ResourceExhausted)
	eventually(t, "the stalled fetch ends at its deadline and frees its slot", func() bool {
		_, err := open(10)
		return err == nil
	})
}

// Issue 8: a hostile peer that keeps the wait line full of silent Store
// and Fetch streams does not keep honest ones out: each newcomer pushes
// out the oldest silent one, and an honest stream sends its first message
// at once. Silent Fetch streams hold no fetch slot either.
func TestSilentStreamsDoNotLockOut(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) {
		c.MaxPendingHeaders, c.MaxFetches, c.HeaderTimeout = 8, 2, 2*time.Second
	})
	data, id := storetest.Data(36, 100_000)
	if _, err := resource.StoreSlice(context.Background(), n.client(t), pipelineHeader("t0", data, id.String(), n), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := n.client(t)
	var silent []storagev1.SliceService_FetchClient
	for i := range 40 { // five times the line, half of them Fetch streams
		if i%2 == 0 {
			openStore(t, n)
			continue
		}
		st, err := c.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, st)
	}
	time.Sleep(100 * time.Millisecond) // the silent ones are in the line
	for i := range 3 {
		if _, err := resource.StoreSlice(context.Background(), n.client(t), pipelineHeader(fmt.Sprint("t", i+1), data, id.String(), n), bytes.NewReader(data)); err != nil {
			t.Fatalf("an honest store behind a full line of silent streams: %v", err)
		}
		got, err := fetch(t, n, id.String(), 0, uint64(len(data)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("an honest fetch behind a full line of silent streams (MaxFetches 2): %d bytes, %v", len(got), err)
		}
	}
	// Each silent fetch was pushed out by a newcomer or waited out its
	// header timeout; none was served.
	refused := 0
	for _, st := range silent {
		switch _, err := st.Recv(); status.Code(err) {
		case codes.ResourceExhausted:
			refused++
		case codes.DeadlineExceeded:
		default:
			t.Fatalf("a silent fetch: %v, want ResourceExhausted or DeadlineExceeded", err)
		}
	}
	if refused < len(silent)-4 { // at most 4 (those still in the line) time out
		t.Fatalf("%d of %d silent fetches refused or pushed out", refused, len(silent))
	}
}

// Issue 8: "a bounded number of concurrent fetches per node and per
// user": a user at its bound is refused, by the owner its tickets name,
// while another user's fetch is served; the slot frees when the fetch
// ends.
func TestFetchBoundPerUser(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) {
		c.MaxFetches, c.MaxFetchesPerUser, c.TransferGrace, c.MinRate = 8, 1, 500*time.Millisecond, 1<<40
	})
	data, id := storetest.Data(35, 16<<20)
	if _, err := resource.StoreSlice(context.Background(), n.client(t), pipelineHeader("t", data, id.String(), n), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := n.client(t)
	open := func(owner string, length uint64) error {
		st, err := c.Fetch(ctx)
		if err != nil {
			return err
		}
		tk := fetchTicket(n, "d-"+owner, id.String(), 0, length)
		tk.Owner = owner
		n.meta.key.SignFetchTicket(tk)
		if err := st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Ticket{Ticket: tk}}); err != nil {
			_, rerr := st.Recv()
			return fmt.Errorf("%w: %w", err, rerr)
		}
		_, err = st.Recv()
		return err
	}
	if err := open("alice", uint64(len(data))); err != nil { // one frame, then it reads no more
		t.Fatal(err)
	}
	err := open("alice", 10)
	wantCode(t, "alice's second fetch", err, codes.ResourceExhausted)
	if !strings.Contains(err.Error(), "alice has 1 fetches in flight") {
		t.Fatalf("the refusal does not say why: %v", err)
	}
	if err := open("bob", 10); err != nil {
		t.Fatalf("bob's fetch, while alice is at her bound: %v", err)
	}
	eventually(t, "alice's stalled fetch ends at its deadline and frees her slot", func() bool {
		return open("alice", 10) == nil
	})
}

// Issue 8: "message size limits before authentication that fit the
// message". A resource node decodes nothing larger than a data frame and
// its envelope: a 4 MiB message is refused by gRPC before any handler
// reads it, header or not.
func TestOversizeMessageRefused(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	data, id := storetest.Data(34, 4<<20)
	for name, msgs := range map[string][]*storagev1.StoreRequest{
		"as the header": {headerMsg(&storagev1.StoreHeader{TaskId: strings.Repeat("t", len(data)), SliceId: id.String(), Size: 1})},
		"as a frame":    {headerMsg(pipelineHeader("t", data, id.String(), n)), dataMsg(data)},
	} {
		t.Run(name, func(t *testing.T) {
			st, cancel := openStore(t, n, msgs...)
			wantCode(t, "a 4 MiB message", answer(st, cancel), codes.ResourceExhausted)
		})
	}
	eventually(t, "nothing is left behind", n.empty)
}
