package meta

import (
	"github.com/stratos-net/stratos/traffic"
)

// storage returns the storage at the end of a period (DESIGN §7: "storage
// fees are settled to the nodes that hold replicas"): the bytes of replicas
// each node holds and the bytes each owner stores, every replica counted,
// as the index keeps them.
//
// Storage is a snapshot of the index, not a counter like traffic: nothing
// is taken from the index, so a report the chain refuses has no storage to
// give back, and the next period's report carries the storage of its own
// end.
func (s *Server) storage() (nodes, owners []traffic.Volume) {
	nodes, owners, err := s.ix.Storage()
	if err != nil {
		s.log.Warn("cannot read the storage from the index; the period's report has none", "err", err)
		return nil, nil
	}
	return nodes, owners
}

// boundStorage keeps the StoredNodesPerTopN × TopN nodes holding the most,
// most first, as x/pot accepts no more; the others' replicas earn nothing
// this period. Without a node to pay, no user is charged for storage
// either: x/pot refuses stored users without stored nodes.
func (s *Server) boundStorage(r traffic.Report) traffic.Report {
	limit := s.cfg.TopN * traffic.StoredNodesPerTopN
	if len(r.StoredNodes) > limit {
		s.log.Warn("more nodes hold replicas than a report may name; the least holding earn no storage fees this period",
			"nodes", len(r.StoredNodes), "reported", limit)
	}
	r.StoredNodes = traffic.Top(r.StoredNodes, limit)
	if len(r.StoredNodes) == 0 {
		r.StoredUsers = nil
	}
	return r
}
