package slice

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

const (
	slicePrefix = "sha256-"
	filePrefix  = "merkle-sha256-"
	digestLen   = sha256.Size
)

// ErrBadID is returned for a string that is not a well-formed ID.
var ErrBadID = errors.New("malformed id")

// ErrMismatch is returned when bytes do not hash to the ID they claim.
var ErrMismatch = errors.New("content does not match id")

// ID names a slice by the SHA-256 of its bytes.
type ID struct{ digest [digestLen]byte }

// FileID names a file by the Merkle root over its slice IDs.
type FileID struct{ root [digestLen]byte }

// Sum returns the ID of data.
func Sum(data []byte) ID { return ID{sha256.Sum256(data)} }

// ParseID parses "sha256-<64 hex>". It accepts nothing else, so an ID taken
// from a peer can be used as a file name.
func ParseID(s string) (ID, error) {
	var id ID
	d, err := parseDigest(s, slicePrefix)
	if err != nil {
		return id, err
	}
	id.digest = d
	return id, nil
}

// ParseFileID parses "merkle-sha256-<64 hex>".
func ParseFileID(s string) (FileID, error) {
	var id FileID
	d, err := parseDigest(s, filePrefix)
	if err != nil {
		return id, err
	}
	id.root = d
	return id, nil
}

func parseDigest(s, prefix string) ([digestLen]byte, error) {
	var d [digestLen]byte
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 2*digestLen {
		return d, fmt.Errorf("%w: %q", ErrBadID, truncate(s))
	}
	for _, c := range rest { // lowercase only: one spelling per ID
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return d, fmt.Errorf("%w: %q", ErrBadID, truncate(s))
		}
	}
	if _, err := hex.Decode(d[:], []byte(rest)); err != nil {
		return d, fmt.Errorf("%w: %q", ErrBadID, truncate(s))
	}
	return d, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func (id ID) String() string { return slicePrefix + id.Hex() }

// Hex is the bare hex digest, used in file names on a node's disk.
func (id ID) Hex() string { return hex.EncodeToString(id.digest[:]) }

// IsZero reports whether id is the zero value.
func (id ID) IsZero() bool { return id == ID{} }

func (id FileID) String() string { return filePrefix + hex.EncodeToString(id.root[:]) }

// IsFileID reports whether s looks like a file ID rather than a path.
func IsFileID(s string) bool { return strings.HasPrefix(s, filePrefix) }

// Verifier hashes bytes as they stream past and checks them against an ID.
type Verifier struct {
	want ID
	h    hash.Hash
	n    uint64
}

// NewVerifier returns a Verifier for a slice expected to have ID want.
func NewVerifier(want ID) *Verifier { return &Verifier{want: want, h: sha256.New()} }

// Write adds p to the hash. It never fails.
func (v *Verifier) Write(p []byte) (int, error) {
	v.n += uint64(len(p))
	return v.h.Write(p)
}

// Size is the number of bytes written so far.
func (v *Verifier) Size() uint64 { return v.n }

// Check reports ErrMismatch unless exactly size bytes were written and they
// hash to the ID.
func (v *Verifier) Check(size uint64) error {
	if v.n != size {
		return fmt.Errorf("%w: got %d bytes, want %d", ErrMismatch, v.n, size)
	}
	return v.Verify()
}

// Verify reports ErrMismatch unless the bytes written hash to the ID.
func (v *Verifier) Verify() error {
	var got ID
	v.h.Sum(got.digest[:0])
	if got != v.want {
		return fmt.Errorf("%w: want %s, got %s", ErrMismatch, v.want, got)
	}
	return nil
}
