package keeper_test

import (
	"fmt"
	"testing"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// BenchmarkRoundChainCost is issue 10's "chain cost of one round with 5 and
// with 20 nodes (gas, block space) and rounds per block": the store gas of
// every message of a round and of its settlement in the end blocker, and
// the bytes of the messages. Gas is the SDK's KV gas (the ante handler's
// signature and size charges come on top, per transaction).
//
//	go test -run x -bench RoundChainCost ./x/trustedfn/keeper/
func BenchmarkRoundChainCost(b *testing.B) {
	for _, n := range []int{5, 20} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			var gas, bytes uint64
			for range b.N {
				g, s := oneRoundCost(b, n)
				gas += g
				bytes += s
			}
			b.ReportMetric(float64(gas)/float64(b.N), "gas/round")
			b.ReportMetric(float64(bytes)/float64(b.N), "msg-bytes/round")
			b.ReportMetric(100e6/(float64(gas)/float64(b.N)), "rounds/100Mgas-block")
		})
	}
}

func oneRoundCost(b *testing.B, n int) (gas, size uint64) {
	f := setup(b)
	f.offer(n)
	p := f.appMsg(uint32(n), plenty())
	res, err := f.msg.CreateApp(f.ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	f.endBlock()
	f.endBlock()
	rp := &roundPlay{f: f, app: f.app(res.AppId), players: honest(n), appReveals: true}
	metered := func(msgSize int, run func()) {
		meter := storetypes.NewGasMeter(1 << 62)
		f.ctx = f.ctx.WithGasMeter(meter)
		run()
		gas += meter.GasConsumed()
		size += uint64(msgSize)
		f.ctx = f.ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
	}
	var open types.MsgOpenRound
	metered(0, func() { rp.open() })
	open.SaltHashes = make([][]byte, n)
	for i := range open.SaltHashes {
		open.SaltHashes[i] = make([]byte, 32)
	}
	open.Owner, open.AppId, open.CallHash = f.owner, rp.app.Id, make([]byte, 32)
	size += uint64(open.Size())
	commit := types.MsgCommit{Operator: f.owner, NodeId: rp.app.Nodes[0], NodeSaltHash: make([]byte, 32), Commit: make([]byte, 32), RoundId: 1}
	metered(n*commit.Size(), func() { rp.commit() })
	metered(0, func() { f.endBlock() })
	var salts types.MsgRevealSalts
	salts.Owner = f.owner
	for _, nd := range rp.app.Nodes {
		salts.Salts = append(salts.Salts, types.NodeSalt{NodeId: nd, Salt: make([]byte, 32)})
	}
	metered(salts.Size(), func() { rp.revealSalts() })
	reveal := types.MsgReveal{Operator: f.owner, NodeId: rp.app.Nodes[0], NodeSalt: make([]byte, 32), OutputHash: make([]byte, 32), RoundId: 1, Usage: 1 << 30}
	metered(n*reveal.Size(), func() { rp.reveal() })
	metered(0, func() { f.endBlock() })
	if r := f.getRound(rp.id); r.Phase != round.Done.String() || !r.Result {
		b.Fatalf("round not settled: %s %v", r.Phase, r.Result)
	}
	return gas, size
}

var _ = sdk.Context{}
