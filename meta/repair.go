package meta

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// repairJob copies a slice from a live holder to newly placed nodes
// (DESIGN §5.4, whitepaper §4.2.4 step 6). Jobs are soft state: after a
// meta restart the dead-node scan and slice reports find the work again.
type repairJob struct {
	taskID  string
	slice   *metav1.SliceRef
	source  string
	targets []*storagev1.Peer
	ticket  *storagev1.Ticket
	planned time.Time
	issued  time.Time // zero until handed to the source in a heartbeat
}

type repairQueue struct {
	check map[string]bool       // slices to look at
	jobs  map[string]*repairJob // by slice ID
	dead  map[string]bool       // dead nodes whose slices were queued
	lost  map[string]bool       // slices with no live replica, logged once
	seq   uint64
}

// errNoLiveReplica: no live node holds the slice; repair waits for one to
// come back.
var errNoLiveReplica = errors.New("no live replica")

func newRepairQueue() *repairQueue {
	return &repairQueue{check: map[string]bool{}, jobs: map[string]*repairJob{}, dead: map[string]bool{}, lost: map[string]bool{}}
}

// dropRepair forgets a slice's repair, and what its job placed.
func (s *Server) dropRepair(sliceID string) {
	s.mu.Lock()
	j := s.repairs.jobs[sliceID]
	delete(s.repairs.check, sliceID)
	delete(s.repairs.jobs, sliceID)
	delete(s.repairs.lost, sliceID)
	s.mu.Unlock()
	if j != nil {
		s.forgetTask(j.taskID)
	}
}

func (s *Server) enqueueRepair(sliceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repairs.check[sliceID] = true
}

func (s *Server) repairCounts() (under, pending uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(len(s.repairs.check)), uint64(len(s.repairs.jobs))
}

// maxPlanned bounds the work of one repair tick.
const maxPlanned = 512

// thinSweepEvery is how often the whole index is read for slices short of
// R replicas, besides once at start.
const thinSweepEvery = 10 * time.Minute

func (s *Server) repairLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RepairInterval)
	defer t.Stop()
	var swept time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !s.leading() { // DESIGN §5.4: repair runs on the leader; a new one sweeps first
				swept = time.Time{}
				continue
			}
			if now := s.now(); swept.IsZero() || now.Sub(swept) >= thinSweepEvery {
				s.sweepThin()
				swept = now
			}
			s.scanDead()
			s.planRepairs()
			s.expireTasks()
		}
	}
}

// sweepThin queues every slice the index shows with fewer than R replicas.
// The queue and the repair jobs are soft state: a repair whose confirmation
// a meta restart lost, or a thin commit queued just before it, is found
// here again, where neither the dead-node scan (the dead replicas already
// left the index) nor the nodes' slice reports (every listed holder is
// alive) would find it.
func (s *Server) sweepThin() {
	var thin []string
	if err := s.ix.ThinSlices(s.cfg.Replicas, func(id string) error { thin = append(thin, id); return nil }); err != nil {
		s.log.Warn("repair: sweep the index for thin slices", "err", err)
	}
	if len(thin) == 0 {
		return
	}
	s.mu.Lock()
	for _, id := range thin {
		s.repairs.check[id] = true
	}
	s.mu.Unlock()
	s.log.Info("repair: slices short of replicas found in the index", "slices", len(thin))
}

// scanDead queues every slice of a node that has just been declared dead.
func (s *Server) scanDead() {
	recs, err := s.ix.Nodes()
	if err != nil {
		s.log.Warn("repair: list nodes", "err", err)
		return
	}
	for _, r := range recs {
		id := r.GetNodeId()
		dead := s.health.State(id) == health.Dead
		s.mu.Lock()
		seen := s.repairs.dead[id]
		if dead {
			s.repairs.dead[id] = true
		} else {
			delete(s.repairs.dead, id)
		}
		s.mu.Unlock()
		if !dead || seen {
			continue
		}
		s.forgetNode(id)
		s.log.Warn("resource node dead, repairing its slices", "node_id", id)
		var held []string
		s.ix.SlicesOn(id, func(sl string) error { held = append(held, sl); return nil })
		s.mu.Lock()
		for _, sl := range held {
			s.repairs.check[sl] = true
		}
		s.mu.Unlock()
	}
}

// planRepairs turns queued slices that are short of live replicas into jobs.
func (s *Server) planRepairs() {
	s.mu.Lock()
	var todo []string
	for sl := range s.repairs.check {
		if len(todo) == maxPlanned {
			break
		}
		if j := s.repairs.jobs[sl]; j != nil && !s.stale(j) {
			continue
		}
		todo = append(todo, sl)
	}
	s.mu.Unlock()
	for _, sl := range todo {
		done, err := s.planRepair(sl)
		s.noteLost(sl, errors.Is(err, errNoLiveReplica))
		if err != nil && !errors.Is(err, errNoLiveReplica) {
			s.log.Warn("repair: plan", "slice", sl, "err", err)
		}
		if done {
			s.dropRepair(sl)
		}
	}
}

// noteLost logs once when a slice loses its last live replica and once when
// it has one again, rather than at every repair tick in between.
func (s *Server) noteLost(sliceID string, lost bool) {
	s.mu.Lock()
	was := s.repairs.lost[sliceID]
	if lost {
		s.repairs.lost[sliceID] = true
	} else {
		delete(s.repairs.lost, sliceID)
	}
	s.mu.Unlock()
	switch {
	case lost && !was:
		s.log.Error("no live node holds this slice; its files cannot be read until a holder returns", "slice", sliceID)
	case !lost && was:
		s.log.Info("a holder of a lost slice is back", "slice", sliceID)
	}
}

// stale reports whether a job should be planned again: it has waited too
// long for its source to pick it up or confirm it, or its source is no
// longer alive to do either. Called with s.mu held.
func (s *Server) stale(j *repairJob) bool {
	since := j.planned
	if !j.issued.IsZero() {
		since = j.issued
	}
	return s.now().Sub(since) >= s.cfg.RepairTimeout || s.health.State(j.source) != health.Alive
}

// planRepair makes a job for one slice; done reports that the slice needs
// nothing more (enough live replicas, or no longer in the index).
func (s *Server) planRepair(sliceID string) (done bool, err error) {
	sl, err := s.ix.Slice(sliceID)
	if errors.Is(err, index.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var live, dead []string
	for _, r := range sl.GetReplicas() {
		switch s.health.State(r) {
		case health.Alive:
			live = append(live, r)
		case health.Dead:
			dead = append(dead, r)
		}
	}
	if len(live) >= s.cfg.Replicas {
		// Enough live copies: forget the dead ones here too, not only when
		// a repair is confirmed, since a confirmation can go to a leader
		// that does not know the node is dead yet (DESIGN §5.4).
		return true, s.forgetDead(sl.GetId(), dead)
	}
	if len(live) == 0 {
		return false, fmt.Errorf("%w of %d", errNoLiveReplica, len(sl.GetReplicas()))
	}
	ref := &metav1.SliceRef{Id: sl.GetId(), Size: sl.GetSize()}
	s.mu.Lock()
	s.repairs.seq++
	taskID := fmt.Sprintf("r%d", s.repairs.seq)
	s.mu.Unlock()
	p, err := s.place(taskID, ref, sl.GetReplicas(), s.cfg.Replicas-len(live), "")
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	src := live[s.rng.IntN(len(live))]
	old := s.repairs.jobs[sliceID]
	s.repairs.jobs[sliceID] = &repairJob{taskID: taskID, slice: ref, source: src, targets: p.GetNodes(), ticket: p.GetTicket(), planned: s.now()}
	s.mu.Unlock()
	if old != nil {
		s.forgetTask(old.taskID)
	}
	return false, nil
}

// forgetDead removes replicas on dead nodes from a slice with enough live
// ones.
func (s *Server) forgetDead(sliceID string, dead []string) error {
	if len(dead) == 0 {
		return nil
	}
	if _, err := s.apply(removeReplicas(sliceID, dead...)); err != nil {
		return fmt.Errorf("forget dead replicas of %s: %w", sliceID, err)
	}
	return nil
}

// repairOrdersFor hands a node the jobs whose source it is.
func (s *Server) repairOrdersFor(node string) []*metav1.RepairOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*metav1.RepairOrder
	for _, j := range s.repairs.jobs {
		if j.source != node || !j.issued.IsZero() {
			continue
		}
		j.issued = s.now()
		out = append(out, &metav1.RepairOrder{TaskId: j.taskID, SliceId: j.slice.GetId(), Size: j.slice.GetSize(), Targets: j.targets, Ticket: j.ticket})
	}
	return out
}

// ConfirmRepair records the new replicas a repair made, each proved by its
// node's signed receipt, and forgets replicas on dead nodes.
func (s *Server) ConfirmRepair(ctx context.Context, req *metav1.ConfirmRepairRequest) (*metav1.ConfirmRepairResponse, error) {
	job := s.jobByTask(req.GetTaskId())
	if job == nil {
		return nil, toStatus(fmt.Errorf("%w (repair %q)", ErrTaskGone, req.GetTaskId()))
	}
	if err := callerIs(ctx, job.source); err != nil {
		return nil, toStatus(err)
	}
	defer s.forgetTask(job.taskID)
	var added []string
	for _, r := range req.GetReceipts() {
		if err := s.verifyReceipt(r, job.taskID, job.slice); err != nil {
			return nil, toStatus(err)
		}
		if slices.ContainsFunc(job.targets, func(p *storagev1.Peer) bool { return p.GetNodeId() == r.GetNodeId() }) {
			added = append(added, r.GetNodeId())
		}
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if len(added) > 0 {
		if _, err := s.applyLocked(addReplicas(job.slice.GetId(), added...)); err != nil {
			return nil, toStatus(err)
		}
	}
	if sl, err := s.ix.Slice(job.slice.GetId()); err == nil {
		var dead []string
		for _, r := range sl.GetReplicas() {
			if s.health.State(r) == health.Dead {
				dead = append(dead, r)
			}
		}
		if len(dead) > 0 && len(sl.GetReplicas())-len(dead) >= s.cfg.MinReplicas {
			if _, err := s.applyLocked(removeReplicas(sl.GetId(), dead...)); err != nil {
				s.log.Warn("repair: forget dead replicas", "slice", sl.GetId(), "err", err)
			}
		}
	}
	s.mu.Lock()
	delete(s.repairs.jobs, job.slice.GetId())
	s.repairs.check[job.slice.GetId()] = true // look again: one target may have failed
	s.mu.Unlock()
	s.log.Info("slice repaired", "slice", job.slice.GetId(), "new_replicas", added)
	return &metav1.ConfirmRepairResponse{}, nil
}

func (s *Server) jobByTask(taskID string) *repairJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.repairs.jobs {
		if j.taskID == taskID {
			return j
		}
	}
	return nil
}

// expireTasks ends upload tasks past their deadline.
func (s *Server) expireTasks() {
	now := s.now().UnixNano()
	var expired []string
	s.ix.Tasks(func(t *metav1.Task) error {
		if t.GetExpiresUnixNano() < now {
			expired = append(expired, t.GetId())
		}
		return nil
	})
	for _, id := range expired {
		s.forgetTask(id)
		if _, err := s.apply(&metav1.Command{Op: &metav1.Command_EndTask{EndTask: &metav1.EndTaskCmd{TaskId: id}}}); err != nil && !errors.Is(err, index.ErrNotFound) {
			s.log.Warn("expire task", "task", id, "err", err)
		}
	}
}
