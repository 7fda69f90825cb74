package keeper_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/std"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/stratos-net/stratos/x/pot/keeper"
	"github.com/stratos-net/stratos/x/pot/types"
	sdskeeper "github.com/stratos-net/stratos/x/sds/keeper"
	sdstypes "github.com/stratos-net/stratos/x/sds/types"
)

// go test -run x -bench VolumeReport -benchtime 20x ./x/pot/keeper/
//
// Issue 8: "a period with 10,000 resource nodes and a million task
// reports: ... the time for the chain to process the volume report". The
// meta leader folds the task reports into one figure per node and per
// user, so what reaches the chain is the top_n (100) traffic nodes, the
// stored nodes (at most 10 × top_n) and one entry per user: here 10,000
// users with traffic and 10,000 with stored bytes, signed by 4 meta
// nodes. It runs the whole handler on a real store (signatures, checks,
// charges, splits, credits); bank and x/sds are the package's fakes.
func BenchmarkVolumeReport(b *testing.B) {
	const users = 10_000
	f := setup(b)
	f.reg.addMeta(4)
	p := types.DefaultParams()
	if err := f.k.SetParams(f.ctx, p); err != nil {
		b.Fatal(err)
	}
	var v types.ReportVolumes
	for i := range p.MaxStoredNodes() {
		id := fmt.Sprintf("node%05d", i)
		f.addNode(id, accAddr(fmt.Sprintf("op%d", i%300)))
		if i < uint64(p.TopN) {
			v.Nodes = append(v.Nodes, types.NodeVolume{NodeId: id, Bytes: 1 << 30})
		}
		v.StoredNodes = append(v.StoredNodes, types.NodeVolume{NodeId: id, Bytes: 3 << 30})
	}
	for i := range users {
		a := accAddr(fmt.Sprintf("user%05d", i))
		f.prepay(a, 1<<50)
		v.Users = append(v.Users, types.UserVolume{Address: addr(b, a), Bytes: 10 << 20})
		v.StoredUsers = append(v.StoredUsers, types.UserVolume{Address: addr(b, a), Bytes: 300 << 20})
	}
	f.at(1 << 20) // periods up to 2^20 have ended
	period := uint64(0)
	for b.Loop() {
		b.StopTimer()
		period++
		m := f.reportOf(period, v)
		b.StartTimer()
		if _, err := f.msg.VolumeReport(f.ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// go test -run x -bench VolumeReportRealKeepers -benchtime 5x ./x/pot/keeper/
//
// The same report as BenchmarkVolumeReport, with the real x/auth, x/bank
// and x/sds keepers behind x/pot on an IAVL multistore: every one of the
// 20,000 charges debits a prepay in x/sds and moves coins in x/bank, as
// on the chain (only the community pool's x/distribution is the fake,
// which moves its coins through the real bank).
func BenchmarkVolumeReportRealKeepers(b *testing.B) {
	const users = 10_000
	names := []string{authtypes.StoreKey, banktypes.StoreKey, sdstypes.StoreKey, types.StoreKey}
	keys := map[string]*storetypes.KVStoreKey{}
	for _, n := range names {
		keys[n] = storetypes.NewKVStoreKey(n)
	}
	ctx := testutil.DefaultContextWithKeys(keys, map[string]*storetypes.TransientStoreKey{"t": storetypes.NewTransientStoreKey("t")}, nil).
		WithChainID(testChainID).WithBlockTime(genesisTime)
	ir := codectypes.NewInterfaceRegistry()
	std.RegisterInterfaces(ir)
	authtypes.RegisterInterfaces(ir)
	cdc := codec.NewProtoCodec(ir)
	gov := addr(b, govAddr)
	perms := map[string][]string{"distribution": nil, sdstypes.ModuleName: nil, types.ModuleName: {authtypes.Minter}}
	ak := authkeeper.NewAccountKeeper(cdc, runtime.NewKVStoreService(keys[authtypes.StoreKey]), authtypes.ProtoBaseAccount, perms, addrCodec, "st", gov)
	bk := bankkeeper.NewBaseKeeper(cdc, runtime.NewKVStoreService(keys[banktypes.StoreKey]), ak, map[string]bool{}, gov, log.NewNopLogger())
	sk := sdskeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[sdstypes.StoreKey]), addrCodec, bk, noMetaOperators{}, gov)
	reg := newFakeRegister()
	reg.addMeta(4)
	pk := keeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[types.StoreKey]), addrCodec, bk, bankDistr{bk}, reg, sk, gov)
	sk.SetPeriodKeeper(pk)
	if err := pk.InitGenesis(ctx, *types.DefaultGenesis()); err != nil {
		b.Fatal(err)
	}
	// Prepay every user at genesis, backed by the sds module account.
	const each = int64(1) << 50
	backing := sdk.NewCoins(sdk.NewCoin(types.Denom, math.NewInt(each).MulRaw(users)))
	if err := bk.MintCoins(ctx, types.ModuleName, backing); err != nil {
		b.Fatal(err)
	}
	if err := bk.SendCoinsFromModuleToModule(ctx, types.ModuleName, sdstypes.ModuleName, backing); err != nil {
		b.Fatal(err)
	}
	gs := sdstypes.DefaultGenesis()
	p := types.DefaultParams()
	var v types.ReportVolumes
	for i := range users {
		a := addr(b, accAddr(fmt.Sprintf("user%05d", i)))
		gs.Prepaid = append(gs.Prepaid, sdstypes.Prepayment{Address: a, Amount: sdk.NewCoin(types.Denom, math.NewInt(each))})
		v.Users = append(v.Users, types.UserVolume{Address: a, Bytes: 10 << 20})
		v.StoredUsers = append(v.StoredUsers, types.UserVolume{Address: a, Bytes: 300 << 20})
	}
	if err := sk.InitGenesis(ctx, gs); err != nil {
		b.Fatal(err)
	}
	for i := range p.MaxStoredNodes() {
		id := fmt.Sprintf("node%05d", i)
		reg.nodes[id] = &fakeNode{operator: accAddr(fmt.Sprintf("op%d", i%300)), active: true}
		if i < uint64(p.TopN) {
			v.Nodes = append(v.Nodes, types.NodeVolume{NodeId: id, Bytes: 1 << 30})
		}
		v.StoredNodes = append(v.StoredNodes, types.NodeVolume{NodeId: id, Bytes: 3 << 30})
	}
	ctx = ctx.WithBlockTime(genesisTime.Add(time.Duration(1<<20*types.DefaultPeriodSeconds) * time.Second))
	msgs := keeper.NewMsgServerImpl(pk)
	reporter := addr(b, accAddr("reporter"))
	period := uint64(0)
	for b.Loop() {
		b.StopTimer()
		period++
		m := &types.MsgVolumeReport{Reporter: reporter, Period: period, Nodes: v.Nodes, Users: v.Users,
			StoredNodes: v.StoredNodes, StoredUsers: v.StoredUsers, Signatures: signWith(reg, testChainID, period, v)}
		b.StartTimer()
		resp, err := msgs.VolumeReport(ctx, m)
		if err != nil {
			b.Fatal(err)
		}
		if !resp.Issued.IsPositive() || !resp.StorageCollected.IsPositive() {
			b.Fatalf("report minted %s and collected %s of storage", resp.Issued, resp.StorageCollected)
		}
	}
}

// noMetaOperators is x/sds's view of x/register here: no anchors are sent.
type noMetaOperators struct{}

func (noMetaOperators) IsActiveMetaNodeOperator(context.Context, sdk.AccAddress, string) bool {
	return false
}

// bankDistr funds the community pool through the real bank, into the
// distribution module account.
type bankDistr struct{ bank bankkeeper.BaseKeeper }

func (d bankDistr) FundCommunityPool(ctx context.Context, amount sdk.Coins, depositor sdk.AccAddress) error {
	return d.bank.SendCoinsFromAccountToModule(ctx, depositor, "distribution", amount)
}

// signWith signs the report's figures by every meta node of reg.
func signWith(reg *fakeRegister, chainID string, period uint64, v types.ReportVolumes) []types.MetaSignature {
	msg := types.VolumeReportSignBytes(chainID, period, v)
	var out []types.MetaSignature
	for i := range len(reg.metaPriv) {
		id := fmt.Sprintf("meta%d", i)
		out = append(out, types.MetaSignature{MetaNodeId: id, Signature: ed25519.Sign(reg.metaPriv[id], msg)})
	}
	return out
}
