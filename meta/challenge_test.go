package meta

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

type fakeChallenges struct {
	opened  []string // slice IDs
	holders [][]string
	outcome map[uint64]struct {
		done, proved bool
		failed       []string
	}
}

func (f *fakeChallenges) Challenge(_ context.Context, slice string, holders []string) (uint64, error) {
	f.opened = append(f.opened, slice)
	f.holders = append(f.holders, holders)
	return uint64(len(f.opened)), nil
}

func (f *fakeChallenges) Outcome(_ context.Context, id uint64) (bool, bool, []string, error) {
	o := f.outcome[id]
	return o.done, o.proved, o.failed, nil
}

// Issue 10, proofs of storage: the leader challenges a random slice's
// holders; a holder that failed a challenge some holder proved loses its
// replica and the slice is repaired from the others; a challenge nobody
// proved changes nothing (there is no good copy to repair from, and the
// chain may simply have been unreachable for the holders).
func TestFailedStorageChallengeDropsTheReplica(t *testing.T) {
	h := newHarness(t, 3)
	a, b, c := h.nodes[0], h.nodes[1], h.nodes[2]
	f := newFile("data")
	h.upload("/f", f, a, b, c)
	sl := f.slices[0].GetId()
	for _, n := range h.nodes {
		h.heartbeat(n)
	}
	fc := &fakeChallenges{outcome: map[uint64]struct {
		done, proved bool
		failed       []string
	}{}}
	h.s.cfg.Challenges = fc
	picked, holders, ok := h.s.pickChallenge(rand.New(rand.NewPCG(1, 2)))
	if !ok || picked != sl || !slices.Equal(holders, ids(a, b, c)) {
		t.Fatalf("picked %q %v %v", picked, holders, ok)
	}
	inFlight := []challenge{{round: 1, slice: sl, since: h.s.now()}, {round: 2, slice: sl, since: h.s.now()}}
	fc.outcome[2] = struct {
		done, proved bool
		failed       []string
	}{true, false, ids(a, b, c)}
	if open := h.s.settleChallenges(context.Background(), inFlight); len(open) != 1 || open[0].round != 1 {
		t.Fatalf("still open: %+v", open)
	}
	if got := h.replicas(sl); !slices.Equal(got, ids(a, b, c)) {
		t.Fatalf("a challenge nobody proved dropped replicas: %v", got)
	}
	fc.outcome[1] = struct {
		done, proved bool
		failed       []string
	}{true, true, ids(b)}
	h.s.settleChallenges(context.Background(), inFlight[:1])
	if got := h.replicas(sl); !slices.Equal(got, ids(a, c)) {
		t.Fatalf("replicas after b failed: %v", got)
	}
	if under, _ := h.s.repairCounts(); under != 1 {
		t.Fatalf("%d slices queued for repair, want 1", under)
	}
}
