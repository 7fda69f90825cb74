package resource

import "testing"

// The wait line (issue 8): full, it pushes out the stream that has waited
// longest; a stream that leaves is gone from the line, and leaving twice
// changes nothing.
func TestWaitLine(t *testing.T) {
	l := newWaitLine(2)
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	a, _ := l.enter()
	b, leaveB := l.enter()
	c, _ := l.enter()
	if !closed(a) || closed(b) || closed(c) {
		t.Fatalf("a newcomer to a full line: oldest pushed out %v, the next %v, itself %v", closed(a), closed(b), closed(c))
	}
	leaveB()
	if l.len() != 1 {
		t.Fatalf("%d waiting after one left, want 1", l.len())
	}
	_, leaveD := l.enter()
	if closed(c) {
		t.Fatal("a line with room pushed a stream out")
	}
	leaveD()
	leaveD()
	if l.len() != 1 {
		t.Fatalf("%d waiting, want 1", l.len())
	}
}
