package meta

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/traffic"
)

// fakeAnchors records the anchors posted; the period loop posts from its
// own goroutine.
type fakeAnchors struct {
	mu      sync.Mutex
	periods []uint64
	roots   [][]byte
	node    string
}

func (f *fakeAnchors) AnchorIndex(_ context.Context, node string, period uint64, root []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.node = node
	f.periods = append(f.periods, period)
	f.roots = append(f.roots, bytes.Clone(root))
	return nil
}

func (f *fakeAnchors) got() ([]uint64, [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.periods), slices.Clone(f.roots)
}

// sealPeriod seals a period's report as the leader's report does.
func sealPeriod(t *testing.T, h *harness, period uint64) {
	t.Helper()
	_, err := h.s.apply(&metav1.Command{Op: &metav1.Command_TakeTraffic{TakeTraffic: &metav1.TakeTrafficCmd{
		TopN: 10, Period: period, Seal: true}}})
	if err != nil {
		t.Fatal(err)
	}
}

// DESIGN §5.2: the index root anchored on chain every period. Issue 7:
// "the index anchor is taken at that same log position" as the period's
// sealed report, "so every replica computes the same root": the anchor of
// a period is the root its seal took, not the root when it is posted, and
// a period not sealed has none.
func TestAnchorPostsSealedRoot(t *testing.T) {
	h := newHarness(t, 3)
	fa := &fakeAnchors{}
	h.s.cfg.Anchors = fa
	if err := h.s.anchor(ctx, 7); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("anchor of a period not sealed: %v, want index.ErrNotFound", err)
	}
	h.upload("/f", newFile("f"), h.nodes...)
	atSeal, _ := h.s.ix.Root()
	sealPeriod(t, h, 7)
	h.upload("/g", newFile("g"), h.nodes...) // after the seal: not in period 7's root
	if err := h.s.anchor(ctx, 7); err != nil {
		t.Fatal(err)
	}
	periods, roots := fa.got()
	if fa.node != h.s.ID() || len(roots) != 1 || periods[0] != 7 || !bytes.Equal(roots[0], atSeal) {
		t.Fatalf("anchored periods %v roots %x for node %s, want period 7 root %x of %s", periods, roots, fa.node, atSeal, h.s.ID())
	}
	sealPeriod(t, h, 8)
	if err := h.s.anchor(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if _, roots := fa.got(); bytes.Equal(roots[0], roots[1]) {
		t.Fatal("the anchored root did not change after a file was committed")
	}
}

// With the chain's periods, the leader anchors each period once, after
// its report, with the root its seal took.
func TestPeriodLoopAnchorsSealedRoots(t *testing.T) {
	h := newHarness(t, 3)
	fp := &fakePeriods{p: ChainPeriod{Current: 5, Length: 40 * time.Millisecond}}
	fa := &fakeAnchors{}
	h.s.cfg.Reporter, h.s.cfg.Periods, h.s.cfg.Anchors, h.s.cfg.LedgerPeriod = &syncReporter{chain: fp}, fp, fa, 40*time.Millisecond
	h.upload("/t", newFile("t"), h.nodes...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.s.periodLoop(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, func() bool { periods, _ := fa.got(); return len(periods) == 1 })
	h.upload("/u", newFile("u"), h.nodes...)
	time.Sleep(200 * time.Millisecond) // several ticks in the same period
	fp.set(ChainPeriod{Current: 6, LastReported: 4, Reported: true, Length: 40 * time.Millisecond})
	waitFor(t, func() bool { periods, _ := fa.got(); return len(periods) == 2 })
	periods, roots := fa.got()
	if !slices.Equal(periods, []uint64{4, 5}) {
		t.Fatalf("anchored periods %v, want [4 5]", periods)
	}
	for i, p := range periods {
		if sealed, err := h.s.ix.SealedRoot(p); err != nil || !bytes.Equal(sealed, roots[i]) {
			t.Fatalf("period %d: anchored %x, sealed %x (%v)", p, roots[i], sealed, err)
		}
	}
	if bytes.Equal(roots[0], roots[1]) {
		t.Fatal("periods 4 and 5 anchored the same root across an upload")
	}
}

// fakeReporter records the last report the chain accepted: its traffic in
// report, its storage in stored.
type fakeReporter struct {
	period  uint64
	report  traffic.Report
	stored  traffic.Report
	node    string
	signed  bool
	refuse  bool
	reports int
}

func (f *fakeReporter) SignBytes(period uint64, r traffic.Report) []byte {
	return fmt.Appendf(nil, "%d/%v", period, r)
}

func (f *fakeReporter) ReportVolume(_ context.Context, period uint64, r traffic.Report, sigs []traffic.Signature) error {
	f.reports++
	if f.refuse {
		return errors.New("chain said no")
	}
	f.period, f.report = period, r.Traffic()
	if len(sigs) == 1 {
		f.node, f.signed = sigs[0].Signer, len(sigs[0].Sig) == 64
	}
	f.stored = traffic.Report{StoredNodes: r.StoredNodes, StoredUsers: r.StoredUsers}
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
	// A period without traffic still reports the storage (DESIGN §7: the
	// holders are paid for it).
	h.s.report(context.Background(), 43)
	if fr.reports != 3 || len(fr.report.Nodes) != 0 || len(fr.report.Users) != 0 || len(fr.stored.StoredNodes) != 3 {
		t.Fatalf("report %d of a period without traffic: %+v %+v", fr.reports, fr.report, fr.stored)
	}
}

// A period with neither traffic nor storage is not reported.
func TestEmptyPeriodNotReported(t *testing.T) {
	h := newHarness(t, 3)
	fr := &fakeReporter{}
	h.s.cfg.Reporter = fr
	h.s.report(context.Background(), 1)
	if fr.reports != 0 {
		t.Fatalf("%d reports of an empty period", fr.reports)
	}
}

// volumes returns vols as a map.
func volumes(vols []traffic.Volume) map[string]uint64 {
	m := map[string]uint64{}
	for _, v := range vols {
		m[v.ID] = v.Bytes
	}
	return m
}

// wantStored checks the storage a report carries.
func wantStored(t *testing.T, r traffic.Report, nodes map[string]uint64, owners map[string]uint64) {
	t.Helper()
	if got := volumes(r.StoredNodes); !maps.Equal(got, nodes) {
		t.Fatalf("stored nodes %v, want %v", got, nodes)
	}
	if got := volumes(r.StoredUsers); !maps.Equal(got, owners) {
		t.Fatalf("stored users %v, want %v", got, owners)
	}
	if !slices.IsSortedFunc(r.StoredNodes, func(a, b traffic.Volume) int { return cmp.Compare(b.Bytes, a.Bytes) }) {
		t.Fatalf("stored nodes not most first: %v", r.StoredNodes)
	}
}

// DESIGN §7: "storage fees are settled to the nodes that hold replicas".
// Each period's report carries the bytes of replicas each node holds and
// the bytes each owner stores, every replica counted, as of the report:
// after uploads, a delete and a repair.
func TestVolumeReportCarriesStorage(t *testing.T) {
	h := newHarness(t, 5)
	fr := &fakeReporter{}
	h.s.cfg.Reporter = fr
	a, b, c, d, e := h.nodes[0], h.nodes[1], h.nodes[2], h.nodes[3], h.nodes[4]
	fa, fb := newFile("a1", "a2"), newFile("b")
	h.upload("/a", fa, a, b, c)
	h.upload("/b", fb, a, b)
	h.s.report(ctx, 1)
	wantStored(t, fr.stored, map[string]uint64{a.id: fa.size + fb.size, b.id: fa.size + fb.size, c.id: fa.size},
		map[string]uint64{testOwner: 3*fa.size + 2*fb.size})

	// A delete: /b's slice is released, its holders hold it no more.
	if _, err := h.s.Delete(ctx, &metav1.DeleteRequest{Owner: testOwner, Path: "/b"}); err != nil {
		t.Fatal(err)
	}
	h.s.report(ctx, 2)
	wantStored(t, fr.stored, map[string]uint64{a.id: fa.size, b.id: fa.size, c.id: fa.size},
		map[string]uint64{testOwner: 3 * fa.size})
	if len(fr.report.Nodes) != 0 {
		t.Fatalf("traffic %v in a period without any", fr.report.Nodes)
	}

	// c dies; repair copies each slice of /a to a new node, and the
	// storage follows the replicas.
	h.kill(c)
	h.repairTick()
	confirmed := map[string]string{} // slice → the node it was copied to
	for src, orders := range h.orders(c) {
		for _, o := range orders {
			target := map[string]*testNode{d.id: d, e.id: e}[o.GetTargets()[0].GetNodeId()]
			ref := &metav1.SliceRef{Id: o.GetSliceId(), Size: o.GetSize()}
			_, err := h.s.ConfirmRepair(src.ctx, &metav1.ConfirmRepairRequest{TaskId: o.GetTaskId(),
				Receipts: []*storagev1.Receipt{mkReceipt(target, o.GetTaskId(), ref)}})
			if err != nil {
				t.Fatal(err)
			}
			confirmed[o.GetSliceId()] = target.id
		}
	}
	if len(confirmed) != len(fa.slices) {
		t.Fatalf("repaired %d slices of %d", len(confirmed), len(fa.slices))
	}
	held := map[string]uint64{a.id: fa.size, b.id: fa.size}
	for _, ref := range fa.slices {
		held[confirmed[ref.GetId()]] += ref.GetSize()
	}
	h.s.report(ctx, 3)
	wantStored(t, fr.stored, held, map[string]uint64{testOwner: 3 * fa.size})
}

// Storage is a snapshot, not a counter: a refused report gives its traffic
// back to the ledger and nothing of its storage, so the next report carries
// the same storage, not twice as much.
func TestRefusedReportDoesNotDoubleStorage(t *testing.T) {
	h := newHarness(t, 3)
	fr := &fakeReporter{refuse: true}
	h.s.cfg.Reporter = fr
	f := newFile("s")
	h.upload("/s", f, h.nodes...)
	h.s.report(ctx, 1)
	h.s.report(ctx, 2)
	fr.refuse = false
	h.s.report(ctx, 3)
	wantStored(t, fr.stored, map[string]uint64{h.nodes[0].id: f.size, h.nodes[1].id: f.size, h.nodes[2].id: f.size},
		map[string]uint64{testOwner: 3 * f.size})
	if len(fr.report.Nodes) != 3 || fr.report.Nodes[0].Bytes != f.size {
		t.Fatalf("traffic %v: the refused reports' traffic should have rolled over once", fr.report.Nodes)
	}
	if n, _ := h.s.ix.UserTraffic(testOwner); n != 0 {
		t.Fatalf("%d bytes of traffic left in the ledger", n)
	}
}

// x/pot takes at most StoredNodesPerTopN × top_n stored nodes; the meta
// node reports those holding the most, and no stored users when no node is
// left to pay.
func TestReportBoundsStoredNodes(t *testing.T) {
	h := newHarness(t, 0)
	h.s.cfg.TopN = 1
	var r traffic.Report
	for i := range 12 {
		r.StoredNodes = append(r.StoredNodes, traffic.Volume{ID: fmt.Sprintf("n%02d", i), Bytes: uint64(100 + i%3)})
	}
	r.StoredUsers = []traffic.Volume{{ID: "u", Bytes: 1}}
	got := h.s.boundStorage(r)
	if len(got.StoredNodes) != traffic.StoredNodesPerTopN || got.StoredNodes[0] != (traffic.Volume{ID: "n02", Bytes: 102}) ||
		len(got.StoredUsers) != 1 {
		t.Fatalf("bounded to %v, users %v", got.StoredNodes, got.StoredUsers)
	}
	if got := h.s.boundStorage(traffic.Report{StoredUsers: r.StoredUsers}); len(got.StoredUsers) != 0 {
		t.Fatalf("stored users %v without stored nodes", got.StoredUsers)
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
	fp := &fakePeriods{p: ChainPeriod{Current: 5, Length: 40 * time.Millisecond}}
	fr := &syncReporter{chain: fp} // the storage makes every period's report non-empty
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

// syncReporter records the periods reported; with chain set, an accepted
// report is the chain's last reported period, as x/pot's is once
// ReportVolume returns (chainclient.Sender waits for the block).
type syncReporter struct {
	mu      sync.Mutex
	periods []uint64
	chain   *fakePeriods
}

func (f *syncReporter) SignBytes(uint64, traffic.Report) []byte { return []byte("report") }

func (f *syncReporter) ReportVolume(_ context.Context, period uint64, _ traffic.Report, _ []traffic.Signature) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.periods = append(f.periods, period)
	if f.chain != nil {
		f.chain.mu.Lock()
		f.chain.p.LastReported, f.chain.p.Reported = period, true
		f.chain.mu.Unlock()
	}
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

// x/pot refuses a whole report that names a node not active on chain: the
// meta node leaves such nodes out of the storage too, and pays the others.
func TestReportLeavesOutInactiveStoredNodes(t *testing.T) {
	h, fc := chainHarness(t)
	fc.set(func(f *fakeChain) { f.nodes["active"] = []byte("k") })
	if err := h.s.chain.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	fr := &fakeReporter{}
	h.s.cfg.Reporter = fr
	f := newFile("x")
	task, err := h.s.apply(&metav1.Command{Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_UPLOAD, Owner: "st1owner", Path: "/x", Size: f.size, TtlNanos: int64(time.Minute)}}})
	if err != nil {
		t.Fatal(err)
	}
	entry := &metav1.FileEntry{Owner: "st1owner", Path: "/x", FileId: f.id, Size: f.size, Slices: f.slices}
	_, err = h.s.apply(&metav1.Command{Op: &metav1.Command_CommitFile{CommitFile: &metav1.CommitFileCmd{
		TaskId: task.GetTask().GetId(), File: entry, Replicas: []*metav1.ReplicaSet{{NodeIds: []string{"active", "deactivated"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	h.s.report(ctx, 5)
	wantStored(t, fr.stored, map[string]uint64{"active": f.size}, map[string]uint64{"st1owner": 2 * f.size})

	// With no active holder left, no one is paid and no one charged.
	fc.set(func(f *fakeChain) { delete(f.nodes, "active") })
	if err := h.s.chain.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	fr.reports = 0
	h.s.report(ctx, 6)
	if fr.reports != 0 {
		t.Fatalf("a report without an active node: %+v", fr.stored)
	}
}

// DESIGN §7: the user's traffic is owed from the moment it is audited until
// the chain charged it. While the report is out it still counts against the
// prepay (the index keeps it as reporting); once accepted, the seal is
// settled and the cached prepaid balance dropped, so the next check reads
// the balance the chain charged.
func TestReportSettlesUserTraffic(t *testing.T) {
	h := newHarness(t, 3)
	fr := &fakeReporter{refuse: true}
	h.s.cfg.Reporter = fr
	f := newFile("t")
	h.upload("/t", f, h.nodes...)
	owed := func() uint64 {
		t.Helper()
		a, err := h.s.ix.UserTraffic(testOwner)
		if err != nil {
			t.Fatal(err)
		}
		b, err := h.s.ix.Reporting(testOwner)
		if err != nil {
			t.Fatal(err)
		}
		return a + b
	}
	if got := owed(); got != 3*f.size {
		t.Fatalf("owed %d before the report, want %d", got, 3*f.size)
	}
	h.s.report(context.Background(), 6) // refused: the traffic goes back
	if got := owed(); got != 3*f.size {
		t.Fatalf("owed %d after a refused report, want %d", got, 3*f.size)
	}
	if _, err := h.s.ix.SealedReport(6); err == nil {
		t.Fatal("a refused report stays sealed")
	}
	fr.refuse = false
	h.s.chain.mu.Lock()
	h.s.chain.balances[testOwner] = prepaidEntry{amount: 1, at: h.clock.Now()}
	h.s.chain.mu.Unlock()
	h.s.report(context.Background(), 7)
	if fr.reports != 2 {
		t.Fatalf("%d reports, want 2", fr.reports)
	}
	if got := owed(); got != 0 {
		t.Fatalf("owed %d after the chain charged it, want 0", got)
	}
	if r, err := h.s.ix.SealedReport(7); err != nil || !r.GetSettled() {
		t.Fatalf("sealed report of 7: %v, %v; want settled", r, err)
	}
	if h.s.chain.cachedBalance(testOwner) {
		t.Fatal("the prepaid balance cached before the charge is still used")
	}
}

// refusal is the chain refusing a transaction (chainclient.Refusal).
type refusal struct{}

func (refusal) Error() string {
	return "transaction rejected in block 9: code 5: insufficient signatures"
}
func (refusal) Refused() bool { return true }

// refusingChain refuses every report and anchor, counting them.
type refusingChain struct {
	mu               sync.Mutex
	reports, anchors int
	transient        bool // fail as an unreachable chain does instead
}

func (f *refusingChain) err() error {
	if f.transient {
		return errors.New("connection refused")
	}
	return fmt.Errorf("report: %w", refusal{})
}

func (f *refusingChain) SignBytes(uint64, traffic.Report) []byte { return []byte("report") }

func (f *refusingChain) ReportVolume(context.Context, uint64, traffic.Report, []traffic.Signature) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports++
	return f.err()
}

func (f *refusingChain) AnchorIndex(context.Context, string, uint64, []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.anchors++
	return f.err()
}

func (f *refusingChain) counts() (reports, anchors int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reports, f.anchors
}

// Issue 8: "a failed anchor or report is not retried in a loop that pays a
// fee each time". A report or anchor the chain refused is not sent again
// for the same period (its traffic rolls into the next); one that failed
// because the chain was unreachable is tried again at the next tick.
func TestRefusedReportAndAnchorAreNotResent(t *testing.T) {
	for _, transient := range []bool{false, true} {
		t.Run(fmt.Sprintf("transient=%v", transient), func(t *testing.T) {
			h := newHarness(t, 3)
			fp := &fakePeriods{p: ChainPeriod{Current: 5, Length: 40 * time.Millisecond}}
			fc := &refusingChain{transient: transient}
			h.s.cfg.Reporter, h.s.cfg.Periods, h.s.cfg.Anchors, h.s.cfg.LedgerPeriod = fc, fp, fc, 40*time.Millisecond
			h.upload("/t", newFile("t"), h.nodes...)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); h.s.periodLoop(ctx) }()
			defer func() { cancel(); <-done }()

			waitFor(t, func() bool { r, _ := fc.counts(); return r >= 1 })
			time.Sleep(250 * time.Millisecond) // about 25 ticks of the same chain period
			reports, anchors := fc.counts()
			if transient {
				if reports < 3 {
					t.Fatalf("%d reports to an unreachable chain over many ticks, want it tried again", reports)
				}
				return
			}
			if reports != 1 || anchors > 1 {
				t.Fatalf("the chain refused period 4: sent %d reports and %d anchors for it, want 1 and at most 1", reports, anchors)
			}
			// The next period is reported, with the refused traffic in it.
			fp.set(ChainPeriod{Current: 6, Length: 40 * time.Millisecond})
			waitFor(t, func() bool { r, _ := fc.counts(); return r == 2 })
		})
	}
}
