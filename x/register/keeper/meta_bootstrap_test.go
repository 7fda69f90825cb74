package keeper_test

import (
	"testing"

	"github.com/stratos-net/stratos/x/register/types"
)

// DESIGN §5.2: "Meta nodes registered on chain are the authorities", and
// a real network's genesis names the first of them. A later registration
// never makes its registrant an authority by itself: it stays PENDING until
// more than 2/3 of the active meta nodes or governance admit it. Only a
// test network whose genesis names no meta node, with allow_meta_bootstrap
// set, lets its first registrant be the first authority.
func TestRegistrationNeverMakesAnAuthority(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bootstrap bool
		// genesis is the status of each meta node the genesis names.
		genesis []types.NodeStatus
		want    types.NodeStatus
	}{
		{"genesis authority", false, []types.NodeStatus{types.NodeStatus_NODE_STATUS_ACTIVE}, types.NodeStatus_NODE_STATUS_PENDING},
		{"genesis authority, bootstrap allowed", true, []types.NodeStatus{types.NodeStatus_NODE_STATUS_ACTIVE}, types.NodeStatus_NODE_STATUS_PENDING},
		// A genesis whose meta nodes are none of them active still names
		// them: the bootstrap is closed and governance must admit.
		{"only a pending genesis meta node, bootstrap allowed", true, []types.NodeStatus{types.NodeStatus_NODE_STATUS_PENDING}, types.NodeStatus_NODE_STATUS_PENDING},
		{"only a removed genesis meta node, bootstrap allowed", true, []types.NodeStatus{types.NodeStatus_NODE_STATUS_REMOVED}, types.NodeStatus_NODE_STATUS_PENDING},
		{"no genesis meta node, bootstrap off (the default)", false, nil, types.NodeStatus_NODE_STATUS_PENDING},
		{"no genesis meta node, bootstrap allowed", true, nil, types.NodeStatus_NODE_STATUS_ACTIVE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			gs := types.GenesisState{Params: types.DefaultParams()}
			gs.Params.AllowMetaBootstrap = tc.bootstrap
			for i, st := range tc.genesis {
				pub, id := nodeKey(byte(20 + i))
				_, op := f.account(t, byte(20+i))
				gs.MetaNodes = append(gs.MetaNodes, types.MetaNode{NodeId: id, PublicKey: pub, Operator: op,
					NetworkAddress: "m:1", Deposit: ustos(0), Status: st})
			}
			if err := gs.Validate(f.ac); err != nil {
				t.Fatal(err)
			}
			if err := f.k.InitGenesis(f.ctx, gs); err != nil {
				t.Fatal(err)
			}
			before := len(mustKeys(t, f))
			_, op := f.account(t, 1)
			id, st := f.registerMeta(t, op, 1)
			if st != tc.want {
				t.Fatalf("registrant is %s, want %s", st, tc.want)
			}
			if _, ok := mustKeys(t, f)[id]; ok != (tc.want == types.NodeStatus_NODE_STATUS_ACTIVE) {
				t.Fatalf("registrant among the authorities: %v", ok)
			}
			// The bootstrap happens once: the next registrant waits.
			_, op2 := f.account(t, 2)
			if _, st := f.registerMeta(t, op2, 2); st != types.NodeStatus_NODE_STATUS_PENDING {
				t.Fatalf("second registrant is %s, want PENDING", st)
			}
			if got := len(mustKeys(t, f)); got != before+boolInt(tc.want == types.NodeStatus_NODE_STATUS_ACTIVE) {
				t.Fatalf("%d authorities, was %d", got, before)
			}
			if tc.want == types.NodeStatus_NODE_STATUS_ACTIVE {
				return
			}
			// Governance admits the pending registrant (DESIGN §4: "or by
			// governance"), with or without authorities.
			if _, err := f.ms.SetMetaNodeStatus(f.ctx, &types.MsgSetMetaNodeStatus{Authority: f.authority, NodeId: id,
				Status: types.NodeStatus_NODE_STATUS_ACTIVE}); err != nil {
				t.Fatalf("governance admits: %v", err)
			}
			if _, ok := mustKeys(t, f)[id]; !ok {
				t.Fatal("admitted registrant is no authority")
			}
		})
	}
}

// DESIGN §5.2: without authorities nobody can vote; only governance admits.
func TestNoAuthorityNoVote(t *testing.T) {
	f := newFixture(t)
	_, op1 := f.account(t, 1)
	_, op2 := f.account(t, 2)
	a, _ := f.registerMeta(t, op1, 1)
	b, _ := f.registerMeta(t, op2, 2)
	_, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: op1, VoterNodeId: a, CandidateNodeId: b})
	wantErr(t, err, types.ErrUnauthorized)
	if keys := mustKeys(t, f); len(keys) != 0 {
		t.Fatalf("authorities %v, want none", keys)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
