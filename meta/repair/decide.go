package repair

import (
	"slices"

	"github.com/stratos-net/stratos/meta/health"
)

// Liveness answers how the leader sees a resource node now; a
// *health.Tracker does.
type Liveness interface {
	State(nodeID string) health.State
}

var _ Liveness = (*health.Tracker)(nil)

// Holders splits a slice's listed replicas by liveness, keeping their
// order: live ones can be copied from and count towards R; dead ones may
// be forgotten once R live ones exist. Suspect and unknown nodes are
// neither: they may be back in a moment, so they are not copied from, and
// not forgotten either.
func Holders(replicas []string, h Liveness) (live, dead []string) {
	for _, r := range replicas {
		switch h.State(r) {
		case health.Alive:
			live = append(live, r)
		case health.Dead:
			dead = append(dead, r)
		}
	}
	return live, dead
}

// DeadAfterCopy returns the dead replicas a confirmed repair may forget:
// all of them when at least min live replicas remain, else none (DESIGN
// §5.4). Suspect and unknown replicas do not count: a dead node that comes
// back with the bytes is still listed, so they are not deleted as garbage,
// until enough holders are known to be alive.
func DeadAfterCopy(replicas []string, h Liveness, min int) []string {
	live, dead := Holders(replicas, h)
	if len(dead) == 0 || len(live) < min {
		return nil
	}
	return dead
}

// Report is what one slice report of a node means (DESIGN §5.4).
type Report struct {
	// Garbage are slices the node holds that the index does not place
	// on it: the node may delete them (it keeps young ones, which may
	// belong to uploads in flight). Sorted.
	Garbage []string
	// Lost are slices the index places on the node that this report and
	// the one before both lack: lost replicas, to be removed from the
	// index and repaired. Sorted.
	Lost []string
	// Missing are the slices this report lacks for the first time; pass
	// them as prevMissing with the node's next report.
	Missing map[string]bool
}

// Reconcile compares a node's report (has) with the slices the index
// places on it (expected). A replica counts as lost only when two reports
// running lack it, because a slice committed between the node listing its
// store and the report arriving would otherwise look lost.
func Reconcile(expected, has, prevMissing map[string]bool) Report {
	r := Report{Missing: map[string]bool{}}
	for sl := range has {
		if !expected[sl] {
			r.Garbage = append(r.Garbage, sl)
		}
	}
	for sl := range expected {
		switch {
		case has[sl]:
		case prevMissing[sl]:
			r.Lost = append(r.Lost, sl)
		default:
			r.Missing[sl] = true
		}
	}
	slices.Sort(r.Garbage)
	slices.Sort(r.Lost)
	return r
}
