package keeper_test

import (
	"errors"
	"testing"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// Stratosphere §4.1.6 as the issue puts it: a slice's holders commit and
// reveal hash(challenge ‖ slice bytes), the challenge drawn from the block
// hash when the challenge opened; a holder that cannot answer, or answers
// wrongly, gets a storage failure on its record (and, if it lied or
// stalled, a slash); nobody is paid by the round.
func TestStorageChallenge(t *testing.T) {
	f := setup(t)
	f.offer(4)
	holders := []string{"node0", "node1", "node2", "node3"}
	msg := &types.MsgChallengeStorage{Operator: addr(t, accAddr("mallory")), MetaNodeId: "meta0", SliceId: "slice-a", Holders: holders}
	if _, err := f.msg.ChallengeStorage(f.ctx, msg); !errors.Is(err, types.ErrNotOperator) {
		t.Fatalf("a stranger challenges: %v", err)
	}
	msg.Operator = addr(t, accAddr("meta-operator"))
	res, err := f.msg.ChallengeStorage(f.ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	r := f.getRound(res.RoundId)
	if len(r.Challenge) != 32 || r.SliceId != "slice-a" || r.AppId != "" {
		t.Fatalf("round %+v", r)
	}
	open, err := f.query.OpenRounds(f.ctx, &types.QueryOpenRoundsRequest{NodeId: "node2"})
	if err != nil || len(open.Rounds) != 1 {
		t.Fatalf("node2's open rounds: %v %v", open, err)
	}
	bytesOf := map[string][]byte{"node0": []byte("the slice"), "node1": []byte("the slice"),
		"node2": []byte("the slice"), "node3": []byte("lost it, made this up")}
	id := round.ID{ChainID: testChainID, Round: res.RoundId}
	salts := map[string][]byte{}
	for _, n := range holders {
		salts[n] = []byte("salt of " + n)
		proof := round.StorageProof(r.Challenge, bytesOf[n])
		sh := round.SaltHash(id, n, salts[n])
		c := round.CommitHash(id, n, r.Challenge, salts[n], proof, 0)
		if _, err := f.msg.Commit(f.ctx, &types.MsgCommit{Operator: addr(t, operator(n)), RoundId: res.RoundId, NodeId: n,
			NodeSaltHash: sh[:], Commit: c[:]}); err != nil {
			t.Fatal(err)
		}
	}
	f.endBlock() // the commits close and the chain reveals the challenge
	if r := f.getRound(res.RoundId); r.Phase != round.Revealing.String() {
		t.Fatalf("phase %s after the commits", r.Phase)
	}
	for _, n := range holders {
		proof := round.StorageProof(r.Challenge, bytesOf[n])
		if _, err := f.msg.Reveal(f.ctx, &types.MsgReveal{Operator: addr(t, operator(n)), RoundId: res.RoundId, NodeId: n,
			NodeSalt: salts[n], OutputHash: proof[:]}); err != nil {
			t.Fatal(err)
		}
	}
	f.endBlock()
	r = f.getRound(res.RoundId)
	if r.Phase != round.Done.String() || !r.Result {
		t.Fatalf("phase %s result %v", r.Phase, r.Result)
	}
	for i, n := range holders {
		rep, err := f.query.Reputation(f.ctx, &types.QueryReputationRequest{NodeId: n})
		if err != nil {
			t.Fatal(err)
		}
		failed := uint64(0)
		if n == "node3" {
			failed = 1
		}
		if rep.Record.StorageChallenges != 1 || rep.Record.StorageFailures != failed {
			t.Errorf("%s: %+v", n, rep.Record)
		}
		if !r.Members[i].Paid.IsZero() {
			t.Errorf("%s paid %s by a storage challenge", n, r.Members[i].Paid)
		}
	}
	if f.bank.balance(modAddr) != nil && !f.bank.balance(modAddr).IsZero() {
		t.Errorf("the module holds %s", f.bank.balance(modAddr))
	}
}

// A holder that does not answer in time fails the challenge.
func TestStorageChallengeMissedIsAFailure(t *testing.T) {
	f := setup(t)
	f.offer(3)
	res, err := f.msg.ChallengeStorage(f.ctx, &types.MsgChallengeStorage{Operator: addr(t, accAddr("meta-operator")),
		MetaNodeId: "meta0", SliceId: "slice-b", Holders: []string{"node0", "node1", "node2"}})
	if err != nil {
		t.Fatal(err)
	}
	for f.getRound(res.RoundId).Phase != round.Done.String() {
		f.endBlock()
	}
	rep, _ := f.query.Reputation(f.ctx, &types.QueryReputationRequest{NodeId: "node1"})
	if rep.Record.StorageFailures != 1 || rep.Record.Missed != 1 {
		t.Fatalf("%+v", rep.Record)
	}
}
