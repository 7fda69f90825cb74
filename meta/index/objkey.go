package index

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Object keys (DESIGN §9): an S3 key is arbitrary UTF-8, so "a//b", "dir/",
// a "." or ".." segment and a 600-byte segment are all keys, none of which
// CleanPath accepts. ObjectPath stores such a key at a path that passes
// CleanPath by escaping only the segments that need it; every other key is
// its own path, so an object "photos/cat.jpg" in bucket "pics" is the file
// /pics/photos/cat.jpg for the CLI, and a file the CLI stored is an object.
//
// A segment is escaped into components that begin with "%!", a form no
// ordinary name takes:
//
//	""           "%!"
//	"."  ".."    "%!."  "%!.."
//	"%!x"        "%!%%!x"    (a segment that itself begins with "%!")
//	longer than 255 bytes: "%!+" + up to 252 bytes (cut at a rune), once
//	             per full piece, each continued by the next component;
//	             the last piece is escaped by the rules above
//
// The mapping is injective, and ObjectKey inverts it: a path that
// ObjectPath would not produce (say a CLI file named "%!oops") is not an
// object, so one path is never two keys.
const (
	// MaxKeyLen is S3's limit on a key's length in bytes.
	MaxKeyLen = 1024
	escMark   = "%!"
	escPiece  = maxComponentLen - len(escMark) - 1 // bytes of a long segment per component
)

// ObjectPath returns the path of key in bucket. bucket must be a valid
// path component; key must be 1..MaxKeyLen bytes of UTF-8 without control
// characters. The error wraps ErrBadPath.
func ObjectPath(bucket, key string) (string, error) {
	if reason := componentProblem(bucket); reason != "" {
		return "", fmt.Errorf("%w: bucket %q: %s", ErrBadPath, clip(bucket), reason)
	}
	if err := checkKey(key); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(bucket) + len(key) + 8)
	b.WriteString("/" + bucket)
	for seg := range strings.SplitSeq(key, "/") {
		b.WriteByte('/')
		writeSegment(&b, seg)
	}
	return b.String(), nil
}

func checkKey(key string) error {
	reason := textProblem(key)
	switch {
	case key == "":
		reason = "empty"
	case len(key) > MaxKeyLen:
		reason = fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	}
	if reason != "" {
		return fmt.Errorf("%w: object key %q: %s", ErrBadPath, clip(key), reason)
	}
	return nil
}

func writeSegment(b *strings.Builder, seg string) {
	for len(seg) > maxComponentLen || (len(seg) > escPiece && strings.HasPrefix(seg, escMark)) {
		cut := escPiece
		for !utf8.RuneStart(seg[cut]) {
			cut--
		}
		b.WriteString(escMark + "+" + seg[:cut] + "/")
		seg = seg[cut:]
	}
	switch {
	case seg == "", seg == ".", seg == "..":
		b.WriteString(escMark + seg)
	case strings.HasPrefix(seg, escMark):
		b.WriteString(escMark + "%" + seg)
	default:
		b.WriteString(seg)
	}
}

// ObjectKey returns the bucket and key a file path stands for; ok is false
// for a path that is no object: a file directly under the root, or one
// whose escapes ObjectPath would not have written.
func ObjectKey(path string) (bucket, key string, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return "", "", false
	}
	bucket, rest, found := strings.Cut(path[1:], "/")
	if !found || bucket == "" {
		return "", "", false
	}
	key, ok = decodeKey(rest)
	if !ok {
		return "", "", false
	}
	if p, err := ObjectPath(bucket, key); err != nil || p != path {
		return "", "", false
	}
	return bucket, key, true
}

// decodeKey undoes the escapes of the components in rest ("c1/c2/...").
func decodeKey(rest string) (string, bool) {
	var b strings.Builder
	b.Grow(len(rest))
	first, cont := true, false // cont: the previous component was a "%!+" piece
	for c := range strings.SplitSeq(rest, "/") {
		if !cont && !first {
			b.WriteByte('/')
		}
		first, cont = false, false
		if !strings.HasPrefix(c, escMark) {
			b.WriteString(c)
			continue
		}
		switch e := c[len(escMark):]; {
		case e == "", e == ".", e == "..":
			b.WriteString(e)
		case e[0] == '%' && strings.HasPrefix(e[1:], escMark):
			b.WriteString(e[1:])
		case e[0] == '+':
			b.WriteString(e[1:])
			cont = true
		default:
			return "", false
		}
	}
	if cont {
		return "", false // a piece continued by nothing
	}
	return b.String(), true
}
