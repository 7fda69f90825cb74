// Package traffic is the vocabulary of Proof-of-Traffic (DESIGN §7,
// whitepaper §3.2): the volumes of audited traffic of resource nodes and
// users, and the report of a ledger period, made of the top N nodes by
// traffic and every user, and of the storage at the period's end, on which
// storage fees are settled. The ledger that counts traffic lives in the meta
// node's index (meta/index), so it survives restarts and is replicated; this
// package holds the rules it applies. It does no I/O.
package traffic

import (
	"cmp"
	"slices"
)

// Volume is one party's traffic in a report.
type Volume struct {
	ID    string // node ID or user address
	Bytes uint64
}

// Report is what a period's volume report carries.
type Report struct {
	Nodes []Volume // the top N, most traffic first (ties: smaller ID first)
	Users []Volume // every user with traffic, by address

	// The storage at the period's end (DESIGN §7: "storage fees are settled
	// to the nodes that hold replicas"): the bytes of replicas each node
	// holds, most first, at most StoredNodesPerTopN × N of them; and the
	// bytes each user stores counting every replica, by address. Storage is
	// a snapshot, not a counter: a refused report has none to give back.
	StoredNodes []Volume
	StoredUsers []Volume
}

// AddBytes adds two byte counts, saturating at 2^64-1: a counter of
// traffic or storage never wraps around to a small number.
func AddBytes(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// StoredNodesPerTopN bounds a report's stored nodes to this many times its
// N; x/pot accepts as many (its StoredNodesPerTopN × top_n).
const StoredNodesPerTopN = 10

// Empty reports whether there is nothing to report: no node earns from
// traffic or from storage.
func (r Report) Empty() bool { return len(r.Nodes) == 0 && len(r.StoredNodes) == 0 }

// Traffic returns the report's traffic alone, what a refused report gives
// back to the ledger.
func (r Report) Traffic() Report { return Report{Nodes: r.Nodes, Users: r.Users} }

// Top returns the n volumes with the most traffic, most first; ties go to
// the smaller ID, so every meta node picks the same nodes from the same
// counts (whitepaper §3.2.1: the top N nodes of a period are rewarded). It
// sorts vols in place and returns a prefix of it.
func Top(vols []Volume, n int) []Volume {
	slices.SortFunc(vols, byTraffic)
	if n < 0 {
		n = 0
	}
	return vols[:min(n, len(vols))]
}

// byTraffic orders volumes by bytes, descending, then by ID.
func byTraffic(a, b Volume) int {
	if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Signature is one meta authority's signature over a period's report
// (DESIGN §7: the chain takes a report signed by more than 2/3 of them).
type Signature struct {
	Signer string // meta node ID
	Sig    []byte
}
