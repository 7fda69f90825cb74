package keeper_test

import (
	"reflect"
	"sort"
	"testing"

	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/stratos-net/stratos/x/register/types"
)

// devnetGenesis is what devnet writes: nodes registered at genesis with zero
// deposits (DESIGN §3), one pending meta node with one approval.
func devnetGenesis(t *testing.T, f *fixture) types.GenesisState {
	t.Helper()
	gs := types.GenesisState{Params: types.DefaultParams()}
	for i := byte(1); i <= 3; i++ {
		pub, id := nodeKey(i)
		_, op := f.account(t, i)
		gs.ResourceNodes = append(gs.ResourceNodes, types.ResourceNode{NodeId: id, PublicKey: pub, Operator: op,
			NetworkAddress: "127.0.0.1:700" + string('0'+i), Capacity: 1 << 30, Region: "local", Deposit: ustos(0),
			Status: types.NodeStatus_NODE_STATUS_ACTIVE, RegisteredHeight: 0})
	}
	var active string
	for i := byte(11); i <= 12; i++ {
		pub, id := nodeKey(i)
		_, op := f.account(t, i)
		n := types.MetaNode{NodeId: id, PublicKey: pub, Operator: op, NetworkAddress: "127.0.0.1:7100",
			Deposit: ustos(0), Status: types.NodeStatus_NODE_STATUS_ACTIVE}
		if i == 12 {
			n.Status, n.Approvals = types.NodeStatus_NODE_STATUS_PENDING, []string{active}
		}
		active = id
		gs.MetaNodes = append(gs.MetaNodes, n)
	}
	sort.Slice(gs.ResourceNodes, func(i, j int) bool { return gs.ResourceNodes[i].NodeId < gs.ResourceNodes[j].NodeId })
	sort.Slice(gs.MetaNodes, func(i, j int) bool { return gs.MetaNodes[i].NodeId < gs.MetaNodes[j].NodeId })
	return gs
}

func pending(g *types.GenesisState) *types.MetaNode {
	for i := range g.MetaNodes {
		if g.MetaNodes[i].Status == types.NodeStatus_NODE_STATUS_PENDING {
			return &g.MetaNodes[i]
		}
	}
	panic("no pending meta node")
}

func activeMeta(g *types.GenesisState) *types.MetaNode {
	for i := range g.MetaNodes {
		if g.MetaNodes[i].Status == types.NodeStatus_NODE_STATUS_ACTIVE {
			return &g.MetaNodes[i]
		}
	}
	panic("no active meta node")
}

// DESIGN §3: InitGenesis stores the nodes as given (zero deposits allowed,
// no coins moved); ExportGenesis gives back the same state.
func TestGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	gs := devnetGenesis(t, f)
	if err := gs.Validate(f.ac); err != nil {
		t.Fatalf("valid genesis rejected: %v", err)
	}
	total := f.bank.total()
	if err := f.k.InitGenesis(f.ctx, gs); err != nil {
		t.Fatal(err)
	}
	if !f.bank.total().Equal(total) || !f.bank.module().IsZero() {
		t.Fatal("InitGenesis moved coins")
	}
	got, err := f.k.ExportGenesis(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, gs) {
		t.Fatalf("export differs:\n got %+v\nwant %+v", *got, gs)
	}
	for _, n := range gs.ResourceNodes {
		if !f.k.IsResourceNodeActive(f.ctx, n.NodeId) {
			t.Fatalf("genesis node %s not active", n.NodeId)
		}
	}
	if keys := mustKeys(t, f); len(keys) != 1 {
		t.Fatalf("active meta nodes %v, want 1 (the other is pending)", keys)
	}
	// Default genesis round-trips too.
	f2 := newFixture(t)
	if err := f2.k.InitGenesis(f2.ctx, *types.DefaultGenesis()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f2.k.ExportGenesis(f2.ctx); len(got.ResourceNodes)+len(got.MetaNodes) != 0 || !got.Params.MinMetaDeposit.Equal(ustos(1_000_000)) {
		t.Fatalf("default export %+v", got)
	}
}

// STYLE "ValidateGenesis really validates": every rule of DESIGN §3/§4.
func TestValidateGenesis(t *testing.T) {
	f := newFixture(t)
	otherPub, _ := nodeKey(99)
	cases := []struct {
		name string
		edit func(*types.GenesisState)
	}{
		{"resource key 31 bytes", func(g *types.GenesisState) { g.ResourceNodes[0].PublicKey = g.ResourceNodes[0].PublicKey[:31] }},
		{"meta key empty", func(g *types.GenesisState) { g.MetaNodes[0].PublicKey = nil }},
		{"resource id not derived from key", func(g *types.GenesisState) { g.ResourceNodes[0].PublicKey = otherPub }},
		{"meta id not derived from key", func(g *types.GenesisState) { g.MetaNodes[0].NodeId = g.ResourceNodes[0].NodeId[:39] + "0" }},
		{"id upper case", func(g *types.GenesisState) { g.ResourceNodes[0].NodeId = upper(g.ResourceNodes[0].NodeId) }},
		{"duplicate resource node", func(g *types.GenesisState) { g.ResourceNodes = append(g.ResourceNodes, g.ResourceNodes[0]) }},
		{"duplicate meta node", func(g *types.GenesisState) { g.MetaNodes = append(g.MetaNodes, g.MetaNodes[1]) }},
		{"same key as resource and meta node", func(g *types.GenesisState) {
			r := g.ResourceNodes[0]
			g.MetaNodes = append(g.MetaNodes, types.MetaNode{NodeId: r.NodeId, PublicKey: r.PublicKey, Operator: r.Operator,
				Deposit: ustos(0), Status: types.NodeStatus_NODE_STATUS_ACTIVE})
		}},
		{"operator with cosmos prefix", func(g *types.GenesisState) {
			g.ResourceNodes[0].Operator = "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"
		}},
		{"empty meta operator", func(g *types.GenesisState) { g.MetaNodes[0].Operator = "" }},
		{"negative deposit", func(g *types.GenesisState) {
			g.ResourceNodes[1].Deposit = sdk.Coin{Denom: "ustos", Amount: math.NewInt(-5)}
		}},
		{"deposit in ustb", func(g *types.GenesisState) { g.MetaNodes[0].Deposit = ustosB(1) }},
		{"deposit without denom", func(g *types.GenesisState) { g.MetaNodes[0].Deposit = sdk.Coin{Amount: math.NewInt(1)} }},
		{"resource status unspecified", func(g *types.GenesisState) { g.ResourceNodes[0].Status = types.NodeStatus_NODE_STATUS_UNSPECIFIED }},
		{"resource status pending", func(g *types.GenesisState) { g.ResourceNodes[0].Status = types.NodeStatus_NODE_STATUS_PENDING }},
		{"meta status unknown", func(g *types.GenesisState) { g.MetaNodes[0].Status = 42 }},
		{"approval by a resource node", func(g *types.GenesisState) { pending(g).Approvals = []string{g.ResourceNodes[0].NodeId} }},
		{"approval twice", func(g *types.GenesisState) { p := pending(g); p.Approvals = append(p.Approvals, p.Approvals...) }},
		// DESIGN §5.2: pending removal votes and removed meta nodes.
		{"resource status removed", func(g *types.GenesisState) { g.ResourceNodes[0].Status = types.NodeStatus_NODE_STATUS_REMOVED }},
		{"removal vote by a resource node", func(g *types.GenesisState) { activeMeta(g).RemovalVotes = []string{g.ResourceNodes[0].NodeId} }},
		{"removal vote by itself", func(g *types.GenesisState) { a := activeMeta(g); a.RemovalVotes = []string{a.NodeId} }},
		{"removal vote twice", func(g *types.GenesisState) {
			p := pending(g)
			activeMeta(g).RemovalVotes = []string{p.NodeId, p.NodeId}
		}},
		{"removal votes on a pending node", func(g *types.GenesisState) { pending(g).RemovalVotes = []string{activeMeta(g).NodeId} }},
		{"removal votes on a removed node", func(g *types.GenesisState) {
			p := pending(g)
			activeMeta(g).RemovalVotes = []string{p.NodeId}
			activeMeta(g).Status = types.NodeStatus_NODE_STATUS_REMOVED
		}},
		// DESIGN §4: an unbonding deposit has an end, and only then.
		{"resource unbonding without an end", func(g *types.GenesisState) { g.ResourceNodes[0].Status = types.NodeStatus_NODE_STATUS_UNBONDING }},
		{"active resource node with an unbonding end", func(g *types.GenesisState) { g.ResourceNodes[0].UnbondingEnds = &genesisTime }},
		{"inactive resource node with an unbonding end", func(g *types.GenesisState) {
			g.ResourceNodes[0].Status, g.ResourceNodes[0].UnbondingEnds = types.NodeStatus_NODE_STATUS_INACTIVE, &genesisTime
		}},
		{"meta node unbonding", func(g *types.GenesisState) { g.MetaNodes[0].Status = types.NodeStatus_NODE_STATUS_UNBONDING }},
		{"unbonding over a year", func(g *types.GenesisState) { g.Params.UnbondingSeconds = types.MaxUnbondingSeconds + 1 }},
		{"params in ustb", func(g *types.GenesisState) { g.Params.MinResourceDeposit = ustosB(1) }},
		{"params invalid coin", func(g *types.GenesisState) {
			g.Params.MinMetaDeposit = sdk.Coin{Denom: "ustos", Amount: math.NewInt(-1)}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gs := devnetGenesis(t, f)
			tc.edit(&gs)
			if err := gs.Validate(f.ac); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	gs := devnetGenesis(t, f)
	if err := gs.Validate(f.ac); err != nil {
		t.Fatal(err)
	}
	// A removal vote by another meta node (even one no longer active: its
	// vote is kept but does not count) and a removed meta node are valid.
	activeMeta(&gs).RemovalVotes = []string{pending(&gs).NodeId}
	pending(&gs).Status = types.NodeStatus_NODE_STATUS_REMOVED
	if err := gs.Validate(f.ac); err != nil {
		t.Fatalf("removal state rejected: %v", err)
	}
	// An unbonding resource node with its end is valid.
	gs.ResourceNodes[0].Status, gs.ResourceNodes[0].UnbondingEnds = types.NodeStatus_NODE_STATUS_UNBONDING, &genesisTime
	if err := gs.Validate(f.ac); err != nil {
		t.Fatalf("unbonding node rejected: %v", err)
	}
	if err := types.DefaultGenesis().Validate(f.ac); err != nil {
		t.Fatal(err)
	}
}

// Queries behind `stratos query register resource-nodes|resource-node|
// meta-nodes|meta-node|params`.
func TestQueries(t *testing.T) {
	f := newFixture(t)
	gs := devnetGenesis(t, f)
	if err := f.k.InitGenesis(f.ctx, gs); err != nil {
		t.Fatal(err)
	}
	page1, err := f.qs.ResourceNodes(f.ctx, &types.QueryResourceNodesRequest{Pagination: &query.PageRequest{Limit: 2, CountTotal: true}})
	if err != nil || len(page1.Nodes) != 2 || page1.Pagination.Total != 3 || page1.Pagination.NextKey == nil {
		t.Fatalf("page 1: %+v, %v", page1, err)
	}
	page2, err := f.qs.ResourceNodes(f.ctx, &types.QueryResourceNodesRequest{Pagination: &query.PageRequest{Key: page1.Pagination.NextKey}})
	if err != nil || len(page2.Nodes) != 1 || page2.Nodes[0].NodeId != gs.ResourceNodes[2].NodeId {
		t.Fatalf("page 2: %+v, %v", page2, err)
	}
	one, err := f.qs.ResourceNode(f.ctx, &types.QueryResourceNodeRequest{NodeId: gs.ResourceNodes[1].NodeId})
	if err != nil || one.Node.Operator != gs.ResourceNodes[1].Operator {
		t.Fatalf("resource node: %+v, %v", one, err)
	}
	if _, err := f.qs.ResourceNode(f.ctx, &types.QueryResourceNodeRequest{NodeId: gs.MetaNodes[0].NodeId}); err == nil {
		t.Fatal("meta node returned as resource node")
	}
	metas, err := f.qs.MetaNodes(f.ctx, &types.QueryMetaNodesRequest{})
	if err != nil || len(metas.Nodes) != 2 {
		t.Fatalf("meta nodes: %+v, %v", metas, err)
	}
	m, err := f.qs.MetaNode(f.ctx, &types.QueryMetaNodeRequest{NodeId: pending(&gs).NodeId})
	if err != nil || m.Node.Status != types.NodeStatus_NODE_STATUS_PENDING || len(m.Node.Approvals) != 1 {
		t.Fatalf("meta node: %+v, %v", m, err)
	}
	if _, err := f.qs.MetaNode(f.ctx, &types.QueryMetaNodeRequest{NodeId: "nope"}); err == nil {
		t.Fatal("unknown meta node found")
	}
	if _, err := f.k.ResourceNodeOperator(f.ctx, "nope"); !errorsIs(err, types.ErrNodeNotFound) {
		t.Fatalf("ResourceNodeOperator(unknown) = %v", err)
	}
	if f.k.IsResourceNodeActive(f.ctx, "nope") {
		t.Fatal("unknown node active")
	}
}
