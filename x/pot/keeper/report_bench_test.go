package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stratos-net/stratos/x/pot/types"
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
