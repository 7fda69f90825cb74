package resource

import (
	"context"
	"errors"
	"fmt"
	"time"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/wire"
)

// Registry is the chain's node registry as a resource node sees it
// (DESIGN §3: a peer is accepted only if its key is registered and active).
type Registry interface {
	// ActiveResourceNodes returns node ID to ed25519 public key of every
	// registered, active resource node.
	ActiveResourceNodes(ctx context.Context) (map[string][]byte, error)
}

// ErrNotRegistered: a peer is not registered and active on chain.
var ErrNotRegistered = errors.New("peer is not registered and active on chain")

// registryLoop keeps the node's copy of the registry fresh.
func (n *Node) registryLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.RegistryRefresh)
	defer t.Stop()
	for {
		if err := n.refreshRegistry(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("cannot read the node registry from the chain", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) refreshRegistry(ctx context.Context) error {
	nodes, err := n.cfg.Registry.ActiveResourceNodes(ctx)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.registered, n.registryAt = nodes, n.cfg.Now()
	n.mu.Unlock()
	return nil
}

// active reports whether node id is registered and active, reading the
// chain again (at most once a second) when the copy does not know it: it
// may have registered a moment ago.
func (n *Node) active(ctx context.Context, id string) bool {
	n.mu.Lock()
	_, ok := n.registered[id]
	stale := n.cfg.Now().Sub(n.registryAt) > time.Second
	n.mu.Unlock()
	if ok || !stale {
		return ok
	}
	if err := n.refreshRegistry(ctx); err != nil {
		n.log.Warn("cannot read the node registry from the chain", "err", err)
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok = n.registered[id]
	return ok
}

// checkPeers refuses a store that a node not active on chain forwards to
// this one, or that would be forwarded to such a node. People's clients
// present no node certificate; the meta node's ticket governs them.
func (n *Node) checkPeers(ctx context.Context, h *storagev1.StoreHeader) error {
	if n.cfg.Registry == nil {
		return nil
	}
	if caller, isNode := wire.PeerID(ctx); isNode && !n.active(ctx, caller) {
		return fmt.Errorf("%w: the sending node %.16s", ErrNotRegistered, caller)
	}
	for _, p := range h.GetDownstream() {
		if !n.active(ctx, p.GetNodeId()) {
			return fmt.Errorf("%w: downstream node %.16s", ErrNotRegistered, p.GetNodeId())
		}
	}
	return nil
}
