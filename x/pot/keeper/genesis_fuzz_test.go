package keeper_test

import (
	"bytes"
	"testing"

	"cosmossdk.io/math"

	"github.com/stratos-net/stratos/x/pot/types"
)

// FuzzGenesis: a genesis file is untrusted bytes (issue 8). The input is
// the GenesisState's protobuf encoding, not its JSON: Validate and
// InitGenesis see the same Go values either way, and the fuzzer reaches
// them faster through the wire format than through JSON syntax. The
// contract checked is the one `validate-genesis` makes: a genesis that
// Validate accepts starts the chain (InitGenesis, on a chain that holds
// only the default genesis' params and clock, which it replaces; the
// module's InitGenesis panics on an error) without minting or moving
// ustos, its export Validates again with every report and reward in it, and
// exporting a chain started from that export gives the same bytes.
func FuzzGenesis(f *testing.F) {
	t := &testing.T{}
	rich := fuzzFixture(t)
	alice := addr(t, accAddr("alice"))
	for period := uint64(997); period <= 998; period++ {
		v := types.ReportVolumes{Nodes: []types.NodeVolume{{NodeId: "n1", Bytes: 300}, {NodeId: "n2", Bytes: 100}},
			Users: []types.UserVolume{{Address: alice, Bytes: 400}}}
		if period == 998 {
			v.StoredNodes = []types.NodeVolume{{NodeId: "n3", Bytes: 1 << 30}}
			v.StoredUsers = v.Users
		}
		if _, err := rich.msg.VolumeReport(rich.ctx, rich.reportOf(period, v)); err != nil {
			f.Fatal(err)
		}
	}
	exported, err := rich.k.ExportGenesis(rich.ctx)
	if err != nil {
		f.Fatal(err)
	}
	small := types.GenesisState{
		Params:  types.DefaultParams(),
		Clock:   types.PeriodClock{OriginPeriod: 5, OriginUnix: genesisTime.Unix()},
		Reports: []types.VolumeReport{{Period: 1, Nodes: []types.NodeVolume{{NodeId: "n1", Bytes: 1}}, Total: math.NewInt(1), Remainder: math.ZeroInt()}},
		Rewards: []types.NodeReward{{NodeId: "n1", Amount: math.NewInt(5), Operator: addr(t, accAddr("op"))}, {NodeId: "n2", Amount: math.ZeroInt()}},
	}
	for _, gs := range []*types.GenesisState{types.DefaultGenesis(), &small, exported} {
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
		if err := gs.Validate(addrCodec); err != nil {
			return
		}
		fx := setup(t)
		supply, pot := fx.bank.supply, fx.bank.balance(potAddr)
		if err := fx.k.InitGenesis(fx.ctx, gs); err != nil {
			t.Fatalf("InitGenesis refuses a genesis Validate accepted: %v\n%+v", err, gs)
		}
		if !fx.bank.supply.Equal(supply) || !fx.bank.balance(potAddr).Equal(pot) {
			t.Fatal("InitGenesis minted or moved ustos")
		}
		out, err := fx.k.ExportGenesis(fx.ctx)
		if err != nil {
			t.Fatalf("ExportGenesis: %v", err)
		}
		if err := out.Validate(addrCodec); err != nil {
			t.Fatalf("export of a valid genesis does not Validate: %v\nin:  %+v\nout: %+v", err, gs, out)
		}
		if len(out.Reports) != len(gs.Reports) || len(out.Rewards) != len(gs.Rewards) {
			t.Fatalf("exported %d reports and %d rewards of %d and %d", len(out.Reports), len(out.Rewards),
				len(gs.Reports), len(gs.Rewards))
		}
		again := setup(t)
		if err := again.k.InitGenesis(again.ctx, *out); err != nil {
			t.Fatalf("InitGenesis of an export: %v", err)
		}
		out2, err := again.k.ExportGenesis(again.ctx)
		if err != nil {
			t.Fatal(err)
		}
		b1, err1 := out.Marshal()
		b2, err2 := out2.Marshal()
		if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("export is not a fixed point (%v, %v):\n%+v\n%+v", err1, err2, out, out2)
		}
	})
}
