package types

import (
	"encoding/binary"
	"slices"
	"strings"
)

// volumeReportDomain separates these sign bytes from anything else a meta node
// key signs. v2 added the storage sections: a v1 signature, which covered
// traffic only, cannot be replayed with storage figures attached.
const volumeReportDomain = "stratos/pot/VolumeReport/v2"

// ReportVolumes are the figures of a volume report that the meta nodes sign:
// the period's traffic (Nodes, Users) and the storage at its end
// (StoredNodes, StoredUsers), DESIGN §7.
type ReportVolumes struct {
	Nodes       []NodeVolume
	Users       []UserVolume
	StoredNodes []NodeVolume
	StoredUsers []UserVolume
}

// Volumes returns the figures of m that its signatures cover.
func (m *MsgVolumeReport) Volumes() ReportVolumes {
	return ReportVolumes{Nodes: m.Nodes, Users: m.Users, StoredNodes: m.StoredNodes, StoredUsers: m.StoredUsers}
}

// VolumeReportSignBytes returns what each meta node signs for a volume report.
// Deterministic, length-prefixed, each list sorted (nodes by node_id, users
// by address), domain-separated and bound to the chain ID so a report cannot
// be replayed on another chain. The slices passed in are not modified.
//
// Layout (all integers big-endian uint64):
//
//	str(domain) str(chainID) period
//	len(nodes)        { str(node_id) bytes }...
//	len(users)        { str(address) bytes }...
//	len(stored_nodes) { str(node_id) bytes }...
//	len(stored_users) { str(address) bytes }...
//
// where str(s) = len(s) || s. Every list carries its length, so an entry
// cannot move from one list to the next without changing the bytes.
func VolumeReportSignBytes(chainID string, period uint64, v ReportVolumes) []byte {
	size := 8 + len(volumeReportDomain) + 8 + len(chainID) + 8 + 4*8
	for _, n := range slices.Concat(v.Nodes, v.StoredNodes) {
		size += 16 + len(n.NodeId)
	}
	for _, u := range slices.Concat(v.Users, v.StoredUsers) {
		size += 16 + len(u.Address)
	}
	b := make([]byte, 0, size)
	b = appendStr(b, volumeReportDomain)
	b = appendStr(b, chainID)
	b = binary.BigEndian.AppendUint64(b, period)
	b = appendNodes(b, v.Nodes)
	b = appendUsers(b, v.Users)
	b = appendNodes(b, v.StoredNodes)
	b = appendUsers(b, v.StoredUsers)
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendNodes appends len(nodes) and the nodes sorted by ID.
func appendNodes(b []byte, nodes []NodeVolume) []byte {
	ns := slices.Clone(nodes)
	slices.SortStableFunc(ns, func(a, b NodeVolume) int { return strings.Compare(a.NodeId, b.NodeId) })
	b = binary.BigEndian.AppendUint64(b, uint64(len(ns)))
	for _, n := range ns {
		b = appendStr(b, n.NodeId)
		b = binary.BigEndian.AppendUint64(b, n.Bytes)
	}
	return b
}

// appendUsers appends len(users) and the users sorted by address.
func appendUsers(b []byte, users []UserVolume) []byte {
	us := slices.Clone(users)
	slices.SortStableFunc(us, func(a, b UserVolume) int { return strings.Compare(a.Address, b.Address) })
	b = binary.BigEndian.AppendUint64(b, uint64(len(us)))
	for _, u := range us {
		b = appendStr(b, u.Address)
		b = binary.BigEndian.AppendUint64(b, u.Bytes)
	}
	return b
}
