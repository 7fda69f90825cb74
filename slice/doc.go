// Package slice is the storage vocabulary of Stratos: cutting a file into
// slices, naming a slice by the hash of its bytes, and naming a file by the
// root of a binary Merkle tree over its slice IDs (DESIGN §6.1, whitepaper
// §4.2.2). It does no I/O beyond the readers and writers it is handed.
//
// IDs are self-describing strings, "<algorithm>-<hex digest>", so the hash
// can change later without ambiguity:
//
//	slice: sha256-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	file:  merkle-sha256-<hex root>
package slice
