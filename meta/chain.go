package meta

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
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
	// Prices returns what a user pays (x/sds): for traffic, in ustos per
	// GiB; for storage, in ustos per GiB per 30 days; rounded up.
	Prices(ctx context.Context) (traffic, storage uint64, err error)
}

// CapacitySource is a Chain that also tells the capacity each active
// resource node registered (chainclient.View does): a node's heartbeat
// then cannot offer more than that (issue 8: "a node's self-reported
// capacity is capped by what it registered on chain").
type CapacitySource interface {
	ResourceCapacities(ctx context.Context) (map[string]uint64, error)
}

// Errors of the chain's rules.
var (
	ErrNotRegistered = errors.New("not registered and active on chain")
	ErrNoPrepay      = index.ErrNoPrepay
	ErrReplayed      = index.ErrReplayed
	// ErrTooManyRequests: the account holds the most signed requests the
	// replay guard keeps for one account.
	ErrTooManyRequests = index.ErrTooManyRequests
	ErrChainDown       = errors.New("chain unreachable")
	ErrNotOwner        = errors.New("request not signed by the owner's account")
)

// authorize checks, with a chain or without (an account's address is the
// hash of its key), that the account owning what req touches signed it
// (DESIGN §3): nobody writes into
// another's namespace or spends another's prepay. It returns the guard a
// command carrying out req takes with it: the index refuses a request it
// has carried out before, on whichever meta node it arrives (a captured
// request cannot be sent again while its signature is valid). Requests
// that only read change nothing a replay could repeat, and drop the guard.
func (s *Server) authorize(req proto.Message, owner string) (*metav1.RequestGuard, error) {
	if s.cfg.unsigned {
		return nil, nil
	}
	signer, err := account.Verify(req, s.now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotOwner, err)
	}
	if signer != owner {
		return nil, fmt.Errorf("%w: signed by %s, for the namespace of %s", ErrNotOwner, signer, owner)
	}
	if !s.accounts.allow(signer) {
		return nil, fmt.Errorf("%w from %s: at most %g a second (bursts of %d); slow down", ErrRateLimited, signer, s.cfg.Rates.AccountRate, s.cfg.Rates.AccountBurst)
	}
	sig, at, _ := account.SignatureOf(req)
	d := sha256.Sum256(sig)
	return &metav1.RequestGuard{Account: signer, Digest: d[:], UntilUnixNano: at.Add(account.MaxSkew).UnixNano()}, nil
}

func (s *Server) chainLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.ChainRefresh)
	defer t.Stop()
	for {
		if err := s.chain.refresh(ctx); err != nil && ctx.Err() == nil {
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
// chain, the nodes of Config.Admit are (or any, with Config.AdmitAny). A node missing from the copy is asked about again at
// once: it may have registered a moment ago.
func (s *Server) onChain(ctx context.Context, id string, pub []byte) error {
	if s.cfg.Chain == nil {
		if s.cfg.AdmitAny || slices.Contains(s.cfg.Admit, id) {
			return nil
		}
		return fmt.Errorf("%w: node %s is not in this meta node's admit list, and there is no chain to ask; its operator adds it to `admit` in the meta node's node.toml", ErrNotRegistered, id)
	}
	if s.chain.has(id, pub) {
		return nil
	}
	if err := s.chain.refreshSince(ctx); err != nil {
		return err
	}
	if !s.chain.has(id, pub) {
		return fmt.Errorf("%w: node %s; its operator registers it with `stratos tx register register-resource-node <public key hex> <address> <capacity> <deposit> --region <region> --from <operator>`", ErrNotRegistered, id)
	}
	return nil
}

// reservation is what a task that may cause more bytes of traffic, and
// leave the owner storing stored more bytes (replicas counted), holds
// against the owner's prepay: the index checks it against every other
// claim on the prepay and takes it in one step (index.Reservation). The
// balance is the chain's, cached for prepaidTTL so a burst of uploads
// costs one query. With no chain there is no prepay, and no reservation.
func (s *Server) reservation(ctx context.Context, owner string, more, stored uint64) (*metav1.Reservation, error) {
	if s.cfg.Chain == nil {
		return nil, nil
	}
	now := s.now()
	prepaid, err := s.chain.prepaid(ctx, owner)
	if err != nil {
		return nil, err
	}
	price, sprice, period := s.chain.prices()
	if period <= 0 {
		period = s.cfg.LedgerPeriod
	}
	return &metav1.Reservation{
		Bytes: more, Stored: stored, Prepaid: prepaid, TrafficPrice: price, StoragePrice: sprice,
		PeriodSeconds: uint64(period / time.Second), UntilUnixNano: now.Add(s.cfg.TaskTTL).UnixNano(),
	}, nil
}

// mulSat is a × b, or the largest uint64 if that overflows.
func mulSat(a, b uint64) uint64 {
	if hi, lo := bits.Mul64(a, b); hi == 0 {
		return lo
	}
	return math.MaxUint64
}
