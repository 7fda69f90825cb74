package poa

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Errors returned by NewRound, Receive and UnmarshalVote; match them with
// errors.Is.
var (
	ErrBadConfig   = errors.New("invalid round configuration")
	ErrOtherRound  = errors.New("vote for another round")
	ErrNotVoter    = errors.New("not a voting authority")
	ErrOwnVote     = errors.New("vote claims to come from this node")
	ErrBadNumber   = errors.New("vote number is not the candidate's number for the round")
	ErrBadEncoding = errors.New("malformed vote encoding")
)

// State is a server's state in the election (whitepaper §3.3).
type State int

const (
	Voting    State = iota + 1 // in a round, looking for the leader
	Following                  // a voter that follows the elected leader
	Observing                  // not a voter: follows the leader, never votes
	Leading                    // the elected leader
)

func (s State) String() string {
	switch s {
	case Voting:
		return "Voting"
	case Following:
		return "Following"
	case Observing:
		return "Observing"
	case Leading:
		return "Leading"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Vote is one voter's current choice in a round: From votes for Candidate,
// whose number for the round is Number.
type Vote struct {
	Term      uint64 // the master term that ended
	BlockHash []byte // the chain block the round's numbers come from
	From      string // the voter
	Candidate string // whom From votes for
	Number    uint64 // Candidate's number for (Term, BlockHash)
}

// Better reports whether a beats b (whitepaper §3.3 step 5): the larger
// number wins, and equal numbers go to the larger address. Addresses compare
// bytewise; node IDs are fixed-length hex, so that is numeric order.
func Better(a, b Vote) bool {
	if a.Number != b.Number {
		return a.Number > b.Number
	}
	return a.Candidate > b.Candidate
}

// numberDomain keeps these hashes apart from any other SHA-256 of the same
// fields.
const numberDomain = "stratos/poa/number/v1"

// Number is a voter's number in the round (term, blockHash): the first eight
// bytes, big-endian, of SHA-256 over
//
//	str(domain) str(blockHash) term str(address)
//
// with str(s) = len(s) || s and integers big-endian uint64. It replaces the
// paper's self-chosen random number (DESIGN §5.2): the block hash is not
// known before the term ends and no voter can pick it.
func Number(blockHash []byte, term uint64, address string) uint64 {
	b := make([]byte, 0, 8*4+len(numberDomain)+len(blockHash)+len(address))
	b = appendBytes(b, []byte(numberDomain))
	b = appendBytes(b, blockHash)
	b = binary.BigEndian.AppendUint64(b, term)
	b = appendBytes(b, []byte(address))
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8])
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// Config says who takes part in a round. Every authority must use the same
// Voters and Observers: the registered meta nodes as the chain lists them.
type Config struct {
	Self      string   // this node's address (node ID)
	Voters    []string // the voting authorities, Self's vote included
	Observers []string // registered meta nodes that do not vote

	// NumberOf, FOR TESTS ONLY, replaces Number(blockHash, term, address)
	// so a test can give the whitepaper's example numbers. Production
	// leaves it nil. Receive checks votes against it, so every node of a
	// test network must use the same function.
	NumberOf func(address string) uint64
}

// Validate checks that the addresses are non-empty and distinct, that there
// is a voter, and that Self is a voter or an observer.
func (c Config) Validate() error {
	if len(c.Voters) == 0 {
		return fmt.Errorf("%w: no voters", ErrBadConfig)
	}
	seen := make(map[string]bool, len(c.Voters)+len(c.Observers))
	for _, a := range slices.Concat(c.Voters, c.Observers) {
		if a == "" {
			return fmt.Errorf("%w: empty address", ErrBadConfig)
		}
		if seen[a] {
			return fmt.Errorf("%w: %q listed twice", ErrBadConfig, a)
		}
		seen[a] = true
	}
	if !seen[c.Self] {
		return fmt.Errorf("%w: self %q is neither a voter nor an observer", ErrBadConfig, c.Self)
	}
	return nil
}
