package keeper_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stratos-net/stratos/x/pot/types"
)

// DESIGN §7: "A traffic period closes on the leader" and only then is
// reported; whitepaper §3.2.1 pays "the total amount issued in the current
// period". The chain numbers the periods from block time, so a report can
// name only a period that has ended, once, and in order: otherwise the meta
// nodes could mint the issuance of future periods, or of past periods nobody
// reported in time.
func TestReportOnlyEndedPeriods(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	f.addNode("n1", accAddr("op1"))
	nodes := []types.NodeVolume{{NodeId: "n1", Bytes: 10}}

	f.at(5) // the first second of period 5
	for _, p := range []uint64{5, 6, 1 << 40} {
		if _, err := f.msg.VolumeReport(f.ctx, f.report(p, nodes, nil)); !errors.Is(err, types.ErrPeriodNotEnded) {
			t.Fatalf("period %d during period 5: err = %v, want ErrPeriodNotEnded", p, err)
		}
	}
	if _, err := f.msg.VolumeReport(f.ctx, f.report(4, nodes, nil)); err != nil {
		t.Fatalf("period 4 has ended: %v", err)
	}
	if _, err := f.msg.VolumeReport(f.ctx, f.report(2, nodes, nil)); !errors.Is(err, types.ErrStalePeriod) {
		t.Fatalf("period 2 after 4: err = %v, want ErrStalePeriod", err)
	}
	if _, err := f.msg.VolumeReport(f.ctx, f.report(4, nodes, nil)); !errors.Is(err, types.ErrPeriodReported) {
		t.Fatalf("period 4 again: err = %v, want ErrPeriodReported", err)
	}
	// One second before period 6 starts, period 5 has not ended.
	f.ctx = f.ctx.WithBlockTime(genesisTime.Add(6*time.Duration(types.DefaultPeriodSeconds)*time.Second - time.Second))
	if _, err := f.msg.VolumeReport(f.ctx, f.report(5, nodes, nil)); !errors.Is(err, types.ErrPeriodNotEnded) {
		t.Fatalf("period 5 in its last second: err = %v, want ErrPeriodNotEnded", err)
	}
	f.at(6)
	if _, err := f.msg.VolumeReport(f.ctx, f.report(5, nodes, nil)); err != nil {
		t.Fatalf("period 5 once ended: %v", err)
	}
}

func TestPeriodQuery(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(1)
	f.addNode("n1", accAddr("op1"))
	f.ctx = f.ctx.WithBlockTime(genesisTime.Add(7*time.Duration(types.DefaultPeriodSeconds)*time.Second + 42*time.Second))
	r, err := f.query.Period(f.ctx, &types.QueryPeriodRequest{})
	if err != nil {
		t.Fatal(err)
	}
	start := genesisTime.Unix() + 7*int64(types.DefaultPeriodSeconds)
	if r.Current != 7 || r.StartUnix != start || r.EndUnix != start+600 || r.PeriodSeconds != 600 || r.Reported {
		t.Fatalf("period = %+v", r)
	}
	if _, err := f.msg.VolumeReport(f.ctx, f.report(6, []types.NodeVolume{{NodeId: "n1", Bytes: 1}}, nil)); err != nil {
		t.Fatal(err)
	}
	if r, _ = f.query.Period(f.ctx, &types.QueryPeriodRequest{}); !r.Reported || r.LastReported != 6 {
		t.Fatalf("after reporting 6: %+v", r)
	}
}

// A new period length (a governance change) applies from the start of the
// current period, which keeps its number: no period number is reused or
// skipped, so no issuance is paid twice.
func TestPeriodLengthChangeKeepsNumbers(t *testing.T) {
	f := setup(t)
	f.ctx = f.ctx.WithBlockTime(genesisTime.Add(10*600*time.Second + 300*time.Second)) // middle of period 10
	p, err := f.k.GetParams(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.PeriodSeconds = 60
	if _, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: addr(t, govAddr), Params: p}); err != nil {
		t.Fatal(err)
	}
	check := func(offset time.Duration, want uint64) {
		t.Helper()
		ctx := f.ctx.WithBlockTime(genesisTime.Add(10*600*time.Second + offset))
		r, err := f.k.CurrentPeriod(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Current != want {
			t.Fatalf("at period-10 start + %s: period %d, want %d", offset, r.Current, want)
		}
	}
	check(300*time.Second, 15) // period 10 began at +0 and, 60 s long, is now 5 periods behind
	check(59*time.Second, 10)
	check(60*time.Second, 11)

	// Lengthening it again from period 15 keeps 15.
	p.PeriodSeconds = 3600
	if _, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: addr(t, govAddr), Params: p}); err != nil {
		t.Fatal(err)
	}
	check(300*time.Second, 15)
	check(300*time.Second+3600*time.Second, 16)
	if p.PeriodSeconds = 0; p.Validate() == nil {
		t.Fatal("zero period length accepted")
	}
}
