package trust

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// OpenRounds lists the rounds in progress a node is in.
type OpenRounds interface {
	FnOpenRounds(ctx context.Context, node string) ([]trustedfntypes.Round, error)
}

// Slices reads the node's stored slices: size and a reader from offset 0.
type Slices interface {
	OpenSlice(id string) (size uint64, r io.ReadCloser, err error)
}

// storageRead counts the bytes a node read to answer storage challenges:
// what proofs of storage cost an honest node.
type storageStats struct {
	challenges atomic.Uint64
	bytes      atomic.Uint64
}

// StorageStats are the challenges a node answered and the bytes it read for
// them since it started.
func (n *Node) StorageStats() (challenges, bytes uint64) {
	return n.storage.challenges.Load(), n.storage.bytes.Load()
}

// answerChallenges commits a proof in every storage challenge the node is
// in and has not answered yet (Stratosphere §4.1.6). A slice the node does
// not hold gets no answer: the chain counts it a failure.
func (n *Node) answerChallenges(ctx context.Context) {
	if n.cfg.Open == nil || n.cfg.Slices == nil {
		return
	}
	rounds, err := n.cfg.Open.FnOpenRounds(ctx, n.cfg.NodeID)
	if err != nil {
		n.cfg.Logger.Warn("trust: open rounds", "err", err)
		return
	}
	for _, r := range rounds {
		if r.SliceId == "" || r.Phase != round.Committing.String() || n.isPending(r.Id) || n.unanswerable(r.Id) {
			continue
		}
		for _, m := range r.Members {
			if m.NodeId == n.cfg.NodeID && m.Status == round.Assigned.String() {
				if err := n.prove(ctx, r); err != nil {
					n.cfg.Logger.Warn("trust: cannot answer a storage challenge", "round", r.Id, "slice", r.SliceId, "err", err)
					n.markUnanswerable(r.Id)
				}
			}
		}
	}
}

// unanswerable remembers the challenges the node could not answer, so it
// neither retries nor logs them every tick (the chain counts them failed).
func (n *Node) unanswerable(id uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cannot[id]
}

func (n *Node) markUnanswerable(id uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.cannot) > 1024 {
		clear(n.cannot)
	}
	n.cannot[id] = true
}

func (n *Node) isPending(id uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.pending[id]
	return ok
}

// prove reads the slice, hashes it with the challenge and commits.
func (n *Node) prove(ctx context.Context, r trustedfntypes.Round) error {
	size, rd, err := n.cfg.Slices.OpenSlice(r.SliceId)
	if err != nil {
		return fmt.Errorf("slice %s: %w", r.SliceId, err)
	}
	proof, err := round.StorageProofOf(r.Challenge, size, rd)
	rd.Close()
	if err != nil {
		return err
	}
	n.storage.challenges.Add(1)
	n.storage.bytes.Add(size)
	return n.commit(ctx, r.Id, "", r.Challenge, proof, 0)
}
