package keeper_test

import (
	"testing"

	"github.com/stratos-net/stratos/x/pot/types"
)

// fuzzFixture is a chain with three meta nodes, three resource nodes and
// two users with prepay, for a volume report from the fuzzer.
func fuzzFixture(t *testing.T) *fixture {
	f := setup(t)
	f.reg.addMeta(3)
	for _, n := range []string{"n1", "n2", "n3"} {
		f.addNode(n, accAddr("op"+n))
	}
	f.prepay(accAddr("alice"), 1_000_000)
	f.prepay(accAddr("bob"), 10)
	return f
}

// FuzzVolumeReport: a volume report is untrusted bytes from any account
// (issue 8: "the x/pot volume report checks"). Whatever the bytes, the
// handler does not panic, and a report it accepts moves no ustos that is
// not accounted for: the module holds exactly the rewards it owes. With
// sign set, every meta node signs what the bytes say, so the fuzzer also
// reaches the checks and payments behind the signatures.
func FuzzVolumeReport(f *testing.F) {
	t := &testing.T{}
	seed := fuzzFixture(t)
	alice, bob := addr(t, accAddr("alice")), addr(t, accAddr("bob"))
	v := types.ReportVolumes{
		Nodes:       []types.NodeVolume{{NodeId: "n1", Bytes: 300}, {NodeId: "n2", Bytes: 100}},
		Users:       []types.UserVolume{{Address: alice, Bytes: 400}},
		StoredNodes: []types.NodeVolume{{NodeId: "n3", Bytes: 1 << 30}},
		StoredUsers: []types.UserVolume{{Address: bob, Bytes: 1 << 30}},
	}
	for _, m := range []*types.MsgVolumeReport{
		seed.reportOf(998, v),
		seed.reportOf(999, types.ReportVolumes{Nodes: v.Nodes, Users: v.Users}),
		seed.reportOf(1000, v), // not ended
		{Reporter: seed.reporter, Period: 5},
	} {
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, sign bool) {
		var msg types.MsgVolumeReport
		if err := msg.Unmarshal(data); err != nil {
			return
		}
		fx := fuzzFixture(t)
		if sign {
			msg.Signatures = fx.sign(testChainID, msg.Period, msg.Volumes(), fx.allMetas()...)
		}
		if _, err := fx.msg.VolumeReport(fx.ctx, &msg); err != nil {
			return
		}
		if got, owed := fx.bank.balance(potAddr), unwithdrawn(t, fx); !got.Equal(owed) {
			t.Fatalf("accepted report %+v: the module holds %s and owes %s", msg, got, owed)
		}
		if _, err := fx.k.Reports.Get(fx.ctx, msg.Period); err != nil {
			t.Fatalf("accepted report of period %d not stored: %v", msg.Period, err)
		}
	})
}
