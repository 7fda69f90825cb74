package resource

import (
	"context"
	"fmt"
	"io"
	"sync"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// startRepair runs a repair order in the background, at most cfg.Repairs at
// a time; an order already running (the meta node may repeat it) is skipped.
func (n *Node) startRepair(ctx context.Context, meta metav1.MetaServiceClient, o *metav1.RepairOrder, wg *sync.WaitGroup) {
	n.mu.Lock()
	if n.repairs[o.GetTaskId()] {
		n.mu.Unlock()
		return
	}
	n.repairs[o.GetTaskId()] = true
	n.mu.Unlock()
	sem := n.repairSem
	wg.Go(func() {
		defer func() {
			n.mu.Lock()
			delete(n.repairs, o.GetTaskId())
			n.mu.Unlock()
		}()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-sem }()
		if err := n.repair(ctx, meta, o); err != nil {
			n.log.Warn("repair failed", "task", o.GetTaskId(), "slice", o.GetSliceId(), "err", err)
		}
	})
}

// repair copies a local slice to the order's targets, as the client of a
// pipeline (DESIGN §5.4), and confirms the copies the targets signed for.
func (n *Node) repair(ctx context.Context, meta metav1.MetaServiceClient, o *metav1.RepairOrder) error {
	resp, err := n.copySlice(ctx, o)
	if err != nil {
		return err
	}
	for _, f := range resp.GetFailures() {
		n.log.Warn("repair target failed", "task", o.GetTaskId(), "peer", f.GetNodeId(), "err", f.GetError())
	}
	if len(resp.GetReceipts()) == 0 {
		return fmt.Errorf("no target stored the slice")
	}
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	if _, err := meta.ConfirmRepair(cctx, &metav1.ConfirmRepairRequest{TaskId: o.GetTaskId(), Receipts: resp.GetReceipts()}); err != nil {
		return fmt.Errorf("confirm repair: %w", err)
	}
	n.log.Info("repaired slice", "task", o.GetTaskId(), "slice", o.GetSliceId(), "copies", len(resp.GetReceipts()))
	return nil
}

func (n *Node) copySlice(ctx context.Context, o *metav1.RepairOrder) (*storagev1.StoreResponse, error) {
	id, err := slice.ParseID(o.GetSliceId())
	if err != nil {
		return nil, err
	}
	targets := o.GetTargets()
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: repair order without targets", ErrBadHeader)
	}
	if err := validatePeers(targets, n.ID()); err != nil {
		return nil, err
	}
	r, err := n.store.Open(id)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if o.GetSize() != 0 && o.GetSize() != r.Size() {
		return nil, fmt.Errorf("slice %s is %d bytes here, the order says %d", id, r.Size(), o.GetSize())
	}
	conn, err := n.pool.get(targets[0].GetAddr(), targets[0].GetNodeId())
	if err != nil {
		return nil, err
	}
	h := &storagev1.StoreHeader{TaskId: o.GetTaskId(), SliceId: id.String(), Size: r.Size(), Downstream: targets[1:], Ticket: o.GetTicket()}
	resp, err := StoreSlice(ctx, storagev1.NewSliceServiceClient(conn), h, io.NewSectionReader(r, 0, int64(r.Size())))
	if err != nil {
		return nil, fmt.Errorf("copy to %s: %w", targets[0].GetNodeId(), err)
	}
	return resp, nil
}
