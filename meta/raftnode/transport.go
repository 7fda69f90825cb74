package raftnode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratos-net/stratos/identity"
)

// ErrBadAddress is returned for a server address that is not
// "<node id>@<host:port>".
var ErrBadAddress = errors.New("raft server address must be <node id>@<host:port>")

// Address is the log transport address of the node id at hostport.
func Address(id, hostport string) string { return id + "@" + hostport }

// SplitAddress returns the node ID and host:port of a server address.
func SplitAddress(addr string) (id, hostport string, err error) {
	id, hostport, ok := strings.Cut(addr, "@")
	if !ok || id == "" || hostport == "" {
		return "", "", fmt.Errorf("%w: %q", ErrBadAddress, addr)
	}
	return id, hostport, nil
}

// handshakeTimeout bounds a TLS handshake of the log transport.
const handshakeTimeout = 5 * time.Second

// tlsLayer is the raft.StreamLayer over TLS with node keys.
type tlsLayer struct {
	ln   net.Listener
	key  *identity.Key
	addr nodeAddr
	srv  *tls.Config
}

var _ raft.StreamLayer = (*tlsLayer)(nil)

// nodeAddr is the advertised server address.
type nodeAddr string

func (nodeAddr) Network() string  { return "tcp" }
func (a nodeAddr) String() string { return string(a) }

// listen opens the transport's listener on bind, advertising advertise (or
// the bound address), and accepting peers allow admits.
func listen(bind, advertise string, key *identity.Key, allow func(id string) bool) (*tlsLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("raft transport: listen on %s: %w", bind, err)
	}
	if advertise == "" {
		advertise = ln.Addr().String()
	}
	srv, err := key.ServerTLS()
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv.ClientAuth = tls.RequireAnyClientCert
	srv.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		return checkAllowed(raw, allow)
	}
	return &tlsLayer{ln: ln, key: key, addr: nodeAddr(Address(key.ID(), advertise)), srv: srv}, nil
}

// checkAllowed admits a peer whose certificate holds the key of a node
// allow admits.
func checkAllowed(raw [][]byte, allow func(id string) bool) error {
	if len(raw) == 0 {
		return fmt.Errorf("%w: no certificate", identity.ErrWrongPeer)
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return fmt.Errorf("%w: %w", identity.ErrWrongPeer, err)
	}
	id, ok := identity.PeerID(tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}})
	if !ok {
		return fmt.Errorf("%w: certificate key is not ed25519", identity.ErrWrongPeer)
	}
	if !allow(id) {
		return fmt.Errorf("%w: %s is not a meta authority", identity.ErrWrongPeer, id)
	}
	return nil
}

// Accept returns the next connection; its handshake, and so the peer
// check, runs on the connection's first read, in raft's handler for it.
func (l *tlsLayer) Accept() (net.Conn, error) {
	c, err := l.ln.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, l.srv), nil
}

func (l *tlsLayer) Close() error   { return l.ln.Close() }
func (l *tlsLayer) Addr() net.Addr { return l.addr }

// Dial connects to the server at address, accepting only the node it
// names.
func (l *tlsLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	id, hostport, err := SplitAddress(string(address))
	if err != nil {
		return nil, err
	}
	cfg, err := l.key.ClientTLSAs(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(timeout, handshakeTimeout))
	defer cancel()
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("raft transport: dial %s: %w", address, err)
	}
	return c, nil
}
