package meta

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/repair"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// repairQueue is the leader's repair work (DESIGN §5.4, whitepaper §4.2.4
// step 6): soft state, so after a meta restart the sweep, the dead-node
// scan and slice reports find the work again. The decisions live in
// meta/repair, which the repair simulation runs too.
type repairQueue = repair.Queue

func newRepairQueue() *repairQueue { return repair.NewQueue() }

// maxPlanned bounds the work of one repair tick.
const maxPlanned = 512

// thinSweepEvery is how often the whole index is read for slices short of
// R replicas, besides once at start.
const thinSweepEvery = 10 * time.Minute

// queue returns the repair queue of the current leadership, which
// dropLeaderState replaces under s.mu.
func (s *Server) queue() *repairQueue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repairs
}

// repairer is the repair planner over this node's index, health tracker
// and placement.
func (s *Server) repairer() repair.Planner {
	return repair.Planner{
		Config: repair.Config{
			Replicas: s.cfg.Replicas, MinReplicas: s.cfg.MinReplicas, Timeout: s.cfg.RepairTimeout,
			MaxPlanned: maxPlanned, SweepEvery: thinSweepEvery,
		},
		Queue:  s.queue(),
		Index:  s.ix,
		Health: s.health,
		Place: func(taskID string, ref *metav1.SliceRef, exclude []string, count int) (*metav1.Pipeline, error) {
			return s.place(taskID, ref, exclude, count, "")
		},
		Apply:    func(cmd *metav1.Command) error { _, err := s.apply(cmd); return err },
		Release:  s.forgetTask,
		NodeDead: s.forgetNode,
		Now:      s.now,
		Pick:     s.pick,
		Log:      s.log,
	}
}

// pick returns a random int in [0, n) from the server's generator.
func (s *Server) pick(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(n)
}

// dropRepair forgets a slice's repair, and what its job placed.
func (s *Server) dropRepair(sliceID string) {
	if task := s.queue().Drop(sliceID); task != "" {
		s.forgetTask(task)
	}
}

func (s *Server) enqueueRepair(sliceID string) { s.queue().Enqueue(sliceID) }

func (s *Server) repairCounts() (under, pending uint64) {
	q, j := s.queue().Counts()
	return uint64(q), uint64(j)
}

func (s *Server) repairLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RepairInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !s.leading() { // DESIGN §5.4: repair runs on the leader; a new one sweeps first
				s.queue().ResetSweep()
				continue
			}
			s.repairer().Tick()
			s.expireTasks()
		}
	}
}

// sweepThin queues every slice the index shows with fewer than R replicas
// (repair.Planner.Sweep).
func (s *Server) sweepThin() { s.repairer().Sweep() }

// scanDead queues every slice of a node that has just been declared dead.
func (s *Server) scanDead() { s.repairer().ScanDead() }

// planRepairs turns queued slices that are short of live replicas into jobs.
func (s *Server) planRepairs() { s.repairer().PlanDue() }

// repairOrdersFor hands a node the jobs whose source it is.
func (s *Server) repairOrdersFor(node string) []*metav1.RepairOrder {
	return s.queue().Issue(node, s.now())
}

// ConfirmRepair records the new replicas a repair made, each proved by its
// node's signed receipt, and forgets replicas on dead nodes.
func (s *Server) ConfirmRepair(ctx context.Context, req *metav1.ConfirmRepairRequest) (*metav1.ConfirmRepairResponse, error) {
	job, ok := s.queue().JobByTask(req.GetTaskId())
	if !ok {
		return nil, toStatus(fmt.Errorf("%w (repair %q)", ErrTaskGone, req.GetTaskId()))
	}
	if err := callerIs(ctx, job.Source); err != nil {
		return nil, toStatus(err)
	}
	defer s.forgetTask(job.TaskID)
	if len(req.GetReceipts()) == 0 {
		return nil, toStatus(fmt.Errorf("%w: a repair confirmation carries the receipts of the copies made", index.ErrBadCommand))
	}
	var stored []string
	for _, r := range req.GetReceipts() {
		if err := s.verifyReceipt(r, job.TaskID, job.Slice); err != nil {
			return nil, toStatus(err)
		}
		stored = append(stored, r.GetNodeId())
	}
	// The new replicas, the slice read back and the dead replicas forgotten
	// are one step: no other command comes between.
	s.applyMu.Lock()
	p := s.repairer()
	p.Apply = func(cmd *metav1.Command) error { _, err := s.applyLocked(cmd); return err }
	added, err := p.Confirm(job, stored)
	s.applyMu.Unlock()
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("slice repaired", "slice", job.Slice.GetId(), "new_replicas", added)
	return &metav1.ConfirmRepairResponse{}, nil
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
