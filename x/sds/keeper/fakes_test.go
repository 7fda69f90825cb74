package keeper_test

import (
	"context"
	"testing"

	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/x/sds/keeper"
	"github.com/stratos-net/stratos/x/sds/types"
)

// fakeBank keeps balances in a map; module accounts are plain addresses.
type fakeBank struct {
	balances map[string]sdk.Coins
	moves    int // SendCoinsFromModuleToModule calls
}

var _ types.BankKeeper = (*fakeBank)(nil)

func newFakeBank() *fakeBank { return &fakeBank{balances: map[string]sdk.Coins{}} }

func (b *fakeBank) SendCoinsFromAccountToModule(_ context.Context, from sdk.AccAddress, module string, amt sdk.Coins) error {
	have := b.balances[string(from)]
	if !have.IsAllGTE(amt) {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "spendable balance %s is smaller than %s", have, amt)
	}
	b.balances[string(from)] = have.Sub(amt...)
	to := authtypes.NewModuleAddress(module)
	b.balances[string(to)] = b.balances[string(to)].Add(amt...)
	return nil
}

func (b *fakeBank) SendCoinsFromModuleToModule(ctx context.Context, from, to string, amt sdk.Coins) error {
	b.moves++
	return b.SendCoinsFromAccountToModule(ctx, authtypes.NewModuleAddress(from), to, amt)
}

func (b *fakeBank) GetBalance(_ context.Context, addr sdk.AccAddress, denom string) sdk.Coin {
	return sdk.NewCoin(denom, b.balances[string(addr)].AmountOf(denom))
}

func (b *fakeBank) ustos(addr sdk.AccAddress) math.Int {
	return b.balances[string(addr)].AmountOf(types.Denom)
}

// fakeRegister knows which (operator, meta node) pairs are active.
type fakeRegister struct {
	active map[string]string // meta node id -> operator address bytes
}

func (r fakeRegister) IsActiveMetaNodeOperator(_ context.Context, op sdk.AccAddress, id string) bool {
	owner, ok := r.active[id]
	return ok && owner == string(op)
}

type fixture struct {
	ctx     sdk.Context
	k       keeper.Keeper
	bank    *fakeBank
	reg     fakeRegister
	ac      address.Codec
	msgs    types.MsgServer
	query   types.QueryServer
	gov     string
	module  sdk.AccAddress
	periods *fakePeriods
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tkey := storetypes.NewTransientStoreKey("transient_test")
	ctx := testutil.DefaultContextWithDB(t, key, tkey).Ctx.WithBlockHeight(42)
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	ac := addresscodec.NewBech32Codec("st")
	bank := newFakeBank()
	reg := fakeRegister{active: map[string]string{}}
	gov, err := ac.BytesToString(authtypes.NewModuleAddress("gov"))
	if err != nil {
		t.Fatal(err)
	}
	k := keeper.NewKeeper(cdc, runtime.NewKVStoreService(key), ac, bank, reg, gov)
	periods := &fakePeriods{current: 10}
	k.SetPeriodKeeper(periods)
	if err := k.InitGenesis(ctx, types.DefaultGenesis()); err != nil {
		t.Fatal(err)
	}
	return &fixture{
		ctx: ctx, k: k, bank: bank, reg: reg, ac: ac,
		msgs: keeper.NewMsgServer(k), query: keeper.NewQueryServer(k),
		gov: gov, module: authtypes.NewModuleAddress(types.ModuleName), periods: periods,
	}
}

// fakePeriods is x/pot's ledger period clock.
type fakePeriods struct{ current uint64 }

func (p *fakePeriods) CurrentLedgerPeriod(context.Context) (uint64, error) { return p.current, nil }

// account returns a fresh address funded with coins, and its bech32 form.
func (f *fixture) account(t *testing.T, n byte, coins sdk.Coins) (sdk.AccAddress, string) {
	t.Helper()
	addr := sdk.AccAddress(append(make([]byte, 19), n))
	f.bank.balances[string(addr)] = coins
	s, err := f.ac.BytesToString(addr)
	if err != nil {
		t.Fatal(err)
	}
	return addr, s
}

func (f *fixture) prepaid(t *testing.T, addr sdk.AccAddress) math.Int {
	t.Helper()
	amt, err := f.k.PrepaidOf(f.ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	return amt
}

func ustos(n int64) sdk.Coins { return sdk.NewCoins(sdk.NewInt64Coin(types.Denom, n)) }

func moduleAddr(name string) sdk.AccAddress { return authtypes.NewModuleAddress(name) }
