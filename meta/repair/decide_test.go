package repair_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/repair"
)

// liveness is a fake repair.Liveness: nodes it does not name are Unknown.
type liveness map[string]health.State

func (l liveness) State(id string) health.State { return l[id] }

// DESIGN §5.4: live holders are copied from and count towards R, dead ones
// may be forgotten; suspect and unknown nodes are neither.
func TestHolders(t *testing.T) {
	h := liveness{"a": health.Alive, "b": health.Dead, "c": health.Suspect, "e": health.Alive, "f": health.Dead}
	live, dead := repair.Holders([]string{"e", "b", "a", "c", "d", "f"}, h)
	if want := []string{"e", "a"}; !slices.Equal(live, want) {
		t.Errorf("live = %v, want %v", live, want)
	}
	if want := []string{"b", "f"}; !slices.Equal(dead, want) {
		t.Errorf("dead = %v, want %v", dead, want)
	}
}

// DESIGN §5.4: a confirmed repair forgets the dead replicas, all of them or
// none, so that at least MinReplicas live replicas remain; suspect and
// unknown ones may be dead too, and do not count.
func TestDeadAfterCopy(t *testing.T) {
	h := liveness{"a": health.Alive, "b": health.Alive, "c": health.Alive, "s": health.Suspect, "x": health.Dead, "y": health.Dead}
	tests := []struct {
		name     string
		replicas []string
		min      int
		want     []string
	}{
		{"nothing dead", []string{"a", "b", "c"}, 2, nil},
		{"one dead, two remain", []string{"a", "x", "b"}, 2, []string{"x"}},
		{"two dead, one would remain", []string{"x", "a", "y"}, 2, nil},
		{"two dead, two remain", []string{"a", "x", "b", "y"}, 2, []string{"x", "y"}},
		{"suspect does not count", []string{"s", "x", "a"}, 2, nil},
		{"unknown does not count", []string{"u", "x", "a"}, 2, nil},
		{"suspect beside enough live ones", []string{"s", "x", "a", "b"}, 2, []string{"x"}},
		{"all dead", []string{"x", "y"}, 1, nil},
		{"min of one", []string{"x", "a", "y"}, 1, []string{"x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := repair.DeadAfterCopy(tt.replicas, h, tt.min); !slices.Equal(got, tt.want) {
				t.Errorf("DeadAfterCopy(%v, min %d) = %v, want %v", tt.replicas, tt.min, got, tt.want)
			}
		})
	}
}

func set(ids ...string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// DESIGN §5.4: slice reports find replicas the index does not know
// (garbage) and replicas that went missing; a replica is lost only when two
// reports running lack it.
func TestReconcile(t *testing.T) {
	steps := []struct {
		name          string
		expected, has map[string]bool
		garbage, lost []string
		missing       []string
	}{
		{"first report", set("x", "y", "z"), set("x", "g", "h"), []string{"g", "h"}, nil, []string{"y", "z"}},
		{"y still missing, z back", set("x", "y", "z"), set("x", "z", "g"), []string{"g"}, []string{"y"}, nil},
		{"missing once is not lost", set("x", "z"), set("z"), nil, nil, []string{"x"}},
		{"back before the second report", set("x", "z"), set("x", "z"), nil, nil, nil},
		{"no longer expected", set("z"), set("x", "z"), []string{"x"}, nil, nil},
	}
	var prev map[string]bool
	for _, st := range steps {
		rep := repair.Reconcile(st.expected, st.has, prev)
		if !slices.Equal(rep.Garbage, st.garbage) || !slices.Equal(rep.Lost, st.lost) {
			t.Fatalf("%s: garbage %v lost %v, want %v and %v", st.name, rep.Garbage, rep.Lost, st.garbage, st.lost)
		}
		if got := slices.Sorted(maps.Keys(rep.Missing)); !slices.Equal(got, st.missing) {
			t.Fatalf("%s: missing %v, want %v", st.name, got, st.missing)
		}
		prev = rep.Missing
	}
}
