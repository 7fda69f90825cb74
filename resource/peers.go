package resource

import (
	"sync"

	"google.golang.org/grpc"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/wire"
)

// peerPool keeps one connection per resource node this node forwards or
// repairs to. Unlike wire.Pool it dials with wire.DialAs, so every
// connection presents this node's certificate and the peer can tell which
// node calls (DESIGN §3).
type peerPool struct {
	key *identity.Key

	mu    sync.Mutex
	conns map[peerKey]*grpc.ClientConn
}

type peerKey struct{ addr, nodeID string }

func newPeerPool(key *identity.Key) *peerPool {
	return &peerPool{key: key, conns: make(map[peerKey]*grpc.ClientConn)}
}

// get returns the pooled connection to nodeID at addr, dialing if needed.
// Dialing does not connect, so holding the lock across it is cheap.
func (p *peerPool) get(addr, nodeID string) (*grpc.ClientConn, error) {
	k := peerKey{addr, nodeID}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[k]; ok {
		return c, nil
	}
	c, err := wire.DialAs(addr, nodeID, p.key)
	if err != nil {
		return nil, err
	}
	p.conns[k] = c
	return c, nil
}

// close closes every connection.
func (p *peerPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, c := range p.conns {
		c.Close()
		delete(p.conns, k)
	}
}
