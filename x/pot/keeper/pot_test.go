package keeper_test

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/pot/types"
)

// whitepaper §3.2.1: "suppose that a total of 100,000 Tokens are awarded to
// the top 100 nodes ... the throughput of node A in this ledger period is
// 100GB, the total throughput of the top 100 nodes ... is 1000GB, then the
// reward of node A ... is 100GB/1000GB*100,000 = 10,000 tokens."
// Here the users paid 100,000 STOS of traffic fees, so the issuance cap
// (100% of the fees) lets the whole 100,000 be minted, and the fees are
// shared the same way (whitepaper §3.2.2): node A gets 10,000 of each.
func TestWhitepaperExample(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(3)
	f.addNode("nodeA", accAddr("opA"))
	f.addNode("nodeB", accAddr("opB"))
	f.addNode("nodeC", accAddr("opC"))
	nodes := []types.NodeVolume{{NodeId: "nodeA", Bytes: 100 * gb}, {NodeId: "nodeB", Bytes: 400 * gb}, {NodeId: "nodeC", Bytes: 500 * gb}}
	resp, err := f.msg.VolumeReport(f.ctx, f.report(1, nodes, f.payer(t, "users", 100_000_000_000)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustRewards(t, f, "nodeA"), math.NewInt(20_000_000_000); !got.Equal(want) {
		t.Fatalf("node A reward = %s ustos, want %s (10,000 STOS of issuance, 10,000 of fees)", got, want)
	}
	if !resp.Issued.Equal(math.NewInt(100_000_000_000)) || !resp.Total.Equal(math.NewInt(200_000_000_000)) || !resp.Remainder.IsZero() {
		t.Fatalf("issued %s total %s remainder %s", resp.Issued, resp.Total, resp.Remainder)
	}
	if !f.bank.supply.Equal(math.NewInt(100_000_000_000)) {
		t.Fatalf("minted %s", f.bank.supply)
	}
}

// whitepaper §3.2.1 step 6 / DESIGN §7: exactly the period's issuance,
// capped at issuance_cap_percent of the traffic fees collected, is minted
// per report, and it is shared with the fees among the traffic nodes;
// floor rounding leaves a remainder (< number of nodes) that goes to the
// community pool, so nothing is created or lost. The same
// holds for storage fees (DESIGN §7: "storage fees are settled to the nodes
// that hold replicas"): what the stored users are charged is split among the
// stored nodes and the pool, to the last ustos, in reports with traffic,
// storage, or both.
func TestRewardInvariantRandomReports(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(4)
	params := types.Params{TopN: 25, PeriodSeconds: types.DefaultPeriodSeconds, IssuanceCapPercent: 250, Issuance: []types.IssuanceEntry{
		{FromPeriod: 0, Amount: math.NewInt(99_999_999_997)},
		{FromPeriod: 50, Amount: math.NewInt(12_345_678_901)},
		{FromPeriod: 120, Amount: math.NewInt(7)},
	}}
	if err := f.k.SetParams(f.ctx, params); err != nil {
		t.Fatal(err)
	}
	const numNodes, numUsers = 40, 12
	for i := range numNodes {
		f.addNode(fmt.Sprintf("node%02d", i), accAddr(fmt.Sprintf("op%d", i%7)))
	}
	rng := rand.New(rand.NewSource(42))
	prepaid := math.ZeroInt()
	for i := range numUsers {
		amt := rng.Int63n(1 << 40)
		f.prepay(accAddr(fmt.Sprintf("user%d", i)), amt)
		prepaid = prepaid.Add(math.NewInt(amt))
	}
	// A storage fee with rounding of its own, as x/sds's has.
	f.sds.storageFee = func(bytes, seconds uint64) math.Int {
		return math.NewIntFromUint64(bytes).Mul(math.NewIntFromUint64(seconds)).AddRaw(999).QuoRaw(1000)
	}
	volume := func() uint64 { return uint64(1 + rng.Int63n(1<<uint(1+rng.Intn(50)))) }
	minted, remainders, collected := math.ZeroInt(), math.ZeroInt(), math.ZeroInt()
	full, capHit := 0, 0 // reports that minted the whole issuance, or less for the cap
	for period := uint64(1); period <= 200; period++ {
		var v types.ReportVolumes
		kind := rng.Intn(3) // 0: traffic only, 1: storage only, 2: both
		if kind != 1 {
			for _, i := range rng.Perm(numNodes)[:1+rng.Intn(int(params.TopN))] {
				v.Nodes = append(v.Nodes, types.NodeVolume{NodeId: fmt.Sprintf("node%02d", i), Bytes: volume()})
			}
			for _, i := range rng.Perm(numUsers)[:rng.Intn(numUsers+1)] {
				v.Users = append(v.Users, types.UserVolume{Address: addr(t, accAddr(fmt.Sprintf("user%d", i))), Bytes: volume()})
			}
		}
		if kind != 0 {
			for _, i := range rng.Perm(numNodes)[:1+rng.Intn(numNodes)] {
				v.StoredNodes = append(v.StoredNodes, types.NodeVolume{NodeId: fmt.Sprintf("node%02d", i), Bytes: volume()})
			}
			for _, i := range rng.Perm(numUsers)[:rng.Intn(numUsers+1)] {
				v.StoredUsers = append(v.StoredUsers, types.UserVolume{Address: addr(t, accAddr(fmt.Sprintf("user%d", i))), Bytes: volume()})
			}
		}
		if _, err := f.msg.VolumeReport(f.ctx, f.reportOf(period, v)); err != nil {
			t.Fatalf("period %d: %v", period, err)
		}
		rep, err := f.k.Reports.Get(f.ctx, period)
		if err != nil {
			t.Fatal(err)
		}
		issuance := math.ZeroInt()
		if len(v.Nodes) > 0 {
			issuance = params.IssuanceAt(period)
		}
		capped := rep.TrafficCollected.MulRaw(int64(params.IssuanceCapPercent)).QuoRaw(100)
		if want := math.MinInt(issuance, capped); !rep.Issued.Equal(want) {
			t.Fatalf("period %d: issued %s, want min(issuance %s, cap %s)", period, rep.Issued, issuance, capped)
		}
		switch {
		case rep.Issued.IsPositive() && rep.Issued.Equal(issuance):
			full++
		case rep.Issued.IsPositive():
			capHit++
		}
		if !rep.Total.Equal(rep.Issued.Add(rep.TrafficCollected)) {
			t.Fatalf("period %d: total %s != issued %s + traffic fees %s", period, rep.Total, rep.Issued, rep.TrafficCollected)
		}
		checkSplit(t, period, "traffic", rep.Total, rep.Rewards, rep.Remainder, len(v.Nodes))
		checkSplit(t, period, "storage", rep.StorageCollected, rep.StorageRewards, rep.StorageRemainder, len(v.StoredNodes))
		minted = minted.Add(rep.Issued)
		remainders = remainders.Add(rep.Remainder).Add(rep.StorageRemainder)
		collected = collected.Add(rep.StorageCollected).Add(rep.TrafficCollected)

		// Withdraw now and then, by the operator.
		if rng.Intn(4) == 0 {
			n := slices.Concat(v.Nodes, v.StoredNodes)[0].NodeId
			op := f.reg.nodes[n].operator
			if mustRewards(t, f, n).IsPositive() {
				if _, err := f.msg.WithdrawRewards(f.ctx, &types.MsgWithdrawRewards{Operator: addr(t, op), NodeId: n}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !f.bank.supply.Equal(minted) {
			t.Fatalf("period %d: supply %s, want %s", period, f.bank.supply, minted)
		}
		if got, want := f.bank.balance(potAddr), unwithdrawn(t, f); !got.Equal(want) {
			t.Fatalf("period %d: pot module balance %s != unwithdrawn rewards %s", period, got, want)
		}
		if !f.distr.pool.Equal(remainders) {
			t.Fatalf("period %d: community pool %s, want %s", period, f.distr.pool, remainders)
		}
		if got, want := f.bank.balance(sdsAddr), prepaid.Sub(collected); !got.Equal(want) {
			t.Fatalf("period %d: sds module holds %s, want %s prepaid less %s collected", period, got, prepaid, collected)
		}
	}
	if !collected.IsPositive() {
		t.Fatal("no storage fee was ever collected")
	}
	if full == 0 || capHit == 0 {
		t.Fatalf("%d reports minted the full issuance and %d were capped; the test wants both", full, capHit)
	}
	// Everything minted or prepaid is somewhere: pot account + pool +
	// operators + what is still prepaid.
	total := f.bank.balance(potAddr).Add(f.distr.pool).Add(f.bank.balance(sdsAddr))
	for i := range 7 {
		total = total.Add(f.bank.balance(accAddr(fmt.Sprintf("op%d", i))))
	}
	if want := minted.Add(prepaid); !total.Equal(want) {
		t.Fatalf("accounted %s, minted %s + prepaid %s", total, minted, prepaid)
	}
}

// checkSplit checks that rewards and remainder add up to amount, with a
// remainder in [0, nodes) (or all of amount when there are no nodes).
func checkSplit(t *testing.T, period uint64, what string, amount math.Int, rewards []types.NodeReward, remainder math.Int, nodes int) {
	t.Helper()
	sum := math.ZeroInt()
	for _, r := range rewards {
		if r.Amount.IsNegative() {
			t.Fatalf("period %d: negative %s reward %s", period, what, r.Amount)
		}
		sum = sum.Add(r.Amount)
	}
	if !sum.Add(remainder).Equal(amount) {
		t.Fatalf("period %d: Σ %s rewards %s + remainder %s != %s", period, what, sum, remainder, amount)
	}
	if len(rewards) != nodes {
		t.Fatalf("period %d: %d %s rewards for %d nodes", period, len(rewards), what, nodes)
	}
	if nodes > 0 && (remainder.IsNegative() || !remainder.LT(math.NewInt(int64(nodes)))) {
		t.Fatalf("period %d: %s remainder %s not in [0, %d)", period, what, remainder, nodes)
	}
}

// DESIGN §7: a report is "accepted with distinct active signers numbering
// more than 2/3 of the active set, computed exactly (3 of 4, never 2 of 4)".
func TestSignatureThreshold(t *testing.T) {
	for _, tc := range []struct {
		metas, signers int
		ok             bool
	}{
		{3, 2, false}, {4, 2, false}, {3, 3, true}, {4, 3, true}, {2, 2, true}, {2, 1, false},
		{1, 1, true}, {7, 4, false}, {7, 5, true}, {3, 0, false}, {6, 4, false}, {6, 5, true},
		{5, 3, false}, {5, 4, true}, {1, 0, false},
	} {
		t.Run(fmt.Sprintf("%d_of_%d", tc.signers, tc.metas), func(t *testing.T) {
			f := setup(t)
			f.reg.addMeta(tc.metas)
			f.addNode("n1", accAddr("op"))
			nodes := []types.NodeVolume{{NodeId: "n1", Bytes: 10}}
			msg := f.report(1, nodes, nil)
			msg.Signatures = msg.Signatures[:tc.signers]
			_, err := f.msg.VolumeReport(f.ctx, msg)
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				if !errors.Is(err, types.ErrNotEnoughSignatures) {
					t.Fatalf("err = %v, want ErrNotEnoughSignatures", err)
				}
				if want := fmt.Sprintf("have %d of %d", tc.signers, tc.metas); !strings.Contains(err.Error(), want) {
					t.Fatalf("err %q does not say %q", err, want)
				}
			}
		})
	}
}

func TestVolumeReportRejections(t *testing.T) {
	user := func(name string) string { return addr(t, accAddr(name)) }
	for _, tc := range []struct {
		name string
		// mutate builds the message from a valid one (3 meta nodes, nodes n1,n2 active, n3 inactive).
		mutate func(f *fixture, m *types.MsgVolumeReport)
		want   error
		naming string
	}{
		{"unregistered node", func(f *fixture, m *types.MsgVolumeReport) {
			m.Nodes = append(m.Nodes, types.NodeVolume{NodeId: "ghost", Bytes: 5})
		}, types.ErrNodeNotRegistered, "ghost"},
		{"inactive node", func(f *fixture, m *types.MsgVolumeReport) {
			m.Nodes = append(m.Nodes, types.NodeVolume{NodeId: "n3", Bytes: 5})
		}, types.ErrNodeNotRegistered, "n3"},
		{"more than top_n nodes", func(f *fixture, m *types.MsgVolumeReport) {
			p := types.DefaultParams()
			p.TopN = 1
			if err := f.k.SetParams(f.ctx, p); err != nil {
				panic(err)
			}
		}, types.ErrTooManyNodes, ""},
		{"no nodes", func(f *fixture, m *types.MsgVolumeReport) {
			m.Nodes = nil
		}, types.ErrInvalidReport, ""},
		{"zero bytes", func(f *fixture, m *types.MsgVolumeReport) {
			m.Nodes[1].Bytes = 0
		}, types.ErrZeroBytes, "n2"},
		{"duplicate node IDs", func(f *fixture, m *types.MsgVolumeReport) {
			m.Nodes[1].NodeId = "n1"
		}, types.ErrDuplicateNode, "n1"},
		{"invalid user address", func(f *fixture, m *types.MsgVolumeReport) {
			m.Users = append(m.Users, types.UserVolume{Address: "cosmos1xyz", Bytes: 1})
		}, types.ErrInvalidReport, ""},
		{"duplicate user", func(f *fixture, m *types.MsgVolumeReport) {
			m.Users = append(m.Users, types.UserVolume{Address: user("alice"), Bytes: 1})
		}, types.ErrInvalidReport, "duplicate user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			f.reg.addMeta(3)
			f.addNode("n1", accAddr("op1"))
			f.addNode("n2", accAddr("op2"))
			f.addNode("n3", accAddr("op3"))
			f.reg.nodes["n3"].active = false
			nodes := []types.NodeVolume{{NodeId: "n1", Bytes: 300}, {NodeId: "n2", Bytes: 700}}
			users := []types.UserVolume{{Address: user("alice"), Bytes: 1000}}
			m := f.report(5, nodes, users)
			tc.mutate(f, m)
			_, err := f.msg.VolumeReport(f.ctx, m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.naming != "" && !strings.Contains(err.Error(), tc.naming) {
				t.Fatalf("err %q does not name %q", err, tc.naming)
			}
			// Nothing happened.
			if !f.bank.supply.IsZero() || len(f.sds.charges) != 0 {
				t.Fatalf("rejected report minted %s / charged %v", f.bank.supply, f.sds.charges)
			}
			if has, _ := f.k.Reports.Has(f.ctx, 5); has {
				t.Fatal("rejected report stored")
			}
		})
	}
}

func TestReplayedPeriod(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(3)
	f.addNode("n1", accAddr("op1"))
	m := f.report(9, []types.NodeVolume{{NodeId: "n1", Bytes: 1}}, f.payer(t, "users", types.DefaultIssuance.Int64()))
	if _, err := f.msg.VolumeReport(f.ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := f.msg.VolumeReport(f.ctx, m); !errors.Is(err, types.ErrPeriodReported) {
		t.Fatalf("replay: err = %v, want ErrPeriodReported", err)
	}
	if !f.bank.supply.Equal(types.DefaultIssuance) {
		t.Fatalf("supply %s after replay", f.bank.supply)
	}
}

// DESIGN §7: "The client's prepay is charged for the traffic it used."
func TestUsersCharged(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	f.addNode("n1", accAddr("op1"))
	alice, bob := accAddr("alice"), accAddr("bob")
	users := []types.UserVolume{{Address: addr(t, alice), Bytes: 600}, {Address: addr(t, bob), Bytes: 400}}
	if _, err := f.msg.VolumeReport(f.ctx, f.report(1, []types.NodeVolume{{NodeId: "n1", Bytes: 1000}}, users)); err != nil {
		t.Fatal(err)
	}
	want := []charge{{alice.String(), 600}, {bob.String(), 400}}
	if fmt.Sprint(f.sds.charges) != fmt.Sprint(want) {
		t.Fatalf("charges %v, want %v", f.sds.charges, want)
	}

	f.sds.err = errors.New("prepay exhausted")
	_, err := f.msg.VolumeReport(f.ctx, f.report(2, []types.NodeVolume{{NodeId: "n1", Bytes: 1000}}, users[:1]))
	if err == nil || !strings.Contains(err.Error(), "prepay exhausted") {
		t.Fatalf("charge error not propagated: %v", err)
	}
}

func TestIssuanceSchedule(t *testing.T) {
	p := types.Params{TopN: 1, Issuance: []types.IssuanceEntry{
		{FromPeriod: 10, Amount: math.NewInt(100)},
		{FromPeriod: 20, Amount: math.NewInt(50)},
		{FromPeriod: 100, Amount: math.NewInt(25)},
	}}
	for _, tc := range []struct {
		period uint64
		want   int64
	}{{0, 0}, {9, 0}, {10, 100}, {19, 100}, {20, 50}, {99, 50}, {100, 25}, {1 << 62, 25}} {
		if got := p.IssuanceAt(tc.period); !got.Equal(math.NewInt(tc.want)) {
			t.Errorf("IssuanceAt(%d) = %s, want %d", tc.period, got, tc.want)
		}
	}
	if got := types.DefaultParams().IssuanceAt(12345); !got.Equal(math.NewInt(100_000_000_000)) {
		t.Errorf("default issuance %s", got)
	}

	// The schedule is applied to reports.
	f := setup(t)
	f.reg.addMeta(1)
	f.addNode("n1", accAddr("op1"))
	if err := f.k.SetParams(f.ctx, types.Params{TopN: 3, PeriodSeconds: types.DefaultPeriodSeconds, Issuance: p.Issuance[1:], IssuanceCapPercent: 100}); err != nil {
		t.Fatal(err)
	}
	resp, err := f.msg.VolumeReport(f.ctx, f.report(150, []types.NodeVolume{{NodeId: "n1", Bytes: 3}}, f.payer(t, "users", 100)))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Issued.Equal(math.NewInt(25)) || !resp.Total.Equal(math.NewInt(125)) || !mustRewards(t, f, "n1").Equal(math.NewInt(125)) {
		t.Fatalf("issued %s total %s reward %s", resp.Issued, resp.Total, mustRewards(t, f, "n1"))
	}
}

func TestWithdrawRewards(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(2)
	op := accAddr("op1")
	f.addNode("n1", op)
	f.addNode("n2", accAddr("op2"))
	users := f.payer(t, "users", types.DefaultIssuance.Int64()) // issued + fees = 200,000 STOS
	if _, err := f.msg.VolumeReport(f.ctx, f.report(1, []types.NodeVolume{{NodeId: "n1", Bytes: 1}, {NodeId: "n2", Bytes: 3}}, users)); err != nil {
		t.Fatal(err)
	}
	// Someone else may not withdraw.
	_, err := f.msg.WithdrawRewards(f.ctx, &types.MsgWithdrawRewards{Operator: addr(t, accAddr("op2")), NodeId: "n1"})
	if !errors.Is(err, types.ErrNotOperator) {
		t.Fatalf("err = %v, want ErrNotOperator", err)
	}
	resp, err := f.msg.WithdrawRewards(f.ctx, &types.MsgWithdrawRewards{Operator: addr(t, op), NodeId: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	want := math.NewInt(50_000_000_000)
	if !resp.Amount.Amount.Equal(want) || !f.bank.balance(op).Equal(want) {
		t.Fatalf("withdrew %s, balance %s, want %s", resp.Amount, f.bank.balance(op), want)
	}
	if !mustRewards(t, f, "n1").IsZero() {
		t.Fatal("rewards not zeroed")
	}
	if !f.bank.balance(potAddr).Equal(math.NewInt(150_000_000_000)) {
		t.Fatalf("pot balance %s", f.bank.balance(potAddr))
	}
	_, err = f.msg.WithdrawRewards(f.ctx, &types.MsgWithdrawRewards{Operator: addr(t, op), NodeId: "n1"})
	if !errors.Is(err, types.ErrNoRewards) {
		t.Fatalf("second withdraw: err = %v, want ErrNoRewards", err)
	}
}

func TestQueryRewards(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	op1, op2 := accAddr("op1"), accAddr("op2")
	f.addNode("n1", op1)
	f.addNode("n2", op1)
	f.addNode("n3", op2)
	nodes := []types.NodeVolume{{NodeId: "n1", Bytes: 1}, {NodeId: "n2", Bytes: 1}, {NodeId: "n3", Bytes: 2}}
	if _, err := f.msg.VolumeReport(f.ctx, f.report(1, nodes, f.payer(t, "users", 50_000_000_000))); err != nil {
		t.Fatal(err)
	}
	q := func(s string) *types.QueryRewardsResponse {
		t.Helper()
		r, err := f.query.Rewards(f.ctx, &types.QueryRewardsRequest{NodeIdOrAddress: s})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := q("n3"); !r.Total.Equal(math.NewInt(50_000_000_000)) || len(r.Rewards) != 1 || r.Rewards[0].Operator != addr(t, op2) {
		t.Fatalf("by node: %+v", r)
	}
	r := q(addr(t, op1))
	if !r.Total.Equal(math.NewInt(50_000_000_000)) || len(r.Rewards) != 2 || r.Rewards[0].NodeId != "n1" || r.Rewards[1].NodeId != "n2" {
		t.Fatalf("by operator: %+v", r)
	}
	if r := q(addr(t, accAddr("nobody"))); !r.Total.IsZero() || len(r.Rewards) != 0 {
		t.Fatalf("unknown operator: %+v", r)
	}
	if r := q("no-such-node"); !r.Total.IsZero() {
		t.Fatalf("unknown node: %+v", r)
	}

	// n2 changes operator: the next credit moves it in the index.
	f.reg.nodes["n2"].operator = op2
	if _, err := f.msg.VolumeReport(f.ctx, f.report(2, []types.NodeVolume{{NodeId: "n2", Bytes: 1}}, f.payer(t, "users", 1))); err != nil {
		t.Fatal(err)
	}
	if r := q(addr(t, op1)); len(r.Rewards) != 1 || r.Rewards[0].NodeId != "n1" {
		t.Fatalf("op1 after move: %+v", r)
	}
	if r := q(addr(t, op2)); len(r.Rewards) != 2 || !r.Total.Equal(math.NewInt(75_000_000_002)) { // n3's 50,000 STOS, n2's 25,000 and the 2 of report 2
		t.Fatalf("op2 after move: %+v", r)
	}

	// Report and params queries.
	rep, err := f.query.Report(f.ctx, &types.QueryReportRequest{Period: 1})
	if err != nil || rep.Report.Height != 7 || len(rep.Report.Signers) != 1 || rep.Report.Reporter != f.reporter {
		t.Fatalf("report: %+v %v", rep, err)
	}
	if _, err := f.query.Report(f.ctx, &types.QueryReportRequest{Period: 3}); err == nil {
		t.Fatal("missing report found")
	}
	p, err := f.query.Params(f.ctx, &types.QueryParamsRequest{})
	if err != nil || p.Params.TopN != 100 {
		t.Fatalf("params %+v %v", p, err)
	}
}

func TestUpdateParams(t *testing.T) {
	f := setup(t)
	p := types.DefaultParams()
	p.TopN = 5
	if _, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.reporter, Params: p}); !errors.Is(err, types.ErrInvalidAuthority) {
		t.Fatalf("err = %v", err)
	}
	if _, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: addr(t, govAddr), Params: types.Params{}}); !errors.Is(err, types.ErrInvalidParams) {
		t.Fatalf("err = %v", err)
	}
	if _, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: addr(t, govAddr), Params: p}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.k.GetParams(f.ctx); got.TopN != 5 {
		t.Fatalf("top_n %d", got.TopN)
	}
}

func TestGenesisRoundTrip(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(3)
	f.addNode("n1", accAddr("op1"))
	f.addNode("n2", accAddr("op2"))
	users := []types.UserVolume{{Address: addr(t, accAddr("alice")), Bytes: 9}}
	f.prepay(accAddr("alice"), 100)
	for period := uint64(1); period <= 3; period++ {
		if _, err := f.msg.VolumeReport(f.ctx, f.report(period, []types.NodeVolume{{NodeId: "n1", Bytes: 1}, {NodeId: "n2", Bytes: 2}}, users)); err != nil {
			t.Fatal(err)
		}
	}
	// Storage, alone: the report keeps its figures and what it paid.
	stored := types.ReportVolumes{StoredNodes: []types.NodeVolume{{NodeId: "n2", Bytes: 5}}, StoredUsers: users}
	if _, err := f.msg.VolumeReport(f.ctx, f.reportOf(4, stored)); err != nil {
		t.Fatal(err)
	}
	gs, err := f.k.ExportGenesis(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Validate(addrCodec); err != nil {
		t.Fatal(err)
	}
	g := setup(t)
	if err := g.k.InitGenesis(g.ctx, *gs); err != nil {
		t.Fatal(err)
	}
	gs2, err := g.k.ExportGenesis(g.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gs.String() != gs2.String() {
		t.Fatalf("round trip differs:\n%s\n%s", gs, gs2)
	}
	// The operator index is restored, and reported periods stay reported.
	r, _, err := g.k.RewardsOf(g.ctx, addr(t, accAddr("op2")))
	if err != nil || !r.Equal(mustRewards(t, f, "n2")) {
		t.Fatalf("operator index after genesis: %s %v", r, err)
	}
	g.reg.addMeta(1)
	g.addNode("n1", accAddr("op1"))
	if _, err := g.msg.VolumeReport(g.ctx, g.report(4, []types.NodeVolume{{NodeId: "n1", Bytes: 1}}, nil)); !errors.Is(err, types.ErrPeriodReported) {
		t.Fatalf("err = %v, want ErrPeriodReported", err)
	}
	if _, err := g.msg.VolumeReport(g.ctx, g.report(3, []types.NodeVolume{{NodeId: "n1", Bytes: 1}}, nil)); !errors.Is(err, types.ErrStalePeriod) {
		t.Fatalf("err = %v, want ErrStalePeriod", err)
	}
}

func TestValidateGenesis(t *testing.T) {
	good := func() types.GenesisState {
		return types.GenesisState{
			Params:  types.DefaultParams(),
			Reports: []types.VolumeReport{{Period: 1, Nodes: []types.NodeVolume{{NodeId: "n1", Bytes: 1}}, Total: math.NewInt(1), Remainder: math.ZeroInt()}},
			Rewards: []types.NodeReward{{NodeId: "n1", Amount: math.NewInt(5), Operator: sdk.AccAddress(accAddr("op")).String()}},
		}
	}
	g := good()
	g.Rewards[0].Operator = addr(t, accAddr("op"))
	if err := g.Validate(addrCodec); err != nil {
		t.Fatalf("good genesis: %v", err)
	}
	if err := types.DefaultGenesis().Validate(addrCodec); err != nil {
		t.Fatalf("default genesis: %v", err)
	}
	g = good()
	g.Rewards = nil
	g.Reports[0].Nodes, g.Reports[0].StoredNodes = nil, []types.NodeVolume{{NodeId: "n1", Bytes: 1}}
	if err := g.Validate(addrCodec); err != nil {
		t.Fatalf("a storage-only report: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*types.GenesisState)
	}{
		{"top_n zero", func(g *types.GenesisState) { g.Params.TopN = 0 }},
		{"empty schedule", func(g *types.GenesisState) { g.Params.Issuance = nil }},
		{"unsorted schedule", func(g *types.GenesisState) {
			g.Params.Issuance = []types.IssuanceEntry{{FromPeriod: 5, Amount: math.NewInt(1)}, {FromPeriod: 2, Amount: math.NewInt(1)}}
		}},
		{"duplicate from_period", func(g *types.GenesisState) {
			g.Params.Issuance = []types.IssuanceEntry{{FromPeriod: 5, Amount: math.NewInt(1)}, {FromPeriod: 5, Amount: math.NewInt(2)}}
		}},
		{"zero amount", func(g *types.GenesisState) { g.Params.Issuance[0].Amount = math.ZeroInt() }},
		{"negative amount", func(g *types.GenesisState) { g.Params.Issuance[0].Amount = math.NewInt(-1) }},
		{"nil amount", func(g *types.GenesisState) { g.Params.Issuance[0].Amount = math.Int{} }},
		{"empty node ID in rewards", func(g *types.GenesisState) { g.Rewards[0].NodeId = "" }},
		{"negative reward", func(g *types.GenesisState) { g.Rewards[0].Amount = math.NewInt(-3) }},
		{"duplicate reward node", func(g *types.GenesisState) { g.Rewards = append(g.Rewards, g.Rewards[0]) }},
		{"bad operator", func(g *types.GenesisState) { g.Rewards[0].Operator = "cosmos1bad" }},
		{"period reported twice", func(g *types.GenesisState) { g.Reports = append(g.Reports, g.Reports[0]) }},
		{"empty node ID in report", func(g *types.GenesisState) { g.Reports[0].Nodes[0].NodeId = "" }},
		{"report without nodes", func(g *types.GenesisState) { g.Reports[0].Nodes = nil }},
		{"empty stored node ID in report", func(g *types.GenesisState) {
			g.Reports[0].StoredNodes = []types.NodeVolume{{NodeId: "", Bytes: 1}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := good()
			g.Rewards[0].Operator = addr(t, accAddr("op"))
			tc.mutate(&g)
			if err := g.Validate(addrCodec); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
