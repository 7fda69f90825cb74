package keeper_test

import (
	"errors"
	"testing"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/types"
)

func TestGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	_, a := f.account(t, 1, nil)
	_, b := f.account(t, 2, nil)
	gs := &types.GenesisState{
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
	}
	// The prepaid ustos lives in the module account (bank genesis runs first).
	f.bank.balances[string(f.module)] = ustos(750)
	if err := f.k.InitGenesis(f.ctx, gs); err != nil {
		t.Fatal(err)
	}
	got, err := f.k.ExportGenesis(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	if w, g := cdc.MustMarshalJSON(gs), cdc.MustMarshalJSON(got); string(w) != string(g) {
		t.Errorf("export differs:\n got %s\nwant %s", g, w)
	}
}

func TestInitGenesisRequiresBackingFunds(t *testing.T) {
	f := newFixture(t)
	_, a := f.account(t, 1, nil)
	f.bank.balances[string(f.module)] = ustos(499)
	gs := types.DefaultGenesis()
	gs.Prepaid = []types.Prepayment{{Address: a, Amount: sdk.NewInt64Coin(types.Denom, 500)}}
	if err := f.k.InitGenesis(f.ctx, gs); !errors.Is(err, types.ErrInvalidGenesis) {
		t.Fatalf("err = %v, want ErrInvalidGenesis", err)
	}
}

func TestValidateGenesis(t *testing.T) {
	f := newFixture(t)
	_, a := f.account(t, 1, nil)
	good := func() *types.GenesisState {
		gs := types.DefaultGenesis()
		gs.Prepaid = []types.Prepayment{{Address: a, Amount: sdk.NewInt64Coin(types.Denom, 5)}}
		gs.Anchors = []types.Anchor{{MetaNodeId: "meta-a", Period: 1, Root: root(1), Height: 1}}
		return gs
	}
	if err := good().Validate(f.ac); err != nil {
		t.Fatalf("valid genesis rejected: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(gs *types.GenesisState)
	}{
		{"min_prepay of another denom", func(gs *types.GenesisState) { gs.Params.MinPrepay = sdk.NewInt64Coin("ustb", 1) }},
		{"zero min_prepay", func(gs *types.GenesisState) { gs.Params.MinPrepay = sdk.NewInt64Coin(types.Denom, 0) }},
		{"bad address", func(gs *types.GenesisState) { gs.Prepaid[0].Address = "cosmos1qqqq" }},
		{"empty address", func(gs *types.GenesisState) { gs.Prepaid[0].Address = "" }},
		{"duplicate address", func(gs *types.GenesisState) { gs.Prepaid = append(gs.Prepaid, gs.Prepaid[0]) }},
		{"zero amount", func(gs *types.GenesisState) { gs.Prepaid[0].Amount = sdk.NewInt64Coin(types.Denom, 0) }},
		{"negative amount", func(gs *types.GenesisState) {
			gs.Prepaid[0].Amount = sdk.Coin{Denom: types.Denom, Amount: math.NewInt(-1)}
		}},
		{"nil amount", func(gs *types.GenesisState) { gs.Prepaid[0].Amount = sdk.Coin{Denom: types.Denom} }},
		{"other denom", func(gs *types.GenesisState) { gs.Prepaid[0].Amount = sdk.NewInt64Coin("ustb", 5) }},
		{"short root", func(gs *types.GenesisState) { gs.Anchors[0].Root = root(1)[:31] }},
		{"no meta node id", func(gs *types.GenesisState) { gs.Anchors[0].MetaNodeId = "" }},
		{"negative height", func(gs *types.GenesisState) { gs.Anchors[0].Height = -1 }},
		{"duplicate anchor", func(gs *types.GenesisState) {
			dup := gs.Anchors[0]
			dup.Root = root(9)
			gs.Anchors = append(gs.Anchors, dup)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := good()
			tt.mutate(gs)
			if err := gs.Validate(f.ac); !errors.Is(err, types.ErrInvalidGenesis) {
				t.Errorf("err = %v, want ErrInvalidGenesis", err)
			}
		})
	}
}

func TestUpdateParams(t *testing.T) {
	f := newFixture(t)
	_, user := f.account(t, 1, nil)
	p := types.Params{TrafficPrice: 5, MinPrepay: sdk.NewInt64Coin(types.Denom, 100), StoragePrice: 9}
	if _, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: user, Params: p}); !errors.Is(err, types.ErrInvalidSigner) {
		t.Errorf("non-authority: err = %v", err)
	}
	bad := p
	bad.MinPrepay = sdk.NewInt64Coin("ustb", 1)
	if _, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.gov, Params: bad}); !errors.Is(err, types.ErrInvalidParams) {
		t.Errorf("bad params: err = %v", err)
	}
	if _, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.gov, Params: p}); err != nil {
		t.Fatal(err)
	}
	res, err := f.query.Params(f.ctx, &types.QueryParamsRequest{})
	if err != nil || res.Params.TrafficPrice != 5 || !res.Params.MinPrepay.Equal(p.MinPrepay) || res.Params.StoragePrice != 9 {
		t.Errorf("params = %+v, %v", res, err)
	}
}
