package types

import (
	"fmt"
	"slices"

	"cosmossdk.io/core/address"
)

// DefaultGenesis returns the default genesis state.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state. addrCodec validates addresses; if nil,
// addresses are only checked to be non-empty where required.
func (gs GenesisState) Validate(addrCodec address.Codec) error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	checkAddr := func(what, a string) error {
		if addrCodec == nil || a == "" {
			return nil
		}
		if _, err := addrCodec.StringToBytes(a); err != nil {
			return fmt.Errorf("%w: %s %q: %v", ErrInvalidGenesis, what, a, err)
		}
		return nil
	}
	periods := make(map[uint64]bool, len(gs.Reports))
	for i, r := range gs.Reports {
		if periods[r.Period] {
			return fmt.Errorf("%w: period %d reported twice", ErrInvalidGenesis, r.Period)
		}
		periods[r.Period] = true
		if len(r.Nodes) == 0 && len(r.StoredNodes) == 0 {
			return fmt.Errorf("%w: report %d (period %d) has no traffic nodes and no stored nodes", ErrInvalidGenesis, i, r.Period)
		}
		for _, n := range append(slices.Clone(r.Nodes), r.StoredNodes...) {
			if n.NodeId == "" {
				return fmt.Errorf("%w: report for period %d names an empty node ID", ErrInvalidGenesis, r.Period)
			}
		}
		if err := checkAddr("reporter", r.Reporter); err != nil {
			return err
		}
	}
	nodes := make(map[string]bool, len(gs.Rewards))
	for _, rw := range gs.Rewards {
		if rw.NodeId == "" {
			return fmt.Errorf("%w: reward with empty node ID", ErrInvalidGenesis)
		}
		if nodes[rw.NodeId] {
			return fmt.Errorf("%w: duplicate rewards for node %s", ErrInvalidGenesis, rw.NodeId)
		}
		nodes[rw.NodeId] = true
		if rw.Amount.IsNil() || rw.Amount.IsNegative() {
			return fmt.Errorf("%w: negative or missing reward for node %s", ErrInvalidGenesis, rw.NodeId)
		}
		if err := checkAddr("operator", rw.Operator); err != nil {
			return err
		}
	}
	return nil
}
