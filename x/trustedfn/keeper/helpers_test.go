package keeper_test

import (
	"context"
	"crypto/sha256"
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

	"github.com/stratos-net/stratos/x/trustedfn/keeper"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

const testChainID = "stratos-test"

var (
	addrCodec = addresscodec.NewBech32Codec("st")
	modAddr   = authtypes.NewModuleAddress(types.ModuleName)
	govAddr   = authtypes.NewModuleAddress("gov")
	feeAddr   = authtypes.NewModuleAddress(authtypes.FeeCollectorName)
	swapAddr  = authtypes.NewModuleAddress(types.SwapReserveName)
	poolAddr  = authtypes.NewModuleAddress("distribution")
)

// fakeBank keeps balances in any denom and what was burned.
type fakeBank struct {
	balances map[string]sdk.Coins
	burned   sdk.Coins
}

func (b *fakeBank) balance(a sdk.AccAddress) sdk.Coins { return b.balances[string(a)] }

func (b *fakeBank) move(from, to sdk.AccAddress, amt sdk.Coins) error {
	have := b.balance(from)
	if !have.IsAllGTE(amt) {
		return fmt.Errorf("insufficient funds: %s < %s", have, amt)
	}
	b.balances[string(from)] = have.Sub(amt...)
	b.balances[string(to)] = b.balance(to).Add(amt...)
	return nil
}

func (b *fakeBank) SendCoinsFromAccountToModule(_ context.Context, from sdk.AccAddress, mod string, amt sdk.Coins) error {
	return b.move(from, authtypes.NewModuleAddress(mod), amt)
}

func (b *fakeBank) SendCoinsFromModuleToAccount(_ context.Context, mod string, to sdk.AccAddress, amt sdk.Coins) error {
	return b.move(authtypes.NewModuleAddress(mod), to, amt)
}

func (b *fakeBank) SendCoinsFromModuleToModule(_ context.Context, from, to string, amt sdk.Coins) error {
	return b.move(authtypes.NewModuleAddress(from), authtypes.NewModuleAddress(to), amt)
}

func (b *fakeBank) BurnCoins(_ context.Context, mod string, amt sdk.Coins) error {
	if err := b.move(authtypes.NewModuleAddress(mod), authtypes.NewModuleAddress("burned"), amt); err != nil {
		return err
	}
	b.burned = b.burned.Add(amt...)
	return nil
}

type fakeDistr struct{ bank *fakeBank }

func (d fakeDistr) FundCommunityPool(_ context.Context, amt sdk.Coins, from sdk.AccAddress) error {
	return d.bank.move(from, poolAddr, amt)
}

type fakeNode struct {
	operator sdk.AccAddress
	active   bool
	deposit  sdk.Coin
}

type fakeRegister struct{ nodes map[string]*fakeNode }

func (r fakeRegister) IsResourceNodeActive(_ context.Context, id string) bool {
	n, ok := r.nodes[id]
	return ok && n.active
}

func (r fakeRegister) ResourceNodeOperator(_ context.Context, id string) (sdk.AccAddress, error) {
	n, ok := r.nodes[id]
	if !ok {
		return nil, fmt.Errorf("node %s not found", id)
	}
	return n.operator, nil
}

func (r fakeRegister) ResourceNodeDeposit(_ context.Context, id string) (sdk.Coin, error) {
	n, ok := r.nodes[id]
	if !ok {
		return sdk.Coin{}, fmt.Errorf("node %s not found", id)
	}
	return n.deposit, nil
}

func (r fakeRegister) IsActiveMetaNodeOperator(_ context.Context, op sdk.AccAddress, meta string) bool {
	return meta == "meta0" && op.Equals(accAddr("meta-operator"))
}

func (r fakeRegister) SlashResourceNode(_ context.Context, id string, f math.LegacyDec) (sdk.Coin, error) {
	n, ok := r.nodes[id]
	if !ok {
		return sdk.Coin{}, fmt.Errorf("node %s not found", id)
	}
	burn := sdk.NewCoin(n.deposit.Denom, f.MulInt(n.deposit.Amount).TruncateInt())
	n.deposit = n.deposit.Sub(burn)
	return burn, nil
}

type fixture struct {
	t     testing.TB
	ctx   sdk.Context
	k     keeper.Keeper
	msg   types.MsgServer
	query types.QueryServer
	bank  *fakeBank
	reg   fakeRegister
	owner string
}

var genesisTime = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

func setup(t testing.TB) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("transient_test"))
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	bank := &fakeBank{balances: map[string]sdk.Coins{}}
	f := &fixture{
		t:    t,
		ctx:  tctx.Ctx.WithChainID(testChainID).WithBlockHeight(10).WithBlockTime(genesisTime),
		bank: bank, reg: fakeRegister{nodes: map[string]*fakeNode{}},
	}
	f.k = keeper.NewKeeper(cdc, runtime.NewKVStoreService(key), addrCodec, bank, fakeDistr{bank}, f.reg,
		addr(t, govAddr), authtypes.FeeCollectorName)
	f.msg, f.query = keeper.NewMsgServerImpl(f.k), keeper.NewQueryServerImpl(f.k)
	if err := f.k.InitGenesis(f.ctx, *types.DefaultGenesis()); err != nil {
		t.Fatal(err)
	}
	ownerAddr := accAddr("owner")
	f.owner = addr(t, ownerAddr)
	bank.balances[string(ownerAddr)] = sdk.NewCoins(
		sdk.NewInt64Coin(types.CostDenom, 1_000_000_000_000), sdk.NewInt64Coin(types.ProfitDenom, 1_000_000_000_000))
	return f
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

func nodeName(i int) string { return fmt.Sprintf("node%d", i) }

// operator is the account operating nodeN.
func operator(node string) sdk.AccAddress { return accAddr("op-" + node) }

// offer registers n active nodes with 1,000,000 ustos deposits, each
// offering compute for two apps.
func (f *fixture) offer(n int) {
	f.t.Helper()
	for i := range n {
		id := nodeName(i)
		f.reg.nodes[id] = &fakeNode{operator: operator(id), active: true, deposit: sdk.NewInt64Coin("ustos", 1_000_000)}
		if _, err := f.msg.OfferCompute(f.ctx, &types.MsgOfferCompute{
			Operator: addr(f.t, operator(id)), NodeId: id, Capacity: 2, Endpoint: "http://" + id + ".test:8080",
		}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// next moves to the next block with a header hash that depends on height.
func (f *fixture) next() {
	h := f.ctx.BlockHeight() + 1
	hash := sha256.Sum256([]byte(fmt.Sprint("block", h)))
	f.ctx = f.ctx.WithBlockHeight(h).WithBlockTime(f.ctx.BlockTime().Add(time.Second)).WithHeaderHash(hash[:])
}

// endBlock runs the end blocker and moves to the next block.
func (f *fixture) endBlock() {
	f.t.Helper()
	if err := f.k.EndBlocker(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	f.next()
}

// app is what the tests create: cost basis 100 STB per node per round, no
// usage charge, STR at 0.5 STB: each paid node is owed §6.3.3's example.
func (f *fixture) createApp(nodes uint32, escrow sdk.Coins) string {
	f.t.Helper()
	res, err := f.msg.CreateApp(f.ctx, f.appMsg(nodes, escrow))
	if err != nil {
		f.t.Fatal(err)
	}
	return res.AppId
}

const stb = 1_000_000

func (f *fixture) appMsg(nodes uint32, escrow sdk.Coins) *types.MsgCreateApp {
	h := sha256.Sum256([]byte("hello.wasm"))
	return &types.MsgCreateApp{
		Owner: f.owner, Name: "hello", CodeHash: fmt.Sprintf("%x", h), CodePath: "/fn/hello.wasm",
		Nodes: nodes, RoundsEvery: 5, CommitTimeout: 3, RevealTimeout: 3,
		BaseFee: math.NewInt(100 * stb), StrPrice: math.LegacyNewDecWithPrec(5, 1), Escrow: escrow,
	}
}

// plenty covers a few rounds of five nodes.
func plenty() sdk.Coins {
	return sdk.NewCoins(sdk.NewInt64Coin(types.CostDenom, 10_000*stb), sdk.NewInt64Coin(types.ProfitDenom, 10_000*stb))
}

func (f *fixture) app(id string) types.App {
	f.t.Helper()
	a, err := f.k.GetApp(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) getRound(id uint64) types.Round {
	f.t.Helper()
	r, err := f.k.GetRound(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// player is one node's behaviour in a round.
type player struct {
	output    string
	usage     uint64
	noCommit  bool
	noReveal  bool
	revealOut string // if set, reveals this output instead of the committed one
}

// roundPlay opens a round on the app, has each node act as told, and runs
// end blockers until the round is settled; appReveals false makes the app
// stall after the commits.
type roundPlay struct {
	f          *fixture
	app        types.App
	id         uint64
	appSalts   [][]byte
	nodeSalts  [][]byte
	players    []player
	appReveals bool
}

func (f *fixture) play(appID string, players []player, appReveals bool) types.Round {
	f.t.Helper()
	p := &roundPlay{f: f, app: f.app(appID), players: players, appReveals: appReveals}
	p.open()
	p.commit()
	f.endBlock() // the commits close
	if appReveals {
		p.revealSalts()
		p.reveal()
		f.endBlock() // tallied and settled
	} else {
		for f.getRound(p.id).Phase != round.Done.String() {
			f.endBlock()
		}
	}
	for f.getRound(p.id).Phase != round.Done.String() {
		f.endBlock()
	}
	return f.getRound(p.id)
}

func (p *roundPlay) rid() round.ID { return round.ID{ChainID: testChainID, Round: p.id} }

func (p *roundPlay) open() {
	f := p.f
	f.t.Helper()
	next, err := f.k.NextRound.Peek(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	p.id = next
	var hashes [][]byte
	for i, n := range p.app.Nodes {
		salt := []byte(fmt.Sprintf("app-salt-%d-%d", p.id, i))
		p.appSalts = append(p.appSalts, salt)
		p.nodeSalts = append(p.nodeSalts, []byte(fmt.Sprintf("node-salt-%d-%d", p.id, i)))
		h := round.SaltHash(p.rid(), n, salt)
		hashes = append(hashes, h[:])
	}
	res, err := f.msg.OpenRound(f.ctx, &types.MsgOpenRound{
		Owner: f.owner, AppId: p.app.Id, CallHash: []byte("greet Ada"), SaltHashes: hashes, RoundId: p.id,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if res.RoundId != p.id {
		f.t.Fatalf("round %d, want %d", res.RoundId, p.id)
	}
}

func (p *roundPlay) commit() {
	f := p.f
	f.t.Helper()
	for i, n := range p.app.Nodes {
		pl := p.players[i]
		if pl.noCommit {
			continue
		}
		sh := round.SaltHash(p.rid(), n, p.nodeSalts[i])
		c := round.CommitHash(p.rid(), n, p.appSalts[i], p.nodeSalts[i], round.OutputHash([]byte(pl.output)), pl.usage)
		if _, err := f.msg.Commit(f.ctx, &types.MsgCommit{
			Operator: addr(f.t, operator(n)), RoundId: p.id, NodeId: n, NodeSaltHash: sh[:], Commit: c[:],
		}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (p *roundPlay) revealSalts() {
	f := p.f
	f.t.Helper()
	var salts []types.NodeSalt
	for i, n := range p.app.Nodes {
		salts = append(salts, types.NodeSalt{NodeId: n, Salt: p.appSalts[i]})
	}
	if _, err := f.msg.RevealSalts(f.ctx, &types.MsgRevealSalts{Owner: f.owner, RoundId: p.id, Salts: salts}); err != nil {
		f.t.Fatal(err)
	}
}

func (p *roundPlay) reveal() {
	f := p.f
	f.t.Helper()
	for i, n := range p.app.Nodes {
		pl := p.players[i]
		if pl.noCommit || pl.noReveal {
			continue
		}
		out := pl.output
		if pl.revealOut != "" {
			out = pl.revealOut
		}
		h := round.OutputHash([]byte(out))
		if _, err := f.msg.Reveal(f.ctx, &types.MsgReveal{
			Operator: addr(f.t, operator(n)), RoundId: p.id, NodeId: n, NodeSalt: p.nodeSalts[i],
			OutputHash: h[:], Usage: pl.usage,
		}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func honest(n int) []player {
	ps := make([]player, n)
	for i := range ps {
		ps[i] = player{output: `{"greeting":"Hello, Ada!"}`}
	}
	return ps
}

// activeApp creates an app on nodes of the offers and draws them.
func (f *fixture) activeApp(nodes uint32) string {
	f.t.Helper()
	id := f.createApp(nodes, plenty())
	f.endBlock() // same block: not drawn yet
	f.endBlock()
	if a := f.app(id); a.Status != types.AppStatus_APP_STATUS_ACTIVE {
		f.t.Fatalf("app %s is %s after two blocks", id, a.Status)
	}
	return id
}
