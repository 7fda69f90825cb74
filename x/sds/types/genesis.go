package types

import (
	"bytes"
	"fmt"

	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"
)

// DefaultGenesis returns the default genesis: default params, no prepayments, no anchors.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state: params, prepayments (valid addresses,
// positive ustos amounts, one entry per address, a total the sds module
// account can hold, as InitGenesis requires) and anchors (valid ids, 32-byte
// roots, one per period and meta node).
func (gs GenesisState) Validate(ac address.Codec) error {
	if err := gs.Params.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
	}
	seen := make(map[string]bool, len(gs.Prepaid))
	total := math.ZeroInt()
	for i, p := range gs.Prepaid {
		bz, err := ac.StringToBytes(p.Address)
		if err != nil || len(bz) == 0 {
			return fmt.Errorf("%w: prepaid[%d]: address %q: %v", ErrInvalidGenesis, i, p.Address, err)
		}
		if seen[string(bz)] {
			return fmt.Errorf("%w: prepaid[%d]: duplicate address %s", ErrInvalidGenesis, i, p.Address)
		}
		seen[string(bz)] = true
		if err := ValidatePrepayCoin(p.Amount); err != nil {
			return fmt.Errorf("%w: prepaid[%d] (%s): %w", ErrInvalidGenesis, i, p.Address, err)
		}
		if total, err = total.SafeAdd(p.Amount.Amount); err != nil {
			return fmt.Errorf("%w: prepaid[%d] (%s): the prepayments total more than a balance holds: %w", ErrInvalidGenesis, i, p.Address, err)
		}
	}
	type anchorKey struct {
		period uint64
		id     string
	}
	anchors := make(map[anchorKey]bool, len(gs.Anchors))
	for i, a := range gs.Anchors {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("%w: anchors[%d]: %w", ErrInvalidGenesis, i, err)
		}
		k := anchorKey{a.Period, a.MetaNodeId}
		if anchors[k] {
			return fmt.Errorf("%w: anchors[%d]: duplicate anchor for period %d, meta node %s", ErrInvalidGenesis, i, a.Period, a.MetaNodeId)
		}
		anchors[k] = true
	}
	return nil
}

// Validate checks an anchor's fields.
func (a Anchor) Validate() error {
	if err := ValidateAnchorFields(a.MetaNodeId, a.Root); err != nil {
		return err
	}
	if a.Height < 0 {
		return errorsmod.Wrapf(ErrInvalidAnchor, "negative height %d", a.Height)
	}
	return nil
}

// ValidateAnchorFields checks the parts of an anchor a sender chooses.
func ValidateAnchorFields(metaNodeID string, root []byte) error {
	if metaNodeID == "" {
		return errorsmod.Wrap(ErrInvalidAnchor, "empty meta node id")
	}
	if len(root) != RootSize {
		return errorsmod.Wrapf(ErrInvalidAnchor, "root is %d bytes, want %d", len(root), RootSize)
	}
	return nil
}

// SameRoot reports whether two anchors commit the same root.
func (a Anchor) SameRoot(root []byte) bool { return bytes.Equal(a.Root, root) }
