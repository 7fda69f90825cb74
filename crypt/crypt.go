// Package crypt encrypts a file on the client before it is cut into slices
// (issue 9; AMA A3 and A19: "encryption before upload"; DESIGN §9), so that
// resource nodes and meta nodes hold and move only ciphertext and never see
// a key.
//
// # Format (version 1)
//
// An encrypted file is a header followed by records:
//
//	header  = magic "STRATOS\x01" (8) | salt (32) | key check (16)      56 bytes
//	record  = AES-256-GCM(file key, nonce, plaintext chunk, aad = header)
//	nonce   = record index (8, big-endian) | 0 0 0 | last (1: 1 on the final record)
//
// Every record holds 64 KiB of plaintext except the final one, which holds
// the rest (0 to 64 KiB; an empty file is one empty final record). The
// final-record flag in the nonce and the header in the associated data make
// truncation, reordering and splicing records between files fail to
// authenticate (the STREAM construction of Hoang, Reyhanitabar, Rogaway and
// Vizár). Records are small so that a range read opens only the records it
// touches. AES-GCM is the AEAD so that a browser can open a shared file with
// WebCrypto alone.
//
// # Keys
//
// The master key of an account is derived (HKDF-SHA256) from the account
// key's signature over a fixed message naming the account: secp256k1
// signatures of Cosmos keys are deterministic (RFC 6979), so the same key
// derives the same master on any machine, and the master never leaves the
// client. Each file has a random salt; its file key is HKDF(master, salt).
// A share of an encrypted file carries the file key (never the master) in
// the link's fragment, which browsers do not send to the server. The key
// check in the header lets a reader tell a wrong key from altered data.
//
// # What it does not hide
//
// The size of a file (to within a record's tag), its path and name, its
// S3 metadata, when it was written and who owns it are all visible to the
// meta nodes; the bytes' content is not.
package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Format constants.
const (
	Magic      = "STRATOS\x01"
	HeaderSize = len(Magic) + saltSize + checkSize
	// Record is the plaintext in every record but the last.
	Record = 64 << 10
	// TagSize is what each record adds to its plaintext.
	TagSize = 16

	saltSize  = 32
	checkSize = 16
	sealedRec = Record + TagSize
)

// Errors a caller matches with errors.Is.
var (
	ErrNotSealed = errors.New("not an encrypted Stratos file")
	ErrWrongKey  = errors.New("wrong decryption key")
	ErrTampered  = errors.New("encrypted data altered or truncated")
)

// Key is a file key: AES-256.
type Key [32]byte

// Master is an account's master key, from which every file key derives.
type Master struct{ k [32]byte }

// masterMessage is what the account key signs to derive its master key.
// Changing it makes every encrypted file unreadable.
func masterMessage(owner string) []byte {
	return []byte("Stratos: derive the file encryption key of account " + owner + " (crypt v1). Signing this never moves funds.")
}

// DeriveMaster derives owner's master key from sign, the account key's
// signing function. It signs twice and refuses a key whose signatures
// differ: a master derived from such a key could not be derived again, and
// the files sealed under it would be lost.
func DeriveMaster(sign func(msg []byte) ([]byte, error), owner string) (Master, error) {
	msg := masterMessage(owner)
	a, err := sign(msg)
	if err != nil {
		return Master{}, fmt.Errorf("derive the encryption key: sign: %w", err)
	}
	b, err := sign(msg)
	if err != nil {
		return Master{}, fmt.Errorf("derive the encryption key: sign: %w", err)
	}
	if len(a) == 0 || !bytes.Equal(a, b) {
		return Master{}, errors.New("derive the encryption key: this account key does not sign deterministically, so it cannot derive the same key twice; use a software or Ledger secp256k1 key")
	}
	k, err := hkdf.Key(sha256.New, a, nil, "stratos/crypt/v1 master", 32)
	if err != nil {
		return Master{}, err
	}
	var m Master
	copy(m.k[:], k)
	return m, nil
}

// Header is the start of an encrypted file.
type Header struct {
	Salt  [saltSize]byte
	Check [checkSize]byte
}

// NewFile makes a header with a fresh salt from rng and returns it with the
// file's key.
func (m Master) NewFile(rng io.Reader) (Header, Key, error) {
	var h Header
	if _, err := io.ReadFull(rng, h.Salt[:]); err != nil {
		return Header{}, Key{}, fmt.Errorf("encrypt: salt: %w", err)
	}
	k := m.Key(h)
	h.Check = check(k)
	return h, k, nil
}

// Key is the file key of the file that starts with h.
func (m Master) Key(h Header) Key {
	raw, err := hkdf.Key(sha256.New, m.k[:], h.Salt[:], "stratos/crypt/v1 file", 32)
	if err != nil {
		panic(err) // 32 bytes of SHA-256 HKDF cannot fail
	}
	var k Key
	copy(k[:], raw)
	return k
}

func check(k Key) [checkSize]byte {
	mac := hmac.New(sha256.New, k[:])
	mac.Write([]byte("stratos/crypt/v1 key check"))
	var c [checkSize]byte
	copy(c[:], mac.Sum(nil))
	return c
}

// Verify reports ErrWrongKey if k is not the key of the file h starts.
func (h Header) Verify(k Key) error {
	c := check(k)
	if !hmac.Equal(c[:], h.Check[:]) {
		return ErrWrongKey
	}
	return nil
}

// Marshal is the header's bytes.
func (h Header) Marshal() []byte {
	b := make([]byte, 0, HeaderSize)
	b = append(b, Magic...)
	b = append(b, h.Salt[:]...)
	return append(b, h.Check[:]...)
}

// ParseHeader reads a header from the first HeaderSize bytes of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize || string(b[:len(Magic)]) != Magic {
		return Header{}, ErrNotSealed
	}
	var h Header
	copy(h.Salt[:], b[len(Magic):])
	copy(h.Check[:], b[len(Magic)+saltSize:])
	return h, nil
}

// records is how many records a plaintext of n bytes takes.
func records(n int64) int64 { return max(1, (n+Record-1)/Record) }

// SealedSize is the size of the encrypted form of n plaintext bytes.
func SealedSize(n int64) int64 { return int64(HeaderSize) + n + TagSize*records(n) }

// PlainSize is the plaintext size of an encrypted file of n bytes, or
// ErrNotSealed if no plaintext encrypts to exactly n bytes.
func PlainSize(n int64) (int64, error) {
	body := n - int64(HeaderSize)
	if body < TagSize {
		return 0, ErrNotSealed
	}
	recs := (body + sealedRec - 1) / sealedRec
	p := body - TagSize*recs
	if p < 0 || SealedSize(p) != n {
		return 0, ErrNotSealed
	}
	return p, nil
}

// Span is the part of an encrypted file that holds plaintext [off, end):
// the sealed bytes [From, To), whose first record is number First and
// starts at plaintext offset PlainFrom.
type Span struct {
	From, To  int64
	First     int64
	PlainFrom int64
}

// SpanOf locates plaintext [off, end) of a plaintext of size bytes. It
// needs 0 <= off <= end <= size.
func SpanOf(off, end, size int64) Span {
	first := off / Record
	last := max(first, (max(end, 1)-1)/Record)
	last = min(last, records(size)-1)
	to := int64(HeaderSize) + (last+1)*sealedRec
	return Span{
		From:      int64(HeaderSize) + first*sealedRec,
		To:        min(to, SealedSize(size)),
		First:     first,
		PlainFrom: first * Record,
	}
}

type aead struct {
	gcm cipher.AEAD
	aad []byte
}

func newAEAD(k Key, h Header) aead {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic(err) // a 32-byte key is valid
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead{gcm: gcm, aad: h.Marshal()}
}

func nonce(i int64, last bool) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n, uint64(i))
	if last {
		n[11] = 1
	}
	return n
}

func (a aead) seal(dst []byte, i int64, last bool, plain []byte) []byte {
	return a.gcm.Seal(dst, nonce(i, last), plain, a.aad)
}

func (a aead) open(dst []byte, i int64, last bool, sealed []byte) ([]byte, error) {
	out, err := a.gcm.Open(dst, nonce(i, last), sealed, a.aad)
	if err != nil {
		return nil, fmt.Errorf("%w: record %d does not authenticate", ErrTampered, i)
	}
	return out, nil
}
