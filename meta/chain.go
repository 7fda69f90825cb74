package meta

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/account"
)

// Chain is what the meta node asks of the value layer (DESIGN §3, §4). With
// no chain (Config.Chain nil) any node that holds its key may register and
// uploads need no prepay: the in-process test clusters run that way.
type Chain interface {
	// ActiveResourceNodes returns the registered, active resource nodes:
	// node ID to ed25519 public key.
	ActiveResourceNodes(ctx context.Context) (map[string][]byte, error)
	// Prepaid returns the ustos an account has prepaid.
	Prepaid(ctx context.Context, owner string) (uint64, error)
}

// Errors of the chain's rules.
var (
	ErrNotRegistered = errors.New("not registered and active on chain")
	ErrNoPrepay      = errors.New("no prepaid balance")
	ErrChainDown     = errors.New("chain unreachable")
	ErrNotOwner      = errors.New("request not signed by the owner's account")
)

// authorize checks, when there is a chain (and so accounts), that the
// account owning what req touches signed it (DESIGN §3): nobody writes into
// another's namespace or spends another's prepay.
func (s *Server) authorize(req proto.Message, owner string) error {
	if s.cfg.Chain == nil {
		return nil
	}
	signer, err := account.Verify(req, s.now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotOwner, err)
	}
	if signer != owner {
		return fmt.Errorf("%w: signed by %s, for the namespace of %s", ErrNotOwner, signer, owner)
	}
	return nil
}

// chainState is the meta node's soft copy of the chain's registry,
// refreshed in the background so placement never waits for the chain.
type chainState struct {
	nodes   map[string][]byte
	fetched time.Time
	prepaid map[string]prepaidEntry
}

type prepaidEntry struct {
	amount uint64
	at     time.Time
}

// prepaidTTL is how long a prepaid balance is trusted before it is asked
// again: uploads in a burst cost one chain query.
const prepaidTTL = 5 * time.Second

// refreshChain fetches the active resource nodes.
func (s *Server) refreshChain(ctx context.Context) error {
	nodes, err := s.cfg.Chain.ActiveResourceNodes(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrChainDown, err)
	}
	s.mu.Lock()
	s.chain.nodes, s.chain.fetched = nodes, s.now()
	s.mu.Unlock()
	return nil
}

func (s *Server) chainLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.ChainRefresh)
	defer t.Stop()
	for {
		if err := s.refreshChain(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot read the node registry from the chain", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// onChain reports whether a node is active on chain with this key. With no
// chain every node is. A node missing from the copy is asked about again at
// once: it may have registered a moment ago.
func (s *Server) onChain(ctx context.Context, id string, pub []byte) error {
	if s.cfg.Chain == nil {
		return nil
	}
	if s.chainHas(id, pub) {
		return nil
	}
	if err := s.refreshChain(ctx); err != nil {
		return err
	}
	if !s.chainHas(id, pub) {
		return fmt.Errorf("%w: node %s; its operator registers it with `stratos tx register register-resource-node <public key hex> <address> <capacity> <deposit> --region <region> --from <operator>`", ErrNotRegistered, id)
	}
	return nil
}

func (s *Server) chainHas(id string, pub []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.chain.nodes[id]
	return ok && (pub == nil || string(k) == string(pub))
}

// checkPrepaid refuses uploads from an account with nothing prepaid
// (DESIGN §7: the client's prepay is charged for the traffic it uses).
func (s *Server) checkPrepaid(ctx context.Context, owner string) error {
	if s.cfg.Chain == nil {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	e, ok := s.chain.prepaid[owner]
	s.mu.Unlock()
	if !ok || now.Sub(e.at) > prepaidTTL {
		amount, err := s.cfg.Chain.Prepaid(ctx, owner)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrChainDown, err)
		}
		e = prepaidEntry{amount: amount, at: now}
		s.mu.Lock()
		s.chain.prepaid[owner] = e
		s.mu.Unlock()
	}
	if e.amount == 0 {
		return fmt.Errorf("%w for %s: prepay first, e.g. `stratos tx sds prepay 10000000ustos --from <your key>`", ErrNoPrepay, owner)
	}
	return nil
}
