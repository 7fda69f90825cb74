package meta

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/stratos-net/stratos/meta/poa"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// blocks is a chain's blocks by hash, as a meta node asks about them.
type blocks map[string]time.Time

func (b blocks) LatestBlockHash(context.Context) ([]byte, error) { return nil, errors.New("unused") }

func (b blocks) BlockTime(_ context.Context, hash []byte) (time.Time, error) {
	at, ok := b[string(hash)]
	if !ok {
		return time.Time{}, errors.New("no such block")
	}
	return at, nil
}

// DESIGN §5.2: a node's PoA number is derived from the latest chain block
// hash, "so nobody can pick a winning number". A member checks the block
// a round names: one the chain does not have, or one from before the
// term, is refused, and the vote with it.
func TestPoaVoteNamesARealRecentBlock(t *testing.T) {
	h := newHarness(t, 0)
	h.s.cfg.MasterTerm = time.Minute
	term := uint64(h.clock.Now().UnixNano() / int64(time.Minute))
	began := time.Unix(0, int64(term)*int64(time.Minute))
	h.s.cfg.Blocks = blocks{"fresh": began.Add(time.Second), "stale": began.Add(-2 * time.Minute)}
	if err := h.s.checkBlockHash(ctx, term, []byte("fresh")); err != nil {
		t.Fatalf("a block of the term: %v", err)
	}
	for _, hash := range []string{"stale", "made-up"} {
		if err := h.s.checkBlockHash(ctx, term, []byte(hash)); err == nil {
			t.Fatalf("block %q accepted", hash)
		}
	}
	voter := h.newKey()
	v := poa.Vote{Term: term, BlockHash: []byte("made-up"), From: voter.ID(), Candidate: voter.ID(), Number: 1 << 60}
	_, err := h.s.PoaVote(callerCtx(t, voter), &metav1.PoaVoteRequest{Vote: v.Marshal()})
	wantCode(t, err, codes.InvalidArgument)

	// With no chain, the hash is the term's.
	h.s.cfg.Blocks = nil
	if err := h.s.checkBlockHash(ctx, term, NoChainBlockHash(term)); err != nil {
		t.Fatal(err)
	}
	if err := h.s.checkBlockHash(ctx, term, NoChainBlockHash(term+1)); err == nil {
		t.Fatal("another term's hash accepted")
	}
}
