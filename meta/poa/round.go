package poa

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
)

// Round is one node's view of one election round, named by (term, block
// hash). It is not safe for concurrent use; the caller serialises calls.
type Round struct {
	self      string
	observer  bool
	term      uint64
	blockHash []byte
	numbers   map[string]uint64 // every voter's number for the round
	top       string            // the voter that wins if it is alive
	state     State
	started   bool
	timedOut  bool
	own       string            // whom this voter votes for
	held      map[string]string // each voter's latest vote seen, own included
	winner    string
}

// Count is how many voters hold a vote for Candidate.
type Count struct {
	Candidate string
	Number    uint64
	Votes     int
}

// NewRound returns cfg.Self's round for the term that ended at the block
// blockHash (whitepaper §3.3 steps 1 and 2): every voter's number is fixed
// and the state is Voting, or Observing if Self does not vote.
func NewRound(cfg Config, term uint64, blockHash []byte) (*Round, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(blockHash) == 0 {
		return nil, fmt.Errorf("%w: empty block hash", ErrBadConfig)
	}
	r := &Round{
		self: cfg.Self, term: term, blockHash: bytes.Clone(blockHash), state: Voting,
		numbers: make(map[string]uint64, len(cfg.Voters)), held: make(map[string]string, len(cfg.Voters)),
	}
	numberOf := cfg.NumberOf
	if numberOf == nil {
		numberOf = func(a string) uint64 { return Number(r.blockHash, term, a) }
	}
	for _, a := range cfg.Voters {
		r.numbers[a] = numberOf(a)
		if r.top == "" || r.beats(a, r.top) {
			r.top = a
		}
	}
	if _, ok := r.numbers[cfg.Self]; !ok {
		r.observer, r.state = true, Observing
	}
	return r, nil
}

// Start casts this voter's vote for itself (step 3) and returns it, to be
// sent to every other authority. It returns nothing for an observer or when
// the round has already started.
func (r *Round) Start() []Vote {
	if r.observer || r.started {
		return nil
	}
	r.started = true
	r.own = r.self
	r.held[r.self] = r.self
	r.decide() // a lone voter elects itself
	return []Vote{r.vote(r.own)}
}

// Receive takes a vote from another authority (steps 4 to 7). It returns the
// votes to send to every other authority: this voter's new vote if v beat
// it, or its self-vote if v was the first news of the round. A vote from a
// voter replaces that voter's earlier one; a worse one is taken as an old
// vote delivered late, since a voter's votes only get better. A rejected
// vote changes nothing.
func (r *Round) Receive(v Vote) ([]Vote, error) {
	if err := r.check(v); err != nil {
		return nil, err
	}
	out := r.Start()
	r.hold(v.From, v.Candidate)
	if r.adopt(v.Candidate) {
		out = []Vote{r.vote(r.own)} // supersedes the self-vote: nobody needs both
	}
	r.decide()
	return out, nil
}

// Timeout tells the round that the caller's deadline has passed: from now on
// a majority for a candidate decides even if a better-ranked voter was never
// heard from, since it is taken to be down. Call it on every authority after
// the same wait, long enough for votes to reach all live voters.
func (r *Round) Timeout() {
	r.timedOut = true
	r.decide()
}

// State is this node's state: Voting until the round is decided, then
// Leading or Following; always Observing for an observer.
func (r *Round) State() State { return r.state }

// Winner returns the elected leader once the round is decided.
func (r *Round) Winner() (string, bool) { return r.winner, r.winner != "" }

// Tally returns, for each candidate, how many voters hold it in this node's
// view: most votes first, then best-ranked first.
func (r *Round) Tally() []Count {
	counts := make(map[string]int)
	for _, c := range r.held {
		counts[c]++
	}
	out := make([]Count, 0, len(counts))
	for c, n := range counts {
		out = append(out, Count{Candidate: c, Number: r.numbers[c], Votes: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.Votes != b.Votes {
			return cmp.Compare(b.Votes, a.Votes)
		}
		if r.beats(a.Candidate, b.Candidate) {
			return -1
		}
		return 1
	})
	return out
}

// check is step 4: the vote must be for this round, from another voter, for
// a voter, with that voter's number.
func (r *Round) check(v Vote) error {
	if v.Term != r.term || !bytes.Equal(v.BlockHash, r.blockHash) {
		return fmt.Errorf("%w: vote is for term %d block %x, the round for term %d block %x",
			ErrOtherRound, v.Term, v.BlockHash, r.term, r.blockHash)
	}
	if _, ok := r.numbers[v.From]; !ok {
		return fmt.Errorf("vote from %q: %w", v.From, ErrNotVoter)
	}
	if v.From == r.self {
		return fmt.Errorf("vote from %q: %w", v.From, ErrOwnVote)
	}
	n, ok := r.numbers[v.Candidate]
	if !ok {
		return fmt.Errorf("vote for %q: %w", v.Candidate, ErrNotVoter)
	}
	if v.Number != n {
		return fmt.Errorf("%w: %q has %d, the vote says %d", ErrBadNumber, v.Candidate, n, v.Number)
	}
	return nil
}

// hold records that voter holds candidate, unless it already holds a better
// one.
func (r *Round) hold(voter, candidate string) {
	if old, ok := r.held[voter]; ok && r.beats(old, candidate) {
		return
	}
	r.held[voter] = candidate
}

// adopt is step 5: a voter still voting that sees a better candidate makes
// it its own vote. A decided round keeps the vote it decided with: the
// decision is final, and that vote is what the others counted.
func (r *Round) adopt(candidate string) bool {
	if r.state != Voting || !r.beats(candidate, r.own) {
		return false
	}
	r.own = candidate
	r.held[r.self] = candidate
	return true
}

// decide is steps 6 and 7. Only the top-ranked voter can win before the
// deadline: a majority for any other may yet be overtaken (package doc).
func (r *Round) decide() {
	c, ok := r.majority()
	if r.winner != "" || !ok || (c != r.top && !r.timedOut) {
		return
	}
	r.winner = c
	switch {
	case r.observer:
	case c == r.self:
		r.state = Leading
	default:
		r.state = Following
	}
}

// majority returns the candidate held by more than half of the voters, if
// any; there can be at most one.
func (r *Round) majority() (string, bool) {
	t := r.Tally()
	if len(t) == 0 || 2*t[0].Votes <= len(r.numbers) {
		return "", false
	}
	return t[0].Candidate, true
}

// beats compares two candidates by their votes (step 5).
func (r *Round) beats(a, b string) bool {
	return Better(Vote{Candidate: a, Number: r.numbers[a]}, Vote{Candidate: b, Number: r.numbers[b]})
}

// vote is this node's vote for candidate, ready to send.
func (r *Round) vote(candidate string) Vote {
	return Vote{
		Term: r.term, BlockHash: bytes.Clone(r.blockHash),
		From: r.self, Candidate: candidate, Number: r.numbers[candidate],
	}
}
