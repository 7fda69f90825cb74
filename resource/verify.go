package resource

import (
	"context"
	"errors"
	"fmt"
	"io"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// verifyQueue bounds the verify orders waiting. An order dropped when the
// queue is full is not lost for good: the client that found the slice bad
// reports it again, and the meta node asks again.
const verifyQueue = 1024

// queueVerify queues a verify order (a client reported the slice bad here,
// DESIGN §6.3) unless its ID is malformed, it is already queued or being
// verified, or the queue is full.
func (n *Node) queueVerify(s string) {
	id, err := slice.ParseID(s)
	if err != nil {
		n.log.Debug("ignored verify order for a malformed slice ID", "slice", s, "err", err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.verifying[id] {
		return
	}
	select {
	case n.verifyQ <- id:
		n.verifying[id] = true
	default:
		n.log.Warn("verify queue full; dropped the order", "slice", id)
	}
}

// verifyLoop works through the verify orders one at a time until ctx ends:
// hashing a whole slice costs disk reads that uploads and downloads need
// more, and clients can cause orders at will.
func (n *Node) verifyLoop(ctx context.Context, meta metav1.MetaServiceClient) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-n.verifyQ:
			n.verifyOrder(ctx, meta, id)
			n.mu.Lock()
			delete(n.verifying, id)
			n.mu.Unlock()
		}
	}
}

// verifyOrder re-hashes a slice a client reported bad. A missing or corrupt
// copy is reported to the meta node, which drops the replica and repairs
// it; a corrupt one is first taken out of service. A good copy needs no
// answer: the client's report was wrong, or its bytes were damaged on the
// way.
func (n *Node) verifyOrder(ctx context.Context, meta metav1.MetaServiceClient, id slice.ID) {
	_, err := n.verifySlice(id, nil)
	switch {
	case err == nil:
		n.log.Debug("slice reported bad verified", "slice", id)
	case errors.Is(err, ErrNotFound):
		n.reportBadReplica(ctx, meta, &metav1.ReportBadReplicaRequest{SliceId: id.String(), NodeId: n.ID(), Missing: true, Reason: "slice not held"})
	case isCorrupt(err):
		n.dropCorrupt(ctx, meta, id, err)
	default: // e.g. an I/O error: not proof the copy is bad
		n.log.Warn("cannot verify slice", "slice", id, "err", err)
	}
}

// isCorrupt reports whether err proves a stored copy bad.
func isCorrupt(err error) bool {
	return errors.Is(err, slice.ErrMismatch) || errors.Is(err, ErrCorrupt)
}

// dropCorrupt takes a copy found corrupt (err says how) out of service and
// reports it, so the meta node drops the replica and repairs the slice from
// a good holder (DESIGN §5.4). Verify orders and the scrubber both end here.
func (n *Node) dropCorrupt(ctx context.Context, meta metav1.MetaServiceClient, id slice.ID, err error) {
	reason := "verification failed: " + err.Error()
	// Report even if removal fails: the replica is bad either way.
	if err := n.removeBad(id, reason); err != nil {
		n.log.Error("cannot remove corrupt slice", "slice", id, "err", err)
	}
	n.reportBadReplica(ctx, meta, &metav1.ReportBadReplicaRequest{SliceId: id.String(), NodeId: n.ID(), Reason: reason})
}

// reportBadReplica tells the meta node a replica here is lost. Coming from
// the node itself, proved by its certificate, the report is taken as fact.
func (n *Node) reportBadReplica(ctx context.Context, meta metav1.MetaServiceClient, req *metav1.ReportBadReplicaRequest) {
	n.log.Warn("reporting bad replica", "slice", req.GetSliceId(), "missing", req.GetMissing(), "reason", req.GetReason())
	cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	if _, err := meta.ReportBadReplica(cctx, req); err != nil {
		// The next slice report tells the meta node the slice is gone.
		n.log.Warn("cannot report bad replica", "slice", req.GetSliceId(), "err", err)
	}
}

// verifySlice re-hashes the stored slice against its ID and returns the
// bytes it read. A file cut short reads short and fails the hash. pace, if
// not nil, is called before each read with its size and may wait, or end
// the check with its error.
func (n *Node) verifySlice(id slice.ID, pace func(size int) error) (uint64, error) {
	r, err := n.store.Open(id)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	v := slice.NewVerifier(id)
	var src io.Reader = io.NewSectionReader(r, 0, int64(r.Size()))
	if pace != nil {
		src = &pacedReader{r: src, left: int64(r.Size()), pace: pace}
	}
	if _, err := io.Copy(v, src); err != nil {
		return v.Size(), fmt.Errorf("read slice %s: %w", id, err)
	}
	return v.Size(), v.Verify()
}

// removeBad takes a corrupt slice out of service: into quarantine if the
// store keeps one, so an operator can look for the fault, else deleted.
func (n *Node) removeBad(id slice.ID, reason string) error {
	var err error
	if q, ok := n.store.(Quarantiner); ok {
		err = q.Quarantine(id, reason)
	} else {
		err = n.store.Delete(id)
	}
	if errors.Is(err, ErrNotFound) { // the store set it aside already
		return nil
	}
	return err
}
