// Package poa is the meta service's Proof-of-Authority master election
// (whitepaper §3.3, DESIGN §5.2) as a pure state machine: it imports neither
// net nor os, reads no clock and draws no randomness. The caller (the meta
// server with meta/raftnode) does the I/O: it feeds a Round the votes it
// receives and broadcasts the votes the Round returns.
//
// # The protocol
//
// The authorities are the meta nodes registered on chain. The voting ones
// (the Raft voters) take part in the vote; the others are Observing: they
// may watch a round to learn its outcome but never vote and are never
// counted. One round is held at the end of each master term and is named by
// (term, block hash), the hash of the latest chain block at the term's end.
// The whitepaper's steps:
//
//  1. Each voter gets a number (see below).
//  2. Each voter enters the Voting state (NewRound).
//  3. Each voter votes for itself, (number, address), and sends the vote to
//     all others (Start).
//  4. A received vote is checked: it must be for this round and from a
//     voting authority (Receive returns ErrOtherRound, ErrNotVoter, ...).
//  5. The vote is compared with the receiver's own (Better): the larger
//     number wins, equal numbers go to the larger address. A receiver that
//     sees a better vote makes it its own and sends it on to all others.
//  6. After each vote the receiver counts, for each candidate, the voters
//     whose latest vote names it. A candidate held by more than half of all
//     voters (crashed ones included: the denominator is the voter set) is
//     elected.
//  7. The winner's state becomes Leading, the other voters' Following.
//
// # Our one change: numbers are derived
//
// The paper lets each server draw its own random number, so a server that
// always draws the maximum always wins. Here a voter's number is
// Number(block hash, term, address): the first eight bytes of a SHA-256 over
// a domain-separated, length-prefixed encoding of the three. Nobody can
// choose it, everybody can recompute it, and Receive rejects a vote whose
// number is not its candidate's (ErrBadNumber).
//
// A consequence, which closes a gap the paper leaves open (when to stop
// waiting): since the numbers are public, every voter knows the ranking
// before a vote arrives. A round decides at once when more than half hold
// the top-ranked voter. A lower-ranked candidate can be held by a majority
// only because the votes of a better one have not arrived, and a voter that
// is slow cannot be told from one that has crashed; deciding on it at once
// would let two nodes decide differently (one sees the runner-up's
// majority, another the top voter's a moment later). So a lower-ranked
// majority decides only after the caller's deadline (Timeout): the caller
// says when the silent voters above it are to be taken as down. Decisions
// reached without a Timeout therefore agree at every node, whatever the
// order votes arrive in; decisions after a Timeout agree if the deadline is
// longer than votes take to reach the live voters.
//
// # Driving a round
//
// At a term's end each authority, voter or observer, calls NewRound with the
// same voter set, term and block hash, broadcasts what Start returns to every
// other authority, and then for each vote it receives broadcasts what
// Receive returns. A vote that arrives before Start joins the round (Receive
// starts it); a vote for a round the node has not created yet (it has not
// seen the block) should be kept until it has. If no winner is known by the
// caller's deadline, it calls Timeout. Winner reports the decision once made;
// after it the Round never changes its vote again. The current Raft leader
// then hands leadership to the winner with Raft's leadership transfer
// (DESIGN §5.2); Raft, not this vote, is what keeps one leader at a time.
//
// Votes carry no signature: the caller must check that Vote.From is the
// authenticated peer the vote came from (wire.PeerID), or an authority could
// vote in another's name. Marshal and UnmarshalVote give a canonical,
// length-prefixed encoding for sending votes.
package poa
