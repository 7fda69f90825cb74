package resource

import (
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/identity"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// Fetch streams the bytes of a slice that a fetch ticket names (DESIGN
// §7). The first message must be the ticket: signed by a meta authority,
// for this node, unexpired. Then the node sends the ticketed range in
// wire.FrameSize frames while the downloader sends cumulative receipts,
// and never gets more than the ticket's window ahead of the latest one:
// a downloader that stops signing stops receiving. The last receipt is
// kept and reported to the meta node, so the node's credit does not depend
// on the downloader reporting. The bytes are not verified here: the client
// checks them against the ID (DESIGN §6.3). A file damaged on disk ends
// the stream with DataLoss.
func (s service) Fetch(stream storagev1.SliceService_FetchServer) error {
	n := s.n
	n.conns.Add(1)
	defer n.conns.Add(-1)
	// Like a Store stream, a Fetch stream holds nothing but a place in the
	// wait line until its ticket is verified (issue 8): silent streams
	// cannot take the fetch slots.
	t, err := n.recvTicket(stream)
	if err != nil {
		return err
	}
	select {
	case n.fetches <- struct{}{}:
		defer func() { <-n.fetches }()
	default:
		return status.Errorf(codes.ResourceExhausted, "fetch: %d fetches in flight, the most this node serves; read from another holder", cap(n.fetches))
	}
	// The owner is the meta authority's word (the ticket verified), not
	// the peer's: one user's fetches cannot pass as another's.
	if !n.userFetches.take(t.GetOwner()) {
		return status.Errorf(codes.ResourceExhausted, "fetch: %s has %d fetches in flight on this node, the most one user may have; wait for one to end",
			t.GetOwner(), n.userFetches.max)
	}
	defer n.userFetches.give(t.GetOwner())
	id, err := slice.ParseID(t.GetSliceId())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	r, err := n.store.Open(id)
	if err != nil {
		return fetchStatus(err)
	}
	defer r.Close()
	size, off, length := r.Size(), t.GetOffset(), t.GetLength()
	if off > size || length > size-off {
		return status.Errorf(codes.InvalidArgument, "fetch %s: ticketed range %d+%d outside a %d-byte slice", id, off, length, size)
	}
	f := &fetch{ticket: t, acked: make(chan struct{}, 1)}
	defer func() { n.served.keep(f.claim()) }()

	// The whole range within its deadline: a client that stops reading, or
	// signing, holds a fetch slot only that long. Send blocks while the
	// client does not read, so the frames go out from their own goroutine,
	// and the handler's return, which ends the stream, unblocks it.
	limit := n.cfg.transferDeadline(length)
	sent := make(chan error, 1)
	go func() { sent <- n.serveRange(stream, f, r, id) }()
	receipts := make(chan error, 1)
	go func() { receipts <- f.readReceipts(stream) }()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for sent != nil || receipts != nil {
		select {
		case err := <-sent:
			if err != nil {
				return err
			}
			sent = nil
		case err := <-receipts:
			receipts = nil
			if err != nil {
				return err
			}
			if !f.complete() { // the downloader closed before signing for it all
				if sent == nil {
					return status.Errorf(codes.FailedPrecondition, "fetch %s: the downloader signed for %d of %d bytes", id, f.signed(), length)
				}
				<-sent // the window stops the sender; end the stream
				return status.Errorf(codes.FailedPrecondition, "fetch %s: the downloader stopped signing at %d of %d bytes", id, f.signed(), length)
			}
		case <-deadline.C:
			return status.Errorf(codes.DeadlineExceeded, "fetch %s: %d bytes not taken and signed for within %v", id, length, limit)
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		}
	}
	n.log.Debug("served slice", "slice", id, "task", t.GetTaskId(), "offset", off, "length", length)
	return nil
}

// recvTicket reads the first message of a Fetch stream, which must be a
// ticket this node may serve, within the header timeout, waiting in the
// node's wait line.
func (n *Node) recvTicket(stream storagev1.SliceService_FetchServer) (*storagev1.FetchTicket, error) {
	pushedOut, leave := n.headers.enter()
	defer leave()
	got := make(chan *storagev1.FetchRequest, 1)
	failed := make(chan error, 1)
	go func() {
		m, err := stream.Recv()
		if err != nil {
			failed <- err
			return
		}
		got <- m
	}()
	timer := time.NewTimer(n.cfg.HeaderTimeout)
	defer timer.Stop()
	var m *storagev1.FetchRequest
	select {
	case m = <-got:
	case err := <-failed:
		if errors.Is(err, io.EOF) {
			return nil, status.Error(codes.InvalidArgument, "fetch: stream closed before its ticket")
		}
		return nil, err
	case <-timer.C:
		return nil, status.Errorf(codes.DeadlineExceeded, "fetch: no ticket within %v", n.cfg.HeaderTimeout)
	case <-pushedOut:
		return nil, pushedOutErr("fetch", "ticket", n.headers.max)
	case <-stream.Context().Done():
		return nil, status.FromContextError(stream.Context().Err()).Err()
	}
	t := m.GetTicket()
	if err := identity.VerifyFetchTicket(t, n.ID(), n.cfg.isMeta, n.cfg.Now()); err != nil {
		return nil, status.Errorf(codes.PermissionDenied, "fetch: %v", err)
	}
	return t, nil
}

// fetch is one Fetch stream's state: what was sent and what the
// downloader signed for. The sender and the receipt reader share it.
type fetch struct {
	ticket *storagev1.FetchTicket
	acked  chan struct{} // a signal per new receipt, to a sender waiting for one

	mu     sync.Mutex
	sent   uint64
	latest *storagev1.TrafficReceipt
	closed bool // no more receipts will come
}

func (f *fetch) signed() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latest.GetBytes()
}

func (f *fetch) complete() bool { return f.signed() == f.ticket.GetLength() }

// claim is what the node reports of this fetch: the latest receipt and
// what it sent. Nil if the downloader signed for nothing.
func (f *fetch) claim() *claim {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.latest.GetBytes() == 0 {
		return nil
	}
	return &claim{receipt: f.latest, sent: f.sent}
}

// readReceipts takes the downloader's receipts until it closes its side:
// each must be for this ticket, signed with its receipt key, cumulative
// and for no more than was sent. A bad one ends the stream.
func (f *fetch) readReceipts(stream storagev1.SliceService_FetchServer) error {
	defer func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		f.signal()
	}()
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r := m.GetReceipt()
		if r == nil {
			return status.Error(codes.InvalidArgument, "fetch: a second ticket; after the ticket a downloader sends receipts")
		}
		if err := identity.ReceiptFor(f.ticket, r); err != nil {
			return status.Errorf(codes.InvalidArgument, "fetch: %v", err)
		}
		f.mu.Lock()
		prev, sent := f.latest.GetBytes(), f.sent
		if r.GetBytes() > prev && r.GetBytes() <= sent {
			f.latest = r
		}
		f.mu.Unlock()
		if r.GetBytes() > sent {
			return status.Errorf(codes.InvalidArgument, "fetch: a receipt for %d bytes, %d sent", r.GetBytes(), sent)
		}
		f.signal()
	}
}

func (f *fetch) signal() {
	select {
	case f.acked <- struct{}{}:
	default:
	}
}

// waitWindow blocks until sending k more bytes keeps the unsigned bytes
// within the ticket's window; false if the downloader closed its side
// first (it will sign for nothing more).
func (f *fetch) waitWindow(ctx interface{ Done() <-chan struct{} }, k uint64) bool {
	for {
		f.mu.Lock()
		ok := f.sent+k-f.latest.GetBytes() <= max(f.ticket.GetWindow(), k)
		closed := f.closed
		f.mu.Unlock()
		if ok {
			return true
		}
		if closed {
			return false
		}
		select {
		case <-f.acked:
		case <-ctx.Done():
			return false
		}
	}
}

func fetchStatus(err error) error {
	code := codes.Internal
	switch {
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrCorrupt):
		code = codes.DataLoss
	case errors.Is(err, io.ErrUnexpectedEOF):
		code = codes.DataLoss
	}
	return status.Error(code, err.Error())
}

// serveRange sends the ticketed bytes of r in frames, each only once the
// window allows it.
func (n *Node) serveRange(stream storagev1.SliceService_FetchServer, f *fetch, r SliceReader, id slice.ID) error {
	off, length := f.ticket.GetOffset(), f.ticket.GetLength()
	buf := make([]byte, min(length, wire.FrameSize))
	for length > 0 {
		p := buf[:min(length, uint64(len(buf)))]
		if !f.waitWindow(stream.Context(), uint64(len(p))) {
			return nil // the receipt reader ends the stream
		}
		if k, err := r.ReadAt(p, int64(off)); k < len(p) {
			n.log.Error("slice file unreadable", "slice", id, "offset", off, "err", err)
			return status.Errorf(codes.DataLoss, "fetch %s: read at %d: %v", id, off, err)
		}
		f.mu.Lock()
		f.sent += uint64(len(p))
		f.mu.Unlock()
		// Send copies the frame before it returns, so buf can be reused.
		if err := stream.Send(&storagev1.FetchResponse{Data: p}); err != nil {
			return err
		}
		off += uint64(len(p))
		length -= uint64(len(p))
	}
	return nil
}

// userSlots counts the Fetch streams in flight per user, at most max each
// (issue 8: "a bounded number of concurrent fetches per node and per
// user"). A user with none holds no entry, so the map stays as small as
// the fetches in flight.
type userSlots struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// take counts one more fetch of user, unless it has max already.
func (u *userSlots) take(user string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[user] >= u.max {
		return false
	}
	u.n[user]++
	return true
}

// give ends one fetch of user that take counted.
func (u *userSlots) give(user string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[user]--; u.n[user] <= 0 {
		delete(u.n, user)
	}
}
