package resource

import (
	"context"
	"sync"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// claim is the node's side of one fetch (DESIGN §7): the downloader's
// latest receipt, and the bytes the node sent.
type claim struct {
	receipt *storagev1.TrafficReceipt
	sent    uint64
}

// Bounds of the served log: the claims it keeps until the meta node takes
// them, and how many go in one report (the meta node's limit).
const (
	maxServedClaims = 1 << 16
	claimsPerReport = 4096
)

// servedLog keeps the claims of finished fetches until they are reported.
// A later claim for the same task, slice and holder replaces an earlier
// one: receipts are cumulative.
type servedLog struct {
	mu      sync.Mutex
	pending map[[2]string]*claim
	dropped uint64 // claims not kept because the log was full
}

func (l *servedLog) keep(c *claim) {
	if c == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == nil {
		l.pending = make(map[[2]string]*claim)
	}
	k := [2]string{c.receipt.GetTaskId(), c.receipt.GetSliceId()}
	if old, ok := l.pending[k]; ok {
		if old.receipt.GetBytes() < c.receipt.GetBytes() {
			l.pending[k] = c
		}
		return
	}
	if len(l.pending) >= maxServedClaims {
		l.dropped++
		return
	}
	l.pending[k] = c
}

// take removes up to n claims.
func (l *servedLog) take(n int) []*claim {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*claim
	for k, c := range l.pending {
		if len(out) == n {
			break
		}
		out = append(out, c)
		delete(l.pending, k)
	}
	return out
}

// trafficLoop reports the served log to the meta node every interval.
func (n *Node) trafficLoop(ctx context.Context, meta metav1.MetaServiceClient, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// One last report on the way down, so a clean stop loses nothing.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rpcTimeout)
			n.reportTraffic(ctx, meta)
			cancel()
			return
		case <-t.C:
		}
		n.reportTraffic(ctx, meta)
	}
}

// reportTraffic sends what the served log holds. Claims of a report that
// failed go back to the log; the meta node counts each receipt once, so a
// report that arrived but whose answer was lost costs nothing when resent.
func (n *Node) reportTraffic(ctx context.Context, meta metav1.MetaServiceClient) {
	for {
		batch := n.served.take(claimsPerReport)
		if len(batch) == 0 {
			return
		}
		req := &metav1.ReportTrafficRequest{}
		for _, c := range batch {
			req.Claims = append(req.Claims, &metav1.TrafficClaim{Receipt: c.receipt, Sent: c.sent})
		}
		cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		resp, err := meta.ReportTraffic(cctx, req)
		cancel()
		if err != nil {
			for _, c := range batch {
				n.served.keep(c)
			}
			n.log.Warn("traffic report failed", "claims", len(batch), "err", err)
			return
		}
		n.log.Debug("reported traffic", "claims", len(batch), "counted", resp.GetCountedBytes())
	}
}
