package meta

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/traffic"
)

// trafficFlushInterval bounds how long audited traffic waits in memory
// before it is logged to the index.
const trafficFlushInterval = 200 * time.Millisecond

// ledger is the meta node's side of the traffic ledger, which lives in the
// index so that a restart keeps the period's counts (DESIGN §5.1). Traffic
// is audited in many small pieces, so Add only buffers it, and flush logs
// the buffer as one AddTrafficCmd ("the leader logs them in batches"):
// every trafficFlushInterval, before Take, and on Close. A batch the index
// refuses stays buffered for the next flush.
//
// Add and UserBytes never wait for an apply, so handlers may call them
// holding applyMu; flush, Take and Restore apply commands and must not be
// called with applyMu held.
type ledger struct {
	apply func(*metav1.Command) (*metav1.CommandResult, error)
	ix    *index.Index
	log   *slog.Logger

	flushMu sync.Mutex // one flush, Take or Restore at a time

	mu       sync.Mutex                  // guards the buffers below
	pending  trafficBuffer               // added since the last flush
	inflight trafficBuffer               // being applied: counted until the apply returns
	restores []*metav1.RestoreTrafficCmd // restores that failed, retried at each flush
	// reporting is the users' traffic of the report taken and not yet
	// settled (Settle) or put back (Restore): out of the index, not yet
	// charged on chain, still owed.
	reporting map[string]uint64
}

func newLedger(apply func(*metav1.Command) (*metav1.CommandResult, error), ix *index.Index, log *slog.Logger) *ledger {
	return &ledger{apply: apply, ix: ix, log: log, pending: trafficBuffer{}}
}

// Add counts bytes a node served to user, proved by both (a receipt the
// node signed in a request the user signed).
func (l *ledger) Add(node, user string, bytes uint64) {
	if bytes == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending.add(node, user, bytes)
}

// UserBytes is the traffic user was served in the current period: what the
// index holds plus what is still buffered. While a flush is under way it
// may count that batch twice, never zero times, so a prepay check on it
// errs on the safe side.
func (l *ledger) UserBytes(user string) uint64 {
	l.mu.Lock()
	buffered := traffic.AddBytes(l.pending.user(user), l.inflight.user(user))
	for _, r := range l.restores {
		for _, v := range r.GetReport().GetUsers() {
			if v.GetId() == user {
				buffered = traffic.AddBytes(buffered, v.GetBytes())
			}
		}
	}
	buffered = traffic.AddBytes(buffered, l.reporting[user])
	l.mu.Unlock()
	// Read after the buffers: a batch that left them is in the index by now.
	n, err := l.ix.UserTraffic(user)
	if err != nil {
		l.log.Warn("cannot read a user's traffic from the index", "user", user, "err", err)
	}
	return traffic.AddBytes(n, buffered)
}

// Seal flushes the buffer and seals the report of a period that ended
// (TakeTrafficCmd with seal): the topN nodes and every user, whose
// counters the index clears, and the storage at the same log position;
// the other nodes keep their traffic for the next period (whitepaper
// §3.2.1). A period sealed already, by this leader or the one before,
// returns its report again. If the report is not accepted, Unseal puts its
// traffic back.
func (l *ledger) Seal(period uint64, topN int, inactive []string) (traffic.Report, error) {
	if topN <= 0 {
		return traffic.Report{}, nil
	}
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	if err := l.flushLocked(); err != nil {
		l.log.Warn("traffic not logged before the period's report; it rolls into the next", "err", err)
	}
	n := uint32(min(topN, math.MaxUint32))
	res, err := l.apply(&metav1.Command{Op: &metav1.Command_TakeTraffic{TakeTraffic: &metav1.TakeTrafficCmd{
		TopN: n, Period: period, Seal: true, Inactive: inactive}}})
	if err != nil {
		return traffic.Report{}, err
	}
	r := reportFromProto(res.GetTraffic())
	l.mu.Lock()
	l.reporting = make(map[string]uint64, len(r.Users))
	for _, v := range r.Users {
		l.reporting[v.ID] = v.Bytes
	}
	l.mu.Unlock()
	return r, nil
}

// Settle ends the report Take returned: the chain charged its users, or
// it is dropped.
func (l *ledger) Settle() {
	l.mu.Lock()
	l.reporting = nil
	l.mu.Unlock()
}

// Unseal adds the traffic of a report that was not accepted back to the
// ledger and drops the period's seal. If the index refuses it for now, it
// is retried at every flush.
func (l *ledger) Unseal(period uint64, r traffic.Report) {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	err := l.restore(restoreOf(period, r))
	l.mu.Lock()
	if err != nil {
		l.log.Warn("cannot restore traffic to the index; retrying at the next flush", "err", err)
		l.restores = append(l.restores, restoreOf(period, r))
	}
	l.reporting = nil // back in the index, or counted among the restores
	l.mu.Unlock()
}

func restoreOf(period uint64, r traffic.Report) *metav1.RestoreTrafficCmd {
	return &metav1.RestoreTrafficCmd{Report: reportProto(r), Period: period, Unseal: true}
}

func (l *ledger) restore(c *metav1.RestoreTrafficCmd) error {
	_, err := l.apply(&metav1.Command{Op: &metav1.Command_RestoreTraffic{RestoreTraffic: c}})
	return err
}

// run flushes every interval until ctx ends.
func (l *ledger) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := l.flush(); err != nil {
			l.log.Warn("cannot log traffic to the index; kept for the next flush", "err", err)
		}
	}
}

// flush logs the failed restores and the buffered traffic to the index.
func (l *ledger) flush() error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	return l.flushLocked()
}

func (l *ledger) flushLocked() error {
	if err := l.retryRestores(); err != nil {
		return err
	}
	l.mu.Lock()
	batch := l.pending
	if len(batch) == 0 {
		l.mu.Unlock()
		return nil
	}
	l.inflight, l.pending = batch, trafficBuffer{}
	l.mu.Unlock()
	rest, err := l.applyBatch(batch.entries())
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range rest {
		l.pending.add(e.GetNodeId(), e.GetUser(), e.GetBytes())
	}
	l.inflight = nil
	return err
}

// applyBatch applies entries as one AddTrafficCmd and returns those it
// could not apply. A batch the index finds malformed (a bug: every node and
// user was checked before its traffic was counted) would block the ledger
// for ever, so it is then applied an entry at a time, and only the
// malformed entries are dropped.
func (l *ledger) applyBatch(entries []*metav1.TrafficEntry) ([]*metav1.TrafficEntry, error) {
	err := l.add(entries...)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, index.ErrBadCommand) {
		return entries, err
	}
	for i, e := range entries {
		switch err := l.add(e); {
		case errors.Is(err, index.ErrBadCommand):
			l.log.Error("malformed traffic dropped", "node_id", e.GetNodeId(), "user", e.GetUser(), "bytes", e.GetBytes(), "err", err)
		case err != nil:
			return entries[i:], err
		}
	}
	return nil, nil
}

func (l *ledger) add(entries ...*metav1.TrafficEntry) error {
	_, err := l.apply(&metav1.Command{Op: &metav1.Command_AddTraffic{AddTraffic: &metav1.AddTrafficCmd{Entries: entries}}})
	return err
}

// retryRestores applies the reports whose Restore failed, oldest first.
func (l *ledger) retryRestores() error {
	for {
		l.mu.Lock()
		if len(l.restores) == 0 {
			l.mu.Unlock()
			return nil
		}
		r := l.restores[0]
		l.mu.Unlock()
		if err := l.restore(r); err != nil && !errors.Is(err, index.ErrBadCommand) {
			return err
		} else if err != nil {
			l.log.Error("malformed traffic report dropped", "nodes", len(r.GetReport().GetNodes()), "users", len(r.GetReport().GetUsers()), "err", err)
		}
		l.mu.Lock()
		l.restores = l.restores[1:]
		l.mu.Unlock()
	}
}

// trafficBuffer is traffic not yet in the index: user → node → bytes.
type trafficBuffer map[string]map[string]uint64

func (b trafficBuffer) add(node, user string, n uint64) {
	nodes := b[user]
	if nodes == nil {
		nodes = map[string]uint64{}
		b[user] = nodes
	}
	nodes[node] = traffic.AddBytes(nodes[node], n)
}

func (b trafficBuffer) user(user string) uint64 {
	var n uint64
	for _, v := range b[user] {
		n = traffic.AddBytes(n, v)
	}
	return n
}

// entries lists the buffer by node, then user, so the same traffic makes
// the same command.
func (b trafficBuffer) entries() []*metav1.TrafficEntry {
	var out []*metav1.TrafficEntry
	for user, nodes := range b {
		for node, n := range nodes {
			out = append(out, &metav1.TrafficEntry{NodeId: node, User: user, Bytes: n})
		}
	}
	slices.SortFunc(out, func(a, b *metav1.TrafficEntry) int {
		return cmp.Or(cmp.Compare(a.NodeId, b.NodeId), cmp.Compare(a.User, b.User))
	})
	return out
}

func reportProto(r traffic.Report) *metav1.TrafficReport {
	conv := func(vols []traffic.Volume) []*metav1.TrafficVolume {
		out := make([]*metav1.TrafficVolume, len(vols))
		for i, v := range vols {
			out[i] = &metav1.TrafficVolume{Id: v.ID, Bytes: v.Bytes}
		}
		return out
	}
	return &metav1.TrafficReport{Nodes: conv(r.Nodes), Users: conv(r.Users), StoredNodes: conv(r.StoredNodes), StoredUsers: conv(r.StoredUsers)}
}

func reportFromProto(r *metav1.TrafficReport) traffic.Report {
	conv := func(vols []*metav1.TrafficVolume) []traffic.Volume {
		var out []traffic.Volume
		for _, v := range vols {
			out = append(out, traffic.Volume{ID: v.GetId(), Bytes: v.GetBytes()})
		}
		return out
	}
	return traffic.Report{Nodes: conv(r.GetNodes()), Users: conv(r.GetUsers()), StoredNodes: conv(r.GetStoredNodes()), StoredUsers: conv(r.GetStoredUsers())}
}
