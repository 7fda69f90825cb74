package keeper_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/register/types"
)

// fuzzMsg is a message of the module, as the fuzzer sends it.
type fuzzMsg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// msgKinds are the module's messages; the fuzzer's kind byte picks one
// (kind % len(msgKinds)).
var msgKinds = []func() fuzzMsg{
	func() fuzzMsg { return &types.MsgRegisterResourceNode{} },
	func() fuzzMsg { return &types.MsgUpdateResourceNode{} },
	func() fuzzMsg { return &types.MsgDeactivateResourceNode{} },
	func() fuzzMsg { return &types.MsgRegisterMetaNode{} },
	func() fuzzMsg { return &types.MsgApproveMetaNode{} },
	func() fuzzMsg { return &types.MsgVoteRemoveMetaNode{} },
	func() fuzzMsg { return &types.MsgSetMetaNodeStatus{} },
	func() fuzzMsg { return &types.MsgUpdateParams{} },
}

func kindOf(m fuzzMsg) byte {
	for i, k := range msgKinds {
		if reflect.TypeOf(k()) == reflect.TypeOf(m) {
			return byte(i)
		}
	}
	panic(fmt.Sprintf("no kind for %T", m))
}

// deliver hands m to the msg server, as the chain's router would.
func deliver(ctx context.Context, ms types.MsgServer, m fuzzMsg) error {
	var err error
	switch m := m.(type) {
	case *types.MsgRegisterResourceNode:
		_, err = ms.RegisterResourceNode(ctx, m)
	case *types.MsgUpdateResourceNode:
		_, err = ms.UpdateResourceNode(ctx, m)
	case *types.MsgDeactivateResourceNode:
		_, err = ms.DeactivateResourceNode(ctx, m)
	case *types.MsgRegisterMetaNode:
		_, err = ms.RegisterMetaNode(ctx, m)
	case *types.MsgApproveMetaNode:
		_, err = ms.ApproveMetaNode(ctx, m)
	case *types.MsgVoteRemoveMetaNode:
		_, err = ms.VoteRemoveMetaNode(ctx, m)
	case *types.MsgSetMetaNodeStatus:
		_, err = ms.SetMetaNodeStatus(ctx, m)
	case *types.MsgUpdateParams:
		_, err = ms.UpdateParams(ctx, m)
	default:
		panic(fmt.Sprintf("no handler for %T", m))
	}
	return err
}

// fuzzChain is the register state a fuzzed message meets. No vote in it
// has decided yet (the state is settled), one more vote decides several,
// one more is short by exactly the boundary of the rule ("never 4 of 6",
// types.SuperMajority), and the votes of a meta node removed since it cast
// them, which no longer count, would tip others if they did:
//   - six ACTIVE meta nodes M1..M6; M4 with removal votes of M1, M2, M3 (3
//     of the other 5, 4 needed), M5 of M1, M2 and the removed one;
//   - PENDING P approved by M1, M2, M3, M5 and the removed one (4 of 6, 5
//     needed; but 4 of 5 once M4 or M6 leaves, so a removal cascades into
//     an admission), PENDING Q by the removed one, M1, M2 and M3;
//   - a REMOVED meta node;
//   - an ACTIVE, an INACTIVE and an UNBONDING resource node;
//   - every operator and one account without a node funded, and deposits of
//     1_000_000ustos in the module account, as x/bank's genesis holds them.
type fuzzChain struct {
	*fixture
	meta, metaOps      []string // M1..M6 and their operators
	candidate, bare    string   // P and Q
	removed, removedOp string
	resource, resOps   []string // active, inactive, unbonding
	stranger           string   // a funded account with no node
}

const (
	candidateSeed = 7
	bareSeed      = 8
	removedSeed   = 9
	strangerSeed  = 20
)

func newFuzzChain(t *testing.T) *fuzzChain {
	t.Helper()
	c := &fuzzChain{fixture: newFixture(t)}
	gs := types.GenesisState{Params: types.DefaultParams()}
	deposit := ustos(1_000_000)
	operator := func(seed byte, locked sdk.Coin) string {
		addr, op := c.account(t, seed)
		if locked.IsPositive() {
			if err := c.bank.SendCoinsFromAccountToModule(c.ctx, addr, types.ModuleName, sdk.NewCoins(locked)); err != nil {
				t.Fatal(err)
			}
		}
		return op
	}
	meta := func(seed byte, status types.NodeStatus, locked sdk.Coin) *types.MetaNode {
		pub, id := nodeKey(seed)
		gs.MetaNodes = append(gs.MetaNodes, types.MetaNode{NodeId: id, PublicKey: pub, Operator: operator(seed, locked),
			NetworkAddress: fmt.Sprintf("10.0.1.%d:7100", seed), Deposit: locked, Status: status})
		return &gs.MetaNodes[len(gs.MetaNodes)-1]
	}
	for seed := byte(1); seed <= 6; seed++ {
		n := meta(seed, types.NodeStatus_NODE_STATUS_ACTIVE, deposit)
		c.meta, c.metaOps = append(c.meta, n.NodeId), append(c.metaOps, n.Operator)
	}
	m := c.meta
	_, c.removed = nodeKey(removedSeed)
	gs.MetaNodes[3].RemovalVotes = []string{m[0], m[1], m[2]}
	gs.MetaNodes[4].RemovalVotes = []string{m[0], m[1], c.removed}
	p := meta(candidateSeed, types.NodeStatus_NODE_STATUS_PENDING, deposit)
	p.Approvals, c.candidate = []string{m[0], m[1], c.removed, m[2], m[4]}, p.NodeId
	q := meta(bareSeed, types.NodeStatus_NODE_STATUS_PENDING, deposit)
	q.Approvals, c.bare = []string{c.removed, m[0], m[1], m[2]}, q.NodeId
	c.removedOp = meta(removedSeed, types.NodeStatus_NODE_STATUS_REMOVED, ustos(0)).Operator

	ends := genesisTime.Add(24 * time.Hour)
	for i, st := range []types.NodeStatus{types.NodeStatus_NODE_STATUS_ACTIVE, types.NodeStatus_NODE_STATUS_INACTIVE,
		types.NodeStatus_NODE_STATUS_UNBONDING} {
		seed := byte(11 + i)
		pub, id := nodeKey(seed)
		n := types.ResourceNode{NodeId: id, PublicKey: pub, NetworkAddress: fmt.Sprintf("10.0.0.%d:7000", seed),
			Capacity: 1 << 30, Region: "eu", Deposit: deposit, Status: st}
		switch st {
		case types.NodeStatus_NODE_STATUS_INACTIVE:
			n.Deposit = ustos(0) // returned when it left
		case types.NodeStatus_NODE_STATUS_UNBONDING:
			n.UnbondingEnds = &ends
		}
		n.Operator = operator(seed, n.Deposit)
		gs.ResourceNodes = append(gs.ResourceNodes, n)
		c.resource, c.resOps = append(c.resource, id), append(c.resOps, n.Operator)
	}
	_, c.stranger = c.account(t, strangerSeed)
	if err := gs.Validate(c.ac); err != nil {
		t.Fatalf("fuzz chain genesis: %v", err)
	}
	if err := c.k.InitGenesis(c.ctx, gs); err != nil {
		t.Fatal(err)
	}
	return c
}

// seeds are valid messages of every kind that reach each decision of the
// keeper from the fuzz chain, and a few that are refused deep inside it.
func (c *fuzzChain) seeds() []fuzzMsg {
	pub := func(seed byte) []byte { p, _ := nodeKey(seed); return p }
	metaPub, newMetaPub := pub(1), pub(10)
	return []fuzzMsg{
		&types.MsgRegisterResourceNode{Operator: c.stranger, PublicKey: pub(14), NetworkAddress: "10.0.0.14:7000",
			Capacity: 1 << 30, Region: "eu", Deposit: ustos(1_000_000)},
		// The INACTIVE node's own operator brings it back.
		&types.MsgRegisterResourceNode{Operator: c.resOps[1], PublicKey: pub(12), NetworkAddress: "10.0.0.12:7000",
			Capacity: 1, Deposit: ustos(2_000_000)},
		// A meta node's key cannot also be a resource node's.
		&types.MsgRegisterResourceNode{Operator: c.metaOps[0], PublicKey: metaPub, NetworkAddress: "x", Capacity: 1,
			Deposit: ustos(1_000_000)},
		&types.MsgUpdateResourceNode{Operator: c.resOps[0], NodeId: c.resource[0], NetworkAddress: "10.9.9.9:7000",
			Capacity: 7, Region: "us"},
		&types.MsgDeactivateResourceNode{Operator: c.resOps[0], NodeId: c.resource[0]},
		&types.MsgDeactivateResourceNode{Operator: c.resOps[2], NodeId: c.resource[2]}, // already unbonding
		&types.MsgRegisterMetaNode{Operator: c.stranger, PublicKey: newMetaPub, NetworkAddress: "10.0.1.10:7100",
			Deposit: ustos(1_000_000)},
		// M4's approval of P is the fifth of six: P is admitted.
		&types.MsgApproveMetaNode{Voter: c.metaOps[3], VoterNodeId: c.meta[3], CandidateNodeId: c.candidate},
		// M4's approval of Q is the fourth that counts: never 4 of 6.
		&types.MsgApproveMetaNode{Voter: c.metaOps[3], VoterNodeId: c.meta[3], CandidateNodeId: c.bare},
		&types.MsgApproveMetaNode{Voter: c.metaOps[0], VoterNodeId: c.meta[0], CandidateNodeId: c.candidate}, // twice
		&types.MsgApproveMetaNode{Voter: c.removedOp, VoterNodeId: c.removed, CandidateNodeId: c.bare},       // not an authority
		// M5's vote is the fourth of the other five: M4 is removed, and then
		// P's approvals are 4 of the 5 left.
		&types.MsgVoteRemoveMetaNode{Voter: c.metaOps[4], VoterNodeId: c.meta[4], TargetNodeId: c.meta[3]},
		// M3's vote on M5 is the third that counts, of the other five.
		&types.MsgVoteRemoveMetaNode{Voter: c.metaOps[2], VoterNodeId: c.meta[2], TargetNodeId: c.meta[4]},
		&types.MsgVoteRemoveMetaNode{Voter: c.metaOps[0], VoterNodeId: c.meta[0], TargetNodeId: c.meta[4]}, // twice
		&types.MsgSetMetaNodeStatus{Authority: c.authority, NodeId: c.bare, Status: types.NodeStatus_NODE_STATUS_ACTIVE},
		// Governance removes M6, which did not approve P: then P's approvals
		// are 4 of 5, M4's removal votes 3 of the other 4 and, M4 gone, Q's
		// approvals 3 of 4. One message, four decisions.
		&types.MsgSetMetaNodeStatus{Authority: c.authority, NodeId: c.meta[5], Status: types.NodeStatus_NODE_STATUS_REMOVED},
		&types.MsgSetMetaNodeStatus{Authority: c.metaOps[0], NodeId: c.meta[1], Status: types.NodeStatus_NODE_STATUS_REMOVED},
		&types.MsgUpdateParams{Authority: c.authority, Params: types.Params{MinResourceDeposit: ustos(0),
			MinMetaDeposit: ustos(5), AllowMetaBootstrap: true}},
	}
}

// FuzzMsgs: every message of x/register is untrusted bytes from any account
// (issue 8). kind picks the message, data is its wire encoding, delivered
// to the msg server of the fuzz chain. Whatever the bytes, nothing panics,
// and a message the server accepts
//   - creates or destroys no ustos and burns none (no message slashes): the
//     module account holds exactly the deposits stored on the nodes, and the
//     community pool grows by exactly the deposits of the meta nodes removed;
//   - keeps the PoA authorities (DESIGN §5.2) as the keeper promises: see
//     checkAuthorities.
func FuzzMsgs(f *testing.F) {
	for _, m := range newFuzzChain(&testing.T{}).seeds() {
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kindOf(m), b)
	}
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		msg := msgKinds[int(kind)%len(msgKinds)]()
		if err := msg.Unmarshal(data); err != nil {
			return
		}
		c := newFuzzChain(t)
		before := c.snapshot(t)
		if err := deliver(c.ctx, c.ms, msg); err != nil {
			return
		}
		after := c.snapshot(t)
		c.checkCoins(t, msg, before, after)
		c.checkAuthorities(t, msg, before.meta, after.meta)
	})
}

type chainState struct {
	meta      map[string]types.MetaNode
	total     math.Int
	module    math.Int
	pool      math.Int
	burned    math.Int
	deposited math.Int // on every node, resource and meta
}

func (c *fuzzChain) snapshot(t *testing.T) chainState {
	t.Helper()
	s := chainState{meta: map[string]types.MetaNode{},
		total: c.bank.total(), module: c.bank.module(), pool: c.pool(), burned: c.bank.burned.AmountOf(types.Denom),
		deposited: math.ZeroInt()}
	add := func(d sdk.Coin) {
		if d.Denom != types.Denom && !d.Amount.IsZero() {
			t.Fatalf("deposit %s is not in %s", d, types.Denom)
		}
		s.deposited = s.deposited.Add(d.Amount)
	}
	if err := c.k.MetaNodes.Walk(c.ctx, nil, func(id string, n types.MetaNode) (bool, error) {
		s.meta[id] = n
		add(n.Deposit)
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.k.ResourceNodes.Walk(c.ctx, nil, func(_ string, n types.ResourceNode) (bool, error) {
		add(n.Deposit)
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (c *fuzzChain) checkCoins(t *testing.T, msg fuzzMsg, before, after chainState) {
	t.Helper()
	if !after.total.Equal(before.total) || !after.burned.Equal(before.burned) {
		t.Fatalf("%T %+v: ustos total %s -> %s, burned %s -> %s", msg, msg, before.total, after.total, before.burned, after.burned)
	}
	if !after.module.Equal(after.deposited) {
		t.Fatalf("%T %+v: the module account holds %s, the nodes' deposits are %s", msg, msg, after.module, after.deposited)
	}
	slashed := math.ZeroInt()
	for id, b := range before.meta {
		if b.Status == types.NodeStatus_NODE_STATUS_ACTIVE && after.meta[id].Status == types.NodeStatus_NODE_STATUS_REMOVED {
			slashed = slashed.Add(b.Deposit.Amount)
		}
	}
	if got := after.pool.Sub(before.pool); !got.Equal(slashed) {
		t.Fatalf("%T %+v: the community pool grew by %s; the removed meta nodes' deposits are %s", msg, msg, got, slashed)
	}
}

// moreThanTwoThirds is the authorities' rule, written out here rather than
// taken from the keeper: n of total decide when 3n > 2·total (DESIGN §7:
// "more than 2/3 of the active set, computed exactly (3 of 4, never 2 of
// 4)"; the same for admitting and removing meta nodes, DESIGN §4, §5.2).
func moreThanTwoThirds(n, total int) bool { return n > 0 && 3*n > 2*total }

func activeSet(nodes map[string]types.MetaNode) map[string]bool {
	a := map[string]bool{}
	for id, n := range nodes {
		if n.Status == types.NodeStatus_NODE_STATUS_ACTIVE {
			a[id] = true
		}
	}
	return a
}

func votesFrom(votes []string, set map[string]bool) int {
	n := 0
	for _, v := range votes {
		if set[v] {
			n++
		}
	}
	return n
}

func without(set map[string]bool, id string) map[string]bool {
	out := make(map[string]bool, len(set))
	for k := range set {
		if k != id {
			out[k] = true
		}
	}
	return out
}

// checkAuthorities checks what an accepted message did to the meta nodes,
// the PoA authorities (DESIGN §4: "admitted by a vote of existing meta
// nodes or by governance"; §5.2: "the authorities can vote a misbehaving
// meta node out on chain"):
//   - no meta node disappears; a status only moves PENDING -> ACTIVE or
//     ACTIVE -> REMOVED, and a removed node keeps no deposit and no votes; a
//     new meta node is PENDING (the chain has authorities, so no bootstrap);
//   - at least one meta node stays ACTIVE;
//   - an approval or removal vote comes from an ACTIVE meta node its sender
//     operates, and decides exactly when the votes of the active meta nodes
//     (for a removal, the active ones other than the target) are more than
//     2/3 of them; governance changes exactly the node it names;
//   - a node other than the one a message names changes only after a
//     removal, and after every message the state is settled: no PENDING node
//     has approvals of more than 2/3 of the active meta nodes and no ACTIVE
//     one removal votes of more than 2/3 of the others (after a removal the
//     keeper applies the votes already cast to the smaller set);
//   - any other message leaves the existing meta nodes as they were.
func (c *fuzzChain) checkAuthorities(t *testing.T, msg fuzzMsg, before, after map[string]types.MetaNode) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%T %+v: %s", msg, msg, fmt.Sprintf(format, args...))
	}
	changed := map[string]bool{}
	for id, b := range before {
		a, ok := after[id]
		switch {
		case !ok:
			fail("meta node %s disappeared", id)
		case a.Status == b.Status:
			continue
		case b.Status == types.NodeStatus_NODE_STATUS_PENDING && a.Status == types.NodeStatus_NODE_STATUS_ACTIVE:
		case b.Status == types.NodeStatus_NODE_STATUS_ACTIVE && a.Status == types.NodeStatus_NODE_STATUS_REMOVED:
			if !a.Deposit.IsZero() || len(a.RemovalVotes) != 0 {
				fail("removed meta node %s keeps deposit %s and votes %v", id, a.Deposit, a.RemovalVotes)
			}
		default:
			fail("meta node %s went from %s to %s", id, b.Status, a.Status)
		}
		changed[id] = true
	}
	for id, a := range after {
		if _, ok := before[id]; ok {
			continue
		}
		if _, reg := msg.(*types.MsgRegisterMetaNode); !reg || a.Status != types.NodeStatus_NODE_STATUS_PENDING {
			fail("new meta node %s is %s", id, a.Status)
		}
	}
	was, now := activeSet(before), activeSet(after)
	if len(now) == 0 {
		fail("no active meta node left")
	}
	for id, n := range after {
		switch n.Status {
		case types.NodeStatus_NODE_STATUS_PENDING:
			if moreThanTwoThirds(votesFrom(n.Approvals, now), len(now)) {
				fail("pending meta node %s has approvals %v of more than 2/3 of %v", id, n.Approvals, now)
			}
		case types.NodeStatus_NODE_STATUS_ACTIVE:
			if others := without(now, id); moreThanTwoThirds(votesFrom(n.RemovalVotes, others), len(others)) {
				fail("active meta node %s has removal votes %v of more than 2/3 of %v", id, n.RemovalVotes, others)
			}
		}
	}
	voterOK := func(voter, voterNode string) {
		t.Helper()
		n := before[voterNode]
		if !was[voterNode] || !c.sameAccount(n.Operator, voter) {
			fail("%s voted for meta node %s, which it does not operate or which is not active", voter, voterNode)
		}
	}
	named, cascade := "", false
	switch m := msg.(type) {
	case *types.MsgApproveMetaNode:
		voterOK(m.Voter, m.VoterNodeId)
		named = m.CandidateNodeId
		cand := after[named]
		if want := append(append([]string(nil), before[named].Approvals...), m.VoterNodeId); !reflect.DeepEqual(cand.Approvals, want) {
			fail("approvals %v, want %v", cand.Approvals, want)
		}
		if admit := moreThanTwoThirds(votesFrom(cand.Approvals, was), len(was)); admit != changed[named] {
			fail("approvals %v of active %v: admitted %v, want %v", cand.Approvals, was, changed[named], admit)
		}
	case *types.MsgVoteRemoveMetaNode:
		voterOK(m.Voter, m.VoterNodeId)
		named = m.TargetNodeId
		votes := append(append([]string(nil), before[named].RemovalVotes...), m.VoterNodeId)
		others := without(was, named)
		remove := moreThanTwoThirds(votesFrom(votes, others), len(others))
		if !was[named] || remove != changed[named] {
			fail("removal votes %v of the others %v: removed %v, want %v", votes, others, changed[named], remove)
		}
		if !remove && !reflect.DeepEqual(after[named].RemovalVotes, votes) {
			fail("removal votes %v, want %v", after[named].RemovalVotes, votes)
		}
		cascade = remove
	case *types.MsgSetMetaNodeStatus:
		if m.Authority != c.authority {
			fail("accepted from %s, not the governance authority", m.Authority)
		}
		named = m.NodeId
		if !changed[named] || after[named].Status != m.Status {
			fail("meta node %s is %s, governance asked for %s", named, after[named].Status, m.Status)
		}
		cascade = m.Status == types.NodeStatus_NODE_STATUS_REMOVED
	default:
		for id, b := range before {
			if !reflect.DeepEqual(after[id], b) {
				fail("meta node %s changed: %+v -> %+v", id, b, after[id])
			}
		}
	}
	for id := range changed {
		if id != named && !cascade {
			fail("meta node %s changed (%s -> %s) though the message decided only %s", id, before[id].Status, after[id].Status, named)
		}
	}
}

// sameAccount reports whether the bech32 operator stored is addr.
func (c *fuzzChain) sameAccount(stored, addr string) bool {
	a, err1 := c.ac.StringToBytes(stored)
	b, err2 := c.ac.StringToBytes(addr)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}
