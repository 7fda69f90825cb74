package meta

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"time"

	"github.com/stratos-net/stratos/meta/health"
)

// StorageChallenges opens proofs of storage on chain (x/trustedfn,
// Stratosphere §4.1.6) and reads how they ended.
type StorageChallenges interface {
	// Challenge asks every holder of the slice to prove it holds the bytes;
	// it returns the challenge's round ID.
	Challenge(ctx context.Context, sliceID string, holders []string) (uint64, error)
	// Outcome is a challenge's end: done once settled, proved if more than
	// half of the holders gave one proof, failed the holders that did not.
	Outcome(ctx context.Context, roundID uint64) (done, proved bool, failed []string, err error)
}

// challenge is a storage challenge in flight.
type challenge struct {
	round uint64
	slice string
	since time.Time
}

// challengeLoop is the leader's proofs of storage: every ChallengeEvery it
// picks a live resource node at random and one of its slices at random, and
// challenges that slice's holders; when a challenge that some holder proved
// ends, the holders that failed it lose their replica in the index and the
// slice goes to repair (it is repaired from the holders that proved it).
func (s *Server) challengeLoop(ctx context.Context) {
	var seed [16]byte
	rand.Read(seed[:])
	rng := mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	t := time.NewTicker(s.cfg.ChallengeEvery)
	defer t.Stop()
	var inFlight []challenge
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		inFlight = s.settleChallenges(ctx, inFlight)
		if !s.leading() || len(inFlight) >= maxChallengesInFlight {
			continue
		}
		sliceID, holders, ok := s.pickChallenge(rng)
		if !ok {
			continue
		}
		id, err := s.cfg.Challenges.Challenge(ctx, sliceID, holders)
		if err != nil {
			s.log.Warn("storage challenge", "slice", sliceID, "err", err)
			continue
		}
		s.log.Info("storage challenge opened", "slice", sliceID, "round", id, "holders", len(holders))
		inFlight = append(inFlight, challenge{round: id, slice: sliceID, since: s.now()})
	}
}

// maxChallengesInFlight bounds the leader's open challenges.
const maxChallengesInFlight = 8

// pickChallenge draws a live node, then one of its slices by reservoir
// sampling, and returns the slice's holders.
func (s *Server) pickChallenge(rng *mrand.Rand) (string, []string, bool) {
	recs, err := s.ix.Nodes()
	if err != nil {
		return "", nil, false
	}
	var alive []string
	for _, r := range recs {
		if s.health.State(r.GetNodeId()) == health.Alive {
			alive = append(alive, r.GetNodeId())
		}
	}
	if len(alive) == 0 {
		return "", nil, false
	}
	node := alive[rng.IntN(len(alive))]
	var picked string
	seen := 0
	if err := s.ix.SlicesOn(node, func(id string) error {
		seen++
		if rng.IntN(seen) == 0 {
			picked = id
		}
		return nil
	}); err != nil || picked == "" {
		return "", nil, false
	}
	sl, err := s.ix.Slice(picked)
	if err != nil || len(sl.GetReplicas()) == 0 {
		return "", nil, false
	}
	return picked, sl.GetReplicas(), true
}

// settleChallenges reads the challenges in flight and acts on those that
// ended; it returns those still open.
func (s *Server) settleChallenges(ctx context.Context, inFlight []challenge) []challenge {
	var open []challenge
	for _, c := range inFlight {
		done, proved, failed, err := s.cfg.Challenges.Outcome(ctx, c.round)
		if err != nil || !done {
			if err != nil {
				s.log.Warn("storage challenge outcome", "round", c.round, "err", err)
			}
			if s.now().Sub(c.since) < 10*time.Minute {
				open = append(open, c)
			}
			continue
		}
		if !proved || len(failed) == 0 || !s.leading() {
			continue // nobody proved it: no holder to repair from; the health checks and scrubbing act
		}
		s.log.Warn("storage challenge failed", "slice", c.slice, "round", c.round, "nodes", failed)
		if _, err := s.apply(removeReplicas(c.slice, failed...)); err != nil {
			s.log.Warn("drop failed replicas", "slice", c.slice, "err", err)
			continue
		}
		s.enqueueRepair(c.slice)
	}
	return open
}
