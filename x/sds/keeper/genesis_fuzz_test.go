package keeper_test

import (
	"bytes"
	"math/big"
	"testing"

	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/types"
)

// FuzzGenesis: a genesis file is untrusted bytes (issue 8). The input is
// the GenesisState's protobuf encoding, not its JSON: Validate and
// InitGenesis see the same Go values either way, and the fuzzer reaches
// them faster through the wire format than through JSON syntax. The
// contract checked is the one `validate-genesis` makes: a genesis that
// Validate accepts starts the chain once x/bank's genesis holds the
// prepayments in the sds module account (InitGenesis checks that; the
// module's InitGenesis panics on an error), its export Validates again,
// and exporting a chain started from that export gives the same bytes.
func FuzzGenesis(f *testing.F) {
	fx := newFixture(&testing.T{})
	_, a := fx.account(&testing.T{}, 1, nil)
	_, b := fx.account(&testing.T{}, 2, nil)
	maxInt := math.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)))
	for _, gs := range []*types.GenesisState{
		types.DefaultGenesis(),
		{
			Params: types.Params{TrafficPrice: 77, MinPrepay: sdk.NewInt64Coin(types.Denom, 10), StoragePrice: 55},
			Prepaid: []types.Prepayment{
				{Address: a, Amount: sdk.NewInt64Coin(types.Denom, 500)},
				{Address: b, Amount: sdk.NewInt64Coin(types.Denom, 250)},
			},
			Anchors: []types.Anchor{
				{MetaNodeId: "meta-a", Period: 1, Root: root(1), Height: 3},
				{MetaNodeId: "meta-b", Period: 1, Root: root(2), Height: 3},
				{MetaNodeId: "meta-a", Period: 2, Root: root(3), Height: 9},
			},
		},
		// The largest prepayment a balance can hold.
		{Params: types.DefaultParams(), Prepaid: []types.Prepayment{{Address: a, Amount: sdk.NewCoin(types.Denom, maxInt)}}},
	} {
		bz, err := gs.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bz)
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
		fund(t, fx, &gs)
		if err := fx.k.InitGenesis(fx.ctx, &gs); err != nil {
			t.Fatalf("InitGenesis refuses a genesis Validate accepted: %v\n%+v", err, gs)
		}
		out, err := fx.k.ExportGenesis(fx.ctx)
		if err != nil {
			t.Fatalf("ExportGenesis: %v", err)
		}
		if err := out.Validate(fx.ac); err != nil {
			t.Fatalf("export of a valid genesis does not Validate: %v\nin:  %+v\nout: %+v", err, gs, out)
		}
		again := newFixture(t)
		fund(t, again, out)
		if err := again.k.InitGenesis(again.ctx, out); err != nil {
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

// fund gives the sds module account the sum of gs's prepayments, as x/bank's
// genesis does, if a balance can hold it (math.Int has 256 bits).
func fund(t *testing.T, fx *fixture, gs *types.GenesisState) {
	t.Helper()
	sum := new(big.Int)
	for _, p := range gs.Prepaid {
		sum.Add(sum, p.Amount.Amount.BigInt())
	}
	if sum.BitLen() <= math.MaxBitLen {
		fx.bank.balances[string(fx.module)] = sdk.NewCoins(sdk.NewCoin(types.Denom, math.NewIntFromBigInt(sum)))
	}
}
