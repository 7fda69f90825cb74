// Package fee holds x/sds's fee formulas, exactly, with no dependency on
// the chain: the chain charges with them, and the meta nodes check a
// user's prepay with the same arithmetic (whitepaper §3.2: the prepay pays
// for traffic; DESIGN §4, §7), so the two never drift apart.
//
// Every input is below 2^64, so every product is below 2^192 and is
// computed exactly; nothing is rounded before the one division, which
// rounds up.
package fee

import (
	"math"
	"math/big"
)

// GiB is the unit of the traffic price: 2^30 bytes.
const GiB = 1 << 30

// StoragePeriodSeconds is the time unit of the storage price: 30 days.
const StoragePeriodSeconds = 30 * 24 * 60 * 60

var (
	gib            = big.NewInt(GiB)
	storageDivisor = new(big.Int).Mul(gib, big.NewInt(StoragePeriodSeconds))
	bigOne         = big.NewInt(1)
	maxUint64AsBig = new(big.Int).SetUint64(math.MaxUint64)
)

// Traffic is ceil(bytes × price / 2^30) in ustos, for price in ustos per
// GiB.
func Traffic(bytes, price uint64) *big.Int {
	n := new(big.Int).Mul(new(big.Int).SetUint64(bytes), new(big.Int).SetUint64(price))
	return ceilDiv(n, gib)
}

// Storage is ceil(bytes × price × seconds / (2^30 × 2,592,000)) in ustos:
// price per GiB per 30 days, pro rata for seconds.
func Storage(bytes, price, seconds uint64) *big.Int {
	n := new(big.Int).Mul(new(big.Int).SetUint64(bytes), new(big.Int).SetUint64(price))
	n.Mul(n, new(big.Int).SetUint64(seconds))
	return ceilDiv(n, storageDivisor)
}

// Saturate is n as a uint64, or the largest uint64 if it does not fit.
func Saturate(n *big.Int) uint64 {
	if n.Cmp(maxUint64AsBig) > 0 {
		return math.MaxUint64
	}
	return n.Uint64()
}

func ceilDiv(n, d *big.Int) *big.Int {
	n.Add(n, d)
	n.Sub(n, bigOne)
	return n.Quo(n, d)
}
