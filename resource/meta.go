package resource

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// Timeouts of calls to the meta node, and the registration backoff.
const (
	rpcTimeout    = 10 * time.Second
	reportTimeout = time.Minute
	minBackoff    = 100 * time.Millisecond
	maxBackoff    = 5 * time.Second
)

// metaLoop registers with the meta node, heartbeats, reports slices and
// carries out what the answers order (DESIGN §5.4), until ctx ends. Nothing
// here stops the node serving: the meta node may be down for a while.
func (n *Node) metaLoop(ctx context.Context, meta metav1.MetaServiceClient, addr string) {
	var wg sync.WaitGroup // the reporter, the verifier and the repairs
	defer wg.Wait()
	reportNow := make(chan struct{}, 1)
	wg.Go(func() { n.reportLoop(ctx, meta, reportNow) })
	wg.Go(func() { n.verifyLoop(ctx, meta) })
	wg.Go(func() { n.trafficLoop(ctx, meta, n.cfg.HeartbeatInterval) })

	heartbeat := time.NewTicker(n.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	for n.register(ctx, meta, addr) {
		select { // every registration is followed by a full report
		case reportNow <- struct{}{}:
		default:
		}
		if !n.heartbeatLoop(ctx, meta, heartbeat.C, &wg) {
			return
		}
		n.log.Info("meta node asked to register again")
	}
}

// heartbeatLoop heartbeats on every tick and obeys the answers. It returns
// true when the meta node asks the node to register again, false when ctx
// ends.
func (n *Node) heartbeatLoop(ctx context.Context, meta metav1.MetaServiceClient, tick <-chan time.Time, wg *sync.WaitGroup) bool {
	down := false // whether the last heartbeat failed: log changes only
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick:
		}
		sent := n.cfg.Now()
		resp, err := n.heartbeat(ctx, meta)
		if err != nil {
			if !down {
				n.log.Warn("heartbeat failed", "err", err)
			}
			down = true
			continue
		}
		if down {
			n.log.Info("meta node reachable again")
			down = false
		}
		n.obey(ctx, meta, resp, sent, wg)
		if resp.GetReregister() {
			return true
		}
	}
}

// register registers the node, retrying with backoff until it succeeds or
// ctx ends; it reports which.
func (n *Node) register(ctx context.Context, meta metav1.MetaServiceClient, addr string) bool {
	rec := &metav1.NodeRecord{
		NodeId:    n.ID(),
		PublicKey: n.key.Public(),
		Addr:      addr,
		Region:    n.cfg.Region,
		Capacity:  n.capacity,
	}
	req := &metav1.RegisterNodeRequest{Node: rec, Signature: n.key.Sign(identity.RegistrationBytes(rec))}
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		_, err := meta.RegisterNode(cctx, req)
		cancel()
		if err == nil {
			n.log.Info("registered with the meta node", "addr", addr, "region", n.cfg.Region, "capacity", n.capacity)
			return true
		}
		if attempt == 1 || attempt%20 == 0 {
			n.log.Warn("cannot register with the meta node; retrying", "attempt", attempt, "err", err)
		}
		// Jitter keeps a restarted meta node from being hit by every
		// resource node at once.
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (n *Node) heartbeat(ctx context.Context, meta metav1.MetaServiceClient) (*metav1.HeartbeatResponse, error) {
	u, err := n.store.Usage()
	if err != nil {
		return nil, err
	}
	load := &metav1.NodeLoad{
		Capacity:    n.capacity,
		Free:        n.capacity - min(u.Bytes, n.capacity),
		Connections: uint32(max(n.conns.Load(), 0)),
		Slices:      u.Slices,
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	return meta.Heartbeat(ctx, &metav1.HeartbeatRequest{NodeId: n.ID(), Load: load})
}

// obey carries out a heartbeat answer sent at time sent: deletions at once
// (they come from explicit deletions of files), verifications and repairs
// in the background.
//
// The meta node decided the deletions after the heartbeat left, against
// its index and the placements of open tasks. A slice stored here before
// the heartbeat left was known to it then; one stored since may belong to
// an upload placed after the decision (content addressing lets a new file
// reuse the slice a deleted one released), so it is spared. No clock but
// this node's is compared.
func (n *Node) obey(ctx context.Context, meta metav1.MetaServiceClient, resp *metav1.HeartbeatResponse, sent time.Time, wg *sync.WaitGroup) {
	for _, s := range resp.GetDeleteSlices() {
		n.deleteStoredBefore(s, sent, "deleted by the meta node")
	}
	for _, s := range resp.GetVerifySlices() {
		n.queueVerify(s)
	}
	for _, o := range resp.GetRepairs() {
		n.startRepair(ctx, meta, o, wg)
	}
}

// deleteStoredBefore deletes the slice s unless it was stored or received
// again at or after cutoff. The check and the delete are not one step: a
// store committing in between can still lose its slice, but that window is
// one Stat long. A store still writing when the delete lands fails its
// commit instead.
func (n *Node) deleteStoredBefore(s string, cutoff time.Time, reason string) {
	id, err := slice.ParseID(s)
	if err != nil {
		n.log.Warn("meta node named a malformed slice", "slice", s, "err", err)
		return
	}
	info, err := n.store.Stat(id)
	if err != nil {
		return // not here (any more): nothing to delete
	}
	if !info.Stored.Before(cutoff) {
		n.log.Debug("kept recently stored slice", "slice", id, "stored", info.Stored, "cutoff", cutoff, "reason", reason)
		return
	}
	if err := n.store.Delete(id); err != nil && !errors.Is(err, ErrNotFound) {
		n.log.Error("cannot delete slice", "slice", id, "err", err)
		return
	}
	n.log.Info("deleted slice", "slice", id, "reason", reason)
}

// reportLoop sends a full slice report every ReportInterval and whenever
// reportNow fires.
func (n *Node) reportLoop(ctx context.Context, meta metav1.MetaServiceClient, reportNow <-chan struct{}) {
	t := time.NewTicker(n.cfg.ReportInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reportNow:
		case <-t.C:
		}
		if err := n.report(ctx, meta); err != nil {
			n.log.Warn("slice report failed", "err", err)
		}
	}
}

// report tells the meta node every slice held here and deletes those it
// says nothing references, unless they are younger than the orphan grace:
// the slices of an upload in flight are not in the index yet.
func (n *Node) report(ctx context.Context, meta metav1.MetaServiceClient) error {
	var ids []string
	if err := n.store.List(func(info SliceInfo) error {
		ids = append(ids, info.ID.String())
		return nil
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	resp, err := meta.ReportSlices(ctx, &metav1.ReportSlicesRequest{NodeId: n.ID(), SliceIds: ids})
	if err != nil {
		return err
	}
	for _, s := range resp.GetDeleteSlices() {
		n.deleteStoredBefore(s, n.cfg.Now().Add(-n.cfg.OrphanGrace), "unreferenced")
	}
	return nil
}
