package client

import "context"

// bufPool hands out at most n buffers of one size, allocating them only when
// first needed, so a transfer never holds more than n slices in memory and a
// small file never allocates n full slices.
type bufPool struct {
	free chan []byte
	size int
}

func newBufPool(n, size int) *bufPool {
	p := &bufPool{free: make(chan []byte, n), size: size}
	for range n {
		p.free <- nil
	}
	return p
}

// get waits for a free buffer.
func (p *bufPool) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.free:
		if b == nil {
			b = make([]byte, p.size)
		}
		return b, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (p *bufPool) put(b []byte) { p.free <- b[:cap(b)] }
