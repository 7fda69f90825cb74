package keeper_test

import (
	"fmt"
	"testing"

	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/register/types"
)

// DESIGN §4/§5.2: meta nodes are the PoA authorities. The genesis names
// the first; a registered one is PENDING, its deposit locked, until the
// active meta nodes vote it in.
func TestRegisterMetaNode(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.genesisMeta(t, 1)
	first, op := ids[0], ops[0]
	opAddr, _ := f.account(t, 1)
	_, op2 := f.account(t, 2)

	second, st := f.registerMeta(t, op2, 2)
	if st != types.NodeStatus_NODE_STATUS_PENDING {
		t.Fatalf("second meta node is %s, want PENDING", st)
	}
	if !f.bank.module().Equal(math.NewInt(2_000_000)) || !f.bank.balance(opAddr).Equal(math.NewInt(startBalance-1_000_000)) {
		t.Fatalf("deposits not locked: module %s", f.bank.module())
	}
	keys, err := f.k.ActiveMetaNodeKeys(f.ctx)
	pub1, _ := nodeKey(1)
	if err != nil || len(keys) != 1 || string(keys[first]) != string(pub1) {
		t.Fatalf("ActiveMetaNodeKeys = %v, %v (pending %s must not be there)", keys, err, second)
	}
	if !f.k.IsActiveMetaNodeOperator(f.ctx, opAddr, first) || f.k.IsActiveMetaNodeOperator(f.ctx, opAddr, second) {
		t.Fatal("IsActiveMetaNodeOperator wrong")
	}

	pub3, _ := nodeKey(3)
	resPub, _ := nodeKey(4)
	f.registerResource(t, op, 4, ustos(1_000_000))
	cases := []struct {
		name string
		msg  types.MsgRegisterMetaNode
		want error
	}{
		{"duplicate", types.MsgRegisterMetaNode{Operator: op, PublicKey: pub1, NetworkAddress: "m:1", Deposit: ustos(1_000_000)}, types.ErrNodeExists},
		{"key of a resource node", types.MsgRegisterMetaNode{Operator: op, PublicKey: resPub, NetworkAddress: "m:1", Deposit: ustos(1_000_000)}, types.ErrNodeExists},
		{"key 16 bytes", types.MsgRegisterMetaNode{Operator: op, PublicKey: pub3[:16], NetworkAddress: "m:1", Deposit: ustos(1_000_000)}, types.ErrInvalidPublicKey},
		{"below min", types.MsgRegisterMetaNode{Operator: op, PublicKey: pub3, NetworkAddress: "m:1", Deposit: ustos(999_999)}, types.ErrInvalidDeposit},
		{"wrong denom", types.MsgRegisterMetaNode{Operator: op, PublicKey: pub3, NetworkAddress: "m:1", Deposit: sdk.NewCoin("ustb", math.NewInt(1_000_000))}, types.ErrInvalidDeposit},
		{"no address", types.MsgRegisterMetaNode{Operator: op, PublicKey: pub3, Deposit: ustos(1_000_000)}, types.ErrInvalidNode},
		{"bad operator", types.MsgRegisterMetaNode{Operator: "", PublicKey: pub3, NetworkAddress: "m:1", Deposit: ustos(1_000_000)}, types.ErrInvalidAddress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			_, err := f.ms.RegisterMetaNode(f.ctx, &msg)
			wantErr(t, err, tc.want)
		})
	}
}

// DESIGN §4/§5.2: a candidate is admitted when the approvals of active
// meta nodes are more than 2/3 of the active meta nodes, the authorities'
// rule (DESIGN §7: "3 of 4, never 2 of 4"): 1 of 1, 2 of 2, 3 of 3, 3 of 4,
// 4 of 5, 5 of 6 (never 4 of 6), 5 of 7.
func TestApproveMetaNodeMajority(t *testing.T) {
	for _, tc := range []struct{ active, need int }{{1, 1}, {2, 2}, {3, 3}, {4, 3}, {5, 4}, {6, 5}, {7, 5}} {
		t.Run(fmt.Sprintf("%d active", tc.active), func(t *testing.T) {
			f := newFixture(t)
			var voters []string
			var voterOps []string
			gs := types.GenesisState{Params: types.DefaultParams()}
			for i := 0; i < tc.active; i++ {
				pub, id := nodeKey(byte(10 + i))
				_, op := f.account(t, byte(10+i))
				gs.MetaNodes = append(gs.MetaNodes, types.MetaNode{NodeId: id, PublicKey: pub, Operator: op,
					NetworkAddress: "m:1", Deposit: ustos(0), Status: types.NodeStatus_NODE_STATUS_ACTIVE})
				voters, voterOps = append(voters, id), append(voterOps, op)
			}
			if err := f.k.InitGenesis(f.ctx, gs); err != nil {
				t.Fatal(err)
			}
			_, candOp := f.account(t, 1)
			cand, st := f.registerMeta(t, candOp, 1)
			if st != types.NodeStatus_NODE_STATUS_PENDING {
				t.Fatalf("candidate %s", st)
			}
			for i := 0; i < tc.need; i++ {
				res, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: voterOps[i], VoterNodeId: voters[i], CandidateNodeId: cand})
				if err != nil {
					t.Fatalf("approval %d: %v", i+1, err)
				}
				want := types.NodeStatus_NODE_STATUS_PENDING
				if i+1 == tc.need {
					want = types.NodeStatus_NODE_STATUS_ACTIVE
				}
				if res.Status != want {
					t.Fatalf("after %d of %d approvals: %s, want %s", i+1, tc.active, res.Status, want)
				}
			}
			if _, ok := mustKeys(t, f)[cand]; !ok {
				t.Fatal("admitted candidate missing from ActiveMetaNodeKeys")
			}
			// Once active, more votes are refused: there is nothing to admit.
			if tc.need < tc.active {
				_, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: voterOps[tc.need], VoterNodeId: voters[tc.need], CandidateNodeId: cand})
				wantErr(t, err, types.ErrInvalidStatus)
			}
		})
	}
}

// DESIGN §5.2: only the operator of an active meta node votes, once.
func TestApproveMetaNodeRejections(t *testing.T) {
	f := newFixture(t)
	_, op1 := f.account(t, 1)
	_, op2 := f.account(t, 2)
	_, op3 := f.account(t, 3)
	_, op4 := f.account(t, 4)
	_, resOp := f.account(t, 5)
	genesis, _ := f.genesisMeta(t, 1)
	m1 := genesis[0]                   // genesis authority: active
	m2, _ := f.registerMeta(t, op2, 2) // pending
	m3, _ := f.registerMeta(t, op3, 3) // pending
	res := f.registerResource(t, resOp, 5, ustos(1_000_000))
	// Make a second active meta node so one approval is not a majority.
	gsNode, _ := f.k.MetaNodes.Get(f.ctx, m2)
	_, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: op1, VoterNodeId: m1, CandidateNodeId: m2})
	wantErr(t, err, nil)
	if gsNode, _ = f.k.MetaNodes.Get(f.ctx, m2); gsNode.Status != types.NodeStatus_NODE_STATUS_ACTIVE {
		t.Fatal("m2 not admitted by 1 of 1")
	}

	cases := []struct {
		name string
		msg  types.MsgApproveMetaNode
		want error
	}{
		{"voter does not operate the voter node", types.MsgApproveMetaNode{Voter: op4, VoterNodeId: m1, CandidateNodeId: m3}, types.ErrUnauthorized},
		{"voter node is pending", types.MsgApproveMetaNode{Voter: op3, VoterNodeId: m3, CandidateNodeId: m2}, types.ErrUnauthorized},
		{"voter node is a resource node", types.MsgApproveMetaNode{Voter: resOp, VoterNodeId: res, CandidateNodeId: m3}, types.ErrUnauthorized},
		{"unknown voter node", types.MsgApproveMetaNode{Voter: op1, VoterNodeId: "00112233445566778899aabbccddeeff00112233", CandidateNodeId: m3}, types.ErrUnauthorized},
		{"self approval", types.MsgApproveMetaNode{Voter: op3, VoterNodeId: m3, CandidateNodeId: m3}, types.ErrUnauthorized},
		{"unknown candidate", types.MsgApproveMetaNode{Voter: op1, VoterNodeId: m1, CandidateNodeId: "00112233445566778899aabbccddeeff00112233"}, types.ErrNodeNotFound},
		{"candidate already active", types.MsgApproveMetaNode{Voter: op1, VoterNodeId: m1, CandidateNodeId: m2}, types.ErrInvalidStatus},
		{"candidate is a resource node", types.MsgApproveMetaNode{Voter: op1, VoterNodeId: m1, CandidateNodeId: res}, types.ErrNodeNotFound},
		{"malformed candidate", types.MsgApproveMetaNode{Voter: op1, VoterNodeId: m1, CandidateNodeId: "m3"}, types.ErrInvalidNode},
		{"bad voter address", types.MsgApproveMetaNode{Voter: "st1x", VoterNodeId: m1, CandidateNodeId: m3}, types.ErrInvalidAddress},
		{"first vote", types.MsgApproveMetaNode{Voter: op1, VoterNodeId: m1, CandidateNodeId: m3}, nil},
		{"second vote by the same node", types.MsgApproveMetaNode{Voter: op1, VoterNodeId: m1, CandidateNodeId: m3}, types.ErrAlreadyApproved},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			_, err := f.ms.ApproveMetaNode(f.ctx, &msg)
			wantErr(t, err, tc.want)
		})
	}
	// 1 of 2 active approved: still pending; m2's vote makes 2 of 2.
	c, _ := f.k.MetaNodes.Get(f.ctx, m3)
	if c.Status != types.NodeStatus_NODE_STATUS_PENDING || len(c.Approvals) != 1 || c.Approvals[0] != m1 {
		t.Fatalf("after one of two votes: %+v", c)
	}
	r, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: op2, VoterNodeId: m2, CandidateNodeId: m3})
	if err != nil || r.Status != types.NodeStatus_NODE_STATUS_ACTIVE {
		t.Fatalf("second of two votes: %v, %v", r, err)
	}
}

func mustKeys(t *testing.T, f *fixture) map[string][]byte {
	t.Helper()
	k, err := f.k.ActiveMetaNodeKeys(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
