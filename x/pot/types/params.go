package types

import (
	"fmt"

	"cosmossdk.io/math"
)

// Defaults: 100,000 STOS per period (the whitepaper §3.2.1 example) paid to
// at most the top 100 nodes.
var (
	DefaultIssuance = math.NewInt(100_000_000_000) // ustos
	DefaultTopN     = uint32(100)
)

// DefaultParams returns the default parameters.
func DefaultParams() Params {
	return Params{
		Issuance: []IssuanceEntry{{FromPeriod: 0, Amount: DefaultIssuance}},
		TopN:     DefaultTopN,
	}
}

// Validate checks the schedule is non-empty, strictly sorted by from_period
// with positive amounts, and top_n >= 1.
func (p Params) Validate() error {
	if p.TopN < 1 {
		return fmt.Errorf("%w: top_n must be at least 1", ErrInvalidParams)
	}
	if len(p.Issuance) == 0 {
		return fmt.Errorf("%w: empty issuance schedule", ErrInvalidParams)
	}
	for i, e := range p.Issuance {
		if e.Amount.IsNil() || !e.Amount.IsPositive() {
			return fmt.Errorf("%w: issuance[%d] amount must be positive", ErrInvalidParams, i)
		}
		if i > 0 && e.FromPeriod <= p.Issuance[i-1].FromPeriod {
			return fmt.Errorf("%w: issuance schedule not strictly sorted by from_period at entry %d", ErrInvalidParams, i)
		}
	}
	return nil
}

// IssuanceAt returns the amount issued for period: that of the schedule entry
// with the largest from_period <= period, or zero before the first entry.
// The schedule must be sorted (Validate).
func (p Params) IssuanceAt(period uint64) math.Int {
	amount := math.ZeroInt()
	for _, e := range p.Issuance {
		if e.FromPeriod > period {
			break
		}
		amount = e.Amount
	}
	return amount
}
