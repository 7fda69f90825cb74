package types

import (
	"fmt"

	"cosmossdk.io/math"
)

// Defaults: 100,000 STOS per period (the whitepaper §3.2.1 example) paid to
// at most the top 100 nodes, for 10-minute ledger periods (DESIGN §7).
var (
	DefaultIssuance      = math.NewInt(100_000_000_000) // ustos
	DefaultTopN          = uint32(100)
	DefaultPeriodSeconds = uint64(600)
	// DefaultIssuanceCapPercent mints at most as much as the traffic fees
	// collected: a node serving less than half of the traffic it buys loses
	// money (see Params.issuance_cap_percent).
	DefaultIssuanceCapPercent = uint32(100)
)

// StoredNodesPerTopN bounds the stored_nodes of a volume report to
// StoredNodesPerTopN × top_n: every node holding replicas shares the storage
// fees, not only the top N by traffic, but a report must still fit in a
// transaction (DESIGN §7).
const StoredNodesPerTopN = 10

// MaxStoredNodes is the largest number of stored_nodes a volume report may
// name.
func (p Params) MaxStoredNodes() uint64 { return uint64(p.TopN) * StoredNodesPerTopN }

// DefaultParams returns the default parameters.
func DefaultParams() Params {
	return Params{
		Issuance:      []IssuanceEntry{{FromPeriod: 0, Amount: DefaultIssuance}},
		TopN:          DefaultTopN,
		PeriodSeconds: DefaultPeriodSeconds,

		IssuanceCapPercent: DefaultIssuanceCapPercent,
	}
}

// Validate checks the schedule is non-empty, strictly sorted by from_period
// with positive amounts, top_n >= 1, and a period of at least one second.
func (p Params) Validate() error {
	if p.TopN < 1 {
		return fmt.Errorf("%w: top_n must be at least 1", ErrInvalidParams)
	}
	if p.PeriodSeconds < 1 || p.PeriodSeconds > maxPeriodSeconds {
		return fmt.Errorf("%w: period_seconds must be between 1 and %d, got %d", ErrInvalidParams, maxPeriodSeconds, p.PeriodSeconds)
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

// IssuedFor is what a report for period mints when its users were charged
// collected for their traffic: the period's issuance, capped at
// issuance_cap_percent of collected (rounded down).
func (p Params) IssuedFor(period uint64, collected math.Int) math.Int {
	capped := collected.MulRaw(int64(p.IssuanceCapPercent)).QuoRaw(100)
	return math.MinInt(p.IssuanceAt(period), capped)
}

// maxPeriodSeconds bounds a ledger period to a year, so period arithmetic on
// unix seconds cannot overflow.
const maxPeriodSeconds = 366 * 24 * 3600

// PeriodAt returns the ledger period that block time unix (seconds) falls
// in, with its start and end, for periods of length seconds numbered by c.
// A time before the origin (clocks never go back on chain, but a genesis
// time may be in the future) is in the origin period.
func (c PeriodClock) PeriodAt(unix int64, length uint64) (period uint64, start, end int64) {
	n := uint64(0)
	if unix > c.OriginUnix {
		n = uint64(unix-c.OriginUnix) / length
	}
	start = c.OriginUnix + int64(n*length)
	return c.OriginPeriod + n, start, start + int64(length)
}
