package repair

import (
	"cmp"
	"container/list"
	"slices"
	"strconv"
	"sync"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// Job copies a slice from a live holder to newly placed nodes (DESIGN
// §5.4, whitepaper §4.2.4 step 6).
type Job struct {
	TaskID  string
	Slice   *metav1.SliceRef
	Source  string // the live holder that copies
	Targets []*storagev1.Peer
	Ticket  *storagev1.Ticket
	Planned time.Time
	Issued  time.Time // zero until handed to the source in a heartbeat
}

// Order is the job as its source receives it.
func (j *Job) Order() *metav1.RepairOrder {
	return &metav1.RepairOrder{TaskId: j.TaskID, SliceId: j.Slice.GetId(), Size: j.Slice.GetSize(), Targets: j.Targets, Ticket: j.Ticket}
}

// Queue is the leader's repair work: slices to look at, the job of each
// slice being copied, and which nodes were already found dead. It is soft
// state, safe for concurrent use; a new leader starts an empty one.
//
// Queued slices are planned in the order they were queued, and a slice
// planned goes to the back: a pass that can plan only Config.MaxPlanned
// slices never starves the others, and the same calls give the same
// order, which the simulation's seeds rely on.
type Queue struct {
	mu    sync.Mutex
	check map[string]*list.Element // queued slices, by ID, into order
	order *list.List               // of slice IDs, the next to plan first
	jobs  map[string]*Job          // by slice ID
	dead  map[string]bool          // dead nodes whose slices were queued
	lost  map[string]bool          // slices with no live replica, logged once
	// missing holds, by node, the slices its last report lacked for the
	// first time (Reconcile's two-report rule).
	missing map[string]map[string]bool
	seq     uint64
	swept   time.Time // last sweep of the index; zero: sweep at the next pass
}

// NewQueue returns an empty Queue.
func NewQueue() *Queue {
	return &Queue{check: map[string]*list.Element{}, order: list.New(), jobs: map[string]*Job{}, dead: map[string]bool{},
		lost: map[string]bool{}, missing: map[string]map[string]bool{}}
}

// Reconcile is the package's Reconcile for node's slice report, with the
// slices its previous report lacked, which it then remembers for the next.
func (q *Queue) Reconcile(node string, expected, has map[string]bool) Report {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := Reconcile(expected, has, q.missing[node])
	q.missing[node] = r.Missing
	return r
}

// Enqueue queues slices to be looked at.
func (q *Queue) Enqueue(sliceIDs ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, id := range sliceIDs {
		q.enqueueLocked(id)
	}
}

func (q *Queue) enqueueLocked(id string) {
	if q.check[id] == nil {
		q.check[id] = q.order.PushBack(id)
	}
}

// Drop forgets a slice's repair, e.g. once no file uses it; it returns the
// task of the job it dropped ("" for none), whose placements are no longer
// needed.
func (q *Queue) Drop(sliceID string) (taskID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e := q.check[sliceID]; e != nil {
		q.order.Remove(e)
		delete(q.check, sliceID)
	}
	delete(q.lost, sliceID)
	if j := q.jobs[sliceID]; j != nil {
		delete(q.jobs, sliceID)
		return j.TaskID
	}
	return ""
}

// Counts returns how many slices are queued and how many jobs are open.
func (q *Queue) Counts() (queued, jobs int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.check), len(q.jobs)
}

// Jobs returns a copy of every open job, by slice ID.
func (q *Queue) Jobs() []Job {
	q.mu.Lock()
	out := make([]Job, 0, len(q.jobs))
	for _, j := range q.jobs {
		out = append(out, *j)
	}
	q.mu.Unlock()
	slices.SortFunc(out, func(a, b Job) int { return cmp.Compare(a.Slice.GetId(), b.Slice.GetId()) })
	return out
}

// JobByTask returns a copy of the open job with this task ID.
func (q *Queue) JobByTask(taskID string) (Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.jobs {
		if j.TaskID == taskID {
			return *j, true
		}
	}
	return Job{}, false
}

// Issue hands node the orders of the jobs whose source it is and that it
// has not been given yet, marking them issued now; by slice ID.
func (q *Queue) Issue(node string, now time.Time) []*metav1.RepairOrder {
	q.mu.Lock()
	var mine []*Job
	for _, j := range q.jobs {
		if j.Source == node && j.Issued.IsZero() {
			j.Issued = now
			mine = append(mine, j)
		}
	}
	q.mu.Unlock()
	slices.SortFunc(mine, func(a, b *Job) int { return cmp.Compare(a.Slice.GetId(), b.Slice.GetId()) })
	out := make([]*metav1.RepairOrder, len(mine))
	for i, j := range mine {
		out[i] = j.Order()
	}
	return out
}

// ResetSweep makes the next pass sweep the index, as a new leader's first
// one does.
func (q *Queue) ResetSweep() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.swept = time.Time{}
}

// sweepDue reports whether a pass at now sweeps the index, and if so
// records that it does.
func (q *Queue) sweepDue(now time.Time, every time.Duration) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.swept.IsZero() && now.Sub(q.swept) < every {
		return false
	}
	q.swept = now
	return true
}

// due returns up to max queued slices whose job is missing or stale,
// moving them to the back of the queue.
func (q *Queue) due(max int, stale func(*Job) bool) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var picked []*list.Element
	for e := q.order.Front(); e != nil && len(picked) < max; e = e.Next() {
		if j := q.jobs[e.Value.(string)]; j != nil && !stale(j) {
			continue
		}
		picked = append(picked, e)
	}
	out := make([]string, len(picked))
	for i, e := range picked {
		out[i] = e.Value.(string)
		q.order.MoveToBack(e)
	}
	return out
}

// markDead records whether node is dead and reports whether it has just
// turned so.
func (q *Queue) markDead(node string, dead bool) (newly bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	seen := q.dead[node]
	if !dead {
		delete(q.dead, node)
		return false
	}
	q.dead[node] = true
	return !seen
}

// noteLost records whether a slice has no live replica and returns what
// was recorded before.
func (q *Queue) noteLost(sliceID string, lost bool) (was bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	was = q.lost[sliceID]
	if lost {
		q.lost[sliceID] = true
	} else {
		delete(q.lost, sliceID)
	}
	return was
}

// nextTask names a new repair task.
func (q *Queue) nextTask() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	return "r" + strconv.FormatUint(q.seq, 10)
}

// put makes j its slice's job, returning the job it replaced.
func (q *Queue) put(j *Job) (old *Job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	old = q.jobs[j.Slice.GetId()]
	q.jobs[j.Slice.GetId()] = j
	return old
}

// finish ends a slice's job and queues the slice to be looked at again.
func (q *Queue) finish(sliceID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.jobs, sliceID)
	q.enqueueLocked(sliceID)
}
