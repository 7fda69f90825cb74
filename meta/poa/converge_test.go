package poa_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomVoters returns n distinct addresses of random lengths, so the
// address order is not the order of creation.
func randomVoters(rng *rand.Rand, n int, prefix string) []string {
	var vs []string
	for len(vs) < n {
		a := fmt.Sprintf("%s%x", prefix, rng.Uint64()>>rng.UintN(60))
		if !slices.Contains(vs, a) {
			vs = append(vs, a)
		}
	}
	return vs
}

// whitepaper §3.3 steps 3 to 7 under any delivery order: with every voter
// alive, all authorities, observers included, elect the same voter, the
// one with the largest (number, address), without a deadline; and no step
// of any run sees two decisions. Tested with the derived numbers and with
// numbers that tie often.
func TestRandomDeliveryConverges(t *testing.T) {
	const seeds = 150
	for nv := 1; nv <= 7; nv++ {
		for seed := range uint64(seeds) {
			rng := rand.New(rand.NewPCG(seed, uint64(nv)))
			hash := fmt.Appendf(nil, "block %d", rng.Uint64())
			nc := netConfig{
				voters:    randomVoters(rng, nv, "s"),
				observers: randomVoters(rng, int(seed%3), "o"),
				numberOf:  derived(hash),
				seed:      seed,
			}
			if seed%2 == 1 {
				nc.numberOf = func(a string) uint64 { return derived(hash)(a) % 3 }
			}
			t.Run(fmt.Sprintf("%d voters seed %d", nv, seed), func(t *testing.T) {
				n := newNetwork(t, nc, hash)
				n.run()
				n.checkElected(best(nc.voters, nil, nc.numberOf), nc.observers)
				// Each voter sends at most one vote per better candidate.
				if limit := nv * nv * (len(n.members) - 1); n.sent > limit {
					t.Fatalf("%d votes sent, more than %d", n.sent, limit)
				}
			})
		}
	}
}

// A voter that never speaks (crashed) does not stop the others when more
// than half are alive: if it is not the top-ranked voter they decide
// without a deadline; if it is (or was ranked above every live one), they
// elect the best live voter once the deadline passes. With half or fewer
// alive, nothing is decided, even after the deadline (whitepaper §3.3
// step 6: more than half of all voters).
func TestCrashedVoters(t *testing.T) {
	tests := []struct {
		voters  int
		crashed []int // ranks, 0 = top
		decides bool
	}{
		{5, nil, true},
		{5, []int{4}, true},
		{5, []int{1}, true},
		{5, []int{0}, true},
		{5, []int{1, 3}, true},
		{5, []int{0, 1}, true},
		{5, []int{0, 1, 2}, false},
		{5, []int{2, 3, 4}, false},
		{4, []int{0}, true},
		{4, []int{3}, true},
		{4, []int{0, 3}, false},
		{3, []int{0}, true},
		{2, []int{1}, false},
		{1, []int{0}, false},
	}
	for _, tt := range tests {
		for seed := range uint64(40) {
			rng := rand.New(rand.NewPCG(seed, 1))
			hash := fmt.Appendf(nil, "block %d", rng.Uint64())
			vs := randomVoters(rng, tt.voters, "s")
			rank := ranked(vs, derived(hash))
			var crashed []string
			for _, i := range tt.crashed {
				crashed = append(crashed, rank[i])
			}
			name := fmt.Sprintf("%d voters crashed ranks %v seed %d", tt.voters, tt.crashed, seed)
			t.Run(name, func(t *testing.T) {
				obs := []string{"o1"}
				n := newNetwork(t, netConfig{voters: vs, observers: obs, numberOf: derived(hash), crashed: crashed, seed: seed}, hash)
				n.run()
				topAlive := !slices.Contains(crashed, rank[0])
				if tt.decides && topAlive {
					n.checkElected(rank[0], obs)
					return
				}
				n.checkUndecided()
				n.timeout()
				if !tt.decides {
					n.checkUndecided()
					return
				}
				n.checkElected(best(vs, crashed, derived(hash)), obs)
			})
		}
	}
}
