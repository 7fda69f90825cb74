package types

import (
	"fmt"
	"time"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/trustedfn/payout"
)

// DefaultParams are the paper's split (§6.3) and slash rate (§6.10), a gas
// price of one ustb per 10,000 gas, a validation fee of 1,000 ustos a round,
// at most 32 nodes an app and timeouts of at least 2 blocks.
func DefaultParams() Params {
	sp, sl := payout.DefaultSplit(), payout.DefaultSlashing()
	return Params{
		PaymentMultiple: sp.Multiple, Markup: sp.Markup, MarkupToNode: sp.MarkupToNode,
		ProfitToNode: sp.ProfitToNode, ProfitToSupport: sp.ProfitToSupport,
		FirstSlash: sl.First, SlashWindowSeconds: uint64(sl.Window / time.Second),
		GasPrice:      math.LegacyNewDecWithPrec(1, 4),
		ValidationFee: sdk.NewInt64Coin(ProfitDenom, 1000),
		MaxNodes:      32,
		MinTimeout:    2,
	}
}

// Split is the payment split the params describe.
func (p Params) Split() payout.Split {
	return payout.Split{
		Multiple: p.PaymentMultiple, Markup: p.Markup, MarkupToNode: p.MarkupToNode,
		ProfitToNode: p.ProfitToNode, ProfitToSupport: p.ProfitToSupport,
	}
}

// Slashing is the slash rate the params describe.
func (p Params) Slashing() payout.Slashing {
	return payout.Slashing{First: p.FirstSlash, Window: time.Duration(p.SlashWindowSeconds) * time.Second}
}

// Validate checks the split and slash rate add up and the bounds are sane.
func (p Params) Validate() error {
	if err := p.Split().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	if p.SlashWindowSeconds > uint64(100*365*24*3600) {
		return fmt.Errorf("%w: slash window over a century", ErrInvalidParams)
	}
	if err := p.Slashing().Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	if p.GasPrice.IsNil() || p.GasPrice.IsNegative() {
		return fmt.Errorf("%w: gas_price must not be negative", ErrInvalidParams)
	}
	if p.ValidationFee.Denom != ProfitDenom || p.ValidationFee.IsNegative() {
		return fmt.Errorf("%w: validation_fee must be ustos, not negative", ErrInvalidParams)
	}
	if p.MaxNodes < 1 || p.MaxNodes > 256 {
		return fmt.Errorf("%w: max_nodes must be 1 to 256", ErrInvalidParams)
	}
	if p.MinTimeout < 1 {
		return fmt.Errorf("%w: min_timeout must be at least one block", ErrInvalidParams)
	}
	return nil
}
