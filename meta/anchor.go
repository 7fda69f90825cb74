package meta

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/stratos-net/stratos/traffic"
)

// Anchorer posts the index root of a period on chain (x/sds; DESIGN §4,
// §5.2: "the index root anchored on chain every period makes a tampered
// index visible").
type Anchorer interface {
	AnchorIndex(ctx context.Context, metaNodeID string, period uint64, root []byte) error
}

// Reporter submits a period's volume report to x/pot (DESIGN §7), with the
// meta node's signature made by sign over the chain's sign bytes.
type Reporter interface {
	ReportVolume(ctx context.Context, period uint64, r traffic.Report, metaNodeID string, sign func([]byte) []byte) error
}

// periodLoop runs the work of each ledger period once it ends: the volume
// report of its traffic and the anchor of the index. Periods are numbered
// by time divided by their length, so every meta node of a cluster numbers
// them alike.
func (s *Server) periodLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.LedgerPeriod / 4)
	defer t.Stop()
	current := s.period()
	anchored := uint64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.period()
		if now != current {
			s.report(ctx, current)
			current = now
		}
		if s.cfg.Anchors != nil && anchored != now {
			if err := s.anchor(ctx, now); err != nil {
				s.log.Warn("cannot anchor the index on chain", "period", now, "err", err)
				continue // again at the next tick
			}
			anchored = now
		}
	}
}

func (s *Server) period() uint64 { return uint64(s.now().UnixNano() / int64(s.cfg.LedgerPeriod)) }

// report submits the traffic of a period that ended; if the chain does not
// take it, the traffic goes back to the ledger for the next report.
func (s *Server) report(ctx context.Context, period uint64) {
	if s.cfg.Reporter == nil {
		return
	}
	r := s.traffic.Take(s.cfg.TopN)
	r = s.activeOnly(r)
	if r.Empty() {
		return
	}
	if err := s.cfg.Reporter.ReportVolume(ctx, period, r, s.ID(), s.key.Sign); err != nil {
		s.log.Warn("volume report not accepted; its traffic rolls into the next period", "period", period, "err", err)
		s.traffic.Restore(r)
		return
	}
	s.log.Info("volume report accepted", "period", period, "nodes", len(r.Nodes), "users", len(r.Users))
}

// activeOnly leaves out nodes no longer active on chain: x/pot refuses a
// whole report that names one, and a deactivated node earns nothing.
func (s *Server) activeOnly(r traffic.Report) traffic.Report {
	if s.cfg.Chain == nil {
		return r
	}
	kept := r.Nodes[:0]
	for _, v := range r.Nodes {
		if s.chainHas(v.ID, nil) {
			kept = append(kept, v)
		} else {
			s.log.Info("traffic of a node no longer active on chain not reported", "node_id", v.ID, "bytes", v.Bytes)
		}
	}
	r.Nodes = kept
	return r
}

func (s *Server) anchor(ctx context.Context, period uint64) error {
	root, err := s.ix.Root()
	if err != nil {
		return err
	}
	if err := s.cfg.Anchors.AnchorIndex(ctx, s.ID(), period, root); err != nil {
		return err
	}
	s.log.Info("index anchored on chain", "period", period, "root", hex.EncodeToString(root))
	return nil
}
