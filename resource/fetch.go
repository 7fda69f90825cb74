package resource

import (
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// Fetch streams a slice, or a byte range of it, in wire.FrameSize frames.
// The bytes are not verified here: the client checks them against the ID
// (DESIGN §6.3). A file damaged on disk ends the stream with DataLoss.
func (s service) Fetch(req *storagev1.FetchRequest, stream storagev1.SliceService_FetchServer) error {
	n := s.n
	select {
	case n.fetches <- struct{}{}:
		defer func() { <-n.fetches }()
	default:
		return status.Errorf(codes.ResourceExhausted, "fetch: %d fetches in flight, the most this node serves; read from another holder", cap(n.fetches))
	}
	n.conns.Add(1)
	defer n.conns.Add(-1)

	id, err := slice.ParseID(req.GetSliceId())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	r, err := n.store.Open(id)
	if err != nil {
		return fetchStatus(err)
	}
	defer r.Close()
	size, off, length := r.Size(), req.GetOffset(), req.GetLength()
	if off > size || length > size-off {
		return status.Errorf(codes.InvalidArgument, "fetch %s: range %d+%d outside a %d-byte slice", id, off, length, size)
	}
	if length == 0 {
		length = size - off
	}
	served := length
	// The whole range within its deadline: a client that stops reading
	// holds a fetch slot only that long. Send blocks while the client does
	// not read, so the frames go out from their own goroutine and the
	// handler's return, which ends the stream, unblocks it.
	limit := n.cfg.transferDeadline(length)
	sent := make(chan error, 1)
	go func() { sent <- n.serveRange(stream, r, id, off, length) }()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	select {
	case err := <-sent:
		if err != nil {
			return err
		}
	case <-deadline.C:
		return status.Errorf(codes.DeadlineExceeded, "fetch %s: %d bytes not taken within %v", id, served, limit)
	case <-stream.Context().Done():
		return status.FromContextError(stream.Context().Err()).Err()
	}
	n.log.Debug("served slice", "slice", id, "task", req.GetTaskId(), "offset", req.GetOffset(), "length", req.GetLength())
	// The node's side of the traffic (DESIGN §7): a signed receipt for the
	// bytes served, which the downloader reports with its own signature.
	if t := req.GetTaskId(); t != "" && len(t) <= maxTaskID {
		receipt := &storagev1.Receipt{TaskId: t, SliceId: id.String(), Size: served}
		n.key.SignFetchReceipt(receipt)
		return stream.Send(&storagev1.FetchResponse{Receipt: receipt})
	}
	return nil
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

// serveRange sends length bytes of r from off in frames.
func (n *Node) serveRange(stream storagev1.SliceService_FetchServer, r SliceReader, id slice.ID, off, length uint64) error {
	buf := make([]byte, min(length, wire.FrameSize))
	for length > 0 {
		p := buf[:min(length, uint64(len(buf)))]
		if k, err := r.ReadAt(p, int64(off)); k < len(p) {
			n.log.Error("slice file unreadable", "slice", id, "offset", off, "err", err)
			return status.Errorf(codes.DataLoss, "fetch %s: read at %d: %v", id, off, err)
		}
		// Send copies the frame before it returns, so buf can be reused.
		if err := stream.Send(&storagev1.FetchResponse{Data: p}); err != nil {
			return err
		}
		off += uint64(len(p))
		length -= uint64(len(p))
	}
	return nil
}
