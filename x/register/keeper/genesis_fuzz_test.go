package keeper_test

import (
	"bytes"
	"testing"

	"github.com/stratos-net/stratos/x/register/types"
)

// FuzzGenesis: a genesis file is untrusted bytes (issue 8). The input is
// the GenesisState's protobuf encoding, not its JSON: Validate and
// InitGenesis see the same Go values either way, and the fuzzer reaches
// them faster through the wire format than through JSON syntax. The
// contract checked is the one `validate-genesis` makes: a genesis that
// Validate accepts starts the chain (the module's InitGenesis panics on an
// error), moving no coins (DESIGN §3: nodes registered at genesis), its
// export Validates again with every node in it, and exporting a chain
// started from that export gives the same bytes.
func FuzzGenesis(f *testing.F) {
	fx := newFixture(&testing.T{})
	devnet := devnetGenesis(&testing.T{}, fx)
	voted := devnetGenesis(&testing.T{}, fx)
	activeMeta(&voted).RemovalVotes = []string{pending(&voted).NodeId}
	pending(&voted).Status = types.NodeStatus_NODE_STATUS_REMOVED
	voted.ResourceNodes[0].Status, voted.ResourceNodes[0].UnbondingEnds = types.NodeStatus_NODE_STATUS_UNBONDING, &genesisTime
	voted.Params.AllowMetaBootstrap, voted.Params.UnbondingSeconds = true, 0
	chain := newFuzzChain(&testing.T{}) // FuzzMsgs's chain: votes, approvals, every status
	rich, err := chain.k.ExportGenesis(chain.ctx)
	if err != nil {
		f.Fatal(err)
	}
	for _, gs := range []*types.GenesisState{types.DefaultGenesis(), &devnet, &voted, rich} {
		b, err := gs.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var gs types.GenesisState
		if err := gs.Unmarshal(data); err != nil {
			return
		}
		fx := newFixture(t)
		if err := gs.Validate(fx.ac); err != nil {
			return
		}
		total, module := fx.bank.total(), fx.bank.module()
		if err := fx.k.InitGenesis(fx.ctx, gs); err != nil {
			t.Fatalf("InitGenesis refuses a genesis Validate accepted: %v\n%+v", err, gs)
		}
		if !fx.bank.total().Equal(total) || !fx.bank.module().Equal(module) {
			t.Fatal("InitGenesis moved coins")
		}
		out, err := fx.k.ExportGenesis(fx.ctx)
		if err != nil {
			t.Fatalf("ExportGenesis: %v", err)
		}
		if err := out.Validate(fx.ac); err != nil {
			t.Fatalf("export of a valid genesis does not Validate: %v\nin:  %+v\nout: %+v", err, gs, out)
		}
		if len(out.ResourceNodes) != len(gs.ResourceNodes) || len(out.MetaNodes) != len(gs.MetaNodes) {
			t.Fatalf("exported %d resource and %d meta nodes of %d and %d", len(out.ResourceNodes), len(out.MetaNodes),
				len(gs.ResourceNodes), len(gs.MetaNodes))
		}
		again := newFixture(t)
		if err := again.k.InitGenesis(again.ctx, *out); err != nil {
			t.Fatalf("InitGenesis of an export: %v", err)
		}
		out2, err := again.k.ExportGenesis(again.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b1, b2 := mustMarshal(t, out), mustMarshal(t, out2); !bytes.Equal(b1, b2) {
			t.Fatalf("export is not a fixed point:\n%+v\n%+v", out, out2)
		}
	})
}

func mustMarshal(t *testing.T, gs *types.GenesisState) []byte {
	t.Helper()
	b, err := gs.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
