package poa_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stratos-net/stratos/meta/poa"
)

// network is an in-memory transport between the rounds of one election: it
// does what the meta server will do over gRPC (broadcast what a round
// returns to every other authority) in an order chosen by a seeded
// generator, or in the order sent. It checks after every step that no two
// authorities have decided differently.
type network struct {
	t       *testing.T
	rounds  map[string]*poa.Round // live authorities; a crashed one has none
	members []string              // every authority, voters then observers
	queue   []envelope
	rng     *rand.Rand // nil: deliver in the order sent
	sent    int
}

// envelope is a vote on its way to an authority, or (vote nil) the event of
// that authority starting its round: starts are interleaved with deliveries,
// so some rounds hear of the election before they start.
type envelope struct {
	to   string
	vote *poa.Vote
}

type netConfig struct {
	voters, observers []string
	numberOf          func(string) uint64 // nil: the derived numbers
	crashed           []string            // authorities that never speak
	seed              uint64
	fifo              bool // deliver in the order sent, as the whitepaper tells it
}

const testTerm = 7

func newNetwork(t *testing.T, nc netConfig, blockHash []byte) *network {
	t.Helper()
	n := &network{t: t, rounds: map[string]*poa.Round{}, members: slices.Concat(nc.voters, nc.observers)}
	if !nc.fifo {
		n.rng = rand.New(rand.NewPCG(nc.seed, 0x9e3779b97f4a7c15))
	}
	for _, m := range n.members {
		if slices.Contains(nc.crashed, m) {
			continue
		}
		cfg := poa.Config{Self: m, Voters: nc.voters, Observers: nc.observers, NumberOf: nc.numberOf}
		r, err := poa.NewRound(cfg, testTerm, blockHash)
		if err != nil {
			t.Fatal(err)
		}
		n.rounds[m] = r
		n.queue = append(n.queue, envelope{to: m})
	}
	return n
}

// run delivers until nothing is left in flight.
func (n *network) run() {
	n.t.Helper()
	for len(n.queue) > 0 {
		e := n.next()
		r := n.rounds[e.to]
		if r == nil {
			continue // crashed: the vote is lost
		}
		if e.vote == nil {
			n.broadcast(e.to, r.Start())
		} else {
			out, err := r.Receive(*e.vote)
			if err != nil {
				n.t.Fatalf("%s receives %+v: %v", e.to, *e.vote, err)
			}
			n.broadcast(e.to, out)
		}
		n.checkAgreement()
	}
}

func (n *network) next() envelope {
	i := 0
	if n.rng != nil {
		i = n.rng.IntN(len(n.queue))
	}
	e := n.queue[i]
	n.queue = slices.Delete(n.queue, i, i+1)
	return e
}

func (n *network) broadcast(from string, votes []poa.Vote) {
	for _, v := range votes {
		for _, m := range n.members {
			if m != from {
				n.queue = append(n.queue, envelope{to: m, vote: &v})
				n.sent++
			}
		}
	}
}

// timeout is every live authority's deadline passing.
func (n *network) timeout() {
	for _, m := range n.members {
		if r := n.rounds[m]; r != nil {
			r.Timeout()
		}
	}
	n.checkAgreement()
}

func (n *network) checkAgreement() {
	n.t.Helper()
	first := ""
	for _, m := range n.members {
		r := n.rounds[m]
		if r == nil {
			continue
		}
		w, ok := r.Winner()
		if ok && first != "" && w != first {
			n.t.Fatalf("split decision: %s elected %s, another %s", m, w, first)
		}
		if ok {
			first = w
		}
	}
}

// checkElected checks that every live authority elected want and is in the
// state step 7 gives it.
func (n *network) checkElected(want string, observers []string) {
	n.t.Helper()
	for _, m := range n.members {
		r := n.rounds[m]
		if r == nil {
			continue
		}
		if w, ok := r.Winner(); !ok || w != want {
			n.t.Fatalf("%s: winner %q (decided %v), want %q; tally %+v", m, w, ok, want, r.Tally())
		}
		state := poa.Following
		switch {
		case slices.Contains(observers, m):
			state = poa.Observing
		case m == want:
			state = poa.Leading
		}
		if r.State() != state {
			n.t.Fatalf("%s: state %v, want %v", m, r.State(), state)
		}
	}
}

// checkUndecided checks that no live authority has elected anyone.
func (n *network) checkUndecided() {
	n.t.Helper()
	for m, r := range n.rounds {
		if w, ok := r.Winner(); ok {
			n.t.Fatalf("%s elected %s, want no decision yet; tally %+v", m, w, r.Tally())
		}
	}
}

// best returns the voter whose vote beats all others' among those alive.
func best(voters, crashed []string, numberOf func(string) uint64) string {
	var top poa.Vote
	for _, a := range voters {
		v := poa.Vote{Candidate: a, Number: numberOf(a)}
		if !slices.Contains(crashed, a) && (top.Candidate == "" || poa.Better(v, top)) {
			top = v
		}
	}
	return top.Candidate
}

// ranked returns the voters best first.
func ranked(voters []string, numberOf func(string) uint64) []string {
	out := slices.Clone(voters)
	slices.SortFunc(out, func(a, b string) int {
		if poa.Better(poa.Vote{Candidate: a, Number: numberOf(a)}, poa.Vote{Candidate: b, Number: numberOf(b)}) {
			return -1
		}
		return 1
	})
	return out
}

func derived(blockHash []byte) func(string) uint64 {
	return func(a string) uint64 { return poa.Number(blockHash, testTerm, a) }
}
