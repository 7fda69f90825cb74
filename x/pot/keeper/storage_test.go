package keeper_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"cosmossdk.io/math"

	"github.com/stratos-net/stratos/x/pot/types"
)

// DESIGN §7: "storage fees are settled to the nodes that hold replicas".
// Each stored user is charged for its bytes over one ledger period, capped
// at its prepay; what was collected is split among the stored nodes by the
// bytes they hold. A period with storage and no traffic mints nothing.
func TestStorageSettledToHolders(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(3)
	f.addNode("n1", accAddr("op1"))
	f.addNode("n2", accAddr("op2"))
	f.addNode("n3", accAddr("op3"))
	alice, bob, carol := accAddr("alice"), accAddr("bob"), accAddr("carol")
	f.prepay(alice, 10_000)
	f.prepay(bob, 100) // can pay only part of his storage
	// carol has nothing prepaid: she is charged nothing.
	v := types.ReportVolumes{
		StoredNodes: []types.NodeVolume{{NodeId: "n1", Bytes: 100}, {NodeId: "n2", Bytes: 300}, {NodeId: "n3", Bytes: 600}},
		StoredUsers: []types.UserVolume{{Address: addr(t, alice), Bytes: 600}, {Address: addr(t, bob), Bytes: 300}, {Address: addr(t, carol), Bytes: 100}},
	}
	resp, err := f.msg.VolumeReport(f.ctx, f.reportOf(4, v))
	if err != nil {
		t.Fatal(err)
	}
	// The fake x/sds charges one ustos per byte: 600 + min(300, 100) + 0.
	if !resp.StorageCollected.Equal(math.NewInt(700)) || !resp.StorageRemainder.IsZero() {
		t.Fatalf("collected %s, remainder %s; want 700 and 0", resp.StorageCollected, resp.StorageRemainder)
	}
	for node, want := range map[string]int64{"n1": 70, "n2": 210, "n3": 420} {
		if got := mustRewards(t, f, node); !got.Equal(math.NewInt(want)) {
			t.Errorf("%s storage reward %s, want %d", node, got, want)
		}
	}
	// Charged for one period of the chain's length.
	for _, c := range f.sds.stored {
		if c.seconds != types.DefaultPeriodSeconds {
			t.Errorf("%s charged for %d s, want the period's %d", c.user, c.seconds, types.DefaultPeriodSeconds)
		}
	}
	if len(f.sds.stored) != 3 || len(f.sds.charges) != 0 {
		t.Fatalf("storage charges %v, traffic charges %v", f.sds.stored, f.sds.charges)
	}
	if !resp.Total.IsZero() || !f.bank.supply.IsZero() {
		t.Fatalf("a report without traffic nodes minted %s (total %s)", f.bank.supply, resp.Total)
	}
	if got, want := f.bank.balance(potAddr), unwithdrawn(t, f); !got.Equal(want) || !got.Equal(math.NewInt(700)) {
		t.Fatalf("pot module holds %s, rewards %s, want 700", got, want)
	}
	rep, err := f.k.Reports.Get(f.ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.StoredNodes) != 3 || len(rep.StoredUsers) != 3 || !rep.StorageCollected.Equal(math.NewInt(700)) ||
		len(rep.StorageRewards) != 3 || rep.StorageRewards[2].NodeId != "n3" || !rep.StorageRewards[2].Amount.Equal(math.NewInt(420)) ||
		rep.StorageRewards[2].Operator != addr(t, accAddr("op3")) || len(rep.Rewards) != 0 {
		t.Fatalf("stored report %+v", rep)
	}
}

// Floor rounding leaves less than one ustos per stored node, which goes to
// the community pool with the traffic remainder's.
func TestStorageRemainderToCommunityPool(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	for _, n := range []string{"n1", "n2", "n3"} {
		f.addNode(n, accAddr("op"+n))
	}
	alice := accAddr("alice")
	f.prepay(alice, 1000)
	v := types.ReportVolumes{
		StoredNodes: []types.NodeVolume{{NodeId: "n1", Bytes: 5}, {NodeId: "n2", Bytes: 5}, {NodeId: "n3", Bytes: 5}},
		StoredUsers: []types.UserVolume{{Address: addr(t, alice), Bytes: 11}},
	}
	resp, err := f.msg.VolumeReport(f.ctx, f.reportOf(1, v))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.StorageCollected.Equal(math.NewInt(11)) || !resp.StorageRemainder.Equal(math.NewInt(2)) || !f.distr.pool.Equal(math.NewInt(2)) {
		t.Fatalf("collected %s remainder %s pool %s; want 11, 2, 2", resp.StorageCollected, resp.StorageRemainder, f.distr.pool)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		if got := mustRewards(t, f, n); !got.Equal(math.NewInt(3)) {
			t.Errorf("%s: %s, want 3", n, got)
		}
	}
}

// A node's traffic and storage rewards add up in one balance, which
// withdraw-rewards pays out at once; a report's traffic users are charged
// even if only storage nodes remain in it.
func TestTrafficAndStorageRewardsShareTheBalance(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(2)
	op := accAddr("op1")
	f.addNode("n1", op)
	f.addNode("n2", accAddr("op2"))
	alice := accAddr("alice")
	f.prepay(alice, 1_000_000)
	v := types.ReportVolumes{
		Nodes:       []types.NodeVolume{{NodeId: "n1", Bytes: 1}, {NodeId: "n2", Bytes: 3}},
		Users:       []types.UserVolume{{Address: addr(t, alice), Bytes: 4}},
		StoredNodes: []types.NodeVolume{{NodeId: "n1", Bytes: 1000}},
		StoredUsers: []types.UserVolume{{Address: addr(t, alice), Bytes: 1000}},
	}
	resp, err := f.msg.VolumeReport(f.ctx, f.reportOf(1, v))
	if err != nil {
		t.Fatal(err)
	}
	// Alice's 4 ustos of traffic fees let 4 be minted (the default cap is
	// 100%): n1 gets a quarter of the 8, and all the storage fees.
	want := math.NewInt(2 + 1000)
	if got := mustRewards(t, f, "n1"); !got.Equal(want) || !resp.Total.Equal(math.NewInt(8)) {
		t.Fatalf("n1 rewards %s, want %s; total %s", got, want, resp.Total)
	}
	w, err := f.msg.WithdrawRewards(f.ctx, &types.MsgWithdrawRewards{Operator: addr(t, op), NodeId: "n1"})
	if err != nil || !w.Amount.Amount.Equal(want) || !f.bank.balance(op).Equal(want) {
		t.Fatalf("withdrew %v (%v), balance %s, want %s", w, err, f.bank.balance(op), want)
	}

	// Storage only, with the period's traffic users still charged.
	v = types.ReportVolumes{
		Users:       []types.UserVolume{{Address: addr(t, alice), Bytes: 9}},
		StoredNodes: []types.NodeVolume{{NodeId: "n2", Bytes: 1000}},
		StoredUsers: []types.UserVolume{{Address: addr(t, alice), Bytes: 500}},
	}
	if _, err := f.msg.VolumeReport(f.ctx, f.reportOf(2, v)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.sds.charges); got != fmt.Sprint([]charge{{alice.String(), 4}, {alice.String(), 9}}) {
		t.Fatalf("traffic charges %s", got)
	}
	if !f.bank.supply.Equal(math.NewInt(4)) {
		t.Fatalf("supply %s: the storage-only report minted", f.bank.supply)
	}
}

// Every rule of a report's storage figures (DESIGN §7), and that a refused
// report moves nothing.
func TestStorageReportRejections(t *testing.T) {
	user := func(name string) string { return addr(t, accAddr(name)) }
	for _, tc := range []struct {
		name   string
		mutate func(f *fixture, v *types.ReportVolumes)
		resign bool // sign the mutated figures (else the signatures are over the valid ones)
		want   error
		naming string
	}{
		{"no traffic nodes and no stored nodes", func(f *fixture, v *types.ReportVolumes) {
			v.Nodes, v.StoredNodes, v.StoredUsers = nil, nil, nil
		}, true, types.ErrInvalidReport, "no traffic nodes and no stored nodes"},
		{"stored users without stored nodes", func(f *fixture, v *types.ReportVolumes) {
			v.StoredNodes = nil
		}, true, types.ErrInvalidReport, "no stored nodes to pay"},
		{"empty stored node ID", func(f *fixture, v *types.ReportVolumes) {
			v.StoredNodes[0].NodeId = ""
		}, true, types.ErrInvalidReport, "stored node ID"},
		{"duplicate stored node", func(f *fixture, v *types.ReportVolumes) {
			v.StoredNodes[1].NodeId = "n1"
		}, true, types.ErrDuplicateNode, "stored n1"},
		{"zero stored bytes", func(f *fixture, v *types.ReportVolumes) {
			v.StoredNodes[1].Bytes = 0
		}, true, types.ErrZeroBytes, "stored node n2"},
		{"unregistered stored node", func(f *fixture, v *types.ReportVolumes) {
			v.StoredNodes = append(v.StoredNodes, types.NodeVolume{NodeId: "ghost", Bytes: 1})
		}, true, types.ErrNodeNotRegistered, "ghost"},
		{"inactive stored node", func(f *fixture, v *types.ReportVolumes) {
			v.StoredNodes = append(v.StoredNodes, types.NodeVolume{NodeId: "n3", Bytes: 1})
		}, true, types.ErrNodeNotRegistered, "n3"},
		{"more than 10 × top_n stored nodes", func(f *fixture, v *types.ReportVolumes) {
			p := types.DefaultParams()
			p.TopN = 2
			if err := f.k.SetParams(f.ctx, p); err != nil {
				panic(err)
			}
			for i := range 19 {
				id := fmt.Sprintf("extra%02d", i)
				f.addNode(id, accAddr("opx"))
				v.StoredNodes = append(v.StoredNodes, types.NodeVolume{NodeId: id, Bytes: 1})
			}
		}, true, types.ErrTooManyNodes, "21 stored nodes, at most 20"},
		{"invalid stored user address", func(f *fixture, v *types.ReportVolumes) {
			v.StoredUsers = append(v.StoredUsers, types.UserVolume{Address: "cosmos1xyz", Bytes: 1})
		}, true, types.ErrInvalidReport, "stored user address"},
		{"duplicate stored user", func(f *fixture, v *types.ReportVolumes) {
			v.StoredUsers = append(v.StoredUsers, types.UserVolume{Address: user("alice"), Bytes: 1})
		}, true, types.ErrInvalidReport, "duplicate stored user"},
		{"zero stored user bytes", func(f *fixture, v *types.ReportVolumes) {
			v.StoredUsers[0].Bytes = 0
		}, true, types.ErrZeroBytes, "stored user"},
		{"tampered stored bytes", func(f *fixture, v *types.ReportVolumes) {
			v.StoredNodes[0].Bytes++
		}, false, types.ErrNotEnoughSignatures, "have 0 of 3"},
		{"tampered stored user bytes", func(f *fixture, v *types.ReportVolumes) {
			v.StoredUsers[0].Bytes--
		}, false, types.ErrNotEnoughSignatures, "have 0 of 3"},
		{"stored user added after signing", func(f *fixture, v *types.ReportVolumes) {
			v.StoredUsers = append(v.StoredUsers, types.UserVolume{Address: user("bob"), Bytes: 7})
		}, false, types.ErrNotEnoughSignatures, "have 0 of 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			f.reg.addMeta(3)
			f.addNode("n1", accAddr("op1"))
			f.addNode("n2", accAddr("op2"))
			f.addNode("n3", accAddr("op3"))
			f.reg.nodes["n3"].active = false
			f.prepay(accAddr("alice"), 5000)
			v := types.ReportVolumes{
				Nodes:       []types.NodeVolume{{NodeId: "n1", Bytes: 10}},
				StoredNodes: []types.NodeVolume{{NodeId: "n1", Bytes: 300}, {NodeId: "n2", Bytes: 700}},
				StoredUsers: []types.UserVolume{{Address: user("alice"), Bytes: 1000}},
			}
			m := f.reportOf(5, v)
			tc.mutate(f, &v)
			signed := m.Signatures
			m = f.reportOf(5, v)
			if !tc.resign {
				m.Signatures = signed
			}
			_, err := f.msg.VolumeReport(f.ctx, m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.naming != "" && !strings.Contains(err.Error(), tc.naming) {
				t.Fatalf("err %q does not name %q", err, tc.naming)
			}
			if !f.bank.supply.IsZero() || len(f.sds.stored) != 0 || len(f.sds.charges) != 0 {
				t.Fatalf("rejected report minted %s / charged %v %v", f.bank.supply, f.sds.stored, f.sds.charges)
			}
			if has, _ := f.k.Reports.Has(f.ctx, 5); has {
				t.Fatal("rejected report stored")
			}
		})
	}
}

// A storage report is valid with stored nodes and no stored users (nothing
// is collected), and the figures stay in the report for the record.
func TestStoredNodesWithoutUsers(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	f.addNode("n1", accAddr("op1"))
	resp, err := f.msg.VolumeReport(f.ctx, f.reportOf(3, types.ReportVolumes{StoredNodes: []types.NodeVolume{{NodeId: "n1", Bytes: 9}}}))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.StorageCollected.IsZero() || !resp.Total.IsZero() || !mustRewards(t, f, "n1").IsZero() {
		t.Fatalf("response %+v, rewards %s", resp, mustRewards(t, f, "n1"))
	}
	// A zero share credits nothing: no reward entry, no operator index entry.
	if has, _ := f.k.Rewards.Has(f.ctx, "n1"); has {
		t.Fatal("zero reward stored")
	}
}

func TestStorageChargeErrorRefusesReport(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	f.addNode("n1", accAddr("op1"))
	f.sds.storageErr = errors.New("sds broke")
	v := types.ReportVolumes{
		StoredNodes: []types.NodeVolume{{NodeId: "n1", Bytes: 9}},
		StoredUsers: []types.UserVolume{{Address: addr(t, accAddr("alice")), Bytes: 9}},
	}
	if _, err := f.msg.VolumeReport(f.ctx, f.reportOf(3, v)); err == nil || !strings.Contains(err.Error(), "sds broke") {
		t.Fatalf("charge error not propagated: %v", err)
	}
}

// Issue 8: "a period's storage charge covers the whole time since the last
// report, not one period length when reports were skipped". The first
// report charges its own period; one that follows three periods later
// charges all three, so a meta cluster that skips reports does not make
// storage free.
func TestStorageChargedSinceLastReport(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	f.addNode("n1", accAddr("op1"))
	alice := accAddr("alice")
	f.prepay(alice, 1<<40)
	v := types.ReportVolumes{
		StoredNodes: []types.NodeVolume{{NodeId: "n1", Bytes: 10}},
		StoredUsers: []types.UserVolume{{Address: addr(t, alice), Bytes: 10}},
	}
	for _, tc := range []struct {
		period, periods uint64
	}{{4, 1}, {5, 1}, {8, 3}} {
		f.at(tc.period + 1)
		f.sds.stored = nil
		if _, err := f.msg.VolumeReport(f.ctx, f.reportOf(tc.period, v)); err != nil {
			t.Fatalf("report of period %d: %v", tc.period, err)
		}
		if len(f.sds.stored) != 1 || f.sds.stored[0].seconds != tc.periods*types.DefaultPeriodSeconds {
			t.Fatalf("report of period %d charged %+v, want %d periods of %d s", tc.period, f.sds.stored, tc.periods, types.DefaultPeriodSeconds)
		}
	}
}
