package resource

import (
	"testing"
	"time"
)

// The wait line (issue 8): full, it pushes out the stream that has waited
// longest, once that one has waited lineGrace; a stream that leaves is
// gone from the line; a line full of streams younger than the grace
// refuses newcomers.
func TestWaitLine(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newWaitLine(2, func() time.Time { return now })
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	a, _, ok := l.enter()
	if !ok {
		t.Fatal("an empty line refused a stream")
	}
	now = now.Add(time.Millisecond)
	b, leaveB, _ := l.enter()
	if _, _, ok := l.enter(); ok {
		t.Fatal("a line full of streams that just arrived took another")
	}
	now = now.Add(lineGrace)
	c, _, ok := l.enter()
	if !ok || !closed(a) || closed(b) || closed(c) {
		t.Fatalf("a newcomer to a full line: taken %v, oldest pushed out %v, next %v", ok, closed(a), closed(b))
	}
	leaveB()
	if l.len() != 1 {
		t.Fatalf("%d waiting after one left, want 1", l.len())
	}
	_, leaveD, ok := l.enter()
	if !ok || closed(c) {
		t.Fatal("a line with room pushed a stream out")
	}
	leaveD()
	leaveD() // leaving twice changes nothing
	if l.len() != 1 {
		t.Fatalf("%d waiting, want 1", l.len())
	}
}
