package meta

import (
	"errors"
	"log/slog"
	"math"
	"sync"

	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/traffic"
)

// ledger is the meta node's side of the traffic ledger, which lives in the
// index (DESIGN §5.1), so a restart or a new leader finds the period's
// counts as they were. Audited traffic goes into the index with the
// command that proves it (a commit counts its upload, a download report
// its download); the raft node batches many such commands into one log
// entry, so nothing waits in memory. The ledger seals a period's report,
// and settles or unseals it once the chain answers.
type ledger struct {
	apply func(*metav1.Command) (*metav1.CommandResult, error)
	log   *slog.Logger

	mu sync.Mutex // one Seal, Settle or Unseal at a time
	// restores are unseals the log refused for now (no quorum), retried
	// before the next seal; a new leader that never saw them finds the
	// period sealed and unsettled, and its traffic still weighs on its
	// users' prepay.
	restores []*metav1.RestoreTrafficCmd
}

func newLedger(apply func(*metav1.Command) (*metav1.CommandResult, error), log *slog.Logger) *ledger {
	return &ledger{apply: apply, log: log}
}

// Add counts bytes a node served to user, proved by both, as one command.
func (l *ledger) Add(node, user string, bytes uint64) error {
	if bytes == 0 {
		return nil
	}
	_, err := l.apply(&metav1.Command{Op: &metav1.Command_AddTraffic{AddTraffic: &metav1.AddTrafficCmd{
		Entries: []*metav1.TrafficEntry{{NodeId: node, User: user, Bytes: bytes}}}}})
	return err
}

// Seal seals the report of a period that ended (TakeTrafficCmd with seal):
// the topN nodes and every user, whose counters the index clears, and the
// storage at the same log position; the other nodes keep their traffic for
// the next period (whitepaper §3.2.1). A period sealed already, by this
// leader or the one before, returns its report again, with settled set if
// the chain took it. If the report is not accepted, Unseal puts its
// traffic back.
func (l *ledger) Seal(period uint64, topN int, inactive []string) (*metav1.TrafficReport, error) {
	if topN <= 0 {
		return &metav1.TrafficReport{}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.retryRestores(); err != nil {
		l.log.Warn("cannot restore the traffic of a refused report before sealing; retrying at the next seal", "err", err)
	}
	n := uint32(min(topN, math.MaxUint32))
	res, err := l.apply(&metav1.Command{Op: &metav1.Command_TakeTraffic{TakeTraffic: &metav1.TakeTrafficCmd{
		TopN: n, Period: period, Seal: true, Inactive: inactive}}})
	if err != nil {
		return nil, err
	}
	return res.GetTraffic(), nil
}

// Settle records that the chain took period's report: its users' traffic
// no longer weighs on their prepay here, since the chain charged it.
func (l *ledger) Settle(period uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.apply(&metav1.Command{Op: &metav1.Command_SettleReport{SettleReport: &metav1.SettleReportCmd{Period: period}}}); err != nil {
		l.log.Warn("cannot record that the chain took a report; its traffic weighs on its users' prepay until the seal is dropped", "period", period, "err", err)
	}
}

// Unseal adds the traffic of a report that was not accepted back to the
// ledger and drops the period's seal. If the log refuses it for now, it is
// retried before the next seal.
func (l *ledger) Unseal(period uint64, r traffic.Report) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := &metav1.RestoreTrafficCmd{Report: reportProto(r), Period: period, Unseal: true}
	if err := l.restore(c); err != nil {
		l.log.Warn("cannot restore traffic to the index; retrying before the next seal", "err", err)
		l.restores = append(l.restores, c)
	}
}

func (l *ledger) restore(c *metav1.RestoreTrafficCmd) error {
	_, err := l.apply(&metav1.Command{Op: &metav1.Command_RestoreTraffic{RestoreTraffic: c}})
	return err
}

// retryRestores applies the reports whose Unseal failed, oldest first.
// l.mu is held.
func (l *ledger) retryRestores() error {
	for len(l.restores) > 0 {
		r := l.restores[0]
		if err := l.restore(r); err != nil && !errors.Is(err, index.ErrBadCommand) {
			return err
		} else if err != nil {
			l.log.Error("malformed traffic report dropped", "nodes", len(r.GetReport().GetNodes()), "users", len(r.GetReport().GetUsers()), "err", err)
		}
		l.restores = l.restores[1:]
	}
	return nil
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
