package traffic

import (
	"reflect"
	"testing"
)

// whitepaper §3.2.1: each period the top N nodes by traffic are reported
// and rewarded, their counters cleared; the traffic of the other nodes is
// kept for the next period.
func TestTakeTopN(t *testing.T) {
	l := NewLedger()
	l.Add("a", "u1", 100)
	l.Add("b", "u1", 300)
	l.Add("c", "u2", 200)
	l.Add("d", "u2", 200)
	l.Add("e", "u2", 0) // nothing served, nothing counted
	r := l.Take(2)
	if want := []Volume{{"b", 300}, {"c", 200}}; !reflect.DeepEqual(r.Nodes, want) {
		t.Fatalf("top 2 = %v, want %v (ties by ID)", r.Nodes, want)
	}
	if want := []Volume{{"u1", 400}, {"u2", 400}}; !reflect.DeepEqual(r.Users, want) {
		t.Fatalf("users = %v, want %v", r.Users, want)
	}
	l.Add("a", "u1", 50)
	next := l.Take(10)
	if want := []Volume{{"d", 200}, {"a", 150}}; !reflect.DeepEqual(next.Nodes, want) {
		t.Fatalf("next period = %v, want %v: unreported traffic rolls over", next.Nodes, want)
	}
	if !l.Take(10).Empty() {
		t.Fatal("a reported period left traffic behind")
	}
}

func TestRestore(t *testing.T) {
	l := NewLedger()
	l.Add("a", "u", 10)
	r := l.Take(5)
	l.Restore(r) // the chain did not take it
	l.Add("a", "u", 5)
	if got := l.Take(5); !reflect.DeepEqual(got.Nodes, []Volume{{"a", 15}}) || !reflect.DeepEqual(got.Users, []Volume{{"u", 15}}) {
		t.Fatalf("after restore: %+v", got)
	}
}
