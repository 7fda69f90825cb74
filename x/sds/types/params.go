package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultTrafficPrice is 1000 ustos per GiB of audited traffic.
const DefaultTrafficPrice uint64 = 1000

// DefaultParams returns the default x/sds parameters.
func DefaultParams() Params {
	return Params{
		TrafficPrice: DefaultTrafficPrice,
		MinPrepay:    sdk.NewCoin(Denom, math.OneInt()),
	}
}

// Validate checks the parameters. A zero traffic price is allowed (free
// traffic); the minimum prepay must be a positive ustos amount.
func (p Params) Validate() error {
	if err := ValidatePrepayCoin(p.MinPrepay); err != nil {
		return errorsmod.Wrapf(ErrInvalidParams, "min_prepay: %s", err)
	}
	return nil
}

// ValidatePrepayCoin checks that c is a well-formed, positive ustos coin.
// It checks for a nil amount before anything that would dereference it.
func ValidatePrepayCoin(c sdk.Coin) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Denom != Denom {
		return fmt.Errorf("denom %q not accepted, only %s", c.Denom, Denom)
	}
	if !c.Amount.IsPositive() {
		return fmt.Errorf("amount must be positive, got %s", c.Amount)
	}
	return nil
}
