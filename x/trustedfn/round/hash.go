// Package round holds the rules of a trusted-function round, the
// commit-reveal scheme of the Stratosphere paper (§3.2, §3.3, §3.5), as a
// pure state machine: no store, no clock (heights are passed in), no I/O.
// x/trustedfn keeps rounds in its store and calls these rules; resource
// nodes use the same hashes to build their commits, so both sides agree
// byte for byte on what a commit is.
//
// A round on N nodes:
//
//  1. the app opens it with the hash of a fresh salt per node (Step 1) and,
//     if the round is a spot check, a commitment to the output it expects;
//     it sends each node its salt off chain (Step 2);
//  2. each node checks its salt against the hash on chain (Step 4; if it does
//     not match it refuses and the app gets a complaint, §3.5.2), computes
//     the output and commits hash(its salt) and CommitHash (Steps 3, 4);
//  3. when every node committed or the commit timeout passed, the round goes
//     on with the nodes that committed (Step 5); the app reveals its salts
//     (Step 6);
//  4. the nodes reveal their salt and output hash (Step 7); a reveal that does
//     not open the node's commit is a lie (§3.5.5) and a node that does not
//     reveal by the reveal timeout stalls (§3.5.4): both are slashed;
//  5. Tally: an output hash revealed by more than the agreement threshold of
//     the round's nodes makes the round TRUE (Step 10); the nodes that gave
//     it are paid, the others are not (Step 11).
package round

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// Hash is a SHA-256 digest.
type Hash [32]byte

// Domain tags keep a salt hash from ever being read as a commit, or either
// as anything another protocol signs.
const (
	tagSalt   = "stratos/trustedfn/salt/v1"
	tagCommit = "stratos/trustedfn/commit/v1"
	tagSpot   = "stratos/trustedfn/spot/v1"
	tagOutput = "stratos/trustedfn/output/v1"
	tagStore  = "stratos/trustedfn/storage/v1"
)

// hashFields hashes the fields, each preceded by its length as a uvarint,
// so no two different field lists encode to the same bytes.
func hashFields(fields ...[]byte) Hash {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, f := range fields {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write(f)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// ID names a round everywhere a hash binds to it: a commit made for one
// round of one chain can never be replayed in another (DESIGN §8).
type ID struct {
	ChainID string
	Round   uint64
}

// SaltHash is what goes on chain for a salt, the app's (Step 1) or a
// node's (Step 3), before it is revealed.
func SaltHash(id ID, node string, salt []byte) Hash {
	return hashFields([]byte(tagSalt), []byte(id.ChainID), u64(id.Round), []byte(node), salt)
}

// CommitHash is a node's commit of Step 4: hash(node ID ‖ app salt ‖ node
// salt ‖ hash(output)), length-prefixed with the chain ID and round ID, and
// with the node's usage since the last round (gas), the Billing query of
// §4.3.1 bound into the same commit so no node can raise it after seeing
// the others'. The
// app's salt, unknown to other nodes until the commits are closed, stops a
// node from copying another's commit (§3.5.3); the node's salt stops the
// app from working out the output from the commit and walking away without
// paying (§3.5.1).
func CommitHash(id ID, node string, appSalt, nodeSalt []byte, output Hash, usage uint64) Hash {
	return hashFields([]byte(tagCommit), []byte(id.ChainID), u64(id.Round), []byte(node),
		appSalt, nodeSalt, output[:], u64(usage))
}

// SpotHash is the app's commitment to the output it expects from a spot
// check round: it reveals expected and salt with its own salts, so the nodes
// cannot tell a spot check from any other round while they compute.
func SpotHash(id ID, expected Hash, salt []byte) Hash {
	return hashFields([]byte(tagSpot), []byte(id.ChainID), u64(id.Round), expected[:], salt)
}

// StorageProof is a holder's answer to a storage challenge (Stratosphere
// §4.1.6, issue 10): hash(challenge ‖ slice bytes), which only a node that
// holds the bytes can compute once the challenge is drawn.
func StorageProof(challenge, slice []byte) Hash {
	return hashFields([]byte(tagStore), challenge, slice)
}

// StorageProofOf is StorageProof over a slice of size bytes read from r,
// streamed so a holder never loads a whole slice.
func StorageProofOf(challenge []byte, size uint64, r io.Reader) (Hash, error) {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, f := range [][]byte{[]byte(tagStore), challenge} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write(f)
	}
	h.Write(n[:binary.PutUvarint(n[:], size)])
	got, err := io.Copy(h, io.LimitReader(r, int64(size)))
	if err != nil {
		return Hash{}, err
	}
	if uint64(got) != size {
		return Hash{}, fmt.Errorf("slice of %d bytes ended after %d", size, got)
	}
	var out Hash
	h.Sum(out[:0])
	return out, nil
}

// OutputHash is the hash of a function's output bytes that nodes commit to.
func OutputHash(output []byte) Hash {
	return hashFields([]byte(tagOutput), output)
}
