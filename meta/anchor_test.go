package meta

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/traffic"
)

type fakeAnchors struct {
	periods []uint64
	roots   [][]byte
	node    string
}

func (f *fakeAnchors) AnchorIndex(_ context.Context, node string, period uint64, root []byte) error {
	f.node = node
	f.periods = append(f.periods, period)
	f.roots = append(f.roots, root)
	return nil
}

// DESIGN §5.2: the index root anchored on chain every period; the root is
// the index's, and it moves when the index does.
func TestAnchorPostsIndexRoot(t *testing.T) {
	h := newHarness(t, 3)
	fa := &fakeAnchors{}
	h.s.cfg.Anchors = fa
	if err := h.s.anchor(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	want, _ := h.s.ix.Root()
	if fa.node != h.s.ID() || len(fa.roots) != 1 || fa.periods[0] != 7 || !bytes.Equal(fa.roots[0], want) {
		t.Fatalf("anchored %v for node %s, want period 7 root %x of %s", fa, fa.node, want, h.s.ID())
	}
	h.upload("/f", newFile("f"), h.nodes...)
	if err := h.s.anchor(context.Background(), 8); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fa.roots[0], fa.roots[1]) {
		t.Fatal("the anchored root did not change after a file was committed")
	}
}

type fakeReporter struct {
	period  uint64
	report  traffic.Report
	node    string
	signed  bool
	refuse  bool
	reports int
}

func (f *fakeReporter) ReportVolume(_ context.Context, period uint64, r traffic.Report, node string, sign func([]byte) []byte) error {
	f.reports++
	if f.refuse {
		return errors.New("chain said no")
	}
	f.period, f.report, f.node, f.signed = period, r, node, len(sign([]byte("x"))) == 64
	return nil
}

// DESIGN §7: the meta node counts the traffic both sides signed for (a
// node's receipt in the owner's commit) and reports it per period; a
// report the chain refuses rolls over to the next one.
func TestVolumeReportFromCommits(t *testing.T) {
	h := newHarness(t, 3)
	fr := &fakeReporter{refuse: true}
	h.s.cfg.Reporter = fr
	f := newFile("t")
	h.upload("/t", f, h.nodes...)
	h.s.report(context.Background(), 41)
	if fr.reports != 1 {
		t.Fatalf("%d reports, want 1", fr.reports)
	}
	fr.refuse = false
	h.s.report(context.Background(), 42)
	if fr.period != 42 || fr.node != h.s.ID() || !fr.signed {
		t.Fatalf("report %+v", fr)
	}
	if len(fr.report.Nodes) != 3 || fr.report.Nodes[0].Bytes != f.size {
		t.Fatalf("nodes %+v, want each holder with the file's %d bytes (the refused report rolled over)", fr.report.Nodes, f.size)
	}
	if len(fr.report.Users) != 1 || fr.report.Users[0].ID != testOwner || fr.report.Users[0].Bytes != 3*f.size {
		t.Fatalf("users %+v", fr.report.Users)
	}
	h.s.report(context.Background(), 43)
	if fr.reports != 2 {
		t.Fatal("an empty period was reported")
	}
}

type fakePeriods struct {
	mu sync.Mutex
	p  ChainPeriod
}

func (f *fakePeriods) Period(context.Context) (ChainPeriod, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.p, nil
}

func (f *fakePeriods) set(p ChainPeriod) { f.mu.Lock(); f.p = p; f.mu.Unlock() }

// x/pot numbers the ledger periods from block time and takes a period only
// once it has ended, once, in order (DESIGN §7). The meta node follows the
// chain's clock: it reports the period just ended, and not again once the
// chain has it.
func TestPeriodLoopFollowsChainPeriods(t *testing.T) {
	h := newHarness(t, 3)
	fr := &syncReporter{}
	fp := &fakePeriods{p: ChainPeriod{Current: 5, Length: 40 * time.Millisecond}}
	h.s.cfg.Reporter, h.s.cfg.Periods, h.s.cfg.LedgerPeriod = fr, fp, 40*time.Millisecond
	h.upload("/t", newFile("t"), h.nodes...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.s.periodLoop(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, func() bool { return len(fr.got()) == 1 })
	if got := fr.got(); got[0] != 4 {
		t.Fatalf("reported period %d, want 4 (the chain is in period 5)", got[0])
	}
	fp.set(ChainPeriod{Current: 5, LastReported: 4, Reported: true, Length: 40 * time.Millisecond})
	h.upload("/u", newFile("u"), h.nodes...)
	time.Sleep(200 * time.Millisecond) // several ticks
	if n := len(fr.got()); n != 1 {
		t.Fatalf("%d reports while the chain stayed in period 5 with 4 reported, want 1", n)
	}
	fp.set(ChainPeriod{Current: 6, LastReported: 4, Reported: true, Length: 40 * time.Millisecond})
	waitFor(t, func() bool { return len(fr.got()) == 2 })
	if got := fr.got(); got[1] != 5 {
		t.Fatalf("reported %v, want period 5 next", got)
	}
}

type syncReporter struct {
	mu      sync.Mutex
	periods []uint64
}

func (f *syncReporter) ReportVolume(_ context.Context, period uint64, _ traffic.Report, _ string, _ func([]byte) []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.periods = append(f.periods, period)
	return nil
}

func (f *syncReporter) got() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.periods)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
