// Package payout is the money of trusted functions, pure arithmetic on
// cosmossdk.io/math: how one node payment splits between the node, the swap
// reserve, network support and the burn (Stratosphere §6.3), and how much of
// a node's stake a slash takes (§6.10). x/trustedfn applies the results.
package payout

import (
	"errors"
	"fmt"
	"time"

	"cosmossdk.io/math"
)

// ErrParams is returned for split or slash parameters that do not add up.
var ErrParams = errors.New("invalid payout parameters")

// Split is how node payments divide (§6.3). Every field is a fraction.
type Split struct {
	// Multiple is the payment rate over cost: "2x cost of the cloud service
	// rate" (§6.3).
	Multiple math.LegacyDec
	// Markup is paid in STB on top of the cost basis: +20% (§6.3.1).
	Markup math.LegacyDec
	// MarkupToNode is the node's share of the markup; the rest goes to the
	// swap reserve: half and half (§6.3.1).
	MarkupToNode math.LegacyDec
	// ProfitToNode and ProfitToSupport are the node's and network support's
	// shares of the STR profit; the rest is burned: 50%, 25%, 25% (§6.3.2).
	ProfitToNode    math.LegacyDec
	ProfitToSupport math.LegacyDec
}

// DefaultSplit is the paper's split.
func DefaultSplit() Split {
	return Split{
		Multiple:        math.LegacyNewDec(2),
		Markup:          math.LegacyNewDecWithPrec(20, 2),
		MarkupToNode:    math.LegacyNewDecWithPrec(50, 2),
		ProfitToNode:    math.LegacyNewDecWithPrec(50, 2),
		ProfitToSupport: math.LegacyNewDecWithPrec(25, 2),
	}
}

func fraction(name string, d math.LegacyDec) error {
	if d.IsNil() || d.IsNegative() || d.GT(math.LegacyOneDec()) {
		return fmt.Errorf("%w: %s %v must be in [0, 1]", ErrParams, name, d)
	}
	return nil
}

// Validate checks that the shares are fractions, that the node and support
// shares leave a burn of at least zero, and that the multiple covers the cost
// and the markup.
func (s Split) Validate() error {
	for name, d := range map[string]math.LegacyDec{
		"markup": s.Markup, "markup_to_node": s.MarkupToNode,
		"profit_to_node": s.ProfitToNode, "profit_to_support": s.ProfitToSupport,
	} {
		if err := fraction(name, d); err != nil {
			return err
		}
	}
	if s.ProfitToNode.Add(s.ProfitToSupport).GT(math.LegacyOneDec()) {
		return fmt.Errorf("%w: profit shares to node and support exceed 1", ErrParams)
	}
	if s.Multiple.IsNil() || s.Multiple.LT(math.LegacyOneDec().Add(s.Markup)) {
		return fmt.Errorf("%w: multiple %v is less than 1 + markup", ErrParams, s.Multiple)
	}
	return nil
}

// Payment is one node payment. STB amounts are in ustb, STR amounts in
// ustos. Withdrawn = NodeSTB + ReserveSTB in ustb and NodeSTR + SupportSTR +
// BurnSTR in ustos, exactly.
type Payment struct {
	NodeSTB, ReserveSTB          math.Int
	NodeSTR, SupportSTR, BurnSTR math.Int
}

// WithdrawnSTB is what the payment takes from the escrow in ustb.
func (p Payment) WithdrawnSTB() math.Int { return p.NodeSTB.Add(p.ReserveSTB) }

// WithdrawnSTR is what the payment takes from the escrow in ustos.
func (p Payment) WithdrawnSTR() math.Int { return p.NodeSTR.Add(p.SupportSTR).Add(p.BurnSTR) }

// Pay splits the payment for cost (in ustb) at strPrice, the price of one
// ustos in ustb (an explicit input: the chain has no oracle, the app's
// escrow fixes it, §6.3.3 "calculated at the time of prepayment deposit").
// Fractions round down in the payees' disfavour; the burn takes the dust, so
// nobody is paid more than the split says.
func (s Split) Pay(cost math.Int, strPrice math.LegacyDec) (Payment, error) {
	if err := s.Validate(); err != nil {
		return Payment{}, err
	}
	if cost.IsNil() || cost.IsNegative() {
		return Payment{}, fmt.Errorf("%w: cost %v", ErrParams, cost)
	}
	if strPrice.IsNil() || !strPrice.IsPositive() {
		return Payment{}, fmt.Errorf("%w: STR price %v must be positive", ErrParams, strPrice)
	}
	c := math.LegacyNewDecFromInt(cost)
	markup := c.Mul(s.Markup)
	nodeSTB := cost.Add(markup.Mul(s.MarkupToNode).TruncateInt())
	stb := c.Add(markup).TruncateInt()
	profitValue := c.Mul(s.Multiple).Sub(c.Add(markup)) // in ustb
	str := profitValue.Quo(strPrice).TruncateInt()
	strD := math.LegacyNewDecFromInt(str)
	nodeSTR := strD.Mul(s.ProfitToNode).TruncateInt()
	support := strD.Mul(s.ProfitToSupport).TruncateInt()
	return Payment{
		NodeSTB: nodeSTB, ReserveSTB: stb.Sub(nodeSTB),
		NodeSTR: nodeSTR, SupportSTR: support, BurnSTR: str.Sub(nodeSTR).Sub(support),
	}, nil
}

// Slashing is §6.10's exponentially time-weighted rate.
type Slashing struct {
	// First is the rate of a first slash: 5%.
	First math.LegacyDec
	// Window is the time window: two years in the paper.
	Window time.Duration
}

// DefaultSlashing is the paper's: 5%, doubling within a two-year window.
func DefaultSlashing() Slashing {
	return Slashing{First: math.LegacyNewDecWithPrec(5, 2), Window: 2 * 365 * 24 * time.Hour}
}

// Validate checks the rate is a fraction and the window positive.
func (s Slashing) Validate() error {
	if err := fraction("first slash", s.First); err != nil {
		return err
	}
	if s.Window <= 0 {
		return fmt.Errorf("%w: slash window %v must be positive", ErrParams, s.Window)
	}
	return nil
}

// Record is a node's slashing history: the level its next slash starts from
// and when it was last slashed.
type Record struct {
	Level uint32
	Last  time.Time
}

// Slash returns the fraction of stake a slash at now takes and the record
// after it: "an initial [slash] in a two year time window will begin at 5%,
// and increase by a factor of 2x per subsequent slash within the time window.
// Slash penalty inversely decreases by the same factor of 2x per time window
// expiration" (§6.10). The rate never exceeds the whole stake.
func (s Slashing) Slash(r Record, now time.Time) (math.LegacyDec, Record) {
	level := uint64(r.Level)
	if !r.Last.IsZero() && now.After(r.Last) {
		passed := uint64(now.Sub(r.Last) / s.Window)
		level -= min(level, passed)
	}
	rate := s.First
	for range level {
		rate = rate.MulInt64(2)
		if rate.GTE(math.LegacyOneDec()) {
			rate = math.LegacyOneDec()
			break
		}
	}
	next := min(level+1, 64)
	return rate, Record{Level: uint32(next), Last: now}
}
