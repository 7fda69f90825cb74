package keeper_test

import (
	"testing"

	"cosmossdk.io/math"

	"github.com/stratos-net/stratos/x/register/types"
)

// DESIGN §4: meta nodes are "admitted by a vote of existing meta nodes or
// by governance"; governance can also remove one (§5.2). Only the
// governance authority may; it admits a pending node and removes an active
// one, the deposit going to the community pool, never the last one.
func TestGovSetMetaNodeStatus(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 1)
	_, op2 := f.account(t, 2)
	cand, st := f.registerMeta(t, op2, 2)
	if st != types.NodeStatus_NODE_STATUS_PENDING {
		t.Fatalf("second meta node %s, want PENDING", st)
	}
	set := func(authority, id string, status types.NodeStatus) (*types.MsgSetMetaNodeStatusResponse, error) {
		return f.ms.SetMetaNodeStatus(f.ctx, &types.MsgSetMetaNodeStatus{Authority: authority, NodeId: id, Status: status})
	}

	// Not governance: refused, whoever asks.
	_, err := set(ops[0], cand, types.NodeStatus_NODE_STATUS_ACTIVE)
	wantErr(t, err, types.ErrUnauthorized)
	// The last active meta node cannot be removed.
	_, err = set(f.authority, ids[0], types.NodeStatus_NODE_STATUS_REMOVED)
	wantErr(t, err, types.ErrLastMetaNode)
	// Transitions other than admit and remove are refused.
	_, err = set(f.authority, cand, types.NodeStatus_NODE_STATUS_REMOVED)
	wantErr(t, err, types.ErrInvalidStatus)
	_, err = set(f.authority, ids[0], types.NodeStatus_NODE_STATUS_INACTIVE)
	wantErr(t, err, types.ErrInvalidStatus)
	_, err = set(f.authority, "00", types.NodeStatus_NODE_STATUS_ACTIVE)
	if err == nil {
		t.Fatal("unknown node admitted")
	}

	if _, err := set(f.authority, cand, types.NodeStatus_NODE_STATUS_ACTIVE); err != nil {
		t.Fatalf("governance admits: %v", err)
	}
	if _, ok := mustKeys(t, f)[cand]; !ok {
		t.Fatal("admitted node not among the active meta nodes")
	}
	total := f.bank.total()
	res, err := set(f.authority, ids[0], types.NodeStatus_NODE_STATUS_REMOVED)
	if err != nil {
		t.Fatalf("governance removes: %v", err)
	}
	if !res.Slashed.Amount.Equal(math.NewInt(1_000_000)) || !f.pool().Equal(math.NewInt(1_000_000)) || !f.bank.total().Equal(total) {
		t.Fatalf("slashed %s, pool %s, total %s (was %s): want the deposit in the pool, nothing created or lost",
			res.Slashed, f.pool(), f.bank.total(), total)
	}
	if _, ok := mustKeys(t, f)[ids[0]]; ok {
		t.Fatal("removed node still among the active meta nodes")
	}
	_, err = set(f.authority, ids[0], types.NodeStatus_NODE_STATUS_REMOVED)
	wantErr(t, err, types.ErrInvalidStatus)
}

// Votes count only the meta nodes active now (DESIGN §5.2), so when the
// active set shrinks, votes cast earlier may become more than 2/3 of it;
// their voters cannot vote again, so the chain applies them at once.
func TestVotesSettleWhenActiveSetShrinks(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 6)
	a, b, c, d, e, g := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	// Removing g needs more than 2/3 of the other 5: 4. b, c and d vote.
	f.mustVoteRemove(t, ops[1], b, g, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 4)
	f.mustVoteRemove(t, ops[2], c, g, types.NodeStatus_NODE_STATUS_ACTIVE, 2, 4)
	f.mustVoteRemove(t, ops[3], d, g, types.NodeStatus_NODE_STATUS_ACTIVE, 3, 4)
	// A candidate approved by a, b and c: 3 of 6, it needs 5.
	_, opP := f.account(t, 9)
	p, _ := f.registerMeta(t, opP, 9)
	for i, v := range []string{a, b, c} {
		if _, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: ops[i], VoterNodeId: v, CandidateNodeId: p}); err != nil {
			t.Fatal(err)
		}
	}
	// Governance removes e: the others of g are now a, b, c, d, and b, c, d
	// are 3 of 4, more than 2/3; g goes. Then a, b, c, d remain, and the
	// approvals of a, b, c are 3 of 4: p is admitted.
	if _, err := f.ms.SetMetaNodeStatus(f.ctx, &types.MsgSetMetaNodeStatus{Authority: f.authority, NodeId: e, Status: types.NodeStatus_NODE_STATUS_REMOVED}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]types.NodeStatus{e: types.NodeStatus_NODE_STATUS_REMOVED, g: types.NodeStatus_NODE_STATUS_REMOVED, p: types.NodeStatus_NODE_STATUS_ACTIVE} {
		n, err := f.k.MetaNodes.Get(f.ctx, id)
		if err != nil || n.Status != want {
			t.Fatalf("meta node %.8s: %s (err %v), want %s", id, n.Status, err, want)
		}
	}
	if !f.pool().Equal(math.NewInt(2_000_000)) {
		t.Fatalf("pool %s, want the deposits of e and g", f.pool())
	}
}

// DESIGN §5.2 with §7's rule: a shrinking active set never turns 2 votes
// of 4 into a decision; 2 of 3 is not more than 2/3 either.
func TestVotesDoNotSettleBelowTwoThirds(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 5)
	a, b, c, e := ids[0], ids[1], ids[2], ids[4]
	// Removing e: b and c vote, 2 of the other 4.
	f.mustVoteRemove(t, ops[1], b, e, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 3)
	f.mustVoteRemove(t, ops[2], c, e, types.NodeStatus_NODE_STATUS_ACTIVE, 2, 3)
	// Governance removes a: b and c are 2 of e's 3 others (b, c, d): not
	// more than 2/3, e stays.
	if _, err := f.ms.SetMetaNodeStatus(f.ctx, &types.MsgSetMetaNodeStatus{Authority: f.authority, NodeId: a, Status: types.NodeStatus_NODE_STATUS_REMOVED}); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.k.MetaNodes.Get(f.ctx, e); n.Status != types.NodeStatus_NODE_STATUS_ACTIVE {
		t.Fatalf("e is %s after 2 of 3 votes, want ACTIVE", n.Status)
	}
	if keys := mustKeys(t, f); len(keys) != 4 {
		t.Fatalf("%d authorities, want 4", len(keys))
	}
}
