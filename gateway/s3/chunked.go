package s3

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/stratos-net/stratos/gateway/sigv4"
)

// chunked decodes an aws-chunked body (the STREAMING-* payload modes):
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n  ... one or more
//	0[;chunk-signature=sig]\r\n
//	[name:value\r\n ... [x-amz-trailer-signature:sig\r\n]]  the trailer, if any
//	\r\n
//
// Signed chunks are checked as they end, in one chain from the request's
// own signature; an unsigned body carries its checksum in the trailer
// (checked by body). Data streams through: a chunk is never held whole,
// and its signature error comes before the body's end.
type chunked struct {
	br      *bufio.Reader
	chain   *sigv4.Chain // nil for an unsigned body
	trailer bool         // a trailer follows the final chunk
	left    int64        // data bytes left in the current chunk
	sig     string       // the current chunk's signature
	sum     hash.Hash    // of the current chunk's data, when signed
	done    bool
	err     error
	fields  map[string]string // the trailer's
}

const (
	maxChunkLine    = 4096 // bufio's buffer: a longer line is malformed
	maxTrailerLines = 16
)

var errChunkFraming = errIncompleteBody.withMessage("The aws-chunked body is malformed")

// newChunked decodes r's body, signed as mode says, the chain's seed
// checked with secrets.
func newChunked(r *http.Request, mode string, secrets sigv4.Secrets) (*chunked, error) {
	c := &chunked{
		br:      bufio.NewReaderSize(r.Body, maxChunkLine),
		trailer: mode != sigv4.StreamingPayload,
		sum:     sha256.New(),
		fields:  map[string]string{},
	}
	if mode != sigv4.StreamingUnsignedTrailer {
		chain, err := sigv4.NewChain(r, secrets)
		if err != nil {
			return nil, authError(err)
		}
		c.chain = chain
	}
	return c, nil
}

func (c *chunked) Read(p []byte) (int, error) {
	for c.err == nil && !c.done && c.left == 0 {
		c.err = c.nextChunk()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	if c.chain != nil {
		c.sum.Write(p[:n])
	}
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		c.err = fmt.Errorf("read aws-chunked data: %w", err)
	} else if c.left == 0 {
		c.err = c.endChunk()
	}
	return n, nil
}

// nextChunk reads a chunk's header line; the final chunk's, its trailer.
func (c *chunked) nextChunk() error {
	line, err := c.line()
	if err != nil {
		return err
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(sizeHex, 16, 64)
	if err != nil || size < 0 || sizeHex == "" || sizeHex[0] == '+' || sizeHex[0] == '-' {
		return errChunkFraming.withMessage("The aws-chunked body has a chunk size of %q", clip(sizeHex))
	}
	c.left = size
	c.sum.Reset()
	if c.chain != nil {
		sig, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !ok {
			return errChunkFraming.withMessage("A chunk of the signed aws-chunked body has no chunk-signature")
		}
		c.sig = sig
	}
	if size > 0 {
		return nil
	}
	if err := c.verify(); err != nil {
		return err
	}
	if err := c.readTrailer(); err != nil {
		return err
	}
	c.done = true
	return nil
}

// endChunk reads the CRLF after a chunk's data and checks its signature.
func (c *chunked) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		return fmt.Errorf("read the end of an aws-chunked chunk: %w", err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return errChunkFraming.withMessage("A chunk of the aws-chunked body does not end with CRLF")
	}
	return c.verify()
}

func (c *chunked) verify() error {
	if c.chain == nil {
		return nil
	}
	if err := c.chain.Chunk(c.sig, c.sum.Sum(nil)); err != nil {
		return errSignatureMismatch.because(err)
	}
	return nil
}

// readTrailer reads what follows the final chunk: an empty line, or the
// trailer's fields and, when signed, its signature, then an empty line.
// Empty lines before a signature are skipped: some clients end each field
// with LF and then CRLF.
func (c *chunked) readTrailer() error {
	if !c.trailer {
		return c.emptyLine()
	}
	var canonical bytes.Buffer
	for lines := 0; ; lines++ {
		if lines > maxTrailerLines {
			return errChunkFraming.withMessage("The aws-chunked body's trailer is longer than %d lines", maxTrailerLines)
		}
		line, err := c.line()
		if err != nil {
			return err
		}
		if line == "" && c.chain == nil {
			return nil
		}
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return errChunkFraming.withMessage("The aws-chunked body's trailer has a line %q", clip(line))
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" && c.chain != nil {
			sum := sha256.Sum256(canonical.Bytes())
			if err := c.chain.Trailer(value, sum[:]); err != nil {
				return errSignatureMismatch.because(err)
			}
			return c.emptyLine()
		}
		canonical.WriteString(name + ":" + value + "\n")
		c.fields[name] = value
	}
}

func (c *chunked) emptyLine() error {
	line, err := c.line()
	if err != nil {
		return err
	}
	if line != "" {
		return errChunkFraming.withMessage("The aws-chunked body does not end with an empty line")
	}
	return nil
}

// line reads one line, without its CRLF (or LF).
func (c *chunked) line() (string, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", errChunkFraming.withMessage("The aws-chunked body has a line longer than %d bytes", maxChunkLine)
	case errors.Is(err, io.EOF):
		return "", fmt.Errorf("read aws-chunked framing: %w", io.ErrUnexpectedEOF)
	case err != nil:
		return "", fmt.Errorf("read aws-chunked framing: %w", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

// trailers is the trailer's fields (lower-case names), once the body has
// been read to its end.
func (c *chunked) trailers() map[string]string { return c.fields }
