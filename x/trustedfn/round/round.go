package round

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Errors a message can be refused with. A refused message changes nothing.
var (
	ErrPhase     = errors.New("not in this phase of the round")
	ErrNotMember = errors.New("node is not one of the round's nodes")
	ErrDone      = errors.New("node already did this in the round")
	ErrBadSalt   = errors.New("salt does not match the hash committed on chain")
	ErrSaltOK    = errors.New("complaint refused: the salt matches the app's hash on chain")
	ErrConfig    = errors.New("invalid round")
)

// Phase is where a round is.
type Phase uint8

const (
	// Committing: nodes commit (Steps 3, 4) until all have or the commit
	// timeout passes (Step 5).
	Committing Phase = iota + 1
	// AppRevealing: the commits are closed; the app must reveal its salts
	// (Step 6) before the reveal timeout.
	AppRevealing
	// Revealing: the app's salts are on chain; nodes reveal (Step 7).
	Revealing
	// Done: tallied; statuses and Result are final.
	Done
)

func (p Phase) String() string {
	switch p {
	case Committing:
		return "committing"
	case AppRevealing:
		return "app-revealing"
	case Revealing:
		return "revealing"
	case Done:
		return "done"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// Status is one node's part in a round. Only Majority and Excused are paid;
// only Lied and Stalled are slashed.
type Status uint8

const (
	// Assigned: chosen for the round, has not committed yet.
	Assigned Status = iota + 1
	// Committed: commit on chain, not revealed yet.
	Committed
	// Revealed: the reveal opened the commit; waiting for the tally.
	Revealed
	// Refused: the salt the app sent did not match its hash on chain; the
	// node left the round and the app got a complaint (§3.5.2). Not paid,
	// not slashed.
	Refused
	// Missed: did not commit before the commit timeout; the round went on
	// without it (Step 5). Not paid.
	Missed
	// Lied: the reveal did not open the commit (§3.5.5). Slashed.
	Lied
	// Stalled: committed but did not reveal before the reveal timeout
	// (§3.5.4). Slashed.
	Stalled
	// Majority: revealed the output the round agreed on (Step 11). Paid.
	Majority
	// Minority: revealed another output. Not paid (Step 11).
	Minority
	// Excused: committed, but the app never revealed its salts, so the
	// commit could not be opened; the app's stall must not cost the node its
	// pay (§3.5.1), so it is paid the round's base fee (its usage was never
	// revealed, so it bills none).
	Excused
)

var statusNames = map[Status]string{
	Assigned: "assigned", Committed: "committed", Revealed: "revealed", Refused: "refused",
	Missed: "missed", Lied: "lied", Stalled: "stalled", Majority: "majority",
	Minority: "minority", Excused: "excused",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Paid reports whether a node in this status is paid for the round.
func (s Status) Paid() bool { return s == Majority || s == Excused }

// Slashed reports whether a node in this status loses stake.
func (s Status) Slashed() bool { return s == Lied || s == Stalled }

// Agreement is the share of a round's nodes that must reveal the same output
// for the round to be TRUE: more than Num/Den of them, or all of them when
// Num == Den (the developer's "complete consensus", §4.3.3 (c)). The paper's
// default is more than 2/3 (Step 10).
type Agreement struct{ Num, Den uint32 }

// Validate checks 0 < Num/Den <= 1.
func (a Agreement) Validate() error {
	if a.Den == 0 || a.Num == 0 || a.Num > a.Den {
		return fmt.Errorf("%w: agreement %d/%d must be a fraction in (0, 1]", ErrConfig, a.Num, a.Den)
	}
	return nil
}

// Quorum is how many of n nodes must agree: the least count greater than
// n·Num/Den, and n itself when that would be more than n.
func (a Agreement) Quorum(n int) int {
	q := int(uint64(n)*uint64(a.Num)/uint64(a.Den)) + 1
	return min(q, n)
}

// Member is one node of a round.
type Member struct {
	Node         string
	AppSaltHash  Hash // Step 1, from the app
	NodeSaltHash Hash // Step 3
	Commit       Hash // Step 4
	AppSalt      []byte
	NodeSalt     []byte
	Output       Hash
	Usage        uint64 // gas since the last round, as committed (§4.3.1)
	// PaidUsage is what the node is paid for: its usage, capped at the
	// median the paid nodes committed, so no node bills more than its peers.
	PaidUsage uint64
	Status    Status
}

// Round is one commit-reveal round. Heights are block heights; the caller
// (the chain's end blocker) passes the current one.
type Round struct {
	ID ID
	// Agreement and the two timeouts (in blocks) are the app's settings at
	// the time the round opened.
	Agreement     Agreement
	CommitTimeout int64
	RevealTimeout int64
	// Spot, if set, is SpotHash of the output the app already knows: the
	// round is a spot check (DESIGN §8).
	Spot *Hash
	// SpotExpected is the output the app revealed for a spot check.
	SpotExpected *Hash

	Members []Member
	Phase   Phase
	// PhaseStart is the height the current phase began at.
	PhaseStart int64

	// Result is the consensus boolean of Step 10, set when Done.
	Result bool
	// Winner is the agreed output hash when Result is true.
	Winner Hash
	// AppDefaulted: the app did not reveal its salts in time.
	AppDefaulted bool
	// SpotDisputed: a quorum agreed on an output other than the one the app
	// said it expected: either the nodes colluded or the app lied; nobody is
	// paid, and both the app and the nodes carry the mark.
	SpotDisputed bool
}

// Open starts a round at height: nodes[i] gets the salt whose hash is
// saltHashes[i] (Step 1). spot is nil for an ordinary round.
func Open(id ID, nodes []string, saltHashes []Hash, spot *Hash, agreement Agreement,
	commitTimeout, revealTimeout, height int64,
) (*Round, error) {
	if err := agreement.Validate(); err != nil {
		return nil, err
	}
	if len(nodes) == 0 || len(nodes) != len(saltHashes) {
		return nil, fmt.Errorf("%w: %d nodes and %d salt hashes", ErrConfig, len(nodes), len(saltHashes))
	}
	if commitTimeout <= 0 || revealTimeout <= 0 {
		return nil, fmt.Errorf("%w: timeouts must be at least one block", ErrConfig)
	}
	r := &Round{
		ID: id, Agreement: agreement, CommitTimeout: commitTimeout, RevealTimeout: revealTimeout,
		Spot: spot, Phase: Committing, PhaseStart: height,
	}
	seen := make(map[string]bool, len(nodes))
	for i, n := range nodes {
		if n == "" || seen[n] {
			return nil, fmt.Errorf("%w: node %q empty or listed twice", ErrConfig, n)
		}
		seen[n] = true
		r.Members = append(r.Members, Member{Node: n, AppSaltHash: saltHashes[i], Status: Assigned})
	}
	return r, nil
}

func (r *Round) member(node string) (*Member, error) {
	for i := range r.Members {
		if r.Members[i].Node == node {
			return &r.Members[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNotMember, node)
}

func (r *Round) inPhase(p Phase) error {
	if r.Phase != p {
		return fmt.Errorf("%w: round %d is %s, not %s", ErrPhase, r.ID.Round, r.Phase, p)
	}
	return nil
}

// acting is the member node, if the round is in phase and the node in
// status: the precondition of every node's message.
func (r *Round) acting(p Phase, node string, status Status) (*Member, error) {
	if err := r.inPhase(p); err != nil {
		return nil, err
	}
	m, err := r.member(node)
	if err != nil {
		return nil, err
	}
	if m.Status != status {
		return nil, fmt.Errorf("%w: %s is %s", ErrDone, node, m.Status)
	}
	return m, nil
}

// Commit records a node's salt hash and commit (Steps 3, 4).
func (r *Round) Commit(node string, nodeSaltHash, commit Hash) error {
	m, err := r.acting(Committing, node, Assigned)
	if err != nil {
		return err
	}
	m.NodeSaltHash, m.Commit, m.Status = nodeSaltHash, commit, Committed
	return nil
}

// Refuse is a node's complaint that the salt the app sent it (received, or
// nothing) does not match the app's hash on chain (Step 4's ELSE, §3.5.2):
// the node leaves the round unpaid and unslashed. A complaint whose salt
// does match is refused, so a node cannot use it to skip work.
func (r *Round) Refuse(node string, received []byte) error {
	m, err := r.acting(Committing, node, Assigned)
	if err != nil {
		return err
	}
	if received != nil && SaltHash(r.ID, node, received) == m.AppSaltHash {
		return ErrSaltOK
	}
	m.Status = Refused
	return nil
}

// RevealApp records the app's salts, one per node that committed (Step 6),
// and for a spot check the output it expected and that commitment's salt.
// Every salt must open its hash, or nothing is recorded.
func (r *Round) RevealApp(salts map[string][]byte, expected *Hash, spotSalt []byte, height int64) error {
	if err := r.inPhase(AppRevealing); err != nil {
		return err
	}
	for i := range r.Members {
		m := &r.Members[i]
		if m.Status != Committed {
			continue
		}
		s, ok := salts[m.Node]
		if !ok || SaltHash(r.ID, m.Node, s) != m.AppSaltHash {
			return fmt.Errorf("%w: app salt for %s", ErrBadSalt, m.Node)
		}
	}
	if r.Spot != nil {
		if expected == nil || SpotHash(r.ID, *expected, spotSalt) != *r.Spot {
			return fmt.Errorf("%w: spot check", ErrBadSalt)
		}
		e := *expected
		r.SpotExpected = &e
	}
	for i := range r.Members {
		if m := &r.Members[i]; m.Status == Committed {
			m.AppSalt = bytes.Clone(salts[m.Node])
		}
	}
	r.Phase, r.PhaseStart = Revealing, height
	return nil
}

// RevealNode records a node's reveal (Step 7). A reveal that does not open
// the node's commit is recorded as a lie, not refused: the node had one
// chance and used it (§3.5.5).
func (r *Round) RevealNode(node string, nodeSalt []byte, output Hash, usage uint64) error {
	m, err := r.acting(Revealing, node, Committed)
	if err != nil {
		return err
	}
	m.NodeSalt, m.Output, m.Usage = bytes.Clone(nodeSalt), output, usage
	if SaltHash(r.ID, node, nodeSalt) != m.NodeSaltHash ||
		CommitHash(r.ID, node, m.AppSalt, nodeSalt, output, usage) != m.Commit {
		m.Status = Lied
		return nil
	}
	m.Status = Revealed
	return nil
}

func (r *Round) count(s Status) int {
	n := 0
	for _, m := range r.Members {
		if m.Status == s {
			n++
		}
	}
	return n
}

// Advance moves the round on at height: it closes the commits when every
// node has committed or refused or the commit timeout passed (Step 5),
// defaults the app that has not revealed by the reveal timeout, and tallies
// when every committed node revealed or the reveal timeout passed. It
// reports whether the round is done.
func (r *Round) Advance(height int64) bool {
	switch r.Phase {
	case Committing:
		if r.count(Assigned) > 0 && height < r.PhaseStart+r.CommitTimeout {
			return false
		}
		r.setAll(Assigned, Missed)
		if r.count(Committed) == 0 {
			r.Phase = Done
			return true
		}
		r.Phase, r.PhaseStart = AppRevealing, height
		return false
	case AppRevealing:
		if height < r.PhaseStart+r.RevealTimeout {
			return false
		}
		r.AppDefaulted = true
		r.setAll(Committed, Excused)
		r.Phase = Done
		return true
	case Revealing:
		if r.count(Committed) > 0 && height < r.PhaseStart+r.RevealTimeout {
			return false
		}
		r.setAll(Committed, Stalled)
		r.tally()
		r.Phase = Done
		return true
	}
	return r.Phase == Done
}

func (r *Round) setAll(from, to Status) {
	for i := range r.Members {
		if r.Members[i].Status == from {
			r.Members[i].Status = to
		}
	}
}

// tally is Steps 10 and 11. Out of all the round's nodes (not only those
// that committed: nodes that stay away must not lower the bar), more than
// the agreement threshold must have revealed one output. In a spot check
// that output must be the one the app expected.
func (r *Round) tally() {
	votes := map[Hash]int{}
	for _, m := range r.Members {
		if m.Status == Revealed {
			votes[m.Output]++
		}
	}
	quorum := r.Agreement.Quorum(len(r.Members))
	var winner Hash
	found := false
	for h, n := range votes {
		if n >= quorum {
			winner, found = h, true // a quorum is a strict majority: at most one
		}
	}
	if found && r.SpotExpected != nil && winner != *r.SpotExpected {
		r.SpotDisputed = true
		found = false
	}
	r.Result, r.Winner = found, winner
	for i := range r.Members {
		m := &r.Members[i]
		if m.Status != Revealed {
			continue
		}
		if found && m.Output == winner {
			m.Status = Majority
		} else {
			m.Status = Minority
		}
	}
	r.payUsage(Majority)
}

// payUsage caps what each paid node bills at the median usage of the paid
// nodes (the lower median, so that one node cannot raise it).
func (r *Round) payUsage(paid Status) {
	var us []uint64
	for _, m := range r.Members {
		if m.Status == paid {
			us = append(us, m.Usage)
		}
	}
	if len(us) == 0 {
		return
	}
	slices.Sort(us)
	median := us[(len(us)-1)/2]
	for i := range r.Members {
		if m := &r.Members[i]; m.Status == paid {
			m.PaidUsage = min(m.Usage, median)
		}
	}
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, bool) {
	for st, n := range statusNames {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// ParsePhase is the inverse of Phase.String.
func ParsePhase(s string) (Phase, bool) {
	for p := Committing; p <= Done; p++ {
		if p.String() == s {
			return p, true
		}
	}
	return 0, false
}
