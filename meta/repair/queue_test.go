package repair_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/repair"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// fakeIndex is a repair.Index over a map of slice entries.
type fakeIndex struct {
	slices map[string]*metav1.SliceEntry
	nodes  []*metav1.NodeRecord
}

var _ repair.Index = (*fakeIndex)(nil)

func (f *fakeIndex) Slice(id string) (*metav1.SliceEntry, error) {
	e := f.slices[id]
	if e == nil {
		return nil, fmt.Errorf("slice %s: %w", id, index.ErrNotFound)
	}
	return &metav1.SliceEntry{Id: e.Id, Size: e.Size, Replicas: slices.Clone(e.Replicas)}, nil
}

func (f *fakeIndex) SlicesOn(node string, fn func(string) error) error {
	for _, id := range slices.Sorted(maps.Keys(f.slices)) {
		if slices.Contains(f.slices[id].Replicas, node) {
			if err := fn(id); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fakeIndex) ThinSlices(r int, fn func(string) error) error {
	for _, id := range slices.Sorted(maps.Keys(f.slices)) {
		if len(f.slices[id].Replicas) < r {
			if err := fn(id); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fakeIndex) Nodes() ([]*metav1.NodeRecord, error) { return f.nodes, nil }

// apply carries out AddReplicas and RemoveReplicas as the index does.
func (f *fakeIndex) apply(cmd *metav1.Command) error {
	switch op := cmd.GetOp().(type) {
	case *metav1.Command_AddReplicas:
		e := f.slices[op.AddReplicas.GetSliceId()]
		e.Replicas = slices.Compact(slices.Sorted(slices.Values(append(e.Replicas, op.AddReplicas.GetNodeIds()...))))
	case *metav1.Command_RemoveReplicas:
		e := f.slices[op.RemoveReplicas.GetSliceId()]
		e.Replicas = slices.DeleteFunc(e.Replicas, func(n string) bool { return slices.Contains(op.RemoveReplicas.GetNodeIds(), n) })
	default:
		return fmt.Errorf("unexpected command %T", op)
	}
	return nil
}

// planner is a Planner over a fakeIndex whose slices are each listed on
// the given nodes, a fake clock and a placer that takes the first nodes of
// pool not excluded. Pick always takes the first live holder.
type planner struct {
	repair.Planner
	ix       *fakeIndex
	h        liveness
	now      time.Time
	released []string
}

func newPlanner(t *testing.T, slicesOn []string, ids ...string) *planner {
	t.Helper()
	p := &planner{ix: &fakeIndex{slices: map[string]*metav1.SliceEntry{}}, h: liveness{}, now: time.Unix(1_900_000_000, 0)}
	pool := []string{"a", "b", "c", "d", "e", "f", "g"}
	for _, n := range pool {
		p.h[n] = health.Alive
	}
	for _, n := range slices.Sorted(maps.Keys(set(append(slices.Clone(pool), slicesOn...)...))) {
		p.ix.nodes = append(p.ix.nodes, &metav1.NodeRecord{NodeId: n})
	}
	for _, id := range ids {
		p.ix.slices[id] = &metav1.SliceEntry{Id: id, Size: 1, Replicas: slices.Clone(slicesOn)}
	}
	cfg := repair.DefaultConfig()
	cfg.MaxPlanned = 2
	p.Planner = repair.Planner{
		Config: cfg, Queue: repair.NewQueue(), Index: p.ix, Health: p.h, Apply: p.ix.apply,
		Place: func(_ string, ref *metav1.SliceRef, exclude []string, count int) (*metav1.Pipeline, error) {
			pipe := &metav1.Pipeline{SliceId: ref.GetId()}
			for _, n := range pool {
				if len(pipe.Nodes) < count && !slices.Contains(exclude, n) && p.h[n] == health.Alive {
					pipe.Nodes = append(pipe.Nodes, &storagev1.Peer{NodeId: n})
				}
			}
			return pipe, nil
		},
		Release: func(task string) { p.released = append(p.released, task) },
		Now:     func() time.Time { return p.now },
		Pick:    func(int) int { return 0 },
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// jobSlices returns the slices with open jobs.
func jobSlices(q *repair.Queue) []string {
	var out []string
	for _, j := range q.Jobs() {
		out = append(out, j.Slice.GetId())
	}
	return out
}

// Queued slices are planned in the order they were queued, at most
// MaxPlanned a pass, and a slice with a fresh job is skipped: no slice
// starves behind others, and the same calls give the same jobs.
func TestPlanDueInQueueOrder(t *testing.T) {
	p := newPlanner(t, []string{"a", "b"}, "s1", "s2", "s3", "s4", "s5")
	p.Queue.Enqueue("s3", "s1", "s2", "s1", "s5")
	p.Queue.Enqueue("s4", "s3")
	if q, j := p.Queue.Counts(); q != 5 || j != 0 {
		t.Fatalf("counts %d queued, %d jobs; want 5, 0", q, j)
	}
	for i, want := range [][]string{{"s1", "s3"}, {"s1", "s2", "s3", "s5"}, {"s1", "s2", "s3", "s4", "s5"}, {"s1", "s2", "s3", "s4", "s5"}} {
		p.PlanDue()
		if got := jobSlices(p.Queue); !slices.Equal(got, want) {
			t.Fatalf("pass %d: jobs for %v, want %v", i+1, got, want)
		}
	}
	if q, j := p.Queue.Counts(); q != 5 || j != 5 {
		t.Fatalf("counts %d queued, %d jobs; want 5, 5", q, j)
	}
}

// A source receives each of its orders once, in slice order, in its next
// heartbeat (DESIGN §5.4).
func TestIssueOnceInSliceOrder(t *testing.T) {
	p := newPlanner(t, []string{"a", "b"}, "s1", "s2", "s3")
	p.Config.MaxPlanned = 10
	p.Queue.Enqueue("s3", "s1", "s2")
	p.PlanDue()
	if got := p.Queue.Issue("b", p.now); len(got) != 0 {
		t.Fatalf("b, not a source, got %d orders", len(got))
	}
	orders := p.Queue.Issue("a", p.now)
	var got []string
	for _, o := range orders {
		got = append(got, o.GetSliceId())
		if len(o.GetTargets()) != 1 || o.GetTargets()[0].GetNodeId() != "c" {
			t.Errorf("order for %s targets %v, want [c]", o.GetSliceId(), o.GetTargets())
		}
	}
	if want := []string{"s1", "s2", "s3"}; !slices.Equal(got, want) {
		t.Fatalf("orders for %v, want %v", got, want)
	}
	if again := p.Queue.Issue("a", p.now); len(again) != 0 {
		t.Fatalf("orders issued twice: %v", again)
	}
}

// A job whose source neither confirms within Timeout of receiving it nor
// stays alive is planned again, with a new task; the old one is released
// and can no longer be confirmed.
func TestStaleJobPlannedAgain(t *testing.T) {
	p := newPlanner(t, []string{"a", "b"}, "s1")
	p.Queue.Enqueue("s1")
	p.PlanDue()
	first := p.Queue.Jobs()[0]
	p.now = p.now.Add(time.Hour) // not issued yet: the timeout runs from planning
	p.PlanDue()
	second := p.Queue.Jobs()[0]
	if second.TaskID == first.TaskID || !slices.Equal(p.released, []string{first.TaskID}) {
		t.Fatalf("after the timeout: task %s (was %s), released %v", second.TaskID, first.TaskID, p.released)
	}
	if _, ok := p.Queue.JobByTask(first.TaskID); ok {
		t.Fatal("the replaced job can still be found")
	}
	p.Queue.Issue("a", p.now)
	p.now = p.now.Add(p.Config.Timeout - time.Second)
	p.PlanDue()
	if j := p.Queue.Jobs()[0]; j.TaskID != second.TaskID {
		t.Fatalf("replanned %v after it was issued, before its timeout", j.TaskID)
	}
	p.h["a"] = health.Suspect
	p.PlanDue()
	third := p.Queue.Jobs()[0]
	if third.TaskID == second.TaskID || third.Source != "b" {
		t.Fatalf("source a suspect: job %s from %s, want a new one from b", third.TaskID, third.Source)
	}
}

// DESIGN §5.4: the index changes when the copy is confirmed; only the
// job's targets are added, dead replicas are forgotten, and the slice is
// looked at again, leaving the queue once it has R live replicas.
func TestConfirm(t *testing.T) {
	p := newPlanner(t, []string{"a", "b", "x"}, "s1")
	p.h["x"] = health.Dead
	p.ScanDead()
	p.PlanDue()
	job := p.Queue.Jobs()[0]
	added, err := p.Confirm(job, []string{"stranger", "c"})
	if err != nil || !slices.Equal(added, []string{"c"}) {
		t.Fatalf("Confirm = %v, %v; want [c]", added, err)
	}
	if got := p.ix.slices["s1"].Replicas; !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("replicas %v, want the dead one forgotten and c added", got)
	}
	if q, j := p.Queue.Counts(); q != 1 || j != 0 {
		t.Fatalf("after confirming: %d queued, %d jobs; want 1, 0", q, j)
	}
	p.PlanDue()
	if q, j := p.Queue.Counts(); q != 0 || j != 0 {
		t.Fatalf("with R live replicas: %d queued, %d jobs; want 0, 0", q, j)
	}
}

// ScanDead queues a node's slices once when it is found dead, and again
// only if it comes back and dies again; with R live replicas the dead one
// is forgotten without a copy.
func TestScanDead(t *testing.T) {
	p := newPlanner(t, []string{"a", "b", "c", "d"}, "s1", "s2")
	p.ix.slices["s3"] = &metav1.SliceEntry{Id: "s3", Size: 1, Replicas: []string{"a", "b"}}
	var dead []string
	p.NodeDead = func(id string) { dead = append(dead, id) }
	p.h["d"] = health.Dead
	p.ScanDead()
	p.ScanDead()
	if q, _ := p.Queue.Counts(); q != 2 || !slices.Equal(dead, []string{"d"}) {
		t.Fatalf("queued %d, dead %v; want 2 slices of d, d found dead once", q, dead)
	}
	p.PlanDue()
	if q, j := p.Queue.Counts(); q != 0 || j != 0 || len(p.ix.slices["s1"].Replicas) != 3 {
		t.Fatalf("%d queued, %d jobs, s1 on %v: want d forgotten, nothing to do", q, j, p.ix.slices["s1"].Replicas)
	}
	p.h["d"] = health.Alive
	p.ScanDead()
	p.h["d"] = health.Dead
	p.ScanDead()
	if !slices.Equal(dead, []string{"d", "d"}) {
		t.Fatalf("found dead %v, want d twice", dead)
	}
}

// Sweep queues every slice listed on fewer than R nodes, at the first pass
// and again every SweepEvery, or at once after ResetSweep (a new leader).
func TestSweep(t *testing.T) {
	p := newPlanner(t, []string{"a", "b", "c"}, "s1")
	p.ix.slices["s2"] = &metav1.SliceEntry{Id: "s2", Size: 1, Replicas: []string{"a"}}
	p.Tick()
	if got := jobSlices(p.Queue); !slices.Equal(got, []string{"s2"}) {
		t.Fatalf("after the first pass, jobs for %v, want [s2]", got)
	}
	p.ix.slices["s3"] = &metav1.SliceEntry{Id: "s3", Size: 1, Replicas: []string{"b"}}
	p.Tick()
	if got := jobSlices(p.Queue); !slices.Equal(got, []string{"s2"}) {
		t.Fatalf("swept again before SweepEvery: jobs for %v", got)
	}
	p.Queue.ResetSweep()
	p.Tick()
	if got := jobSlices(p.Queue); !slices.Equal(got, []string{"s2", "s3"}) {
		t.Fatalf("after ResetSweep, jobs for %v, want [s2 s3]", got)
	}
}

// A slice no live node holds waits in the queue, without a job, until a
// holder comes back; one no longer in the index leaves the queue.
func TestPlanWithoutLiveReplica(t *testing.T) {
	p := newPlanner(t, []string{"x", "y"}, "s1")
	p.h["x"], p.h["y"] = health.Dead, health.Suspect
	if done, err := p.Plan("s1"); done || !errors.Is(err, repair.ErrNoLiveReplica) {
		t.Fatalf("Plan = %v, %v; want ErrNoLiveReplica", done, err)
	}
	p.Queue.Enqueue("s1", "gone")
	p.PlanDue()
	if q, j := p.Queue.Counts(); q != 1 || j != 0 {
		t.Fatalf("%d queued, %d jobs; want s1 waiting without a job", q, j)
	}
	p.h["y"] = health.Alive
	p.PlanDue()
	if j := p.Queue.Jobs(); len(j) != 1 || j[0].Source != "y" || len(j[0].Targets) != 2 {
		t.Fatalf("jobs %v, want one from y to two new nodes", j)
	}
	want := p.Queue.Jobs()[0].TaskID
	if task := p.Queue.Drop("s1"); task != want {
		t.Fatalf("Drop returned task %q, want %q", task, want)
	}
	if q, j := p.Queue.Counts(); q != 0 || j != 0 {
		t.Fatalf("after Drop: %d queued, %d jobs", q, j)
	}
}

// DESIGN §5.4: a replica is lost only when two reports running lack it;
// the queue remembers each node's first miss, and a new leader's queue
// starts over.
func TestQueueReconcileRemembersMisses(t *testing.T) {
	q := repair.NewQueue()
	expected := set("s1", "s2")
	if r := q.Reconcile("n", expected, set("s1")); len(r.Lost) != 0 {
		t.Fatalf("first report lacking s2: lost %v", r.Lost)
	}
	if r := q.Reconcile("other", expected, set("s1")); len(r.Lost) != 0 {
		t.Fatalf("another node's first report: lost %v", r.Lost)
	}
	if r := q.Reconcile("n", expected, set("s1")); !slices.Equal(r.Lost, []string{"s2"}) {
		t.Fatalf("second report lacking s2: lost %v, want [s2]", r.Lost)
	}
	if r := repair.NewQueue().Reconcile("n", expected, set("s1")); len(r.Lost) != 0 {
		t.Fatalf("a new queue's first report: lost %v", r.Lost)
	}
}
