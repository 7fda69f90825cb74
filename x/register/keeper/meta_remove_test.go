package keeper_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"cosmossdk.io/math"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/register/types"
)

// metaNodes makes n meta nodes (seeds 1..n, operator account i runs node
// i, deposit 1_000_000ustos each): the first is named by the genesis, each
// later one registers and is admitted by the votes of the active ones
// (DESIGN §5.2). It returns the node IDs and the operators' bech32
// addresses.
func (f *fixture) metaNodes(t *testing.T, n int) (ids, ops []string) {
	t.Helper()
	ids, ops = f.genesisMeta(t, 1)
	for i := 1; i < n; i++ {
		seed := byte(i + 1)
		_, op := f.account(t, seed)
		id, st := f.registerMeta(t, op, seed)
		for j := 0; st != types.NodeStatus_NODE_STATUS_ACTIVE; j++ {
			res, err := f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: ops[j], VoterNodeId: ids[j], CandidateNodeId: id})
			if err != nil {
				t.Fatalf("admit meta node %d: %v", seed, err)
			}
			st = res.Status
		}
		ids, ops = append(ids, id), append(ops, op)
	}
	return ids, ops
}

func (f *fixture) voteRemove(op, voter, target string) (*types.MsgVoteRemoveMetaNodeResponse, error) {
	return f.ms.VoteRemoveMetaNode(f.ctx, &types.MsgVoteRemoveMetaNode{Voter: op, VoterNodeId: voter, TargetNodeId: target})
}

func (f *fixture) mustVoteRemove(t *testing.T, op, voter, target string, status types.NodeStatus, votes, needed uint32) *types.MsgVoteRemoveMetaNodeResponse {
	t.Helper()
	res, err := f.voteRemove(op, voter, target)
	if err != nil {
		t.Fatalf("%s votes to remove %s: %v", voter, target, err)
	}
	if res.Status != status || res.Votes != votes || res.Needed != needed {
		t.Fatalf("%s votes to remove %s: status %s, %d of %d votes; want %s, %d of %d",
			voter, target, res.Status, res.Votes, res.Needed, status, votes, needed)
	}
	return res
}

func (f *fixture) pool() math.Int { return f.distr.pool.AmountOf(types.Denom) }

// DESIGN §5.2: "the authorities can vote a misbehaving meta node out on chain
// (x/register)". With 3 active meta nodes the other two must both vote; the
// target is then REMOVED, its whole deposit goes to the community pool (no
// ustos created or lost), its pending votes are deleted, and it leaves the
// authority set x/pot and x/sds read (ActiveMetaNodeKeys,
// IsActiveMetaNodeOperator).
func TestVoteRemoveMetaNode(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 3)
	a, b, c := ids[0], ids[1], ids[2]
	aAddr, _ := f.account(t, 1)
	total, module := f.bank.total(), f.bank.module()
	if !module.Equal(math.NewInt(3_000_000)) {
		t.Fatalf("module holds %s, want the three deposits", module)
	}

	f.mustVoteRemove(t, ops[1], b, a, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 2)
	if _, ok := mustKeys(t, f)[a]; !ok || !f.k.IsActiveMetaNodeOperator(f.ctx, aAddr, a) {
		t.Fatal("one vote of two removed the target")
	}
	if n, _ := f.k.MetaNodes.Get(f.ctx, a); !reflect.DeepEqual(n.RemovalVotes, []string{b}) || !f.pool().IsZero() {
		t.Fatalf("after one vote: votes %v, pool %s", n.RemovalVotes, f.pool())
	}

	res := f.mustVoteRemove(t, ops[2], c, a, types.NodeStatus_NODE_STATUS_REMOVED, 2, 2)
	if !res.Slashed.Equal(ustos(1_000_000)) {
		t.Fatalf("slashed %s, want the whole deposit", res.Slashed)
	}
	n, err := f.k.MetaNodes.Get(f.ctx, a)
	if err != nil || n.Status != types.NodeStatus_NODE_STATUS_REMOVED || !n.Deposit.IsZero() || len(n.RemovalVotes) != 0 {
		t.Fatalf("removed node stored as %+v, %v", n, err)
	}
	// Coins: the deposit moved from the register module account to the
	// community pool; the operator gets nothing back; nothing created or lost.
	if !f.pool().Equal(math.NewInt(1_000_000)) || !f.bank.modules[distrModule].AmountOf(types.Denom).Equal(math.NewInt(1_000_000)) {
		t.Fatalf("community pool %s", f.pool())
	}
	if !f.bank.module().Equal(math.NewInt(2_000_000)) || !f.bank.total().Equal(total) || !f.bank.burned.IsZero() {
		t.Fatalf("module %s, total %s (was %s), burned %s", f.bank.module(), f.bank.total(), total, f.bank.burned)
	}
	if !f.bank.balance(aAddr).Equal(math.NewInt(startBalance - 1_000_000)) {
		t.Fatalf("operator of the removed node has %s", f.bank.balance(aAddr))
	}
	// What x/pot (ActiveMetaNodeKeys) and x/sds (IsActiveMetaNodeOperator)
	// see: the removed node is no authority any more.
	keys := mustKeys(t, f)
	if _, ok := keys[a]; ok || len(keys) != 2 {
		t.Fatalf("ActiveMetaNodeKeys still lists the removed node: %v", keys)
	}
	if f.k.IsActiveMetaNodeOperator(f.ctx, aAddr, a) {
		t.Fatal("IsActiveMetaNodeOperator true for the removed node")
	}
	// The event names the node and the slashed deposit.
	if !hasEvent(f.ctx, "remove_meta_node", map[string]string{"node_id": a, "slashed": "1000000ustos"}) {
		t.Fatalf("no remove_meta_node event in %v", f.ctx.EventManager().Events())
	}

	// A vote on the removed node is rejected, by anyone.
	_, err = f.voteRemove(ops[1], b, a)
	wantErr(t, err, types.ErrInvalidStatus)
	// The removed node votes no more, removes nobody, admits nobody.
	_, err = f.voteRemove(ops[0], a, b)
	wantErr(t, err, types.ErrUnauthorized)
	_, candOp := f.account(t, 9)
	cand, _ := f.registerMeta(t, candOp, 9)
	_, err = f.ms.ApproveMetaNode(f.ctx, &types.MsgApproveMetaNode{Voter: ops[0], VoterNodeId: a, CandidateNodeId: cand})
	wantErr(t, err, types.ErrUnauthorized)
	// Its key cannot come back.
	pub, _ := nodeKey(1)
	_, err = f.ms.RegisterMetaNode(f.ctx, &types.MsgRegisterMetaNode{Operator: ops[0], PublicKey: pub, NetworkAddress: "m:1", Deposit: ustos(1_000_000)})
	wantErr(t, err, types.ErrNodeExists)
}

// DESIGN §5.2: removal needs the votes of more than 2/3 of the active meta
// nodes other than the target (3·votes > 2·others): 1 of 1, 2 of 2, 3 of
// 3, 3 of 4, 4 of 5, 5 of 6; never 2 of 3 or 4 of 6.
func TestVoteRemoveMetaNodeMajority(t *testing.T) {
	for _, tc := range []struct{ active, need int }{{2, 1}, {3, 2}, {4, 3}, {5, 3}, {6, 4}, {7, 5}} {
		t.Run(fmt.Sprintf("%d active", tc.active), func(t *testing.T) {
			f := newFixture(t)
			ids, ops := f.metaNodes(t, tc.active)
			total := f.bank.total()
			target := ids[tc.active-1]
			for i := 0; i < tc.need; i++ {
				want := types.NodeStatus_NODE_STATUS_ACTIVE
				if i+1 == tc.need {
					want = types.NodeStatus_NODE_STATUS_REMOVED
				}
				f.mustVoteRemove(t, ops[i], ids[i], target, want, uint32(i+1), uint32(tc.need))
			}
			if _, ok := mustKeys(t, f)[target]; ok || len(mustKeys(t, f)) != tc.active-1 {
				t.Fatal("removed node still active")
			}
			if !f.pool().Equal(math.NewInt(1_000_000)) || !f.bank.total().Equal(total) {
				t.Fatalf("pool %s, total %s (was %s)", f.pool(), f.bank.total(), total)
			}
		})
	}
}

// DESIGN §5.2: only the operator of an active meta node other than the
// target votes, once, and only on an active meta node.
func TestVoteRemoveMetaNodeRejections(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 3)
	a, b, c := ids[0], ids[1], ids[2]
	_, pendOp := f.account(t, 7)
	pend, st := f.registerMeta(t, pendOp, 7)
	if st != types.NodeStatus_NODE_STATUS_PENDING {
		t.Fatalf("pending node is %s", st)
	}
	_, resOp := f.account(t, 8)
	res := f.registerResource(t, resOp, 8, ustos(1_000_000))
	_, stranger := f.account(t, 9)
	unknown := "00112233445566778899aabbccddeeff00112233"
	total, module := f.bank.total(), f.bank.module()

	cases := []struct {
		name string
		msg  types.MsgVoteRemoveMetaNode
		want error
	}{
		{"self vote", types.MsgVoteRemoveMetaNode{Voter: ops[0], VoterNodeId: a, TargetNodeId: a}, types.ErrUnauthorized},
		{"voter does not operate the voter node", types.MsgVoteRemoveMetaNode{Voter: stranger, VoterNodeId: b, TargetNodeId: a}, types.ErrUnauthorized},
		{"voter operates another meta node", types.MsgVoteRemoveMetaNode{Voter: ops[2], VoterNodeId: b, TargetNodeId: a}, types.ErrUnauthorized},
		{"voter node is pending", types.MsgVoteRemoveMetaNode{Voter: pendOp, VoterNodeId: pend, TargetNodeId: a}, types.ErrUnauthorized},
		{"voter node is a resource node", types.MsgVoteRemoveMetaNode{Voter: resOp, VoterNodeId: res, TargetNodeId: a}, types.ErrUnauthorized},
		{"unknown voter node", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: unknown, TargetNodeId: a}, types.ErrUnauthorized},
		{"unknown target", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: b, TargetNodeId: unknown}, types.ErrNodeNotFound},
		{"target is a resource node", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: b, TargetNodeId: res}, types.ErrNodeNotFound},
		{"target is pending", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: b, TargetNodeId: pend}, types.ErrInvalidStatus},
		{"malformed target", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: b, TargetNodeId: "a"}, types.ErrInvalidNode},
		{"malformed voter node", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: strings.ToUpper(b), TargetNodeId: a}, types.ErrInvalidNode},
		{"bad voter address", types.MsgVoteRemoveMetaNode{Voter: "cosmos1x", VoterNodeId: b, TargetNodeId: a}, types.ErrInvalidAddress},
		{"empty voter address", types.MsgVoteRemoveMetaNode{VoterNodeId: b, TargetNodeId: a}, types.ErrInvalidAddress},
		{"first vote", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: b, TargetNodeId: a}, nil},
		{"second vote by the same node", types.MsgVoteRemoveMetaNode{Voter: ops[1], VoterNodeId: b, TargetNodeId: a}, types.ErrAlreadyVoted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			_, err := f.ms.VoteRemoveMetaNode(f.ctx, &msg)
			wantErr(t, err, tc.want)
		})
	}
	n, _ := f.k.MetaNodes.Get(f.ctx, a)
	if n.Status != types.NodeStatus_NODE_STATUS_ACTIVE || !reflect.DeepEqual(n.RemovalVotes, []string{b}) {
		t.Fatalf("after the rejections: %+v", n)
	}
	if !f.bank.total().Equal(total) || !f.bank.module().Equal(module) || !f.pool().IsZero() {
		t.Fatal("a rejected or incomplete vote moved coins")
	}
	// The votes on one target do not count for another.
	f.mustVoteRemove(t, ops[1], b, c, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 2)
}

// DESIGN §5.2: the authorities cannot vote the last of them out: the index
// would have no authority left. With 2 active meta nodes the other one alone
// removes the target; the survivor then cannot be removed by vote.
func TestVoteRemoveLastMetaNode(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 1)
	a := ids[0]
	_, pendOp := f.account(t, 7)
	pend, _ := f.registerMeta(t, pendOp, 7)
	_, err := f.voteRemove(pendOp, pend, a)
	wantErr(t, err, types.ErrLastMetaNode)
	if err == nil || !strings.Contains(err.Error(), "last active meta node cannot be voted out") {
		t.Fatalf("error %q does not say the last meta node cannot be voted out", err)
	}
	_, err = f.voteRemove(ops[0], a, a)
	wantErr(t, err, types.ErrUnauthorized)

	f2 := newFixture(t)
	ids, ops = f2.metaNodes(t, 2)
	f2.mustVoteRemove(t, ops[1], ids[1], ids[0], types.NodeStatus_NODE_STATUS_REMOVED, 1, 1)
	_, err = f2.voteRemove(ops[0], ids[0], ids[1])
	wantErr(t, err, types.ErrLastMetaNode)
	if keys := mustKeys(t, f2); len(keys) != 1 || keys[ids[1]] == nil {
		t.Fatalf("survivor not the only authority: %v", keys)
	}
}

// DESIGN §5.2: votes are counted against the active set when each vote
// arrives. A voter that has since been removed no longer counts, and the
// majority is taken over the smaller set.
func TestVoteRemoveMetaNodeRecountsActiveVoters(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 4)
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	total := f.bank.total()
	f.mustVoteRemove(t, ops[0], a, d, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 3) // 1 of 3 (others: a, b, c)
	// b, c and d vote a out.
	f.mustVoteRemove(t, ops[1], b, a, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 3)
	f.mustVoteRemove(t, ops[2], c, a, types.NodeStatus_NODE_STATUS_ACTIVE, 2, 3)
	f.mustVoteRemove(t, ops[3], d, a, types.NodeStatus_NODE_STATUS_REMOVED, 3, 3)
	// a's vote on d is still stored but no longer counts: others are b and c.
	if n, _ := f.k.MetaNodes.Get(f.ctx, d); !reflect.DeepEqual(n.RemovalVotes, []string{a}) {
		t.Fatalf("votes on d: %v", n.RemovalVotes)
	}
	f.mustVoteRemove(t, ops[1], b, d, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 2)
	f.mustVoteRemove(t, ops[2], c, d, types.NodeStatus_NODE_STATUS_REMOVED, 2, 2)
	if keys := mustKeys(t, f); len(keys) != 2 || keys[b] == nil || keys[c] == nil {
		t.Fatalf("authorities %v, want b and c", keys)
	}
	if !f.pool().Equal(math.NewInt(2_000_000)) || !f.bank.module().Equal(math.NewInt(2_000_000)) || !f.bank.total().Equal(total) {
		t.Fatalf("pool %s, module %s, total %s (was %s)", f.pool(), f.bank.module(), f.bank.total(), total)
	}
}

// DESIGN §5.2 with §3's genesis export: pending removal votes and removed
// nodes survive an export/import, and the imported votes still count.
func TestGenesisRoundTripRemovalVotes(t *testing.T) {
	f := newFixture(t)
	ids, ops := f.metaNodes(t, 4)
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	f.mustVoteRemove(t, ops[1], b, a, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 3)
	f.mustVoteRemove(t, ops[2], c, a, types.NodeStatus_NODE_STATUS_ACTIVE, 2, 3)
	f.mustVoteRemove(t, ops[3], d, a, types.NodeStatus_NODE_STATUS_REMOVED, 3, 3) // a removed
	f.mustVoteRemove(t, ops[1], b, c, types.NodeStatus_NODE_STATUS_ACTIVE, 1, 2)  // pending on c

	gs, err := f.k.ExportGenesis(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Validate(f.ac); err != nil {
		t.Fatalf("exported genesis invalid: %v", err)
	}
	byID := map[string]types.MetaNode{}
	for _, n := range gs.MetaNodes {
		byID[n.NodeId] = n
	}
	if byID[a].Status != types.NodeStatus_NODE_STATUS_REMOVED || !reflect.DeepEqual(byID[c].RemovalVotes, []string{b}) {
		t.Fatalf("exported a %+v, c %+v", byID[a], byID[c])
	}

	// Through JSON, as `stratos export` writes it.
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	bz, err := cdc.MarshalJSON(gs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bz), `"removal_votes":["`+b+`"]`) || !strings.Contains(string(bz), "NODE_STATUS_REMOVED") {
		t.Fatalf("JSON genesis lacks the removal state: %s", bz)
	}
	var back types.GenesisState
	if err := cdc.UnmarshalJSON(bz, &back); err != nil {
		t.Fatal(err)
	}
	f2 := newFixture(t)
	// The register module account holds the deposits of the nodes not removed
	// (x/bank's genesis would carry this balance).
	f2.bank.modules[types.ModuleName] = sdk.NewCoins(ustos(3_000_000))
	if err := f2.k.InitGenesis(f2.ctx, back); err != nil {
		t.Fatal(err)
	}
	got, err := f2.k.ExportGenesis(f2.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, gs) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, gs)
	}
	// The imported vote counts: b may not vote again, d's vote removes c.
	_, err = f2.voteRemove(ops[1], b, c)
	wantErr(t, err, types.ErrAlreadyVoted)
	_, err = f2.voteRemove(ops[0], a, c)
	wantErr(t, err, types.ErrUnauthorized)
	f2.mustVoteRemove(t, ops[3], d, c, types.NodeStatus_NODE_STATUS_REMOVED, 2, 2)
	if !f2.pool().Equal(math.NewInt(1_000_000)) {
		t.Fatalf("pool %s", f2.pool())
	}
}

// hasEvent reports whether ctx emitted an event of typ with all attrs.
func hasEvent(ctx sdk.Context, typ string, attrs map[string]string) bool {
	for _, ev := range ctx.EventManager().Events() {
		if ev.Type != typ {
			continue
		}
		found := 0
		for _, a := range ev.Attributes {
			if v, ok := attrs[a.Key]; ok && v == a.Value {
				found++
			}
		}
		if found == len(attrs) {
			return true
		}
	}
	return false
}
