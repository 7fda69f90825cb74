package meta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stratos-net/stratos/meta/poa"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/wire"
)

// BlockHasher gives the hash of the chain's latest block, from which the
// PoA numbers of a round come (DESIGN §5.2), and the time of a block by its
// hash, so a member checks the block a round's opener named.
type BlockHasher interface {
	LatestBlockHash(ctx context.Context) ([]byte, error)
	BlockTime(ctx context.Context, hash []byte) (time.Time, error)
}

// ErrVoteSender: a PoA vote from a node other than the one it names.
var ErrVoteSender = errors.New("a PoA vote must come from the voter it names")

// voteWait is how long a round waits for the votes of voters ranked above
// the majority's candidate before it takes them as down (poa.Round.Timeout).
const voteWait = 3 * time.Second

// election runs the PoA master vote (whitepaper §3.3) at every master term
// boundary: the leader opens each round with its own vote; every member
// joins on the first vote it receives, passes on what its round says, and
// once the round is decided the leader hands leadership to the winner with
// Raft's leadership transfer.
type election struct {
	mu      sync.Mutex
	round   *poa.Round
	term    uint64    // of round
	opened  time.Time // when round began here
	last    *metav1.PoaRound
	decided uint64 // the last term decided here
	// checkedTerm and checkedHash: the block hash last checked on chain.
	checkedTerm uint64
	checkedHash []byte
}

// electionLoop opens a round at each term boundary while this node leads.
func (s *Server) electionLoop(ctx context.Context) {
	t := time.NewTicker(min(s.cfg.MasterTerm/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.electionTick(ctx)
	}
}

func (s *Server) electionTick(ctx context.Context) {
	term := uint64(s.now().UnixNano() / int64(s.cfg.MasterTerm))
	e := &s.elect
	e.mu.Lock()
	if e.round != nil && !decidedRound(e.round) && s.now().Sub(e.opened) > voteWait {
		e.round.Timeout() // voters above the majority's candidate are taken as down
		s.afterVote(e.round)
	}
	open := s.leading() && term > e.decided && (e.round == nil || e.term < term)
	e.mu.Unlock()
	if !open {
		return
	}
	hash, err := s.blockHash(ctx, term)
	if err != nil {
		s.log.Warn("PoA round: no block hash", "term", term, "err", err)
		return
	}
	e.mu.Lock()
	votes, err := s.joinRound(term, hash)
	e.mu.Unlock()
	if err != nil {
		s.log.Warn("PoA round not opened", "term", term, "err", err)
		return
	}
	s.broadcast(ctx, votes)
}

// blockHash is the latest chain block's hash, or, with no chain, a hash of
// the term that every node computes alike.
func (s *Server) blockHash(ctx context.Context, term uint64) ([]byte, error) {
	if s.cfg.Blocks != nil {
		return s.cfg.Blocks.LatestBlockHash(ctx)
	}
	return NoChainBlockHash(term), nil
}

// NoChainBlockHash stands for the block hash of a PoA round on a meta
// cluster with no chain: a hash of the term, the same at every node.
func NoChainBlockHash(term uint64) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("stratos/poa/no-chain/v1"), term))
	return h[:]
}

// joinRound makes this node's round for (term, hash) and returns the votes
// to send; the caller holds elect.mu.
func (s *Server) joinRound(term uint64, hash []byte) ([]poa.Vote, error) {
	e := &s.elect
	voters, observers, err := s.authorities()
	if err != nil {
		return nil, err
	}
	r, err := poa.NewRound(poa.Config{Self: s.ID(), Voters: voters, Observers: observers}, term, hash)
	if err != nil {
		return nil, err
	}
	e.round, e.term, e.opened = r, term, s.now()
	return r.Start(), nil
}

// authorities are the cluster's voters and observers, by ID.
func (s *Server) authorities() (voters, observers []string, err error) {
	ms, err := s.raft.Members()
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if m.Voter {
			voters = append(voters, m.ID)
		} else {
			observers = append(observers, m.ID)
		}
	}
	return voters, observers, nil
}

// PoaVote takes a vote of the PoA election from the voter that sent it.
func (s *Server) PoaVote(ctx context.Context, req *metav1.PoaVoteRequest) (*metav1.PoaVoteResponse, error) {
	v, err := poa.UnmarshalVote(req.GetVote())
	if err != nil {
		return nil, toStatus(fmt.Errorf("%w: %w", errBadVote, err))
	}
	if caller, ok := wire.PeerID(ctx); !ok || caller != v.From {
		return nil, toStatus(fmt.Errorf("%w: vote of %s sent by %q", ErrVoteSender, v.From, caller))
	}
	if err := s.checkBlockHash(ctx, v.Term, v.BlockHash); err != nil {
		return nil, toStatus(fmt.Errorf("%w: %w", errBadVote, err))
	}
	out, err := s.receiveVote(v)
	if err != nil {
		return nil, toStatus(fmt.Errorf("%w: %w", errBadVote, err))
	}
	go s.broadcast(context.WithoutCancel(ctx), out)
	return &metav1.PoaVoteResponse{}, nil
}

var errBadVote = errors.New("PoA vote refused")

// checkBlockHash checks the block a round's numbers come from (DESIGN
// §5.2: "a node's number is derived from the latest chain block hash", so
// nobody can pick a winning number): with a chain, a block the chain has,
// made no earlier than a master term before the round's term began; with
// none, the hash of the term. A hash once checked for a term is not asked
// about again.
func (s *Server) checkBlockHash(ctx context.Context, term uint64, hash []byte) error {
	if s.cfg.Blocks == nil {
		if !bytes.Equal(hash, NoChainBlockHash(term)) {
			return fmt.Errorf("round %d names block %X, not the term's hash", term, hash)
		}
		return nil
	}
	e := &s.elect
	e.mu.Lock()
	known := e.checkedTerm == term && bytes.Equal(e.checkedHash, hash)
	e.mu.Unlock()
	if known {
		return nil
	}
	at, err := s.cfg.Blocks.BlockTime(ctx, hash)
	if err != nil {
		return fmt.Errorf("round %d names block %X, which the chain does not show: %w", term, hash, err)
	}
	began := time.Unix(0, int64(term)*int64(s.cfg.MasterTerm))
	if at.Before(began.Add(-s.cfg.MasterTerm)) {
		return fmt.Errorf("round %d names block %X of %s, older than the term that began at %s", term, hash, at.UTC().Format(time.RFC3339), began.UTC().Format(time.RFC3339))
	}
	e.mu.Lock()
	e.checkedTerm, e.checkedHash = term, hash
	e.mu.Unlock()
	return nil
}

func (s *Server) receiveVote(v poa.Vote) ([]poa.Vote, error) {
	e := &s.elect
	e.mu.Lock()
	defer e.mu.Unlock()
	if v.Term <= e.decided {
		return nil, nil // a late vote of a decided round
	}
	var out []poa.Vote
	if e.round == nil || e.term < v.Term {
		votes, err := s.joinRound(v.Term, v.BlockHash)
		if err != nil {
			return nil, err
		}
		out = votes
	}
	more, err := e.round.Receive(v)
	if err != nil {
		return nil, err
	}
	s.afterVote(e.round)
	return append(out, more...), nil
}

func decidedRound(r *poa.Round) bool { _, ok := r.Winner(); return ok }

// afterVote records a decided round and, on the leader, hands leadership to
// the winner. The caller holds elect.mu.
func (s *Server) afterVote(r *poa.Round) {
	winner, ok := r.Winner()
	e := &s.elect
	if !ok || e.decided >= e.term {
		return
	}
	e.decided = e.term
	last := &metav1.PoaRound{Term: e.term, Winner: winner, DecidedUnixNano: s.now().UnixNano()}
	for _, c := range r.Tally() {
		last.Votes = append(last.Votes, &metav1.PoaCount{Candidate: c.Candidate, Number: c.Number, Votes: uint32(c.Votes)})
	}
	e.last = last
	s.log.Info("PoA round decided", "term", e.term, "winner", winner, "state", r.State().String())
	if s.raft.IsLeader() && winner != s.ID() {
		go func() {
			if err := s.raft.TransferLeadership(winner); err != nil {
				s.log.Warn("PoA: leadership not handed to the winner", "winner", winner, "err", err)
			}
		}()
	}
}

// broadcast sends votes to every other member of the cluster.
func (s *Server) broadcast(ctx context.Context, votes []poa.Vote) {
	if len(votes) == 0 {
		return
	}
	ms, err := s.raft.Members()
	if err != nil {
		return
	}
	for _, m := range ms {
		if m.ID == s.ID() {
			continue
		}
		conn, err := s.peers.conn(m.ID, s.key)
		if err != nil {
			continue
		}
		for _, v := range votes {
			go func() {
				ctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				if _, err := metav1.NewMetaServiceClient(conn).PoaVote(ctx, &metav1.PoaVoteRequest{Vote: v.Marshal()}); err != nil {
					s.log.Debug("PoA vote not delivered", "to", m.ID, "err", err)
				}
			}()
		}
	}
}

// lastRound is the last PoA round this node saw decided.
func (s *Server) lastRound() *metav1.PoaRound {
	s.elect.mu.Lock()
	defer s.elect.mu.Unlock()
	return s.elect.last
}
