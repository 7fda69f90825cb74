package health

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// Tracker holds the liveness and load of every resource node heard from.
// It is safe for concurrent use.
type Tracker struct {
	cfg    Config
	now    func() time.Time
	uptime uptimeModel

	mu    sync.RWMutex
	nodes map[string]*record
}

type record struct {
	load     Load  // as last reported
	extra    int64 // connections assigned since the last report
	lastSeen time.Time
	uptime   uptime
}

// NodeHealth is a snapshot of one node.
type NodeHealth struct {
	ID       string
	State    State
	Load     Load
	LastSeen time.Time
	Uptime   float64
}

// NewTracker returns an empty Tracker that reads the time from now (nil
// means time.Now). It panics if cfg is invalid: check Config.Validate
// where the config is read.
func NewTracker(cfg Config, now func() time.Time) *Tracker {
	if err := cfg.Validate(); err != nil {
		panic("health.NewTracker: " + err.Error())
	}
	if now == nil {
		now = time.Now
	}
	return &Tracker{cfg: cfg, now: now, uptime: newUptimeModel(cfg), nodes: make(map[string]*record)}
}

// Observe records a heartbeat from nodeID, arriving now, reporting load. It
// replaces the Tracker's own connection estimate (AddConnections) with the
// node's report.
func (t *Tracker) Observe(nodeID string, load Load) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.nodes[nodeID]
	if !ok {
		r = &record{lastSeen: now, uptime: uptime{mark: now}}
		t.nodes[nodeID] = r
	}
	// Intervals before this heartbeat are judged by the previous one.
	r.uptime = t.uptime.advance(r.uptime, r.lastSeen, now)
	if now.After(r.lastSeen) { // two Observes may read the clock out of order
		r.lastSeen = now
	}
	r.load, r.extra = load, 0
}

// State returns the liveness of nodeID now.
func (t *Tracker) State(nodeID string) State {
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.nodes[nodeID]
	if !ok {
		return Unknown
	}
	return t.state(r, now)
}

func (t *Tracker) state(r *record, now time.Time) State {
	switch silent := now.Sub(r.lastSeen); {
	case silent < t.cfg.SuspectAfter:
		return Alive
	case silent < t.cfg.DeadAfter:
		return Suspect
	default:
		return Dead
	}
}

// Load returns the last load nodeID reported, with Connections adjusted by
// AddConnections since then.
func (t *Tracker) Load(nodeID string) (Load, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.nodes[nodeID]
	if !ok {
		return Load{}, false
	}
	return r.effectiveLoad(), true
}

func (r *record) effectiveLoad() Load {
	l := r.load
	l.Connections = uint32(min(max(int64(l.Connections)+r.extra, 0), math.MaxUint32))
	return l
}

// LastSeen returns when the last heartbeat from nodeID arrived.
func (t *Tracker) LastSeen(nodeID string) (time.Time, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.nodes[nodeID]
	if !ok {
		return time.Time{}, false
	}
	return r.lastSeen, true
}

// Uptime returns the node's decaying average of having been alive, 0..1,
// over the whole heartbeat intervals since it was first seen (0 for a node
// never seen). It starts at 0 and approaches 1 only after the node has
// stayed alive for a few half-lives, so a newcomer or a node that has just
// come back ranks below one that has been steady.
func (t *Tracker) Uptime(nodeID string) float64 {
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.nodes[nodeID]
	if !ok {
		return 0
	}
	return t.uptime.advance(r.uptime, r.lastSeen, now).avg
}

// AddConnections adjusts the connection count of nodeID by delta: the
// leader's own estimate of transfers it has assigned since the node last
// reported, so that placement between heartbeats sees them. The next
// Observe replaces the estimate with the node's report. Unknown nodes are
// ignored.
func (t *Tracker) AddConnections(nodeID string, delta int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.nodes[nodeID]; ok {
		r.extra += int64(delta)
	}
}

// Forget drops everything known about nodeID, e.g. once it leaves the
// registry; dead nodes are otherwise kept, as Dead, for the repair loop.
func (t *Tracker) Forget(nodeID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.nodes, nodeID)
}

// All returns a snapshot of every known node, sorted by ID.
func (t *Tracker) All() []NodeHealth {
	now := t.now()
	t.mu.RLock()
	out := make([]NodeHealth, 0, len(t.nodes))
	for id, r := range t.nodes {
		out = append(out, NodeHealth{
			ID:       id,
			State:    t.state(r, now),
			Load:     r.effectiveLoad(),
			LastSeen: r.lastSeen,
			Uptime:   t.uptime.advance(r.uptime, r.lastSeen, now).avg,
		})
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b NodeHealth) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
