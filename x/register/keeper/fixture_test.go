package keeper_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

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

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/x/register/keeper"
	"github.com/stratos-net/stratos/x/register/types"
)

// fakeBank is an in-memory x/bank: account and module balances plus what
// was burned, so tests can check that no ustos is created or lost.
type fakeBank struct {
	accounts map[string]sdk.Coins
	modules  map[string]sdk.Coins
	burned   sdk.Coins
}

func newFakeBank() *fakeBank {
	return &fakeBank{accounts: map[string]sdk.Coins{}, modules: map[string]sdk.Coins{}}
}

func (b *fakeBank) SendCoinsFromAccountToModule(_ context.Context, from sdk.AccAddress, module string, amt sdk.Coins) error {
	bal := b.accounts[string(from)]
	rest, neg := bal.SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "%s < %s", bal, amt)
	}
	b.accounts[string(from)] = rest
	b.modules[module] = b.modules[module].Add(amt...)
	return nil
}

func (b *fakeBank) SendCoinsFromModuleToAccount(_ context.Context, module string, to sdk.AccAddress, amt sdk.Coins) error {
	bal := b.modules[module]
	rest, neg := bal.SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "module %s: %s < %s", module, bal, amt)
	}
	b.modules[module] = rest
	b.accounts[string(to)] = b.accounts[string(to)].Add(amt...)
	return nil
}

func (b *fakeBank) BurnCoins(_ context.Context, module string, amt sdk.Coins) error {
	bal := b.modules[module]
	rest, neg := bal.SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "burn from %s: %s < %s", module, bal, amt)
	}
	b.modules[module] = rest
	b.burned = b.burned.Add(amt...)
	return nil
}

// fakeDistr is x/distribution's community pool on top of fakeBank: like the
// real FundCommunityPool it moves coins from the depositor's account (here
// the register module account, by its address) to the distribution module
// account and books them in the pool.
type fakeDistr struct {
	bank *fakeBank
	pool sdk.Coins
}

func (d *fakeDistr) FundCommunityPool(_ context.Context, amt sdk.Coins, depositor sdk.AccAddress) error {
	if !depositor.Equals(authtypes.NewModuleAddress(types.ModuleName)) {
		return fmt.Errorf("fake distr: unexpected depositor %s", depositor)
	}
	bal := d.bank.modules[types.ModuleName]
	rest, neg := bal.SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "fund pool from %s: %s < %s", types.ModuleName, bal, amt)
	}
	d.bank.modules[types.ModuleName] = rest
	d.bank.modules[distrModule] = d.bank.modules[distrModule].Add(amt...)
	d.pool = d.pool.Add(amt...)
	return nil
}

const distrModule = "distribution"

func (b *fakeBank) balance(a sdk.AccAddress) math.Int {
	return b.accounts[string(a)].AmountOf(types.Denom)
}
func (b *fakeBank) module() math.Int { return b.modules[types.ModuleName].AmountOf(types.Denom) }

// total is every ustos the fake bank knows of, burned included.
func (b *fakeBank) total() math.Int {
	t := b.burned.AmountOf(types.Denom)
	for _, c := range b.accounts {
		t = t.Add(c.AmountOf(types.Denom))
	}
	for _, c := range b.modules {
		t = t.Add(c.AmountOf(types.Denom))
	}
	return t
}

type fixture struct {
	ctx       sdk.Context
	k         keeper.Keeper
	ms        types.MsgServer
	qs        types.QueryServer
	bank      *fakeBank
	distr     *fakeDistr
	ac        address.Codec
	authority string
}

const startBalance = 100_000_000

// genesisTime is the block time the fixture starts at.
var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// endBlockAt moves the block time to at and runs the module's EndBlocker.
func (f *fixture) endBlockAt(t *testing.T, at time.Time) {
	t.Helper()
	f.ctx = f.ctx.WithBlockTime(at)
	if err := f.k.EndBlocker(f.ctx); err != nil {
		t.Fatalf("EndBlocker at %s: %v", at, err)
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("transient_test"))
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	ac := addresscodec.NewBech32Codec("st")
	authority, err := ac.BytesToString(bytes.Repeat([]byte{0xee}, 20))
	if err != nil {
		t.Fatal(err)
	}
	bank := newFakeBank()
	distr := &fakeDistr{bank: bank}
	k := keeper.NewKeeper(cdc, runtime.NewKVStoreService(key), ac, bank, distr, authority)
	f := &fixture{ctx: tctx.Ctx.WithBlockHeight(7).WithBlockTime(genesisTime), k: k, ms: keeper.NewMsgServer(k), qs: keeper.NewQueryServer(k),
		bank: bank, distr: distr, ac: ac, authority: authority}
	if err := k.Params.Set(f.ctx, types.DefaultParams()); err != nil {
		t.Fatal(err)
	}
	return f
}

// account returns a funded account n and its bech32 ("st") form.
func (f *fixture) account(t *testing.T, n byte) (sdk.AccAddress, string) {
	t.Helper()
	a := sdk.AccAddress(bytes.Repeat([]byte{n}, 20))
	s, err := f.ac.BytesToString(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.bank.accounts[string(a)]; !ok {
		f.bank.accounts[string(a)] = sdk.NewCoins(ustos(startBalance))
	}
	return a, s
}

func ustos(n int64) sdk.Coin { return sdk.NewCoin(types.Denom, math.NewInt(n)) }

// nodeKey returns a deterministic ed25519 public key and the storage
// network's ID for it (DESIGN §3).
func nodeKey(seed byte) ([]byte, string) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	return pub, identity.NodeID(pub)
}

func (f *fixture) registerResource(t *testing.T, operator string, seed byte, deposit sdk.Coin) string {
	t.Helper()
	pub, id := nodeKey(seed)
	res, err := f.ms.RegisterResourceNode(f.ctx, &types.MsgRegisterResourceNode{
		Operator: operator, PublicKey: pub, NetworkAddress: fmt.Sprintf("10.0.0.%d:7000", seed),
		Capacity: 1 << 30, Region: "eu", Deposit: deposit,
	})
	if err != nil {
		t.Fatalf("register resource node %d: %v", seed, err)
	}
	if res.NodeId != id {
		t.Fatalf("node id %s, want %s", res.NodeId, id)
	}
	return id
}

func (f *fixture) registerMeta(t *testing.T, operator string, seed byte) (string, types.NodeStatus) {
	t.Helper()
	pub, _ := nodeKey(seed)
	res, err := f.ms.RegisterMetaNode(f.ctx, &types.MsgRegisterMetaNode{
		Operator: operator, PublicKey: pub, NetworkAddress: fmt.Sprintf("10.0.1.%d:7100", seed), Deposit: ustos(1_000_000),
	})
	if err != nil {
		t.Fatalf("register meta node %d: %v", seed, err)
	}
	return res.NodeId, res.Status
}

// genesisMeta makes the meta nodes of seeds (operator account seed runs
// node seed) the chain's genesis authorities, ACTIVE (DESIGN §5.2: a real
// network's genesis names its first meta nodes), each with a
// 1_000_000ustos deposit that moves from its operator's account to the
// module account, as x/bank's genesis would hold it. Call it before any
// other registration: InitGenesis starts the state afresh.
func (f *fixture) genesisMeta(t *testing.T, seeds ...byte) (ids, ops []string) {
	t.Helper()
	p, err := f.k.GetParams(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	gs := types.GenesisState{Params: p}
	for _, seed := range seeds {
		pub, id := nodeKey(seed)
		addr, op := f.account(t, seed)
		if err := f.bank.SendCoinsFromAccountToModule(f.ctx, addr, types.ModuleName, sdk.NewCoins(ustos(1_000_000))); err != nil {
			t.Fatal(err)
		}
		gs.MetaNodes = append(gs.MetaNodes, types.MetaNode{NodeId: id, PublicKey: pub, Operator: op,
			NetworkAddress: fmt.Sprintf("10.0.1.%d:7100", seed), Deposit: ustos(1_000_000), Status: types.NodeStatus_NODE_STATUS_ACTIVE})
		ids, ops = append(ids, id), append(ops, op)
	}
	if err := f.k.InitGenesis(f.ctx, gs); err != nil {
		t.Fatal(err)
	}
	return ids, ops
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
