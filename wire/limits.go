package wire

import (
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// Limits bound what one peer can take of a server (issue 8: "gRPC limits on
// concurrent streams per connection and connections per peer ... message
// size limits before authentication that fit the message").
type Limits struct {
	// MaxRecvMsg is the largest message the server decodes; it is read
	// before any handler authenticates the caller.
	MaxRecvMsg int
	// MaxStreams bounds the concurrent streams of one connection.
	MaxStreams uint32
	// MaxConnsPerHost bounds the open connections from one IP address.
	MaxConnsPerHost int
	// HandshakeTimeout bounds a connection's TLS and HTTP/2 handshake.
	HandshakeTimeout time.Duration
}

// DefaultLimits suit a meta node, whose largest request is a big file's
// commit (its slices' receipts).
func DefaultLimits() Limits {
	return Limits{MaxRecvMsg: maxMsg, MaxStreams: 256, MaxConnsPerHost: 64, HandshakeTimeout: 10 * time.Second}
}

// NodeLimits suit a resource node: nothing it takes is larger than a data
// frame and its envelope (a Store header, a Fetch request are small).
func NodeLimits() Limits {
	l := DefaultLimits()
	l.MaxRecvMsg = FrameSize + 64<<10
	return l
}

func (l Limits) serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(l.MaxRecvMsg),
		grpc.MaxConcurrentStreams(l.MaxStreams),
		grpc.ConnectionTimeout(l.HandshakeTimeout),
	}
}

// Listen listens on addr (TCP) and accepts at most l.MaxConnsPerHost
// connections at once from one IP address; a connection beyond that is
// closed as soon as it is accepted.
func Listen(addr string, l Limits) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return LimitPerHost(ln, l.MaxConnsPerHost), nil
}

// LimitPerHost wraps ln so that at most max connections from one IP
// address are open at once.
func LimitPerHost(ln net.Listener, max int) net.Listener {
	return &hostLimiter{Listener: ln, max: max, open: map[string]int{}}
}

type hostLimiter struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (h *hostLimiter) Accept() (net.Conn, error) {
	for {
		c, err := h.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := hostOf(c.RemoteAddr())
		h.mu.Lock()
		over := h.open[host] >= h.max
		if !over {
			h.open[host]++
		}
		h.mu.Unlock()
		if over {
			c.Close()
			continue
		}
		return &limitedConn{Conn: c, release: func() { h.release(host) }}, nil
	}
}

func (h *hostLimiter) release(host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open[host]--; h.open[host] <= 0 {
		delete(h.open, host)
	}
}

func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// limitedConn gives its host's slot back once, when it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
