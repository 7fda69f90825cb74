package meta

import (
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"testing"

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
	return newLedger(rec.apply, slog.New(slog.DiscardHandler)), rec
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

// DESIGN §7: a period's report is sealed at one log position; while the
// chain has not taken it, its users' traffic still weighs on their
// prepay; a refused report puts it back in the ledger, and an unseal the
// log could not take is retried before the next seal, never lost.
func TestLedgerSealSettleUnseal(t *testing.T) {
	l, rec := newTestLedger(t)
	reporting := func(user string) uint64 {
		t.Helper()
		n, err := rec.ix.Reporting(user)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 3 {
		if err := l.Add("n1", "alice", 10); err != nil {
			t.Fatal(err)
		}
	}
	r := l.Take(5)
	if len(r.Users) != 1 || r.Users[0].Bytes != 30 || indexed(t, rec.ix, "alice") != 0 || reporting("alice") != 30 {
		t.Fatalf("sealed %+v; ledger %d, reporting %d", r, indexed(t, rec.ix, "alice"), reporting("alice"))
	}
	// The chain refused it, and the log is down: the unseal waits.
	rec.setFail(errDisk)
	l.Restore(r)
	rec.setFail(nil)
	if err := l.Add("n1", "alice", 5); err != nil {
		t.Fatal(err)
	}
	// The next seal first puts the refused report back, so it has all 35.
	r = l.Take(5)
	if len(r.Users) != 1 || r.Users[0].Bytes != 35 {
		t.Fatalf("second seal %+v, want alice's 35 bytes", r)
	}
	l.Settle(lastSealed[l])
	if reporting("alice") != 0 || indexed(t, rec.ix, "alice") != 0 {
		t.Fatalf("after settling: reporting %d, ledger %d", reporting("alice"), indexed(t, rec.ix, "alice"))
	}
	// A period sealed again returns the same report, now settled.
	again, err := l.Seal(lastSealed[l], 5, nil)
	if err != nil || !again.GetSettled() {
		t.Fatalf("sealing a settled period again: %v, %v", again, err)
	}
}

// Traffic added while period reports run, some refused by the
// chain and restored, is counted exactly once: what was reported plus what
// is left equals what was added.
func TestLedgerConservesUnderLoad(t *testing.T) {
	l, rec := newTestLedger(t)
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
			r := l.Take(2)
			if i%2 == 0 {
				l.Restore(r) // refused by the chain
				continue
			}
			for _, v := range r.Users {
				reported += v.Bytes
			}
			l.Settle(lastSealed[l]) // accepted: the chain charged it
		}
	}()
	wg.Wait()
	close(stop)
	loop.Wait()
	var added uint64
	for i := range adds {
		added += uint64(1+i%3) * writers
	}
	left := indexed(t, rec.ix, "u1") + indexed(t, rec.ix, "u2")
	if reported+left != added {
		t.Fatalf("added %d; reported %d + left %d = %d", added, reported, left, reported+left)
	}
}

// DESIGN §5.1: the traffic ledger is index state, so a meta node that stops
// and starts again on its data dir still reports the period's traffic:
// every transfer is in the index when its command returns.
func TestTrafficSurvivesRestart(t *testing.T) {
	h := newHarness(t, 3)
	f := newFile("counted")
	h.upload("/f", f, h.nodes...)
	if err := h.s.traffic.Add(h.nodes[0].id, testOwner, 100); err != nil {
		t.Fatal(err)
	}
	if err := h.s.traffic.Add(h.nodes[0].id, testOwner, 11); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	h.s = h.open()
	if got, want := indexed(t, h.s.ix, testOwner), 3*f.size+111; got != want {
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
