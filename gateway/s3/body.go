package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/stratos-net/stratos/gateway/sigv4"
)

// body is a request body as the gateway hands it to the Backend: exactly
// size bytes, checked at their end against every digest the client
// declared (the signed SHA-256, Content-MD5, an x-amz-checksum-*), so a
// reader gets the last bytes only with nil error once all of them match.
// On any failure it returns the error, never io.EOF, and keeps returning
// it, so a Backend that stops at the first error stores nothing.
type body struct {
	src    io.Reader // the HTTP body, or its aws-chunked decoding
	size   int64
	read   int64
	checks []check
	err    error
	done   bool
}

// check is one digest of the body and what the client said it is.
type check struct {
	h    hash.Hash
	want func() ([]byte, error) // called at the end: a trailer arrives after the data
	fail *apiError
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if rest := b.size - b.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	var n int
	var err error
	if len(p) > 0 {
		n, err = b.src.Read(p)
	}
	for _, c := range b.checks {
		c.h.Write(p[:n])
	}
	b.read += int64(n)
	switch {
	case err != nil && err != io.EOF:
		return 0, b.fail(err)
	case b.read == b.size:
		if err := b.finish(); err != nil {
			return 0, b.fail(err)
		}
		return n, nil
	case err == io.EOF:
		return 0, b.fail(errIncompleteBody.withMessage("The body ended after %d of its %d bytes", b.read, b.size))
	}
	return n, nil
}

func (b *body) fail(err error) error {
	if _, ok := errors.AsType[*apiError](err); !ok {
		err = errIncompleteBody.because(fmt.Errorf("read the request body: %w", err))
	}
	b.err = err
	return err
}

// finish checks that nothing follows the size bytes, then every digest.
func (b *body) finish() error {
	if err := b.atEnd(); err != nil {
		return err
	}
	for _, c := range b.checks {
		want, err := c.want()
		if err != nil {
			return err
		}
		if !bytes.Equal(c.h.Sum(nil), want) {
			return c.fail
		}
	}
	b.done = true
	return nil
}

// atEnd checks that the source has nothing after the size bytes: for an
// aws-chunked body, this reads its final chunk and trailer.
func (b *body) atEnd() error {
	var one [1]byte
	for range 100 { // a Reader may return 0, nil, but not forever
		n, err := b.src.Read(one[:])
		switch {
		case n > 0:
			return errIncompleteBody.withMessage("The body is longer than its declared %d bytes", b.size)
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
	return fmt.Errorf("read past the body's %d bytes: %w", b.size, io.ErrNoProgress)
}

// verified reports whether every byte was read and every digest matched.
func (b *body) verified() bool { return b.done }

// readDocument reads a small body (an XML document) of at most limit
// bytes, checked as any other.
func (s *Server) readDocument(rq *request, limit int64) ([]byte, error) {
	b, err := s.openBody(rq, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	if b.size > limit {
		return nil, errMessageTooLong.withMessage("The request body of %d bytes is longer than the %d this request allows", b.size, limit)
	}
	return io.ReadAll(b)
}

// openBody is r's body with the checks its headers ask for. size is the
// object's size: Content-Length, or x-amz-decoded-content-length for an
// aws-chunked body. limit bounds size for this operation.
func (s *Server) openBody(rq *request, limit int64) (*body, error) {
	r := rq.r
	src, size, trailers, err := s.payloadSource(rq)
	if err != nil {
		return nil, err
	}
	if size > limit {
		return nil, errEntityTooLarge.withMessage("Your proposed upload of %d bytes exceeds the maximum of %d", size, limit)
	}
	b := &body{src: src, size: size}
	if h := rq.auth.PayloadHash; isSHA256Hex(h) {
		want, _ := hex.DecodeString(h)
		b.checks = append(b.checks, check{sha256.New(), fixed(want), errSHA256Mismatch})
	}
	if err := b.addMD5(r.Header); err != nil {
		return nil, err
	}
	if err := b.addChecksums(r.Header, trailers); err != nil {
		return nil, err
	}
	if size == 0 { // the Backend may not read an empty body: check it now
		if _, err := b.Read(nil); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// payloadSource is the body's bytes as the payload mode declares them,
// their size, and the trailer of an aws-chunked body.
func (s *Server) payloadSource(rq *request) (io.Reader, int64, func() map[string]string, error) {
	r, mode := rq.r, rq.auth.PayloadHash
	noTrailer := func() map[string]string { return nil }
	switch {
	case mode == sigv4.UnsignedPayload || isSHA256Hex(mode):
		if r.ContentLength < 0 {
			return nil, 0, nil, errMissingLength
		}
		return r.Body, r.ContentLength, noTrailer, nil
	case mode == sigv4.StreamingPayload || mode == sigv4.StreamingPayloadTrailer || mode == sigv4.StreamingUnsignedTrailer:
		size, err := decodedLength(r.Header)
		if err != nil {
			return nil, 0, nil, err
		}
		c, err := newChunked(r, mode, s.accounts)
		if err != nil {
			return nil, 0, nil, err
		}
		return c, size, c.trailers, nil
	case strings.HasPrefix(mode, "STREAMING-"):
		return nil, 0, nil, errNotImplemented.withMessage("The payload mode %q is not implemented", clip(mode))
	}
	return nil, 0, nil, errInvalidArgument.withMessage("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING- mode, or a SHA-256 in hex, not %q", clip(mode))
}

func decodedLength(h http.Header) (int64, error) {
	v := h.Get("X-Amz-Decoded-Content-Length")
	if v == "" {
		return 0, errMissingLength.withMessage("An aws-chunked body needs the x-amz-decoded-content-length header")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errInvalidArgument.withMessage("x-amz-decoded-content-length %q is not a length", clip(v))
	}
	return n, nil
}

func (b *body) addMD5(h http.Header) error {
	v, ok := h["Content-Md5"]
	if !ok {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(strings.Join(v, ""))
	if err != nil || len(want) != md5.Size {
		return errInvalidDigest.withMessage("The Content-MD5 you specified is not the base64 of an MD5")
	}
	b.checks = append(b.checks, check{md5.New(), fixed(want), errBadDigest.withMessage("The Content-MD5 you specified did not match what we received")})
	return nil
}

// checksumAlgorithms are the x-amz-checksum-* S3 defines.
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// crc64NVME is CRC-64/NVME's polynomial, bit-reversed as hash/crc64
// takes it.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// addChecksums checks the x-amz-checksum-* a client sent, in a header or
// (named by x-amz-trailer) in the aws-chunked body's trailer.
func (b *body) addChecksums(h http.Header, trailers func() map[string]string) error {
	for name, vs := range h {
		alg, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-checksum-")
		if !ok || alg == "algorithm" || alg == "type" || alg == "mode" {
			continue
		}
		if err := b.addChecksum(alg, name, func() (string, bool) { return strings.Join(vs, ""), true }, true); err != nil {
			return err
		}
	}
	for _, t := range h.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(t, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			alg, ok := strings.CutPrefix(name, "x-amz-checksum-")
			if !ok {
				return errInvalidArgument.withMessage("The trailer %q is not a checksum", clip(name))
			}
			value := func() (string, bool) { v, ok := trailers()[name]; return v, ok }
			if err := b.addChecksum(alg, name, value, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// addChecksum checks the body's checksum alg against value, which
// early says is known now (a header) rather than at the end (a trailer).
func (b *body) addChecksum(alg, name string, value func() (string, bool), early bool) error {
	newHash, ok := checksumAlgorithms[alg]
	if !ok {
		return errInvalidArgument.withMessage("The checksum algorithm %q is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256", clip(alg))
	}
	want := func() ([]byte, error) {
		v, ok := value()
		if !ok {
			return nil, errInvalidRequest.withMessage("The body's trailer has no %s, which x-amz-trailer announced", name)
		}
		sum, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(sum) != newHash().Size() {
			return nil, errInvalidRequest.withMessage("Value for x-amz-checksum-%s is invalid", alg)
		}
		return sum, nil
	}
	if early {
		sum, err := want()
		if err != nil {
			return err
		}
		want = fixed(sum)
	}
	fail := errBadDigest.withMessage("The %s you specified did not match the calculated checksum", strings.ToUpper(alg))
	b.checks = append(b.checks, check{newHash(), want, fail})
	return nil
}

// checksumHeader is the name of the first x-amz-checksum-<algorithm>
// header of h, or "".
func checksumHeader(h http.Header) string {
	for name := range h {
		if alg, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-checksum-"); ok && checksumAlgorithms[alg] != nil {
			return name
		}
	}
	return ""
}

func fixed(want []byte) func() ([]byte, error) { return func() ([]byte, error) { return want, nil } }

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
