package resource

import (
	"context"
	"errors"
	"fmt"
	"io"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/wire"
)

// StoreSlice is the client side of a pipeline: it sends h and then the h.Size
// bytes of src to the first node in wire.FrameSize frames, and returns the
// pipeline's answer. If src fails the stream is cancelled, so no node keeps
// a partial slice.
func StoreSlice(ctx context.Context, c storagev1.SliceServiceClient, h *storagev1.StoreHeader, src io.Reader) (*storagev1.StoreResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.Store(ctx)
	if err != nil {
		return nil, fmt.Errorf("store slice %s: %w", h.GetSliceId(), err)
	}
	if err := st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: h}}); err != nil {
		return nil, fmt.Errorf("store slice %s: %w", h.GetSliceId(), streamErr(st, err))
	}
	buf := make([]byte, min(uint64(wire.FrameSize), max(h.GetSize(), 1)))
	for {
		k, rerr := io.ReadFull(src, buf)
		if k > 0 {
			// Send copies the frame before it returns, so buf can be reused.
			if err := st.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: buf[:k]}}); err != nil {
				return nil, fmt.Errorf("store slice %s: %w", h.GetSliceId(), streamErr(st, err))
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("store slice %s: read: %w", h.GetSliceId(), rerr)
		}
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return nil, fmt.Errorf("store slice %s: %w", h.GetSliceId(), err)
	}
	return resp, nil
}
