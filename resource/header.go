package resource

import (
	"errors"
	"fmt"
	"time"

	"github.com/stratos-net/stratos/identity"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// Bounds on a StoreHeader, which comes from anyone who can reach the node.
const (
	maxDownstream = 16
	maxTaskID     = 256
	maxNodeID     = 128
	maxAddr       = 256
)

// ErrBadHeader is wrapped by every error of header validation.
var ErrBadHeader = errors.New("bad store header")

// validateHeader checks the header of a Store stream received by node self
// and returns the slice ID it announces.
func validateHeader(h *storagev1.StoreHeader, self string) (slice.ID, error) {
	if h == nil {
		return slice.ID{}, fmt.Errorf("%w: the first message is not a header", ErrBadHeader)
	}
	id, err := slice.ParseID(h.GetSliceId())
	if err != nil {
		return id, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	if h.GetSize() == 0 || h.GetSize() > slice.MaxSize {
		return id, fmt.Errorf("%w: size %d outside 1..%d", ErrBadHeader, h.GetSize(), slice.MaxSize)
	}
	if t := h.GetTaskId(); t == "" || len(t) > maxTaskID {
		return id, fmt.Errorf("%w: task ID must have 1..%d bytes, has %d", ErrBadHeader, maxTaskID, len(t))
	}
	if err := validatePeers(h.GetDownstream(), self); err != nil {
		return id, err
	}
	return id, nil
}

// validatePeers checks a pipeline as seen from node self: a bounded list of
// distinct nodes, none of them self.
func validatePeers(peers []*storagev1.Peer, self string) error {
	if len(peers) > maxDownstream {
		return fmt.Errorf("%w: %d downstream nodes, at most %d", ErrBadHeader, len(peers), maxDownstream)
	}
	seen := make(map[string]bool, len(peers))
	for i, p := range peers {
		id, addr := p.GetNodeId(), p.GetAddr()
		switch {
		case id == "" || len(id) > maxNodeID:
			return fmt.Errorf("%w: downstream %d: node ID must have 1..%d bytes", ErrBadHeader, i, maxNodeID)
		case addr == "" || len(addr) > maxAddr:
			return fmt.Errorf("%w: downstream %d: address must have 1..%d bytes", ErrBadHeader, i, maxAddr)
		case id == self:
			return fmt.Errorf("%w: downstream %d is this node", ErrBadHeader, i)
		case seen[id]:
			return fmt.Errorf("%w: node %.16s appears twice downstream", ErrBadHeader, id)
		}
		seen[id] = true
	}
	return nil
}

// checkTicket makes sure a meta node of the cluster allowed this store: the
// ticket is its signature, unexpired at now, covers this task, slice and
// size, names this node, and names every node downstream at the address the
// header gives. So a node stores only what the meta node placed, and
// connects only to nodes the meta node chose.
func checkTicket(h *storagev1.StoreHeader, self string, isMeta func(string) bool, now time.Time) error {
	t := h.GetTicket()
	if err := identity.VerifyTicket(t, isMeta, now); err != nil {
		return err
	}
	if t.GetTaskId() != h.GetTaskId() || t.GetSliceId() != h.GetSliceId() || t.GetSize() != h.GetSize() {
		return fmt.Errorf("%w: it covers task %s slice %s (%d bytes), not this store", identity.ErrBadTicket, t.GetTaskId(), t.GetSliceId(), t.GetSize())
	}
	allowed := make(map[string]string, len(t.GetNodes()))
	for _, p := range t.GetNodes() {
		allowed[p.GetNodeId()] = p.GetAddr()
	}
	if _, ok := allowed[self]; !ok {
		return fmt.Errorf("%w: it does not name this node", identity.ErrBadTicket)
	}
	for _, p := range h.GetDownstream() {
		if addr, ok := allowed[p.GetNodeId()]; !ok || addr != p.GetAddr() {
			return fmt.Errorf("%w: downstream node %.16s at %s is not in it", identity.ErrBadTicket, p.GetNodeId(), p.GetAddr())
		}
	}
	return nil
}
