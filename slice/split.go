package slice

import (
	"errors"
	"fmt"
	"io"
)

// Limits on the slice size a network may be configured with.
const (
	MinSize     = 64 << 10
	MaxSize     = 256 << 20
	DefaultSize = 16 << 20
)

// ErrBadSize is returned for a slice size outside [MinSize, MaxSize].
var ErrBadSize = errors.New("slice size out of range")

// CheckSize validates a configured slice size.
func CheckSize(n int) error {
	if n < MinSize || n > MaxSize {
		return fmt.Errorf("%w: %d bytes, want %d..%d", ErrBadSize, n, MinSize, MaxSize)
	}
	return nil
}

// Splitter cuts a stream into slices of a fixed size; the last may be short.
type Splitter struct {
	r    io.Reader
	size int
	done bool
}

// NewSplitter returns a Splitter reading r in slices of size bytes.
func NewSplitter(r io.Reader, size int) *Splitter { return &Splitter{r: r, size: size} }

// Next reads the next slice into buf (grown to the slice size if needed) and
// returns its bytes and ID. It returns io.EOF after the last slice; an empty
// stream has no slices.
func (s *Splitter) Next(buf []byte) ([]byte, ID, error) {
	if s.done {
		return nil, ID{}, io.EOF
	}
	if cap(buf) < s.size {
		buf = make([]byte, s.size)
	}
	buf = buf[:s.size]
	n, err := io.ReadFull(s.r, buf)
	switch {
	case err == io.EOF:
		s.done = true
		return nil, ID{}, io.EOF
	case err == io.ErrUnexpectedEOF:
		s.done = true
	case err != nil:
		return nil, ID{}, fmt.Errorf("read slice: %w", err)
	}
	data := buf[:n]
	return data, Sum(data), nil
}

// Count returns how many slices a file of size bytes has.
func Count(size uint64, sliceSize int) int {
	if size == 0 {
		return 0
	}
	return int((size + uint64(sliceSize) - 1) / uint64(sliceSize))
}
