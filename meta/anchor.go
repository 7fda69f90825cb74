package meta

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/traffic"
)

// Anchorer posts the index root of a period on chain (x/sds; DESIGN §4,
// §5.2: "the index root anchored on chain every period makes a tampered
// index visible").
type Anchorer interface {
	AnchorIndex(ctx context.Context, metaNodeID string, period uint64, root []byte) error
}

// Reporter submits a period's volume report to x/pot (DESIGN §7) with the
// signatures of the meta authorities over SignBytes.
type Reporter interface {
	SignBytes(period uint64, r traffic.Report) []byte
	ReportVolume(ctx context.Context, period uint64, r traffic.Report, sigs []traffic.Signature) error
}

// ChainPeriod is the ledger period the chain is in (x/pot numbers periods
// from block time, so every meta node of a cluster sees the same numbers).
type ChainPeriod struct {
	Current      uint64        // the period the latest block falls in; not ended
	LastReported uint64        // the latest period with an accepted report,
	Reported     bool          // if any
	Length       time.Duration // of a period
}

// PeriodSource tells which ledger period the chain is in.
type PeriodSource interface {
	Period(ctx context.Context) (ChainPeriod, error)
}

// periodLoop runs the work of each ledger period once it ends: the volume
// report of its traffic and the anchor of the index root its seal took at
// the same log position (index.SealedRoot). With a chain
// (Config.Periods) the chain's periods are used: the period just ended is
// reported once the chain's block time has passed its end, and x/pot takes
// each period once, in order. Without one, periods are wall-clock time
// divided by LedgerPeriod.
func (s *Server) periodLoop(ctx context.Context) {
	tick := s.cfg.LedgerPeriod / 4
	t := time.NewTicker(tick)
	defer t.Stop()
	current := s.period()
	var a anchoring
	// The period whose report the chain refused: it is not submitted again
	// (a refusal in a block pays its fee each time); its traffic rolls into
	// the next period's report.
	var refusedPeriod uint64
	var anyRefused bool
	if s.cfg.Anchors != nil && s.cfg.Reporter == nil {
		s.log.Warn("index anchors are taken by the seal of each period's volume report; without a reporter there is none to anchor")
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.leading() {
			continue
		}
		now := s.period()
		if s.cfg.Periods != nil {
			cp, err := s.cfg.Periods.Period(ctx)
			if err != nil {
				s.log.Warn("cannot read the ledger period from the chain", "err", err)
				continue
			}
			if d := cp.Length / 4; d > 0 && d != tick {
				tick = d
				t.Reset(tick)
			}
			s.chain.setPeriod(cp.Length)
			if ended := cp.Current; ended > 0 && (!cp.Reported || ended-1 > cp.LastReported) && (!anyRefused || refusedPeriod != ended-1) {
				if err := s.report(ctx, ended-1); refused(err) {
					refusedPeriod, anyRefused = ended-1, true
				}
			}
			if cp.Current > 0 {
				a.due(cp.Current - 1) // again each tick: its seal may come later
			}
		} else if now != current {
			s.report(ctx, current)
			a.due(current)
			current = now
		}
		if s.cfg.Anchors != nil {
			s.anchorDue(ctx, &a)
		}
	}
}

// anchoring is the periodLoop's state of anchors: the ended period whose
// root is to be anchored, and the last one anchored.
type anchoring struct {
	next, done       uint64
	pending, anyDone bool
}

func (a *anchoring) due(period uint64) {
	if !a.anyDone || a.done != period {
		a.next, a.pending = period, true
	}
}

// anchorDue anchors the period due, if it is sealed. A period not sealed
// (its report was not sealed, or was refused and unsealed) has no root to
// anchor; when it is sealed again, the chain mode finds it due again.
func (s *Server) anchorDue(ctx context.Context, a *anchoring) {
	if !a.pending {
		return
	}
	switch err := s.anchor(ctx, a.next); {
	case errors.Is(err, index.ErrNotFound):
		a.pending = false
	case refused(err):
		// The same anchor would be refused again, and a refusal in a block
		// pays its fee each time: this period goes unanchored.
		s.log.Error("the chain refused the index anchor; it is not sent again", "period", a.next, "err", err)
		a.pending = false
	case err != nil:
		s.log.Warn("cannot anchor the index on chain; again at the next tick", "period", a.next, "err", err)
	default:
		a.done, a.anyDone, a.pending = a.next, true, false
	}
}

func (s *Server) period() uint64 { return uint64(s.now().UnixNano() / int64(s.cfg.LedgerPeriod)) }

// refused reports whether err says the chain ran a transaction and refused
// it (chainclient.Refusal has a Refused method): sending it again would be
// refused again (issue 8: "a failed anchor or report is not retried in a
// loop that pays a fee each time"). Any other error (the chain unreachable,
// the block not seen in time) may pass on the next try.
func refused(err error) bool {
	var r interface{ Refused() bool }
	return errors.As(err, &r) && r.Refused()
}

// report submits the traffic of a period that ended and the storage at its
// end (DESIGN §7); a report with storage alone is submitted too, so the
// nodes holding replicas are paid in a period without traffic. If the
// chain does not take it, the traffic goes back to the ledger for the next
// report; the storage is read afresh then. It returns the submission's
// error, if the chain did not take the report.
func (s *Server) report(ctx context.Context, period uint64) error {
	if s.cfg.Reporter == nil {
		return nil
	}
	sealed, err := s.traffic.Seal(period, s.cfg.TopN, s.inactive())
	if err != nil {
		s.log.Warn("cannot seal the period's report; its traffic rolls into the next", "period", period, "err", err)
		return nil
	}
	if sealed.GetSettled() {
		return nil // the chain took it, from this leader or the one before
	}
	r := reportFromProto(sealed)
	if r.Empty() {
		s.traffic.Settle(period)
		return nil
	}
	sigs := s.gatherSignatures(ctx, period, r)
	if err := s.cfg.Reporter.ReportVolume(ctx, period, r, sigs); err != nil {
		if !s.chainReported(ctx, period) {
			s.log.Warn("volume report not accepted; its traffic rolls into the next period", "period", period, "signatures", len(sigs), "err", err)
			s.traffic.Unseal(period, r.Traffic())
			return err
		}
		// Another leader's submission of the same sealed report got there.
	}
	// The chain charged these users: their cached balances are stale, and
	// the traffic is no longer pending, so ask the chain again.
	var charged []string
	for _, vols := range [][]traffic.Volume{r.Users, r.StoredUsers} {
		for _, v := range vols {
			charged = append(charged, v.ID)
		}
	}
	s.chain.forgetPrepaid(charged...)
	s.traffic.Settle(period)
	s.log.Info("volume report accepted", "period", period, "signatures", len(sigs), "nodes", len(r.Nodes), "users", len(r.Users),
		"stored_nodes", len(r.StoredNodes), "stored_users", len(r.StoredUsers))
	return nil
}

// chainReported reports whether the chain holds a report of period: a
// refused submission may be a repeat of one that was taken.
func (s *Server) chainReported(ctx context.Context, period uint64) bool {
	if s.cfg.Periods == nil {
		return false
	}
	cp, err := s.cfg.Periods.Period(ctx)
	return err == nil && cp.Reported && cp.LastReported >= period
}

// inactive lists the nodes with traffic or replicas that are not active on
// chain: a sealed
// report leaves them out, since x/pot refuses a report that names one and a
// deactivated node earns nothing.
func (s *Server) inactive() []string {
	if s.cfg.Chain == nil {
		return nil
	}
	ids, err := s.ix.ReportedNodes()
	if err != nil {
		s.log.Warn("cannot list the nodes of the period's report", "err", err)
		return nil
	}
	var out []string
	for _, id := range ids {
		if !s.chain.has(id, nil) {
			s.log.Info("a node no longer active on chain earns nothing this period", "node_id", id)
			out = append(out, id)
		}
	}
	return out
}

// anchor posts the index root the seal of period took (issue 7: "the
// index anchor is taken at that same log position" as the period's volume
// report, "so every replica computes the same root"): whichever leader
// anchors it, and whenever, the root is the same. index.ErrNotFound if the
// period is not sealed.
func (s *Server) anchor(ctx context.Context, period uint64) error {
	root, err := s.ix.SealedRoot(period)
	if err != nil {
		return fmt.Errorf("index root of period %d: %w", period, err)
	}
	if err := s.cfg.Anchors.AnchorIndex(ctx, s.ID(), period, root); err != nil {
		return fmt.Errorf("anchor period %d: %w", period, err)
	}
	s.log.Info("index anchored on chain", "period", period, "root", hex.EncodeToString(root))
	return nil
}
