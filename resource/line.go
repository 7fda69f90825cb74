package resource

import (
	"container/list"
	"sync"
)

// waitLine is where a Store or Fetch stream waits for its first message
// (the header, or the ticket) before it holds anything else: no slot, no
// capacity, no file (issue 8). It holds at most max streams. When it is
// full, a newcomer pushes out the stream that has waited longest. An
// honest peer sends its first message at once, so it waits for
// microseconds; a hostile peer's silent streams wait for HeaderTimeout. A
// line that refused newcomers when full could be kept full by one peer
// opening silent streams, and would lock every honest peer out; one that
// pushes out the oldest is only blocked by a peer that opens max streams
// in the time an honest header takes to arrive.
type waitLine struct {
	max int

	mu      sync.Mutex
	waiting list.List // of chan struct{}, oldest first; closed when pushed out
}

func newWaitLine(max int) *waitLine { return &waitLine{max: max} }

// enter takes a place in the line. pushedOut is closed if a newcomer
// takes the place before leave is called; leave must be called once the
// first message is in (or the wait failed).
func (l *waitLine) enter() (pushedOut <-chan struct{}, leave func()) {
	ch := make(chan struct{})
	l.mu.Lock()
	if l.waiting.Len() >= l.max {
		oldest := l.waiting.Front()
		close(l.waiting.Remove(oldest).(chan struct{}))
	}
	e := l.waiting.PushBack(ch)
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-ch: // pushed out: no longer in the list
		default:
			l.waiting.Remove(e)
		}
	}
}

// len is the number of streams waiting.
func (l *waitLine) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting.Len()
}
