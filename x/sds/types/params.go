package types

import (
	"github.com/stratos-net/stratos/x/sds/fee"

	"fmt"

	errorsmod "cosmossdk.io/errors"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultTrafficPrice is 1000 ustos per GiB of audited traffic.
const DefaultTrafficPrice uint64 = 1000

// DefaultStoragePrice is 4000 ustos per GiB stored for 30 days, counting
// every replica: with three replicas, a GiB of a user's data costs 12,000
// ustos (0.012 STOS) a month.
const DefaultStoragePrice uint64 = 4000

// StoragePeriodSeconds is the time storage_price pays for: 30 days.
const StoragePeriodSeconds uint64 = fee.StoragePeriodSeconds

// DefaultParams returns the default x/sds parameters.
func DefaultParams() Params {
	return Params{
		TrafficPrice: DefaultTrafficPrice,
		MinPrepay:    sdk.NewCoin(Denom, math.OneInt()),
		StoragePrice: DefaultStoragePrice,
	}
}

// Validate checks the parameters. Zero prices are allowed (free traffic,
// free storage), and any price fits the fee arithmetic (TrafficFee,
// StorageFee); the minimum prepay must be a positive ustos amount.
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
