package types

import (
	"fmt"

	"cosmossdk.io/core/address"
)

// DefaultGenesis has the default params and nothing else.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextRound: 1, NextApp: 1}
}

// Validate checks the params, that IDs are unique and below the counters,
// and that owners and operators are addresses.
func (gs GenesisState) Validate(ac address.Codec) error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	apps := map[string]bool{}
	for _, a := range gs.Apps {
		if apps[a.Id] {
			return fmt.Errorf("%w: app %s twice", ErrInvalidGenesis, a.Id)
		}
		apps[a.Id] = true
		if _, err := ac.StringToBytes(a.Owner); err != nil {
			return fmt.Errorf("%w: app %s owner: %w", ErrInvalidGenesis, a.Id, err)
		}
	}
	rounds := map[uint64]bool{}
	for _, r := range gs.Rounds {
		if rounds[r.Id] || r.Id == 0 || r.Id >= gs.NextRound {
			return fmt.Errorf("%w: round %d repeated or not below next_round %d", ErrInvalidGenesis, r.Id, gs.NextRound)
		}
		rounds[r.Id] = true
		if !apps[r.AppId] && r.SliceId == "" {
			return fmt.Errorf("%w: round %d of unknown app %s", ErrInvalidGenesis, r.Id, r.AppId)
		}
	}
	offers := map[string]bool{}
	for _, o := range gs.Offers {
		if offers[o.NodeId] {
			return fmt.Errorf("%w: offer of %s twice", ErrInvalidGenesis, o.NodeId)
		}
		offers[o.NodeId] = true
		if _, err := ac.StringToBytes(o.Operator); err != nil {
			return fmt.Errorf("%w: offer %s operator: %w", ErrInvalidGenesis, o.NodeId, err)
		}
	}
	if gs.NextRound == 0 || gs.NextApp == 0 {
		return fmt.Errorf("%w: counters start at 1", ErrInvalidGenesis)
	}
	return nil
}
