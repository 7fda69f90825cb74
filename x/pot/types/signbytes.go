package types

import (
	"encoding/binary"
	"slices"
	"strings"
)

// volumeReportDomain separates these sign bytes from anything else a meta node
// key signs.
const volumeReportDomain = "stratos/pot/VolumeReport/v1"

// VolumeReportSignBytes returns what each meta node signs for a volume report.
// Deterministic, length-prefixed, nodes sorted by node_id and users by
// address, domain-separated and bound to the chain ID so a report cannot be
// replayed on another chain. The slices passed in are not modified.
//
// Layout (all integers big-endian uint64):
//
//	str(domain) str(chainID) period
//	len(nodes) { str(node_id) bytes }...
//	len(users) { str(address) bytes }...
//
// where str(s) = len(s) || s.
func VolumeReportSignBytes(chainID string, period uint64, nodes []NodeVolume, users []UserVolume) []byte {
	ns := slices.Clone(nodes)
	slices.SortStableFunc(ns, func(a, b NodeVolume) int { return strings.Compare(a.NodeId, b.NodeId) })
	us := slices.Clone(users)
	slices.SortStableFunc(us, func(a, b UserVolume) int { return strings.Compare(a.Address, b.Address) })

	size := 8 + len(volumeReportDomain) + 8 + len(chainID) + 8 + 8 + 8
	for _, n := range ns {
		size += 16 + len(n.NodeId)
	}
	for _, u := range us {
		size += 16 + len(u.Address)
	}
	b := make([]byte, 0, size)
	putStr := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	putStr(volumeReportDomain)
	putStr(chainID)
	b = binary.BigEndian.AppendUint64(b, period)
	b = binary.BigEndian.AppendUint64(b, uint64(len(ns)))
	for _, n := range ns {
		putStr(n.NodeId)
		b = binary.BigEndian.AppendUint64(b, n.Bytes)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(len(us)))
	for _, u := range us {
		putStr(u.Address)
		b = binary.BigEndian.AppendUint64(b, u.Bytes)
	}
	return b
}
