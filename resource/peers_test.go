package resource_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/wire"
)

// fakePeer is a resource node that stores nothing: it records which node
// called its Store and signs a receipt.
type fakePeer struct {
	storagev1.UnimplementedSliceServiceServer
	key  *identity.Key
	addr string

	mu      sync.Mutex
	callers []string // wire.PeerID of each Store; "" if the caller showed none
}

func startFakePeer(t *testing.T) *fakePeer {
	t.Helper()
	p := &fakePeer{key: mustKey(t)}
	srv, err := wire.NewServer(p.key, wire.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	storagev1.RegisterSliceServiceServer(srv, p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return p
}

func (p *fakePeer) peer() *storagev1.Peer { return &storagev1.Peer{NodeId: p.key.ID(), Addr: p.addr} }

func (p *fakePeer) Store(stream storagev1.SliceService_StoreServer) error {
	id, _ := wire.PeerID(stream.Context())
	p.mu.Lock()
	p.callers = append(p.callers, id)
	p.mu.Unlock()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	for {
		if _, err := stream.Recv(); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	h := first.GetHeader()
	r := &storagev1.Receipt{TaskId: h.GetTaskId(), SliceId: h.GetSliceId(), Size: h.GetSize()}
	p.key.SignReceipt(r)
	return stream.SendAndClose(&storagev1.StoreResponse{Receipts: []*storagev1.Receipt{r}})
}

func (p *fakePeer) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.callers...)
}

func TestPeersSeeNodeCertificate(t *testing.T) {
	// DESIGN §3: node-to-node connections carry the caller's node key, for
	// pipeline forwarding and repair copies alike.
	meta := newFakeMeta(t)
	n, p := startNode(t, meta), startFakePeer(t)
	data, id := storetest.Data(20, 100_000)
	both := []*storagev1.Peer{n.peer(), p.peer()}
	h := &storagev1.StoreHeader{TaskId: "up", SliceId: id.String(), Size: uint64(len(data)), Downstream: both[1:],
		Ticket: ticket(meta.key, "up", id.String(), uint64(len(data)), both)}
	resp, err := resource.StoreSlice(context.Background(), n.client(t), h, bytes.NewReader(data))
	if err != nil || len(resp.Receipts) != 2 {
		t.Fatalf("store through the fake peer: %v, %v", resp, err)
	}
	meta.answer(n.ID(), &metav1.HeartbeatResponse{Repairs: []*metav1.RepairOrder{{
		TaskId: "repair", SliceId: id.String(), Size: uint64(len(data)), Targets: both[1:],
		Ticket: ticket(meta.key, "repair", id.String(), uint64(len(data)), both[1:]),
	}}})
	eventually(t, "the repair is confirmed", func() bool { return meta.count(func(m *fakeMeta) int { return len(m.confirms) }) > 0 })
	if got := p.seen(); len(got) != 2 || got[0] != n.ID() || got[1] != n.ID() {
		t.Fatalf("the peer saw callers %q, want the node %s twice", got, n.ID())
	}
}
