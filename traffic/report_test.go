package traffic

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
)

// whitepaper §3.2.1: each period the top N nodes by traffic are reported;
// equal traffic is broken by node ID so every meta node reports the same.
func TestTop(t *testing.T) {
	vols := func() []Volume {
		return []Volume{{"a", 100}, {"d", 200}, {"b", 300}, {"c", 200}, {"e", 1}}
	}
	for _, tc := range []struct {
		n    int
		want []Volume
	}{
		{2, []Volume{{"b", 300}, {"c", 200}}},
		{3, []Volume{{"b", 300}, {"c", 200}, {"d", 200}}},
		{10, []Volume{{"b", 300}, {"c", 200}, {"d", 200}, {"a", 100}, {"e", 1}}},
		{0, []Volume{}},
		{-1, []Volume{}},
	} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			if got := Top(vols(), tc.n); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Top(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
	if got := Top(nil, 3); len(got) != 0 {
		t.Fatalf("Top of nothing = %v", got)
	}
}

// The choice must not depend on the order the counters arrive in (a map's,
// a scan's): every permutation gives the same top N.
func FuzzTopOrderFree(f *testing.F) {
	f.Add([]byte{3, 1, 4, 1, 5, 9, 2, 6}, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		var vols []Volume
		seen := map[string]bool{}
		for i, b := range data {
			id := fmt.Sprintf("n%d", i%13)
			if seen[id] {
				continue
			}
			seen[id] = true
			vols = append(vols, Volume{id, uint64(b % 4)})
		}
		want := slices.Clone(Top(slices.Clone(vols), int(n)))
		slices.Reverse(vols)
		if got := Top(vols, int(n)); !slices.Equal(got, want) {
			t.Fatalf("reversed input: %v, want %v", got, want)
		}
		for i := 1; i < len(want); i++ {
			if byTraffic(want[i-1], want[i]) >= 0 {
				t.Fatalf("not in order: %v", want)
			}
		}
	})
}

// DESIGN §7: a period's report pays traffic, storage, or both; it is empty
// only when no node earns from either. A refused report gives back its
// traffic alone: storage is a snapshot, nothing was taken for it.
func TestReportEmptyAndTraffic(t *testing.T) {
	stored := Report{StoredNodes: []Volume{{"n1", 5}}, StoredUsers: []Volume{{"u", 5}}}
	for _, tc := range []struct {
		r     Report
		empty bool
	}{
		{Report{}, true},
		{Report{Users: []Volume{{"u", 1}}}, true},
		{Report{StoredUsers: []Volume{{"u", 1}}}, true},
		{Report{Nodes: []Volume{{"n1", 1}}}, false},
		{stored, false},
	} {
		if got := tc.r.Empty(); got != tc.empty {
			t.Errorf("%+v.Empty() = %v", tc.r, got)
		}
	}
	full := stored
	full.Nodes, full.Users = []Volume{{"n2", 3}}, []Volume{{"u", 3}}
	want := Report{Nodes: full.Nodes, Users: full.Users}
	if got := full.Traffic(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Traffic() = %+v, want %+v", got, want)
	}
}

func TestAddBytesSaturates(t *testing.T) {
	for _, tc := range []struct{ a, b, want uint64 }{
		{0, 0, 0}, {1, 2, 3}, {math.MaxUint64 - 1, 1, math.MaxUint64}, {math.MaxUint64, 1, math.MaxUint64}, {math.MaxUint64, math.MaxUint64, math.MaxUint64},
	} {
		if got := AddBytes(tc.a, tc.b); got != tc.want {
			t.Errorf("AddBytes(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
