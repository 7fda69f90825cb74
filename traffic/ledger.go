// Package traffic is the meta node's Proof-of-Traffic ledger (DESIGN §7,
// whitepaper §3.2): audited bytes per resource node and per user for the
// current period, and the report of a period: the top N nodes by traffic,
// whose counters are then cleared, while every other node's traffic rolls
// into the next period. It does no I/O.
package traffic

import (
	"cmp"
	"slices"
	"sync"
)

// Ledger counts audited traffic. It is safe for concurrent use.
type Ledger struct {
	mu    sync.Mutex
	nodes map[string]uint64
	users map[string]uint64
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{nodes: map[string]uint64{}, users: map[string]uint64{}}
}

// Add counts bytes a node served to user, proved by both (a receipt the
// node signed in a request the user signed).
func (l *Ledger) Add(node, user string, bytes uint64) {
	if bytes == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nodes[node] += bytes
	l.users[user] += bytes
}

// Volume is one party's traffic in a report.
type Volume struct {
	ID    string // node ID or user address
	Bytes uint64
}

// Report is what a period's volume report carries.
type Report struct {
	Nodes []Volume // the top N, most traffic first (ties: smaller ID first)
	Users []Volume // every user with traffic, by address
}

// Empty reports whether there is nothing to report.
func (r Report) Empty() bool { return len(r.Nodes) == 0 }

// Take returns the report of the period ending now: the topN nodes and
// every user. The reported nodes and the users are cleared; the other
// nodes keep their traffic for the next period (whitepaper §3.2.1). If the
// report is not accepted, Restore puts it back.
func (l *Ledger) Take(topN int) Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	var r Report
	for id, b := range l.nodes {
		r.Nodes = append(r.Nodes, Volume{id, b})
	}
	slices.SortFunc(r.Nodes, func(a, b Volume) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(r.Nodes) > topN {
		r.Nodes = r.Nodes[:topN]
	}
	for _, v := range r.Nodes {
		delete(l.nodes, v.ID)
	}
	for id, b := range l.users {
		r.Users = append(r.Users, Volume{id, b})
	}
	slices.SortFunc(r.Users, func(a, b Volume) int { return cmp.Compare(a.ID, b.ID) })
	clear(l.users)
	return r
}

// Restore adds a report that could not be submitted back to the ledger.
func (l *Ledger) Restore(r Report) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range r.Nodes {
		l.nodes[v.ID] += v.Bytes
	}
	for _, v := range r.Users {
		l.users[v.ID] += v.Bytes
	}
}
