package index

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Logical key prefixes; see doc.go for the layout.
const (
	prefixFile    = "n/"
	prefixFileID  = "i/"
	prefixSlice   = "s/"
	prefixHolder  = "h/"
	prefixTask    = "t/"
	prefixNode    = "r/"
	prefixCounter = "c/"

	prefixTrafficNode = "v/"
	prefixTrafficUser = "u/"

	prefixSliceOwner = "o/" // o/<slice id>\x00<owner>: the owner's references to the slice
	prefixStoredUser = "q/" // q/<owner>: bytes the owner stores, every replica counted
	prefixHeldNode   = "w/" // w/<node id>: bytes of replicas the node holds
	prefixSeal       = "p/" // p/<period, 8 bytes big-endian>: the period's sealed report
	// keyStorage is present (8 bytes, 1) in an index that keeps them.
	keyStorage = prefixCounter + "storage"

	keyFiles    = prefixCounter + "files"
	keySlices   = prefixCounter + "slices"
	keyTaskSeq  = prefixCounter + "taskseq"
	keyApplied  = prefixCounter + "applied" // Position of the last command applied from a log
	keyCurrGen  = "m/gen"                   // physical, outside both generations
	sepOwner    = '\x00'
	sepPathByte = '\x01' // stands for "/" inside keys
)

// The two generations of physical keys; Restore fills the one not in use.
var generations = [2]byte{'0', '1'}

func otherGen(g byte) byte {
	if g == generations[0] {
		return generations[1]
	}
	return generations[0]
}

// encPath turns "/a/b" into "\x01a\x01b": \x01 sorts below every byte a
// component may hold, so key order is name order, component by component,
// and a directory's children are contiguous.
func encPath(p string) string { return strings.ReplaceAll(p, "/", "\x01") }

func decPath(p string) string { return strings.ReplaceAll(p, "\x01", "/") }

// fileKey is n/<owner>\x00<encoded path>.
func fileKey(owner, path string) []byte {
	return []byte(prefixFile + owner + string(sepOwner) + encPath(path))
}

// fileIDKey is i/<file id>\x00<owner>\x00<encoded path>.
func fileIDKey(fileID, owner, path string) []byte {
	return []byte(prefixFileID + fileID + string(sepOwner) + owner + string(sepOwner) + encPath(path))
}

func fileIDPrefix(fileID string) []byte { return []byte(prefixFileID + fileID + string(sepOwner)) }

// parseFileIDKey returns the owner and path of an i/ key under fileIDPrefix.
func parseFileIDKey(key, prefix []byte) (owner, path string, ok bool) {
	rest := string(key[len(prefix):])
	owner, enc, ok := strings.Cut(rest, string(sepOwner))
	return owner, decPath(enc), ok
}

func sliceKey(id string) []byte { return []byte(prefixSlice + id) }

// holderKey is h/<node id>\x00<slice id>.
func holderKey(node, slice string) []byte {
	return []byte(prefixHolder + node + string(sepOwner) + slice)
}

func holderPrefix(node string) []byte { return []byte(prefixHolder + node + string(sepOwner)) }

func sealKey(period uint64) []byte { return binary.BigEndian.AppendUint64([]byte(prefixSeal), period) }

func nodeKey(id string) []byte { return []byte(prefixNode + id) }

func nodeTrafficKey(id string) []byte { return []byte(prefixTrafficNode + id) }

func userTrafficKey(user string) []byte { return []byte(prefixTrafficUser + user) }

// sliceOwnerKey is o/<slice id>\x00<owner>.
func sliceOwnerKey(slice, owner string) []byte {
	return []byte(prefixSliceOwner + slice + string(sepOwner) + owner)
}

func sliceOwnerPrefix(slice string) []byte {
	return []byte(prefixSliceOwner + slice + string(sepOwner))
}

func storedUserKey(owner string) []byte { return []byte(prefixStoredUser + owner) }

func heldNodeKey(node string) []byte { return []byte(prefixHeldNode + node) }

// taskKey is t/<seq as 8 bytes big-endian>, so tasks scan in creation order.
func taskKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixTask), seq)
}

func taskID(seq uint64) string { return fmt.Sprintf("t%d", seq) }

// parseTaskID accepts exactly the IDs taskID makes ("t7", not "t07").
func parseTaskID(id string) (uint64, bool) {
	digits, ok := strings.CutPrefix(id, "t")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, err == nil
}

// phys prefixes a logical key with generation g.
func phys(g byte, key []byte) []byte {
	out := make([]byte, 0, 1+len(key))
	return append(append(out, g), key...)
}
