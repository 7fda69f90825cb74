package slice

import "crypto/sha256"

// Domain-separation bytes: a leaf can never be read as an inner node, so no
// two different slice lists share a root (the second-preimage trick against
// Bitcoin's tree, CVE-2012-2459, needs them to be interchangeable).
const (
	leafTag  = 0x00
	innerTag = 0x01
	emptyTag = 0x02
)

// Root returns the file ID of a file made of the given slices, in order: the
// root of a binary Merkle tree whose leaves are the slice IDs (DESIGN §6.1).
// An odd node at the end of a level is promoted unchanged, not duplicated,
// so the tree of [a b c] differs from the tree of [a b c c].
func Root(ids []ID) FileID {
	if len(ids) == 0 {
		return FileID{sha256.Sum256([]byte{emptyTag})}
	}
	level := make([][digestLen]byte, len(ids))
	var buf [1 + digestLen]byte
	buf[0] = leafTag
	for i, id := range ids {
		copy(buf[1:], id.digest[:])
		level[i] = sha256.Sum256(buf[:])
	}
	var pair [1 + 2*digestLen]byte
	pair[0] = innerTag
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			copy(pair[1:], level[i][:])
			copy(pair[1+digestLen:], level[i+1][:])
			next = append(next, sha256.Sum256(pair[:]))
		}
		level = next
	}
	return FileID{level[0]}
}
