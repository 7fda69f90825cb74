package crypt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Seal returns a reader of the encrypted form of r under k: the header h,
// then the records. Its length is SealedSize of r's.
func Seal(r io.Reader, k Key, h Header) io.Reader {
	return &sealer{src: bufio.NewReaderSize(r, Record), a: newAEAD(k, h), out: h.Marshal(), buf: make([]byte, Record)}
}

type sealer struct {
	src  *bufio.Reader
	a    aead
	out  []byte // sealed bytes not read yet
	buf  []byte
	i    int64
	done bool
	err  error
}

func (s *sealer) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		n, err := io.ReadFull(s.src, s.buf)
		last := false
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		case err != nil:
			s.err = err
			return 0, err
		default:
			// A full record: it is the last if nothing follows.
			if _, err := s.src.Peek(1); errors.Is(err, io.EOF) {
				last = true
			} else if err != nil {
				s.err = err
				return 0, err
			}
		}
		s.out = s.a.seal(s.out[:0], s.i, last, s.buf[:n])
		s.i++
		s.done = last
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// Opener decrypts an encrypted file written to it, verifying each record,
// and writes the plaintext to its destination as each record completes.
// Close reports a file cut short.
type Opener struct {
	w      io.Writer
	keyFor func(Header) (Key, error)
	size   int64 // plaintext size of the whole file
	a      aead
	ready  bool   // header known
	buf    []byte // the header or record being filled
	i      int64  // record being filled
	stop   int64  // the record after the last one expected
	lo, hi int64  // plaintext to write: [lo, hi)
	plain  []byte
	err    error
}

// NewOpener opens a whole encrypted file of sealed bytes: keyFor gives the
// key of the file the header starts (a Master's Key, or a shared file key).
func NewOpener(w io.Writer, sealed int64, keyFor func(Header) (Key, error)) (*Opener, error) {
	size, err := PlainSize(sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %d bytes is no encrypted file's size", err, sealed)
	}
	return &Opener{w: w, keyFor: keyFor, size: size, hi: size, stop: records(size), buf: make([]byte, 0, HeaderSize)}, nil
}

// NewRangeOpener opens the records that hold plaintext [off, end) of a file
// of size plaintext bytes under key k and header h; it is written the sealed
// bytes SpanOf(off, end, size) names and writes only [off, end).
func NewRangeOpener(w io.Writer, k Key, h Header, size, off, end int64) (*Opener, error) {
	if off < 0 || end < off || end > size {
		return nil, fmt.Errorf("crypt: range [%d, %d) outside %d bytes", off, end, size)
	}
	if err := h.Verify(k); err != nil {
		return nil, err
	}
	sp := SpanOf(off, end, size)
	return &Opener{w: w, size: size, a: newAEAD(k, h), ready: true, i: sp.First, lo: off, hi: end,
		stop: sp.First + (sp.To-sp.From+sealedRec-1)/sealedRec, buf: make([]byte, 0, sealedRec)}, nil
}

// Plain is the plaintext size of the file being opened.
func (o *Opener) Plain() int64 { return o.size }

// want is how many bytes the piece being filled needs.
func (o *Opener) want() int {
	if !o.ready {
		return HeaderSize
	}
	return int(min(Record, o.size-o.i*Record)) + TagSize
}

func (o *Opener) last() bool { return o.i == records(o.size)-1 }

func (o *Opener) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n := len(p)
	for len(p) > 0 {
		if o.ready && o.i >= o.stop {
			o.err = fmt.Errorf("%w: bytes past the final record", ErrTampered)
			return 0, o.err
		}
		take := min(o.want()-len(o.buf), len(p))
		o.buf = append(o.buf, p[:take]...)
		p = p[take:]
		if len(o.buf) < o.want() {
			break
		}
		if err := o.piece(); err != nil {
			o.err = err
			return 0, err
		}
		o.buf = o.buf[:0]
	}
	return n, nil
}

func (o *Opener) piece() error {
	if !o.ready {
		h, err := ParseHeader(o.buf)
		if err != nil {
			return err
		}
		k, err := o.keyFor(h)
		if err != nil {
			return err
		}
		if err := h.Verify(k); err != nil {
			return err
		}
		o.a, o.ready = newAEAD(k, h), true
		o.buf = make([]byte, 0, sealedRec)
		return nil
	}
	plain, err := o.a.open(o.plain[:0], o.i, o.last(), o.buf)
	if err != nil {
		return err
	}
	o.plain = plain
	start := o.i * Record
	o.i++
	lo, hi := max(o.lo-start, 0), min(o.hi-start, int64(len(plain)))
	if lo >= hi {
		return nil
	}
	if _, err := o.w.Write(plain[lo:hi]); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Close reports ErrTampered if a record expected has not been written.
func (o *Opener) Close() error {
	if o.err != nil {
		return o.err
	}
	if len(o.buf) > 0 || !o.ready || o.i < o.stop {
		return fmt.Errorf("%w: the encrypted file ends early", ErrTampered)
	}
	return nil
}
