package keeper

import (
	"fmt"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// The chain stores rounds as types.Round and applies the rules of package
// round; these convert between the two. Stored hashes are 32 bytes or empty.

func toHash(b []byte) (round.Hash, error) {
	var h round.Hash
	if len(b) == 0 {
		return h, nil
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("%w: hash of %d bytes, want %d", types.ErrRound, len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

func optHash(b []byte) (*round.Hash, error) {
	if len(b) == 0 {
		return nil, nil
	}
	h, err := toHash(b)
	return &h, err
}

func hashBytes(h round.Hash) []byte {
	if h == (round.Hash{}) {
		return nil
	}
	return append([]byte(nil), h[:]...)
}

func optBytes(h *round.Hash) []byte {
	if h == nil {
		return nil
	}
	return append([]byte(nil), h[:]...)
}

// toRound is the rules' view of a stored round.
func toRound(chainID string, t types.Round) (*round.Round, error) {
	phase, ok := round.ParsePhase(t.Phase)
	if !ok {
		return nil, fmt.Errorf("%w: round %d has phase %q", types.ErrRound, t.Id, t.Phase)
	}
	r := &round.Round{
		ID:            round.ID{ChainID: chainID, Round: t.Id},
		Agreement:     round.Agreement{Num: t.AgreementNum, Den: t.AgreementDen},
		CommitTimeout: t.CommitTimeout, RevealTimeout: t.RevealTimeout,
		Phase: phase, PhaseStart: t.PhaseStart, Result: t.Result,
		AppDefaulted: t.AppDefaulted, SpotDisputed: t.SpotDisputed,
	}
	var err error
	if r.Spot, err = optHash(t.Spot); err != nil {
		return nil, err
	}
	if r.SpotExpected, err = optHash(t.SpotExpected); err != nil {
		return nil, err
	}
	if r.Winner, err = toHash(t.Winner); err != nil {
		return nil, err
	}
	for _, m := range t.Members {
		st, ok := round.ParseStatus(m.Status)
		if !ok {
			return nil, fmt.Errorf("%w: round %d node %s has status %q", types.ErrRound, t.Id, m.NodeId, m.Status)
		}
		rm := round.Member{Node: m.NodeId, AppSalt: m.AppSalt, NodeSalt: m.NodeSalt,
			Usage: m.Usage, PaidUsage: m.PaidUsage, Status: st}
		for dst, src := range map[*round.Hash][]byte{
			&rm.AppSaltHash: m.AppSaltHash, &rm.NodeSaltHash: m.NodeSaltHash,
			&rm.Commit: m.Commit, &rm.Output: m.OutputHash,
		} {
			if *dst, err = toHash(src); err != nil {
				return nil, err
			}
		}
		r.Members = append(r.Members, rm)
	}
	return r, nil
}

// fromRound writes the rules' state back into the stored round, keeping the
// chain's own fields (app, call, money).
func fromRound(r *round.Round, t *types.Round) {
	t.Phase, t.PhaseStart = r.Phase.String(), r.PhaseStart
	t.Result, t.Winner = r.Result, hashBytes(r.Winner)
	if !r.Result {
		t.Winner = nil
	}
	t.AppDefaulted, t.SpotDisputed = r.AppDefaulted, r.SpotDisputed
	t.Spot, t.SpotExpected = optBytes(r.Spot), optBytes(r.SpotExpected)
	for i, m := range r.Members {
		tm := &t.Members[i]
		tm.NodeId, tm.Status = m.Node, m.Status.String()
		tm.AppSaltHash, tm.NodeSaltHash = hashBytes(m.AppSaltHash), hashBytes(m.NodeSaltHash)
		tm.Commit, tm.OutputHash = hashBytes(m.Commit), hashBytes(m.Output)
		tm.AppSalt, tm.NodeSalt = m.AppSalt, m.NodeSalt
		tm.Usage, tm.PaidUsage = m.Usage, m.PaidUsage
	}
}
