package resource

import (
	"container/list"
	"sync"
	"time"
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
// in the time an honest header takes to arrive. A stream is never pushed
// out before it has waited grace: a burst of new streams cannot push out
// an honest one that arrived a moment before them; if every stream in a
// full line is that young, the newcomer is refused instead.
type waitLine struct {
	max   int
	grace time.Duration
	now   func() time.Time

	mu      sync.Mutex
	waiting list.List // of *waiter, oldest first
}

type waiter struct {
	since time.Time
	out   chan struct{} // closed when pushed out
}

// lineGrace is how long a stream is safe in the line from newcomers.
const lineGrace = 100 * time.Millisecond

func newWaitLine(max int, now func() time.Time) *waitLine {
	return &waitLine{max: max, grace: lineGrace, now: now}
}

// enter takes a place in the line, unless it is full of streams younger
// than grace (ok is false). pushedOut is closed if a newcomer takes the
// place before leave is called; leave must be called once the first
// message is in (or the wait failed).
func (l *waitLine) enter() (pushedOut <-chan struct{}, leave func(), ok bool) {
	w := &waiter{since: l.now(), out: make(chan struct{})}
	l.mu.Lock()
	if l.waiting.Len() >= l.max {
		oldest := l.waiting.Front()
		if w.since.Sub(oldest.Value.(*waiter).since) < l.grace {
			l.mu.Unlock()
			return nil, nil, false
		}
		close(l.waiting.Remove(oldest).(*waiter).out)
	}
	e := l.waiting.PushBack(w)
	l.mu.Unlock()
	return w.out, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-w.out: // pushed out: no longer in the list
		default:
			l.waiting.Remove(e)
		}
	}, true
}

// len is the number of streams waiting.
func (l *waitLine) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiting.Len()
}
