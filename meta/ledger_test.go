package meta

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/traffic"
)

// recorder is the apply path of a ledger under test: the index's Apply,
// which can be made to fail, with a record of what was applied.
type recorder struct {
	ix *index.Index

	mu      sync.Mutex
	fail    error
	applied []*metav1.Command
}

func (r *recorder) apply(cmd *metav1.Command) (*metav1.CommandResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	res, err := r.ix.Apply(cmd)
	if err == nil {
		r.applied = append(r.applied, cmd)
	}
	return res, err
}

func (r *recorder) setFail(err error) { r.mu.Lock(); r.fail = err; r.mu.Unlock() }

// adds returns the AddTraffic commands applied so far.
func (r *recorder) adds() []*metav1.AddTrafficCmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*metav1.AddTrafficCmd
	for _, c := range r.applied {
		if a := c.GetAddTraffic(); a != nil {
			out = append(out, a)
		}
	}
	return out
}

func newTestLedger(t *testing.T) (*ledger, *recorder) {
	t.Helper()
	opts := index.DefaultOptions()
	opts.BloomItems = 1 << 10
	ix, err := index.Open(kv.NewMem(), opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{ix: ix}
	return newLedger(rec.apply, ix, slog.New(slog.DiscardHandler)), rec
}

func indexed(t *testing.T, ix *index.Index, user string) uint64 {
	t.Helper()
	n, err := ix.UserTraffic(user)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var errDisk = errors.New("disk on fire")

// DESIGN §5.1: tasks and reports are many and small, so the leader logs
// them in batches: a thousand audited transfers become one command, and
// UserBytes counts them before and after.
func TestLedgerBatches(t *testing.T) {
	l, rec := newTestLedger(t)
	for i := range 1000 {
		l.Add([]string{"n2", "n1", "n3"}[i%3], []string{"bob", "alice"}[i%2], 1)
	}
	l.Add("n1", "alice", 0) // nothing served, nothing counted
	if got := l.UserBytes("alice"); got != 500 || indexed(t, rec.ix, "alice") != 0 {
		t.Fatalf("before the flush: UserBytes %d, index %d; want 500 buffered", got, indexed(t, rec.ix, "alice"))
	}
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	adds := rec.adds()
	if len(adds) != 1 {
		t.Fatalf("%d commands for one flush, want 1", len(adds))
	}
	var got [][2]string
	for _, e := range adds[0].GetEntries() {
		got = append(got, [2]string{e.GetNodeId(), e.GetUser()})
	}
	want := [][2]string{{"n1", "alice"}, {"n1", "bob"}, {"n2", "alice"}, {"n2", "bob"}, {"n3", "alice"}, {"n3", "bob"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries %v, want one per node and user, in order %v", got, want)
	}
	if got := l.UserBytes("alice"); got != 500 || indexed(t, rec.ix, "alice") != 500 {
		t.Fatalf("after the flush: UserBytes %d, index %d; want 500 in the index", got, indexed(t, rec.ix, "alice"))
	}
	if err := l.flush(); err != nil || len(rec.adds()) != 1 {
		t.Fatalf("an empty flush applied a command: %v", err)
	}
}

// A batch the index could not take stays buffered, still counted, and goes
// with the next flush.
func TestLedgerKeepsFailedBatch(t *testing.T) {
	l, rec := newTestLedger(t)
	l.Add("n1", "alice", 10)
	rec.setFail(errDisk)
	if err := l.flush(); !errors.Is(err, errDisk) {
		t.Fatalf("flush = %v, want the apply's error", err)
	}
	if got := l.UserBytes("alice"); got != 10 {
		t.Fatalf("UserBytes %d after a failed flush, want 10", got)
	}
	l.Add("n1", "alice", 5)
	rec.setFail(nil)
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	if n, err := rec.ix.NodeTraffic("n1"); n != 15 || err != nil {
		t.Fatalf("node n1 %d, %v; want 15", n, err)
	}
	if got := l.UserBytes("alice"); got != 15 {
		t.Fatalf("UserBytes %d, want 15 (counted once)", got)
	}
}

// Traffic the index refuses as malformed (a bug upstream) must not block
// the rest of the batch, nor every later flush.
func TestLedgerDropsMalformed(t *testing.T) {
	l, rec := newTestLedger(t)
	l.Add("", "alice", 5)
	l.Add("n1", "alice", 7)
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	if got := indexed(t, rec.ix, "alice"); got != 7 {
		t.Fatalf("alice %d, want the well-formed 7", got)
	}
	if got := l.UserBytes("alice"); got != 7 {
		t.Fatalf("UserBytes %d: the dropped entry is still counted", got)
	}
}

// Take logs what is buffered first, so the report has everything audited
// before the period ended (whitepaper §3.2.1); a Restore the index refused
// is retried, and counted meanwhile.
func TestLedgerTakeRestore(t *testing.T) {
	l, rec := newTestLedger(t)
	l.Add("a", "u", 10)
	l.Add("b", "u", 30)
	r := l.Take(1)
	want := traffic.Report{Nodes: []traffic.Volume{{ID: "b", Bytes: 30}}, Users: []traffic.Volume{{ID: "u", Bytes: 40}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("Take = %+v, want %+v", r, want)
	}
	// Taken but not yet charged on chain: still owed (DESIGN §7).
	if got := l.UserBytes("u"); got != 40 {
		t.Fatalf("UserBytes %d while the report is out, want 40", got)
	}
	rec.setFail(errDisk)
	l.Restore(r)
	if got := l.UserBytes("u"); got != 40 {
		t.Fatalf("UserBytes %d while the restore waits, want 40", got)
	}
	if got := l.Take(5); !got.Empty() {
		t.Fatalf("Take with a failing index = %+v, want nothing", got)
	}
	rec.setFail(nil)
	r = l.Take(5)
	want = traffic.Report{Nodes: []traffic.Volume{{ID: "b", Bytes: 30}, {ID: "a", Bytes: 10}}, Users: []traffic.Volume{{ID: "u", Bytes: 40}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("after the retried restore: %+v, want %+v", r, want)
	}
	l.Settle() // the chain charged it
	if got := l.UserBytes("u"); got != 0 {
		t.Fatalf("UserBytes %d once the report is settled, want 0", got)
	}
}

// The flush loop logs buffered traffic without being asked.
func TestLedgerFlushLoop(t *testing.T) {
	l, rec := newTestLedger(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.run(ctx, time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	l.Add("n1", "alice", 3)
	for deadline := time.Now().Add(5 * time.Second); indexed(t, rec.ix, "alice") != 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the flush loop never logged the traffic")
		}
	}
}

// Traffic added while flushes and period reports run, some refused by the
// chain and restored, is counted exactly once: what was reported plus what
// is left equals what was added.
func TestLedgerConservesUnderLoad(t *testing.T) {
	l, _ := newTestLedger(t)
	var wg sync.WaitGroup
	const writers, adds = 4, 500
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range adds {
				l.Add([]string{"n1", "n2", "n3", "n4", "n5"}[(w+i)%5], []string{"u1", "u2"}[i%2], uint64(1+i%3))
			}
		}()
	}
	var reported uint64
	stop := make(chan struct{})
	var loop sync.WaitGroup
	loop.Add(1)
	go func() {
		defer loop.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = l.flush()
			r := l.Take(2)
			if i%2 == 0 {
				l.Restore(r) // refused by the chain
				continue
			}
			for _, v := range r.Users {
				reported += v.Bytes
			}
			l.Settle() // accepted: the chain charged it
		}
	}()
	wg.Wait()
	close(stop)
	loop.Wait()
	var added uint64
	for i := range adds {
		added += uint64(1+i%3) * writers
	}
	left := l.UserBytes("u1") + l.UserBytes("u2")
	if reported+left != added {
		t.Fatalf("added %d; reported %d + left %d = %d", added, reported, left, reported+left)
	}
}

// DESIGN §5.1: the traffic ledger is index state, so a meta node that stops
// and starts again on its data dir still reports the period's traffic:
// what was logged, and what was still buffered when it stopped.
func TestTrafficSurvivesRestart(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("counted")
	h.upload("/f", f, h.nodes...) // buffered: no flush loop runs
	h.s.traffic.Add(h.nodes[0].id, testOwner, 100)
	if err := h.s.traffic.flush(); err != nil {
		t.Fatal(err)
	}
	h.s.traffic.Add(h.nodes[0].id, testOwner, 11)
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	h.s = h.open()
	if got, want := h.s.traffic.UserBytes(testOwner), 3*f.size+111; got != want {
		t.Fatalf("after the restart the owner has %d bytes, want %d", got, want)
	}
	fr := &fakeReporter{}
	h.s.cfg.Reporter = fr
	h.s.report(ctx, 1)
	want := traffic.Report{
		Nodes: []traffic.Volume{{ID: h.nodes[0].id, Bytes: f.size + 111}},
		Users: []traffic.Volume{{ID: testOwner, Bytes: 3*f.size + 111}},
	}
	rest := []string{h.nodes[1].id, h.nodes[2].id}
	if rest[1] < rest[0] {
		rest[0], rest[1] = rest[1], rest[0]
	}
	for _, id := range rest {
		want.Nodes = append(want.Nodes, traffic.Volume{ID: id, Bytes: f.size})
	}
	if got := fr.report.Traffic(); !reflect.DeepEqual(got, want) {
		t.Fatalf("report after restart %+v, want %+v", got, want)
	}
}

// A meta node that Run stops flushes the buffer on its way out.
func TestRunFlushesOnStop(t *testing.T) {
	h := newHarness(t, 1)
	h.s.cfg.Listen = "127.0.0.1:0"
	runCtx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- h.s.Run(runCtx, func(string) { close(ready) }) }()
	<-ready
	h.s.traffic.Add(h.nodes[0].id, testOwner, 42)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.s = h.open()
	if n, err := h.s.ix.NodeTraffic(h.nodes[0].id); n != 42 || err != nil {
		t.Fatalf("node traffic %d, %v after Run stopped; want 42", n, err)
	}
}
