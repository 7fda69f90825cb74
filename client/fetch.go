package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/stratos-net/stratos/identity"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// FetchSlice is the downloader's side of Fetch (DESIGN §7): it sends the
// ticket, hands each frame to onFrame, and signs a cumulative receipt with
// key whenever a quarter of the ticket's window is unsigned, and once all
// the ticketed bytes are in. It returns the last receipt it signed (also
// on error: what the node can claim). It does not verify the bytes.
func FetchSlice(ctx context.Context, c storagev1.SliceServiceClient, t *storagev1.FetchTicket, key ed25519.PrivateKey, onFrame func([]byte) error) (*storagev1.TrafficReceipt, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch slice %s: %w", t.GetSliceId(), err)
	}
	if err := st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Ticket{Ticket: t}}); err != nil {
		return nil, fmt.Errorf("fetch slice %s: %w", t.GetSliceId(), recvErr(st, err))
	}
	var got uint64
	var last *storagev1.TrafficReceipt
	sign := func() error {
		r := &storagev1.TrafficReceipt{TaskId: t.GetTaskId(), SliceId: t.GetSliceId(), NodeId: t.GetNodeId(), Bytes: got}
		identity.SignTrafficReceipt(key, r)
		if err := st.Send(&storagev1.FetchRequest{Msg: &storagev1.FetchRequest_Receipt{Receipt: r}}); err != nil {
			return recvErr(st, err)
		}
		last = r
		return nil
	}
	every := max(t.GetWindow()/4, 1)
	for got < t.GetLength() {
		msg, err := st.Recv()
		if err == io.EOF {
			return last, fmt.Errorf("fetch slice %s: %w: the node sent %d of %d bytes", t.GetSliceId(), io.ErrUnexpectedEOF, got, t.GetLength())
		}
		if err != nil {
			return last, fmt.Errorf("fetch slice %s: %w", t.GetSliceId(), err)
		}
		d := msg.GetData()
		if uint64(len(d)) > t.GetLength()-got {
			return last, fmt.Errorf("fetch slice %s: the node sent more than the %d bytes ticketed", t.GetSliceId(), t.GetLength())
		}
		// The bytes are signed for before they are used: a receipt says
		// they arrived, not that they are right (the caller checks that).
		got += uint64(len(d))
		if got == t.GetLength() || got-last.GetBytes() >= every {
			if err := sign(); err != nil {
				return last, fmt.Errorf("fetch slice %s: %w", t.GetSliceId(), err)
			}
		}
		if err := onFrame(d); err != nil {
			// Stop politely: the node learns the downloader is done, after
			// the receipts sent so far, and ends the stream itself; at most
			// a window of bytes is drained meanwhile.
			if st.CloseSend() == nil {
				for {
					if _, rerr := st.Recv(); rerr != nil {
						break
					}
				}
			}
			return last, fmt.Errorf("fetch slice %s: %w", t.GetSliceId(), err)
		}
	}
	if err := st.CloseSend(); err != nil {
		return last, fmt.Errorf("fetch slice %s: %w", t.GetSliceId(), err)
	}
	if _, err := st.Recv(); err != io.EOF {
		if err == nil {
			err = errors.New("the node sent more than the bytes ticketed")
		}
		return last, fmt.Errorf("fetch slice %s: %w", t.GetSliceId(), err)
	}
	return last, nil
}

// recvErr is the stream's own error when a Send failed because the server
// ended it (Send then returns io.EOF and the status comes from Recv).
func recvErr(st storagev1.SliceService_FetchClient, err error) error {
	if err != io.EOF {
		return err
	}
	if _, rerr := st.Recv(); rerr != nil && rerr != io.EOF {
		return rerr
	}
	return err
}
