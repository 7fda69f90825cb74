// Package trust is the off-chain side of commit-reveal rounds (DESIGN §8,
// Stratosphere §3.2): Node is a resource node's part (check the app's salt,
// compute, commit, reveal in time), Driver the app's (draw salts, open the
// round, hand each node its salt and the call, reveal the salts). The rules
// both follow, and the hashes, are package round's; the chain judges.
package trust

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/durable"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// Chain is what the node and the driver read from x/trustedfn.
type Chain interface {
	FnRound(ctx context.Context, id uint64) (trustedfntypes.Round, error)
	FnApp(ctx context.Context, id string) (trustedfntypes.App, error)
}

// NodeSender sends the node's round messages, signed by its operator or
// its offer's agent.
type NodeSender interface {
	CommitRound(ctx context.Context, roundID uint64, node string, saltHash, commit []byte) error
	RevealRound(ctx context.Context, roundID uint64, node string, salt, output []byte, usage uint64) error
	Complain(ctx context.Context, roundID uint64, node string, received []byte) error
}

// Computer runs calls: the node's compute service.
type Computer interface {
	Call(ctx context.Context, p service.CallParams) (service.CallResult, *service.Error)
	Usage(app string) uint64
}

// NodeConfig configures a Node.
type NodeConfig struct {
	ChainID string
	NodeID  string
	Chain   Chain
	Sender  NodeSender
	Compute Computer
	// Dir keeps the rounds the node committed in, so that a restart still
	// reveals them (a node that does not reveal is slashed, §3.5.4).
	Dir string
	// Open and Slices, if set, let the node answer storage challenges.
	Open   OpenRounds
	Slices Slices
	Poll   time.Duration // how often to look at committed rounds
	Rand   io.Reader     // the node's salts
	Logger *slog.Logger
}

// pending is a round the node committed in and has not seen end.
type pending struct {
	Round  uint64 `json:"round"`
	App    string `json:"app"`
	Salt   []byte `json:"salt"`
	Output []byte `json:"output"` // round.OutputHash
	Usage  uint64 `json:"usage"`
	// Revealed is set once the reveal is on chain.
	Revealed bool `json:"revealed"`
}

// Node is a resource node's part in rounds.
type Node struct {
	cfg NodeConfig

	mu      sync.Mutex
	pending map[uint64]*pending
	billed  map[string]uint64 // app -> usage already committed
	storage storageStats
	cannot  map[uint64]bool // storage challenges it could not answer
}

// NewNode loads the rounds a previous run committed in.
func NewNode(cfg NodeConfig) (*Node, error) {
	if cfg.Chain == nil || cfg.Sender == nil || cfg.Compute == nil || cfg.Dir == "" || cfg.NodeID == "" || cfg.ChainID == "" {
		return nil, errors.New("trust: ChainID, NodeID, Chain, Sender, Compute and Dir are required")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, pending: map[uint64]*pending{}, billed: map[string]uint64{}, cannot: map[uint64]bool{}}
	b, err := os.ReadFile(n.path())
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		var saved struct {
			Pending []*pending        `json:"pending"`
			Billed  map[string]uint64 `json:"billed"`
		}
		if err := json.Unmarshal(b, &saved); err != nil {
			return nil, fmt.Errorf("trust: %s: %w", n.path(), err)
		}
		for _, p := range saved.Pending {
			n.pending[p.Round] = p
		}
		for k, v := range saved.Billed {
			n.billed[k] = v
		}
	}
	return n, nil
}

func (n *Node) path() string { return filepath.Join(n.cfg.Dir, "rounds.json") }

// save writes the pending rounds; n.mu must be held.
func (n *Node) save() error {
	var ps []*pending
	for _, p := range n.pending {
		ps = append(ps, p)
	}
	b, err := json.Marshal(map[string]any{"pending": ps, "billed": n.billed})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(n.cfg.Dir, 0o700); err != nil {
		return err
	}
	return durable.WriteFile(n.path(), b, 0o600)
}

// Errors Join returns.
var (
	ErrNotMember = errors.New("this node is not in the round")
	ErrBadSalt   = errors.New("the app's salt does not match its hash on chain; complained")
	ErrBadCall   = errors.New("the call does not hash to the round's call_hash")
)

// Join is Steps 2-4 for this node: check the salt the app sent against its
// hash on chain (else complain, §3.5.2), check the call is the round's, run
// it, and commit. The commit goes on chain before Join returns.
func (n *Node) Join(ctx context.Context, p service.JoinParams) error {
	r, err := n.cfg.Chain.FnRound(ctx, p.Round)
	if err != nil {
		return err
	}
	if r.Phase != round.Committing.String() {
		return fmt.Errorf("round %d is %s, not committing", r.Id, r.Phase)
	}
	var m *trustedfntypes.Member
	for i := range r.Members {
		if r.Members[i].NodeId == n.cfg.NodeID {
			m = &r.Members[i]
		}
	}
	if m == nil {
		return fmt.Errorf("%w: round %d", ErrNotMember, r.Id)
	}
	if err := n.fromOwner(ctx, r.AppId, p); err != nil {
		return err
	}
	if m.Status != round.Assigned.String() {
		return fmt.Errorf("round %d: this node is %s already", r.Id, m.Status)
	}
	id := round.ID{ChainID: n.cfg.ChainID, Round: r.Id}
	if h := round.SaltHash(id, n.cfg.NodeID, p.AppSalt); !bytes.Equal(h[:], m.AppSaltHash) {
		if err := n.cfg.Sender.Complain(ctx, r.Id, n.cfg.NodeID, p.AppSalt); err != nil {
			return fmt.Errorf("%w, but the complaint failed: %w", ErrBadSalt, err)
		}
		return fmt.Errorf("%w (round %d)", ErrBadSalt, r.Id)
	}
	if p.Call.App != r.AppId {
		return fmt.Errorf("%w: the call is of app %s, the round of %s", ErrBadCall, p.Call.App, r.AppId)
	}
	if h := service.CallHash(p.Call); !bytes.Equal(h[:], r.CallHash) {
		return fmt.Errorf("%w (round %d)", ErrBadCall, r.Id)
	}
	res, cerr := n.cfg.Compute.Call(ctx, p.Call)
	if cerr != nil {
		return cerr // a *service.Error: the caller may send the module and try again
	}
	n.mu.Lock()
	usage := n.cfg.Compute.Usage(r.AppId) - min(n.billed[r.AppId], n.cfg.Compute.Usage(r.AppId))
	n.mu.Unlock()
	out, err := toHash(res.OutputHash)
	if err != nil {
		return err
	}
	return n.commit(ctx, r.Id, r.AppId, p.AppSalt, out, usage)
}

// commit draws the node's salt, keeps it, and commits output for round id.
func (n *Node) commit(ctx context.Context, roundID uint64, app string, appSalt []byte, out round.Hash, usage uint64) error {
	salt := make([]byte, 32)
	if _, err := io.ReadFull(n.cfg.Rand, salt); err != nil {
		return err
	}
	id := round.ID{ChainID: n.cfg.ChainID, Round: roundID}
	sh := round.SaltHash(id, n.cfg.NodeID, salt)
	commit := round.CommitHash(id, n.cfg.NodeID, appSalt, salt, out, usage)
	// Saved before the commit is sent: once it may be on chain, losing the
	// salt would make the reveal impossible and the node slashed.
	n.mu.Lock()
	n.pending[roundID] = &pending{Round: roundID, App: app, Salt: salt, Output: out[:], Usage: usage}
	err := n.save()
	n.mu.Unlock()
	if err != nil {
		return err
	}
	if err := n.cfg.Sender.CommitRound(ctx, roundID, n.cfg.NodeID, sh[:], commit[:]); err != nil {
		n.mu.Lock()
		delete(n.pending, roundID)
		n.save()
		n.mu.Unlock()
		return fmt.Errorf("commit round %d: %w", roundID, err)
	}
	if app != "" {
		n.mu.Lock()
		n.billed[app] += usage
		n.save()
		n.mu.Unlock()
	}
	n.cfg.Logger.Info("trust: committed", "round", roundID, "app", app, "usage", usage)
	return nil
}

// ErrNotOwner is a round's salt not signed by the app's owner: refused
// without a complaint, so nobody can make a node complain about an app.
var ErrNotOwner = errors.New("not signed by the app's owner")

func (n *Node) fromOwner(ctx context.Context, appID string, p service.JoinParams) error {
	app, err := n.cfg.Chain.FnApp(ctx, appID)
	if err != nil {
		return err
	}
	addr, err := account.Address(p.OwnerKey)
	if err != nil || addr != app.Owner {
		return fmt.Errorf("%w: the key is of %q, the app %s is %s's", ErrNotOwner, addr, appID, app.Owner)
	}
	if !(&secp256k1.PubKey{Key: p.OwnerKey}).VerifySignature(service.JoinBytes(n.cfg.ChainID, p), p.Signature) {
		return fmt.Errorf("%w: bad signature", ErrNotOwner)
	}
	return nil
}

func toHash(b []byte) (round.Hash, error) {
	var h round.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("hash of %d bytes", len(b))
	}
	copy(h[:], b)
	return h, nil
}

// Run reveals in every committed round once the app's salts are on chain
// (Step 7), until ctx ends.
func (n *Node) Run(ctx context.Context) { every(ctx, n.cfg.Poll, n.tick) }

// every calls f every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f(ctx)
	}
}

func (n *Node) tick(ctx context.Context) {
	n.answerChallenges(ctx)
	n.mu.Lock()
	var ps []pending
	for _, p := range n.pending {
		ps = append(ps, *p)
	}
	n.mu.Unlock()
	for _, p := range ps {
		r, err := n.cfg.Chain.FnRound(ctx, p.Round)
		if err != nil {
			n.cfg.Logger.Warn("trust: read round", "round", p.Round, "err", err)
			continue
		}
		switch {
		case r.Phase == round.Done.String():
			n.forget(p.Round)
		case r.Phase == round.Revealing.String() && !p.Revealed:
			if err := n.cfg.Sender.RevealRound(ctx, p.Round, n.cfg.NodeID, p.Salt, p.Output, p.Usage); err != nil {
				n.cfg.Logger.Warn("trust: reveal", "round", p.Round, "err", err)
				continue
			}
			n.mu.Lock()
			if q, ok := n.pending[p.Round]; ok {
				q.Revealed = true
				n.save()
			}
			n.mu.Unlock()
			n.cfg.Logger.Info("trust: revealed", "round", p.Round)
		}
	}
}

func (n *Node) forget(id uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.pending, id)
	n.save()
}

// Pending is how many rounds the node committed in and has not seen end.
func (n *Node) Pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.pending)
}
