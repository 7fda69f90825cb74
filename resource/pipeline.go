package resource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// Forwarding: frames wait in a queue this long (frames, up to 1 MiB each)
// between the receiving goroutine and the one sending downstream, so
// receiving, writing locally and forwarding overlap while a slow downstream
// still slows the upload instead of filling memory. A downstream that takes
// no frame for stallTimeout is dropped from the pipeline.
const (
	forwardQueue = 4
	stallTimeout = 30 * time.Second
)

// Store receives one slice and forwards it down the pipeline while it
// arrives (DESIGN §6.2 step 3). It answers after its own copy is verified
// and durable and the downstream has answered.
func (s service) Store(stream storagev1.SliceService_StoreServer) error {
	n := s.n
	// A stream first waits for its header in a bounded, cheap line: it
	// holds no store slot, capacity or file until its ticket is verified
	// (issue 8), and gets HeaderTimeout to send the header, unless the line
	// fills up behind it (waitLine).
	pushedOut, leave := n.headers.enter()
	n.conns.Add(1)
	defer n.conns.Add(-1)
	in := recvWithin(stream, n.cfg.HeaderTimeout)
	defer in.stop()
	in.within(n.cfg.HeaderTimeout, pushedOut, pushedOutErr("store", "header", n.headers.max))
	h, id, err := n.readHeader(stream.Context(), in)
	leave()
	if err != nil {
		return err
	}
	select {
	case n.stores <- struct{}{}:
		defer func() { <-n.stores }()
	default:
		return status.Errorf(codes.ResourceExhausted, "store: %d stores in flight, the most this node takes", cap(n.stores))
	}
	// The whole slice within its deadline, not only each frame within the
	// idle timeout: a client trickling frames cannot hold a slot forever.
	limit := n.cfg.transferDeadline(h.GetSize())
	ctx, cancel := context.WithTimeout(stream.Context(), limit)
	defer cancel()
	in.within(n.cfg.StoreIdleTimeout, ctx.Done(), status.Errorf(codes.DeadlineExceeded, "store: %d bytes not received within %v", h.GetSize(), limit))
	return n.storeSlice(ctx, stream, h, id, in)
}

// storeSlice serves a Store stream whose header h was verified, and whose
// frames arrive through in, until ctx ends.
func (n *Node) storeSlice(ctx context.Context, stream storagev1.SliceService_StoreServer, h *storagev1.StoreHeader, id slice.ID, in *idleRecv) error {
	w, release, err := n.create(id, h.GetSize())
	if err != nil {
		return storeStatus(err)
	}
	defer release()
	defer w.Abort()

	var fw *forwarder
	if len(h.Downstream) > 0 {
		fw = n.forward(ctx, h)
		defer fw.abort() // a no-op once the forwarder has answered
	}
	if err := receive(in, w, fw); err != nil {
		n.log.Warn("store failed", "slice", id, "task", h.TaskId, "err", err)
		return err
	}
	fw.close() // the downstream commits while we do
	if err := w.Commit(); err != nil {
		n.log.Warn("store failed", "slice", id, "task", h.TaskId, "err", err)
		return storeStatus(err)
	}
	receipt := &storagev1.Receipt{TaskId: h.TaskId, SliceId: id.String(), Size: h.Size}
	n.key.SignReceipt(receipt)
	resp := &storagev1.StoreResponse{Receipts: []*storagev1.Receipt{receipt}}
	if err := fw.merge(resp); err != nil {
		n.log.Warn("downstream failed", "slice", id, "peer", fw.peer.NodeId, "err", err)
	}
	n.log.Debug("stored slice", "slice", id, "task", h.TaskId, "size", h.Size, "replicas", len(resp.Receipts))
	return stream.SendAndClose(resp)
}

// readHeader receives the header of a Store stream and checks it and its
// ticket.
func (n *Node) readHeader(ctx context.Context, in *idleRecv) (*storagev1.StoreHeader, slice.ID, error) {
	first, err := in.Recv()
	if err == io.EOF {
		return nil, slice.ID{}, status.Error(codes.InvalidArgument, "store: no header")
	}
	if err != nil {
		return nil, slice.ID{}, status.Convert(err).Err()
	}
	h := first.GetHeader()
	id, err := validateHeader(h, n.ID())
	if err != nil {
		return nil, id, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := checkTicket(h, n.ID(), n.cfg.isMeta, n.cfg.Now()); err != nil {
		return nil, id, status.Error(codes.PermissionDenied, err.Error())
	}
	if err := n.checkPeers(ctx, h); err != nil {
		return nil, id, status.Error(codes.PermissionDenied, err.Error())
	}
	return h, id, nil
}

// pushedOutErr is what a stream pushed out of the wait line is told.
func pushedOutErr(what, first string, max int) error {
	return status.Errorf(codes.ResourceExhausted, "%s: pushed out of the line of %d streams waiting for their %s by a newer one; send the %s at once", what, max, first, first)
}

// create opens a writer for the slice, holding its size against the node's
// capacity unless the slice is already here.
func (n *Node) create(id slice.ID, size uint64) (SliceWriter, func(), error) {
	release := func() {}
	if _, err := n.store.Stat(id); err != nil {
		if release, err = n.reserve(size); err != nil {
			return nil, nil, err
		}
	}
	w, err := n.store.Create(id, size)
	if err != nil {
		release()
		return nil, nil, err
	}
	return w, release, nil
}

// receive reads the data frames into w, handing each to fw first so the
// downstream copy starts before the local write.
func receive(in *idleRecv, w SliceWriter, fw *forwarder) error {
	for {
		msg, err := in.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return status.Convert(err).Err() // the client went away or went silent
		}
		d, ok := msg.Msg.(*storagev1.StoreRequest_Data)
		if !ok {
			return status.Error(codes.InvalidArgument, "store: a second header")
		}
		if len(d.Data) > wire.FrameSize {
			return status.Errorf(codes.InvalidArgument, "store: %d-byte frame, at most %d", len(d.Data), wire.FrameSize)
		}
		fw.send(d.Data) // never modified after this: shared, not copied
		if _, err := w.Write(d.Data); err != nil {
			return storeStatus(err)
		}
	}
}

// storeStatus maps a slice store error to the status a pipeline returns.
func storeStatus(err error) error {
	code := codes.Internal
	switch {
	case errors.Is(err, slice.ErrMismatch):
		code = codes.InvalidArgument
	case errors.Is(err, ErrNoSpace):
		code = codes.ResourceExhausted
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}

// forwarder streams a slice to the next node of the pipeline from its own
// goroutine. Its methods are called from the receiving goroutine only, and
// are no-ops on a nil forwarder (the last node of a pipeline).
type forwarder struct {
	peer   *storagev1.Peer
	frames chan []byte
	cancel context.CancelFunc
	done   chan struct{} // closed when resp and err are set
	resp   *storagev1.StoreResponse
	err    error

	closed  bool  // frames is closed
	stalled error // set by send when the downstream stopped taking frames
}

// forward starts sending the slice of h to h.Downstream[0], with the rest
// of the pipeline as that node's downstream.
func (n *Node) forward(ctx context.Context, h *storagev1.StoreHeader) *forwarder {
	ctx, cancel := context.WithCancel(ctx)
	fw := &forwarder{
		peer:   h.Downstream[0],
		frames: make(chan []byte, forwardQueue),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	next := &storagev1.StoreHeader{TaskId: h.TaskId, SliceId: h.SliceId, Size: h.Size, Downstream: h.Downstream[1:], Ticket: h.Ticket}
	go func() {
		defer close(fw.done)
		fw.resp, fw.err = n.sendDownstream(ctx, fw.peer, next, fw.frames)
		if fw.err != nil {
			cancel() // and stop taking frames: send sees done closed
		}
	}()
	return fw
}

// sendDownstream opens the Store stream to peer and sends the frames.
func (n *Node) sendDownstream(ctx context.Context, peer *storagev1.Peer, h *storagev1.StoreHeader, frames <-chan []byte) (*storagev1.StoreResponse, error) {
	conn, err := n.pool.get(peer.Addr, peer.NodeId)
	if err != nil {
		return nil, err
	}
	st, err := storagev1.NewSliceServiceClient(conn).Store(ctx)
	if err != nil {
		return nil, err
	}
	send := func(p []byte) error {
		err := st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: p}})
		if err == io.EOF { // the stream ended: the real error comes with the answer
			_, err = st.CloseAndRecv()
		}
		return err
	}
	if err := st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: h}}); err != nil {
		return nil, streamErr(st, err)
	}
	if err := coalesce(frames, send); err != nil {
		return nil, err
	}
	return st.CloseAndRecv()
}

func streamErr(st storagev1.SliceService_StoreClient, err error) error {
	if err == io.EOF {
		_, err = st.CloseAndRecv()
	}
	return err
}

// coalesce passes full frames through and gathers smaller ones into full
// frames, so the downstream gets wire.FrameSize frames whatever the client
// sent.
func coalesce(frames <-chan []byte, send func([]byte) error) error {
	var buf []byte
	for p := range frames {
		if len(buf) == 0 && len(p) == wire.FrameSize {
			if err := send(p); err != nil {
				return err
			}
			continue
		}
		if buf == nil {
			buf = make([]byte, 0, wire.FrameSize)
		}
		for len(p) > 0 {
			k := min(len(p), wire.FrameSize-len(buf))
			buf, p = append(buf, p[:k]...), p[k:]
			if len(buf) == wire.FrameSize {
				if err := send(buf); err != nil { // Send copies: buf is free again
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		return send(buf)
	}
	return nil
}

// send queues a frame for the downstream. If the downstream has failed the
// frame is dropped; if it takes nothing for stallTimeout it is cut off.
func (fw *forwarder) send(p []byte) {
	if fw == nil || fw.stalled != nil {
		return
	}
	select {
	case fw.frames <- p:
		return
	case <-fw.done:
		return
	default:
	}
	t := time.NewTimer(stallTimeout)
	defer t.Stop()
	select {
	case fw.frames <- p:
	case <-fw.done:
	case <-t.C:
		fw.stalled = fmt.Errorf("downstream took no data for %v", stallTimeout)
		fw.cancel()
	}
}

// close tells the forwarder the slice is complete.
func (fw *forwarder) close() {
	if fw != nil && !fw.closed {
		fw.closed = true
		close(fw.frames)
	}
}

// merge waits for the downstream's answer and adds it to resp: its receipts
// and failures, or, if the downstream failed, a Failure naming it (the nodes
// after it are simply absent). It returns the downstream's error.
func (fw *forwarder) merge(resp *storagev1.StoreResponse) error {
	if fw == nil {
		return nil
	}
	<-fw.done
	err := fw.err
	if fw.stalled != nil {
		err = fw.stalled
	}
	if err != nil {
		resp.Failures = append(resp.Failures, &storagev1.Failure{NodeId: fw.peer.NodeId, Error: err.Error()})
		return err
	}
	resp.Receipts = append(resp.Receipts, fw.resp.GetReceipts()...)
	resp.Failures = append(resp.Failures, fw.resp.GetFailures()...)
	return nil
}

// abort cancels the downstream stream, so the nodes after this one discard
// what they received, and waits for the forwarder to end.
func (fw *forwarder) abort() {
	if fw == nil {
		return
	}
	fw.cancel()
	fw.close()
	<-fw.done
}
