package repair

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// ErrNoLiveReplica is returned by Plan for a slice no live node holds:
// repair waits for a holder to come back.
var ErrNoLiveReplica = errors.New("no live replica")

// Index is what repair reads of the index; *index.Index is one.
type Index interface {
	Slice(id string) (*metav1.SliceEntry, error)
	SlicesOn(nodeID string, fn func(sliceID string) error) error
	ThinSlices(r int, fn func(sliceID string) error) error
	Nodes() ([]*metav1.NodeRecord, error)
}

var _ Index = (*index.Index)(nil)

// PlaceFunc chooses up to count live nodes, none of them in exclude, to
// receive a copy of ref for task taskID; fewer when fewer are eligible. The
// pipeline's ticket lets the targets accept the copy.
type PlaceFunc func(taskID string, ref *metav1.SliceRef, exclude []string, count int) (*metav1.Pipeline, error)

// Planner runs repair passes over a Queue. Its fields are what repair needs
// from the meta node; a Planner is cheap to build and may be built per call.
type Planner struct {
	Config Config
	Queue  *Queue
	Index  Index
	Health Liveness
	Place  PlaceFunc
	// Apply applies an index command (AddReplicas, RemoveReplicas).
	Apply func(*metav1.Command) error
	// Release is told the task of a job that was replaced or ended, whose
	// placements are no longer needed; nil for nothing.
	Release func(taskID string)
	// NodeDead is told when a node is first found dead; nil for nothing.
	NodeDead func(nodeID string)
	Now      func() time.Time
	// Pick returns a uniform random int in [0, n): which live holder
	// copies a slice.
	Pick func(n int) int
	Log  *slog.Logger // nil: discard
}

func (p Planner) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// Tick runs one repair pass: a sweep of the index when one is due, the
// dead-node scan, and the planning of queued slices.
func (p Planner) Tick() {
	if p.Queue.sweepDue(p.Now(), p.Config.SweepEvery) {
		p.Sweep()
	}
	p.ScanDead()
	p.PlanDue()
}

// Sweep queues every slice the index shows with fewer than R replicas.
// The queue and the jobs are soft state: a repair whose confirmation a
// meta restart lost, or a thin commit queued just before it, is found here
// again, where neither the dead-node scan (the dead replicas already left
// the index) nor the nodes' slice reports (every listed holder is alive)
// would find it.
func (p Planner) Sweep() {
	var thin []string
	if err := p.Index.ThinSlices(p.Config.Replicas, func(id string) error { thin = append(thin, id); return nil }); err != nil {
		p.log().Warn("repair: sweep the index for thin slices", "err", err)
	}
	if len(thin) == 0 {
		return
	}
	p.Queue.Enqueue(thin...)
	p.log().Info("repair: slices short of replicas found in the index", "slices", len(thin))
}

// ScanDead queues every slice of a node that has just been found dead.
func (p Planner) ScanDead() {
	recs, err := p.Index.Nodes()
	if err != nil {
		p.log().Warn("repair: list nodes", "err", err)
		return
	}
	for _, r := range recs {
		id := r.GetNodeId()
		if !p.Queue.markDead(id, p.Health.State(id) == health.Dead) {
			continue
		}
		if p.NodeDead != nil {
			p.NodeDead(id)
		}
		p.log().Warn("resource node dead, repairing its slices", "node_id", id)
		var held []string
		if err := p.Index.SlicesOn(id, func(sl string) error { held = append(held, sl); return nil }); err != nil {
			p.log().Warn("repair: list the slices of a dead node", "node_id", id, "err", err)
		}
		p.Queue.Enqueue(held...)
	}
}

// PlanDue turns queued slices that are short of live replicas into jobs,
// at most Config.MaxPlanned of them, and drops the slices that need
// nothing more.
func (p Planner) PlanDue() {
	var failed int
	var first error
	for _, sl := range p.Queue.due(p.Config.MaxPlanned, p.stale) {
		done, err := p.Plan(sl)
		p.noteLost(sl, errors.Is(err, ErrNoLiveReplica))
		if err != nil && !errors.Is(err, ErrNoLiveReplica) {
			if failed++; first == nil {
				first = err
			}
		}
		if done {
			p.drop(sl)
		}
	}
	if failed > 0 {
		// One line a pass, not one a slice: with every node full, each
		// queued slice fails the same way at every pass.
		p.log().Warn("repair: slices not planned this pass", "slices", failed, "first_err", first)
	}
}

func (p Planner) drop(sliceID string) {
	if task := p.Queue.Drop(sliceID); task != "" && p.Release != nil {
		p.Release(task)
	}
}

// noteLost logs once when a slice loses its last live replica and once when
// it has one again, rather than at every pass in between.
func (p Planner) noteLost(sliceID string, lost bool) {
	switch was := p.Queue.noteLost(sliceID, lost); {
	case lost && !was:
		p.log().Error("no live node holds this slice; its files cannot be read until a holder returns", "slice", sliceID)
	case !lost && was:
		p.log().Info("a holder of a lost slice is back", "slice", sliceID)
	}
}

// stale reports whether a job should be planned again: it has waited too
// long for its source to pick it up or confirm it, or its source is no
// longer alive to do either.
func (p Planner) stale(j *Job) bool {
	since := j.Planned
	if !j.Issued.IsZero() {
		since = j.Issued
	}
	return p.Now().Sub(since) >= p.Config.Timeout || p.Health.State(j.Source) != health.Alive
}

// Plan makes a job for one slice; done reports that the slice needs nothing
// more (R live replicas, or no longer in the index). A slice with no live
// replica gets ErrNoLiveReplica.
func (p Planner) Plan(sliceID string) (done bool, err error) {
	sl, err := p.Index.Slice(sliceID)
	if errors.Is(err, index.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read slice %s: %w", sliceID, err)
	}
	live, dead := Holders(sl.GetReplicas(), p.Health)
	if len(live) >= p.Config.Replicas {
		// Enough live copies: forget the dead ones here too, not only when
		// a repair is confirmed, since a confirmation can go to a leader
		// that does not know the node is dead yet (DESIGN §5.4).
		return true, p.forget(sl.GetId(), dead)
	}
	if len(live) == 0 {
		return false, fmt.Errorf("%w of %d", ErrNoLiveReplica, len(sl.GetReplicas()))
	}
	ref := &metav1.SliceRef{Id: sl.GetId(), Size: sl.GetSize()}
	taskID := p.Queue.nextTask()
	pipe, err := p.Place(taskID, ref, sl.GetReplicas(), p.Config.Replicas-len(live))
	if err != nil {
		return false, fmt.Errorf("place repair of %s: %w", sliceID, err)
	}
	src := live[p.Pick(len(live))]
	job := &Job{TaskID: taskID, Slice: ref, Source: src, Targets: pipe.GetNodes(), Ticket: pipe.GetTicket(), Planned: p.Now()}
	if old := p.Queue.put(job); old != nil && p.Release != nil {
		p.Release(old.TaskID)
	}
	return false, nil
}

// forget removes replicas on dead nodes from a slice with enough live
// ones.
func (p Planner) forget(sliceID string, dead []string) error {
	if len(dead) == 0 {
		return nil
	}
	if err := p.Apply(removeReplicas(sliceID, dead...)); err != nil {
		return fmt.Errorf("forget dead replicas of %s: %w", sliceID, err)
	}
	return nil
}

// Confirm records the copies a job made: the targets among storedOn are
// added to the slice's replicas (the caller has checked each one's signed
// receipt), dead replicas are forgotten when enough others remain, and the
// slice is queued to be looked at again, since a target may have failed.
// It returns the replicas added. The caller releases the job's task.
func (p Planner) Confirm(job Job, storedOn []string) (added []string, err error) {
	for _, n := range storedOn {
		if slices.ContainsFunc(job.Targets, func(t *storagev1.Peer) bool { return t.GetNodeId() == n }) {
			added = append(added, n)
		}
	}
	id := job.Slice.GetId()
	if len(added) == 0 {
		// Nothing was copied: nothing to record, and no reason to forget
		// a dead replica. Look at the slice again.
		p.Queue.finish(id)
		return nil, nil
	}
	if err := p.Apply(addReplicas(id, added...)); err != nil {
		return nil, fmt.Errorf("record repair of %s: %w", id, err)
	}
	if sl, err := p.Index.Slice(id); err == nil {
		if dead := DeadAfterCopy(sl.GetReplicas(), p.Health, p.Config.MinReplicas); len(dead) > 0 {
			if err := p.Apply(removeReplicas(id, dead...)); err != nil {
				p.log().Warn("repair: forget dead replicas", "slice", id, "err", err)
			}
		}
	}
	p.Queue.finish(id)
	return added, nil
}

// DropLost removes node from the replicas of slices its reports no longer
// list (Reconcile's Lost) and queues the slices for repair.
func (p Planner) DropLost(node string, sliceIDs []string) {
	for _, sl := range sliceIDs {
		p.log().Warn("replica lost", "node_id", node, "slice", sl)
		if err := p.Apply(removeReplicas(sl, node)); err != nil {
			p.log().Warn("drop lost replica", "slice", sl, "err", err)
		}
		p.Queue.Enqueue(sl)
	}
}

func removeReplicas(sliceID string, nodes ...string) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_RemoveReplicas{RemoveReplicas: &metav1.RemoveReplicasCmd{SliceId: sliceID, NodeIds: nodes}}}
}

func addReplicas(sliceID string, nodes ...string) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_AddReplicas{AddReplicas: &metav1.AddReplicasCmd{SliceId: sliceID, NodeIds: nodes}}}
}
