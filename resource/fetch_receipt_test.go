package resource_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/identity"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/resource/storetest"
)

// Issue 8, DESIGN §7: a node serves bytes only against a ticket a meta
// authority signed, for this node, unexpired, and only the ticketed bytes.
func TestFetchNeedsTicket(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	other := startNode(t, meta)
	data, _ := storetest.Data(31, 3<<20+5)
	id := put(t, data, n)
	size := uint64(len(data))
	try := func(tk *storagev1.FetchTicket) error {
		_, err := client.FetchSlice(context.Background(), n.client(t), tk, testReceiptKey, func([]byte) error { return nil })
		return err
	}
	wantCode(t, "no ticket", try(nil), codes.PermissionDenied)
	wantCode(t, "a ticket for another node", try(fetchTicket(other, "d", id.String(), 0, size)), codes.PermissionDenied)
	forged := fetchTicket(n, "d", id.String(), 0, 1)
	forged.Length = size // signed for one byte
	wantCode(t, "a ticket changed after signing", try(forged), codes.PermissionDenied)
	stranger := fetchTicket(n, "d", id.String(), 0, size)
	mustKey(t).SignFetchTicket(stranger)
	wantCode(t, "a ticket signed by a key that is not a meta node's", try(stranger), codes.PermissionDenied)
	expired := &storagev1.FetchTicket{TaskId: "d", SliceId: id.String(), Length: size, NodeId: n.key.ID(),
		ReceiptKey: testReceiptKey.Public().(ed25519.PublicKey), Window: testWindow, ExpiresUnixNano: time.Now().Add(-time.Second).UnixNano()}
	meta.key.SignFetchTicket(expired)
	wantCode(t, "an expired ticket", try(expired), codes.PermissionDenied)

	// Only the ticketed range.
	got, err := fetch(t, n, id.String(), 1<<20, 1000)
	if err != nil || !bytes.Equal(got, data[1<<20:1<<20+1000]) {
		t.Fatalf("ranged fetch: %d bytes, %v", len(got), err)
	}
}

// DESIGN §7: a downloader never receives more than a window's worth of
// bytes it has not signed for; a node stops sending and, at the range's
// deadline, ends the stream.
func TestFetchStopsWithoutReceipts(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) { c.TransferGrace, c.MinRate = 2*time.Second, 1<<40 })
	data, id := storetest.Data(35, 16<<20)
	put(t, data, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := n.client(t).Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Ticket{Ticket: fetchTicket(n, "d", id.String(), 0, uint64(len(data)))}}); err != nil {
		t.Fatal(err)
	}
	var got int
	for {
		msg, err := st.Recv()
		if err != nil {
			wantCode(t, "a downloader that signs nothing", err, codes.DeadlineExceeded)
			break
		}
		got += len(msg.GetData())
	}
	if got > testWindow {
		t.Fatalf("received %d bytes without signing for any; the window is %d", got, testWindow)
	}
	if got == 0 {
		t.Fatal("nothing sent before the first receipt: a window of bytes may go ahead")
	}
}

// A receipt that is not for the ticket, not signed with its key, or for
// more bytes than were sent ends the fetch.
func TestFetchRefusesBadReceipts(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	data, id := storetest.Data(36, 16<<20)
	put(t, data, n)
	tk := fetchTicket(n, "d", id.String(), 0, uint64(len(data)))
	for name, r := range map[string]*storagev1.TrafficReceipt{
		"for more than sent":   {TaskId: "d", SliceId: id.String(), NodeId: n.key.ID(), Bytes: 2 * testWindow},
		"for another task":     {TaskId: "e", SliceId: id.String(), NodeId: n.key.ID(), Bytes: 1},
		"with a bad signature": {TaskId: "d", SliceId: id.String(), NodeId: n.key.ID(), Bytes: 1, Signature: make([]byte, 64)},
	} {
		t.Run(name, func(t *testing.T) {
			if r.Signature == nil {
				identity.SignTrafficReceipt(testReceiptKey, r)
			}
			st, err := n.client(t).Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Ticket{Ticket: tk}})
			if _, err := st.Recv(); err != nil { // the first frame is in
				t.Fatal(err)
			}
			st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Receipt{Receipt: r}})
			for err == nil {
				_, err = st.Recv()
			}
			wantCode(t, "a bad receipt", err, codes.InvalidArgument)
		})
	}
}

// DESIGN §7: the node keeps the latest receipt of what it served and
// reports it to the meta node itself, with what it sent, so its credit
// does not depend on the downloader reporting.
func TestFetchReportsReceipt(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	data, _ := storetest.Data(31, 3<<20+5)
	id := put(t, data, n)
	got, err := fetch(t, n, id.String(), 0, uint64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("fetch: %d bytes, %v", len(got), err)
	}
	eventually(t, "the node reports the downloader's receipt", func() bool { return len(meta.trafficClaims()) == 1 })
	c := meta.trafficClaims()[0]
	r := c.GetReceipt()
	if r.GetTaskId() != "d1" || r.GetSliceId() != id.String() || r.GetNodeId() != n.key.ID() || r.GetBytes() != uint64(len(data)) || c.GetSent() != uint64(len(data)) {
		t.Fatalf("claim %v", c)
	}
	if err := identity.VerifyTrafficReceipt(testReceiptKey.Public().(ed25519.PublicKey), r); err != nil {
		t.Fatal(err)
	}
	// A downloader that stops part way: the node claims what it signed.
	ctx, cancel := context.WithCancel(context.Background())
	var seen uint64
	_, err = client.FetchSlice(ctx, n.client(t), fetchTicket(n, "d2", id.String(), 0, uint64(len(data))), testReceiptKey, func(p []byte) error {
		seen += uint64(len(p))
		if seen >= 2<<20 {
			return errStop
		}
		return nil
	})
	cancel()
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	eventually(t, "the node reports the partial download", func() bool { return len(meta.trafficClaims()) == 2 })
	if c := meta.trafficClaims()[1]; c.GetReceipt().GetTaskId() != "d2" || c.GetReceipt().GetBytes() == 0 || c.GetReceipt().GetBytes() > seen {
		t.Fatalf("partial claim %v after %d bytes received", c, seen)
	}
}

var errStop = errors.New("stop")
