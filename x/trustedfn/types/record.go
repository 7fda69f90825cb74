package types

import "cosmossdk.io/math"

// MaxScore is a perfect reputation score.
const MaxScore = 1000

// Score is MaxScore × the share of the node's rounds it was in the
// agreeing majority of, and 0 before its first round: reputation is built
// over time, so a fresh identity starts with none (Stratosphere §4.5).
func (r NodeRecord) Score() uint32 {
	if r.Rounds == 0 {
		return 0
	}
	return uint32(r.Majority * MaxScore / r.Rounds)
}

// MinorityRate is minority / (majority + minority): how often the node
// answered, but not with the majority (§4.5's "minority reporting").
func (r NodeRecord) MinorityRate() math.LegacyDec {
	n := r.Majority + r.Minority
	if n == 0 {
		return math.LegacyZeroDec()
	}
	return math.LegacyNewDec(int64(r.Minority)).QuoInt64(int64(n))
}

// Uptime is the share of its rounds in which the node committed and revealed (a refusal
// is the app's fault, not the node's absence).
func (r NodeRecord) Uptime() math.LegacyDec {
	if r.Rounds == 0 {
		return math.LegacyZeroDec()
	}
	absent := r.Missed + r.Stalled
	return math.LegacyNewDec(int64(r.Rounds - min(absent, r.Rounds))).QuoInt64(int64(r.Rounds))
}
