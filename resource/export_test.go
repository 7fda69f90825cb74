package resource

import (
	"context"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// Hooks for the external tests of the verify orders.

const VerifyQueue = verifyQueue

func (n *Node) QueueVerify(s string) { n.queueVerify(s) }

// QueuedVerifies reports the orders queued and those marked in flight.
func (n *Node) QueuedVerifies() (queued, marked int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.verifyQ), len(n.verifying)
}

func (n *Node) VerifyOrder(ctx context.Context, meta metav1.MetaServiceClient, id slice.ID) {
	n.verifyOrder(ctx, meta, id)
}

// Hooks for the tests of the scrubber.

// ScrubClock is the clock the scrubber paces itself by.
type ScrubClock = scrubClock

// SetScrubClock replaces the scrubber's clock; call it before Run.
func (n *Node) SetScrubClock(c ScrubClock) { n.clock = c }

// ScrubPass runs one scrub pass, reporting bad copies to meta.
func (n *Node) ScrubPass(ctx context.Context, meta metav1.MetaServiceClient) error {
	return n.scrubPass(ctx, meta)
}

// ScrubChunk is the most the scrubber reads at once: its rate limit's burst.
const ScrubChunk = scrubChunk
