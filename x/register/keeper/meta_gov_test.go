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
// active set shrinks, votes cast earlier may become a majority; their
// voters cannot vote again, so the chain applies them at once.
func TestVotesSettleWhenActiveSetShrinks(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 5)
	a, b, c, d, e := ids[0], ids[1], ids[2], ids[3], ids[4]
	// Removing e needs 3 of the other 4; b and c vote.
	f.mustVoteRemove(t, ops[1], b, e, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 3)
	f.mustVoteRemove(t, ops[2], c, e, types.NodeStatus_NODE_STATUS_ACTIVE, 2, 3)
	// A candidate approved by a and b: 2 of 5, not a majority.
	_, opP := f.account(t, 9)
	p, _ := f.registerMeta(t, opP, 9)
	for i, v := range []string{a, b} {
		if _, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: ops[i], VoterNodeId: v, CandidateNodeId: p}); err != nil {
			t.Fatal(err)
		}
	}
	// Governance removes d: the others of e are now a, b, c, and b and c
	// are a majority of them; e goes. Then a, b, c remain, and a and b's
	// approvals of p are a majority: p is admitted.
	if _, err := f.ms.SetMetaNodeStatus(f.ctx, &types.MsgSetMetaNodeStatus{Authority: f.authority, NodeId: d, Status: types.NodeStatus_NODE_STATUS_REMOVED}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]types.NodeStatus{d: types.NodeStatus_NODE_STATUS_REMOVED, e: types.NodeStatus_NODE_STATUS_REMOVED, p: types.NodeStatus_NODE_STATUS_ACTIVE} {
		n, err := f.k.MetaNodes.Get(f.ctx, id)
		if err != nil || n.Status != want {
			t.Fatalf("meta node %.8s: %s (err %v), want %s", id, n.Status, err, want)
		}
	}
	if !f.pool().Equal(math.NewInt(2_000_000)) {
		t.Fatalf("pool %s, want the deposits of d and e", f.pool())
	}
}
