// Package wire is how Stratos nodes and clients reach each other: gRPC over
// TLS 1.3 where the server's certificate is its node key and the dialer
// accepts only the node ID it was told to expect (DESIGN §3, §10).
package wire

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"

	"github.com/stratos-net/stratos/identity"
)

// FrameSize is the size of the data frames slices travel in.
const FrameSize = 1 << 20

// connectTimeout bounds one attempt to connect, handshake included.
const connectTimeout = 5 * time.Second

// maxMsg bounds a single gRPC message: a frame plus headroom, or a large
// metadata answer such as the location list of a big file.
const maxMsg = 64 << 20

// Window sizes tuned for bulk transfer: the defaults (64 KiB, then BDP
// estimation) stall a 16 MiB slice on loopback.
const (
	streamWindow = 8 << 20
	connWindow   = 32 << 20
)

// NewServer returns a gRPC server that presents the node key, within
// limits.
func NewServer(key *identity.Key, limits Limits, opts ...grpc.ServerOption) (*grpc.Server, error) {
	cfg, err := key.ServerTLS()
	if err != nil {
		return nil, err
	}
	base := append(limits.serverOptions(),
		grpc.Creds(credentials.NewTLS(cfg)),
		grpc.MaxSendMsgSize(maxMsg),
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	return grpc.NewServer(append(base, opts...)...), nil
}

// Dial returns a connection to the node nodeID at addr. It does not block:
// the first call on the connection waits for it.
func Dial(addr, nodeID string) (*grpc.ClientConn, error) {
	return dial(addr, nodeID, identity.ClientTLS(nodeID))
}

// DialAs is Dial for a node: the connection presents key's certificate, so
// the server can tell which node calls (PeerID).
func DialAs(addr, nodeID string, key *identity.Key) (*grpc.ClientConn, error) {
	cfg, err := key.ClientTLSAs(nodeID)
	if err != nil {
		return nil, err
	}
	return dial(addr, nodeID, cfg)
}

// PeerID returns the node ID of the caller of an RPC, if the caller is a
// node that presented its certificate.
func PeerID(ctx context.Context) (string, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return "", false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return "", false
	}
	return identity.PeerID(info.State)
}

// Stop stops srv gracefully, or at once after wait.
func Stop(srv *grpc.Server, wait time.Duration) {
	done := make(chan struct{})
	go func() { srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		srv.Stop()
	}
}

func dial(addr, nodeID string, cfg *tls.Config) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)),
		grpc.WithInitialWindowSize(streamWindow),
		grpc.WithInitialConnWindowSize(connWindow),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}),
		// A peer that accepts TCP but never finishes the TLS handshake (a
		// paused process) fails the attempt after this, not gRPC's 20 s.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: connectTimeout}),
	)
	if err != nil {
		return nil, fmt.Errorf("dial node %s at %s: %w", nodeID, addr, err)
	}
	return conn, nil
}

// Pool keeps one connection per node, shared by every caller.
type Pool struct {
	mu    sync.Mutex
	conns map[poolKey]*grpc.ClientConn
}

type poolKey struct{ addr, nodeID string }

// NewPool returns an empty Pool.
func NewPool() *Pool { return &Pool{conns: make(map[poolKey]*grpc.ClientConn)} }

// Get returns the pooled connection to nodeID at addr, dialing if needed.
func (p *Pool) Get(addr, nodeID string) (*grpc.ClientConn, error) {
	k := poolKey{addr, nodeID}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[k]; ok {
		return c, nil
	}
	c, err := Dial(addr, nodeID)
	if err != nil {
		return nil, err
	}
	p.conns[k] = c
	return c, nil
}

// Close closes every connection.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, c := range p.conns {
		c.Close()
		delete(p.conns, k)
	}
	return nil
}
