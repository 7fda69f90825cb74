package keeper_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/x/pot/keeper"
	"github.com/stratos-net/stratos/x/pot/types"
)

const testChainID = "stratos-test"

var (
	addrCodec  = addresscodec.NewBech32Codec("st")
	potAddr    = authtypes.NewModuleAddress(types.ModuleName)
	govAddr    = authtypes.NewModuleAddress("gov")
	errNoFunds = errors.New("insufficient funds")
)

// fakeBank tracks balances (ustos only) and the minted supply.
type fakeBank struct {
	balances map[string]math.Int // address bytes -> ustos
	supply   math.Int
}

func newFakeBank() *fakeBank {
	return &fakeBank{balances: map[string]math.Int{}, supply: math.ZeroInt()}
}

func (b *fakeBank) balance(a sdk.AccAddress) math.Int {
	if v, ok := b.balances[string(a)]; ok {
		return v
	}
	return math.ZeroInt()
}

func (b *fakeBank) move(from, to sdk.AccAddress, amt sdk.Coins) error {
	if len(amt) != 1 || amt[0].Denom != types.Denom {
		return fmt.Errorf("unexpected coins %s", amt)
	}
	v := amt[0].Amount
	if b.balance(from).LT(v) {
		return errNoFunds
	}
	b.balances[string(from)] = b.balance(from).Sub(v)
	b.balances[string(to)] = b.balance(to).Add(v)
	return nil
}

func (b *fakeBank) MintCoins(_ context.Context, moduleName string, amt sdk.Coins) error {
	if len(amt) != 1 || amt[0].Denom != types.Denom || !amt[0].Amount.IsPositive() {
		return fmt.Errorf("unexpected mint %s", amt)
	}
	m := authtypes.NewModuleAddress(moduleName)
	b.balances[string(m)] = b.balance(m).Add(amt[0].Amount)
	b.supply = b.supply.Add(amt[0].Amount)
	return nil
}

func (b *fakeBank) SendCoinsFromModuleToAccount(_ context.Context, mod string, to sdk.AccAddress, amt sdk.Coins) error {
	return b.move(authtypes.NewModuleAddress(mod), to, amt)
}

// fakeDistr moves funds from the depositor into its community pool.
type fakeDistr struct {
	bank *fakeBank
	pool math.Int
}

func (d *fakeDistr) FundCommunityPool(_ context.Context, amt sdk.Coins, depositor sdk.AccAddress) error {
	if err := d.bank.move(depositor, authtypes.NewModuleAddress("distribution"), amt); err != nil {
		return err
	}
	d.pool = d.pool.Add(amt[0].Amount)
	return nil
}

type fakeNode struct {
	operator sdk.AccAddress
	active   bool
}

// fakeRegister holds resource nodes and meta nodes with ed25519 keys
// generated in the test.
type fakeRegister struct {
	nodes    map[string]*fakeNode
	metaPub  map[string]ed25519.PublicKey
	metaPriv map[string]ed25519.PrivateKey
	inactive map[string]bool // meta nodes with keys but not active
}

func newFakeRegister() *fakeRegister {
	return &fakeRegister{
		nodes: map[string]*fakeNode{}, metaPub: map[string]ed25519.PublicKey{},
		metaPriv: map[string]ed25519.PrivateKey{}, inactive: map[string]bool{},
	}
}

func (r *fakeRegister) IsResourceNodeActive(_ context.Context, id string) bool {
	n, ok := r.nodes[id]
	return ok && n.active
}

func (r *fakeRegister) ResourceNodeOperator(_ context.Context, id string) (sdk.AccAddress, error) {
	n, ok := r.nodes[id]
	if !ok {
		return nil, fmt.Errorf("node %s not found", id)
	}
	return n.operator, nil
}

func (r *fakeRegister) ActiveMetaNodeKeys(context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	for id, pub := range r.metaPub {
		if !r.inactive[id] {
			out[id] = pub
		}
	}
	return out, nil
}

// addMeta adds n meta nodes meta0..meta{n-1} with deterministic keys.
func (r *fakeRegister) addMeta(n int) {
	for i := range n {
		id := fmt.Sprintf("meta%d", i)
		seed := make([]byte, ed25519.SeedSize)
		copy(seed, id)
		priv := ed25519.NewKeyFromSeed(seed)
		r.metaPriv[id] = priv
		r.metaPub[id] = priv.Public().(ed25519.PublicKey)
	}
}

type charge struct {
	user  string
	bytes uint64
}

type storageCharge struct {
	user           string
	bytes, seconds uint64
}

var sdsAddr = authtypes.NewModuleAddress("sds")

// fakeSds records charges. Both fees are charged from prepaid balances held
// by the sds module account in the fake bank and moved to the pot module
// account, as x/sds does; the fees are trafficFee and storageFee (one ustos
// per byte when nil), capped at the balance.
type fakeSds struct {
	charges    []charge
	stored     []storageCharge
	err        error
	storageErr error
	bank       *fakeBank
	prepaid    map[string]math.Int // address bytes -> ustos
	trafficFee func(bytes uint64) math.Int
	storageFee func(bytes, seconds uint64) math.Int
}

func (s *fakeSds) ChargeTrafficAll(_ context.Context, users []sdk.AccAddress, bytes []uint64) ([]math.Int, error) {
	if s.err != nil {
		return nil, s.err
	}
	out := make([]math.Int, len(users))
	for i, u := range users {
		s.charges = append(s.charges, charge{u.String(), bytes[i]})
		fee := math.NewIntFromUint64(bytes[i])
		if s.trafficFee != nil {
			fee = s.trafficFee(bytes[i])
		}
		c, err := s.debit(u, fee)
		if err != nil {
			return nil, err
		}
		out[i] = c.Amount
	}
	return out, nil
}

func (s *fakeSds) ChargeStorageAll(_ context.Context, users []sdk.AccAddress, bytes []uint64, seconds uint64) ([]math.Int, error) {
	if s.storageErr != nil {
		return nil, s.storageErr
	}
	out := make([]math.Int, len(users))
	for i, u := range users {
		s.stored = append(s.stored, storageCharge{u.String(), bytes[i], seconds})
		fee := math.NewIntFromUint64(bytes[i])
		if s.storageFee != nil {
			fee = s.storageFee(bytes[i], seconds)
		}
		c, err := s.debit(u, fee)
		if err != nil {
			return nil, err
		}
		out[i] = c.Amount
	}
	return out, nil
}

// debit takes fee, capped at user's prepaid balance, from the sds module
// account to the pot module account and returns what it took.
func (s *fakeSds) debit(user sdk.AccAddress, fee math.Int) (sdk.Coin, error) {
	have, ok := s.prepaid[string(user)]
	if !ok {
		have = math.ZeroInt()
	}
	charged := math.MinInt(fee, have)
	if charged.IsPositive() {
		if err := s.bank.move(sdsAddr, potAddr, sdk.NewCoins(sdk.NewCoin(types.Denom, charged))); err != nil {
			return sdk.Coin{}, err
		}
		s.prepaid[string(user)] = have.Sub(charged)
	}
	return sdk.NewCoin(types.Denom, charged), nil
}

// prepay adds amount to user's prepaid ustos, held by the sds module account
// (not minted by x/pot: the supply the tests check is x/pot's issuance).
func (f *fixture) prepay(user sdk.AccAddress, amount int64) {
	a := math.NewInt(amount)
	have, ok := f.sds.prepaid[string(user)]
	if !ok {
		have = math.ZeroInt()
	}
	f.sds.prepaid[string(user)] = have.Add(a)
	f.bank.balances[string(sdsAddr)] = f.bank.balance(sdsAddr).Add(a)
}

// payer prepays a user name with fee ustos and returns it as a report's
// only traffic user, charged all of it (the fake charges one ustos per
// byte). At the default issuance cap (100%) a report with it mints
// min(issuance, fee) and shares that plus fee among its traffic nodes.
func (f *fixture) payer(t testing.TB, name string, fee int64) []types.UserVolume {
	t.Helper()
	a := accAddr(name)
	f.prepay(a, fee)
	return []types.UserVolume{{Address: addr(t, a), Bytes: uint64(fee)}}
}

type fixture struct {
	ctx   sdk.Context
	k     keeper.Keeper
	msg   types.MsgServer
	query types.QueryServer
	bank  *fakeBank
	distr *fakeDistr
	reg   *fakeRegister
	sds   *fakeSds
	// reporter is an arbitrary account paying the fee.
	reporter string
}

func setup(t testing.TB) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tkey := storetypes.NewTransientStoreKey("transient_test")
	tctx := testutil.DefaultContextWithDB(t, key, tkey)
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	bank := newFakeBank()
	f := &fixture{
		ctx:   tctx.Ctx.WithChainID(testChainID).WithBlockHeight(7),
		bank:  bank,
		distr: &fakeDistr{bank: bank, pool: math.ZeroInt()},
		reg:   newFakeRegister(),
	}
	f.sds = &fakeSds{bank: bank, prepaid: map[string]math.Int{}}
	f.k = keeper.NewKeeper(cdc, runtime.NewKVStoreService(key), addrCodec, f.bank, f.distr, f.reg, f.sds, addr(t, govAddr))
	f.msg = keeper.NewMsgServerImpl(f.k)
	f.query = keeper.NewQueryServerImpl(f.k)
	f.reporter = addr(t, accAddr("reporter"))
	// Genesis starts period 0 at genesisTime; the tests then run at a block
	// time by which periods 0..999 have ended.
	f.ctx = f.ctx.WithBlockTime(genesisTime)
	if err := f.k.InitGenesis(f.ctx, *types.DefaultGenesis()); err != nil {
		t.Fatal(err)
	}
	f.at(1000)
	return f
}

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at sets the block time to the start of ledger period p (default params).
func (f *fixture) at(p uint64) {
	f.ctx = f.ctx.WithBlockTime(genesisTime.Add(time.Duration(p*types.DefaultPeriodSeconds) * time.Second))
}

func addr(t testing.TB, a sdk.AccAddress) string {
	t.Helper()
	s, err := addrCodec.BytesToString(a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func accAddr(name string) sdk.AccAddress {
	b := make([]byte, 20)
	copy(b, name)
	return b
}

// addNode registers an active resource node operated by op.
func (f *fixture) addNode(id string, op sdk.AccAddress) {
	f.reg.nodes[id] = &fakeNode{operator: op, active: true}
}

// sign returns signatures by the given meta nodes over the report's sign bytes for chainID.
func (f *fixture) sign(chainID string, period uint64, v types.ReportVolumes, metas ...string) []types.MetaSignature {
	msg := types.VolumeReportSignBytes(chainID, period, v)
	var out []types.MetaSignature
	for _, m := range metas {
		out = append(out, types.MetaSignature{MetaNodeId: m, Signature: ed25519.Sign(f.reg.metaPriv[m], msg)})
	}
	return out
}

// allMetas returns the IDs of every meta node.
func (f *fixture) allMetas() []string {
	var ids []string
	for i := range len(f.reg.metaPriv) {
		ids = append(ids, fmt.Sprintf("meta%d", i))
	}
	return ids
}

// report builds a MsgVolumeReport of traffic signed by every meta node.
func (f *fixture) report(period uint64, nodes []types.NodeVolume, users []types.UserVolume) *types.MsgVolumeReport {
	return f.reportOf(period, types.ReportVolumes{Nodes: nodes, Users: users})
}

// reportOf builds a MsgVolumeReport of v signed by every meta node.
func (f *fixture) reportOf(period uint64, v types.ReportVolumes) *types.MsgVolumeReport {
	return &types.MsgVolumeReport{
		Reporter: f.reporter, Period: period, Nodes: v.Nodes, Users: v.Users,
		StoredNodes: v.StoredNodes, StoredUsers: v.StoredUsers,
		Signatures: f.sign(testChainID, period, v, f.allMetas()...),
	}
}

func mustRewards(t testing.TB, f *fixture, node string) math.Int {
	t.Helper()
	r, err := f.k.GetRewards(f.ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// unwithdrawn sums every node's rewards.
func unwithdrawn(t testing.TB, f *fixture) math.Int {
	t.Helper()
	sum := math.ZeroInt()
	err := f.k.Rewards.Walk(f.ctx, nil, func(_ string, v math.Int) (bool, error) {
		sum = sum.Add(v)
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

const gb = uint64(1_000_000_000)
