package meta

import (
	"context"
	"encoding/hex"
	"time"
)

// Anchorer posts the index root of a period on chain (x/sds; DESIGN §4,
// §5.2: "the index root anchored on chain every period makes a tampered
// index visible").
type Anchorer interface {
	AnchorIndex(ctx context.Context, metaNodeID string, period uint64, root []byte) error
}

// anchorLoop posts the index root once per AnchorEvery period. The period
// number is the time divided by the period length, so every meta node of a
// cluster numbers periods alike.
func (s *Server) anchorLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.AnchorEvery / 4)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		period := uint64(s.now().UnixNano() / int64(s.cfg.AnchorEvery))
		if period == last {
			continue
		}
		if err := s.anchor(ctx, period); err != nil {
			s.log.Warn("cannot anchor the index on chain", "period", period, "err", err)
			continue // try again at the next tick
		}
		last = period
	}
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
