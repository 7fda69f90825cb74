package meta

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratos-net/stratos/wire"
)

// orders are what the meta node tells each resource node at its next
// heartbeat besides repairs: slices to delete and slices to verify. They are
// soft state, rebuilt after a restart by slice reports and new reports of
// bad replicas.
//
// A delete order must never reach a node that is about to hold the slice
// again: content addressing lets a new upload or a repair land the very
// slice a deleted file released. So the meta node also remembers which
// slices open tasks have placed where, and orders are checked against that
// and against the index when they are handed out, not when they are made.
type orders struct {
	deletes map[string]map[string]bool // node → slices
	verify  map[string]map[string]bool // node → slices
	placed  map[string]map[string]int  // slice → node → open tasks placing it there
	byTask  map[string][]placedSlice   // task → what it placed
}

type placedSlice struct{ slice, node string }

func newOrders() *orders {
	return &orders{
		deletes: map[string]map[string]bool{}, verify: map[string]map[string]bool{},
		placed: map[string]map[string]int{}, byTask: map[string][]placedSlice{},
	}
}

func add(m map[string]map[string]bool, node, sl string) {
	if m[node] == nil {
		m[node] = map[string]bool{}
	}
	m[node][sl] = true
}

// maxOrders bounds the orders handed out in one heartbeat.
const maxOrders = 4096

func take(m map[string]map[string]bool, node string) []string {
	var out []string
	for sl := range m[node] {
		if len(out) == maxOrders {
			break
		}
		out = append(out, sl)
		delete(m[node], sl)
	}
	if len(m[node]) == 0 {
		delete(m, node)
	}
	slices.Sort(out)
	return out
}

func (s *Server) queueDelete(node, sliceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	add(s.orders.deletes, node, sliceID)
}

func (s *Server) queueVerify(node, sliceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	add(s.orders.verify, node, sliceID)
}

// notePlaced records that a task placed a slice on nodes.
func (s *Server) notePlaced(taskID, sliceID string, nodes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range nodes {
		if s.orders.placed[sliceID] == nil {
			s.orders.placed[sliceID] = map[string]int{}
		}
		s.orders.placed[sliceID][n]++
		s.orders.byTask[taskID] = append(s.orders.byTask[taskID], placedSlice{sliceID, n})
	}
}

// forgetTask drops what an ended task placed.
func (s *Server) forgetTask(taskID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.orders.byTask[taskID] {
		if s.orders.placed[p.slice][p.node]--; s.orders.placed[p.slice][p.node] <= 0 {
			delete(s.orders.placed[p.slice], p.node)
		}
		if len(s.orders.placed[p.slice]) == 0 {
			delete(s.orders.placed, p.slice)
		}
	}
	delete(s.orders.byTask, taskID)
}

// forgetNode drops the orders of a node declared dead: if it comes back,
// its slice reports find its garbage again.
func (s *Server) forgetNode(node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.orders.deletes, node)
	delete(s.orders.verify, node)
}

// takeOrders hands a node its delete and verify orders, dropping deletes of
// slices the index places on it again or an open task is placing there.
func (s *Server) takeOrders(node string) (deletes, verify []string) {
	s.mu.Lock()
	cand := take(s.orders.deletes, node)
	verify = take(s.orders.verify, node)
	for _, sl := range cand {
		if s.orders.placed[sl][node] == 0 {
			deletes = append(deletes, sl)
		}
	}
	s.mu.Unlock()
	kept := deletes[:0]
	for _, sl := range deletes {
		if e, err := s.ix.Slice(sl); err == nil && slices.Contains(e.GetReplicas(), node) {
			continue
		}
		kept = append(kept, sl)
	}
	return kept, verify
}

// callerIs checks that an RPC comes from node id, proved by the certificate
// the node presented in the TLS handshake.
func callerIs(ctx context.Context, id string) error {
	got, ok := wire.PeerID(ctx)
	if !ok {
		return fmt.Errorf("%w: only node %.16s may make this call, and the caller presented no node certificate", ErrNotNode, id)
	}
	if got != id {
		return fmt.Errorf("%w: the caller is node %.16s, not %.16s", ErrNotNode, got, id)
	}
	return nil
}
