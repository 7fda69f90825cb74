package trust

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/compute/caller"
	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// AppSender sends the app owner's round messages.
type AppSender interface {
	OpenRound(ctx context.Context, app string, roundID uint64, callHash []byte, saltHashes [][]byte, spot []byte) error
	RevealSalts(ctx context.Context, roundID uint64, salts []trustedfntypes.NodeSalt, spotExpected, spotSalt []byte) error
}

// Endpoints finds the nodes' compute endpoints.
type Endpoints interface {
	FnOffers(ctx context.Context) ([]trustedfntypes.Offer, error)
}

// Rounds tells the ID the next round gets.
type Rounds interface {
	FnNextRound(ctx context.Context) (uint64, error)
}

// DriverConfig configures a Driver.
type DriverConfig struct {
	ChainID   string
	Chain     Chain
	Endpoints Endpoints
	Rounds    Rounds
	Sender    AppSender
	HTTP      *http.Client
	Poll      time.Duration
	Rand      io.Reader // the app's salts
	// Expect, if set, computes the output the app knows a call gives, for
	// spot checks (DESIGN §8): the outcome's round.OutputHash.
	Expect func(ctx context.Context, p service.CallParams) (round.Hash, error)
	// Module, if set, gives a node that lacks the app's module its bytes.
	Module func(ctx context.Context, app string) ([]byte, error)
	// Owner signs what the driver hands the nodes: the app owner's key.
	Owner account.Signer
}

// Driver runs rounds for the app's owner.
type Driver struct{ cfg DriverConfig }

// NewDriver returns a Driver.
func NewDriver(cfg DriverConfig) (*Driver, error) {
	if cfg.Chain == nil || cfg.Endpoints == nil || cfg.Rounds == nil || cfg.Sender == nil || cfg.Owner == nil || cfg.ChainID == "" {
		return nil, errors.New("trust: ChainID, Chain, Endpoints, Rounds, Sender and Owner are required")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Driver{cfg: cfg}, nil
}

// Delivery is what a node said when handed its salt.
type Delivery struct {
	Node  string `json:"node"`
	Error string `json:"error,omitempty"`
}

// Run runs one round of call on the app's nodes and returns it settled:
// Step 1 (salt hashes, and a sealed expectation if spot), Step 2 (each
// node gets its salt and the call), Step 6 (the salts revealed once the
// commits close); the nodes do Steps 3-7 and the chain the rest.
func (d *Driver) Run(ctx context.Context, appID string, call service.CallParams, spot bool) (trustedfntypes.Round, []Delivery, error) {
	app, err := d.cfg.Chain.FnApp(ctx, appID)
	if err != nil {
		return trustedfntypes.Round{}, nil, err
	}
	for app.OpenRound != 0 { // one round at a time: wait for the one in progress
		select {
		case <-ctx.Done():
			return trustedfntypes.Round{}, nil, fmt.Errorf("app %s still has round %d in progress: %w", appID, app.OpenRound, ctx.Err())
		case <-time.After(d.cfg.Poll):
		}
		if app, err = d.cfg.Chain.FnApp(ctx, appID); err != nil {
			return trustedfntypes.Round{}, nil, err
		}
	}
	call.App = appID
	callHash := service.CallHash(call)
	var expected round.Hash
	var spotSalt []byte
	if spot {
		if d.cfg.Expect == nil {
			return trustedfntypes.Round{}, nil, errors.New("a spot check needs the expected output (no Expect)")
		}
		if expected, err = d.cfg.Expect(ctx, call); err != nil {
			return trustedfntypes.Round{}, nil, fmt.Errorf("compute the expected output: %w", err)
		}
		spotSalt = d.salt()
	}
	// Every hash binds the round's ID, which the chain gives: the salts are
	// hashed for the next ID, and the chain refuses the round if another
	// took that ID meanwhile (then the driver tries again).
	var id uint64
	var salts [][]byte
	for try := 1; ; try++ {
		if id, err = d.cfg.Rounds.FnNextRound(ctx); err != nil {
			return trustedfntypes.Round{}, nil, err
		}
		rid := round.ID{ChainID: d.cfg.ChainID, Round: id}
		salts = make([][]byte, len(app.Nodes))
		hashes := make([][]byte, len(app.Nodes))
		for i, n := range app.Nodes {
			salts[i] = d.salt()
			h := round.SaltHash(rid, n, salts[i])
			hashes[i] = h[:]
		}
		var spotHash []byte
		if spot {
			h := round.SpotHash(rid, expected, spotSalt)
			spotHash = h[:]
		}
		err = d.cfg.Sender.OpenRound(ctx, appID, id, callHash[:], hashes, spotHash)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrRoundTaken) || try == 3 {
			return trustedfntypes.Round{}, nil, fmt.Errorf("open round: %w", err)
		}
	}
	deliveries := d.deliver(ctx, app, id, salts, call)
	r, err := d.wait(ctx, id, func(r trustedfntypes.Round) bool { return r.Phase != round.Committing.String() })
	if err != nil {
		return r, deliveries, err
	}
	if r.Phase == round.AppRevealing.String() {
		var ns []trustedfntypes.NodeSalt
		for i, n := range app.Nodes {
			ns = append(ns, trustedfntypes.NodeSalt{NodeId: n, Salt: salts[i]})
		}
		var exp []byte
		if spot {
			exp = expected[:]
		}
		if err := d.cfg.Sender.RevealSalts(ctx, id, ns, exp, spotSalt); err != nil {
			return r, deliveries, fmt.Errorf("reveal the salts: %w", err)
		}
	}
	r, err = d.wait(ctx, id, func(r trustedfntypes.Round) bool { return r.Phase == round.Done.String() })
	return r, deliveries, err
}

// ErrRoundTaken is what AppSender.OpenRound returns when another round
// took the ID the salt hashes were made for.
var ErrRoundTaken = errors.New("round ID taken")

func (d *Driver) deliver(ctx context.Context, app trustedfntypes.App, id uint64, salts [][]byte, call service.CallParams) []Delivery {
	offers, err := d.cfg.Endpoints.FnOffers(ctx)
	endpoint := map[string]string{}
	if err == nil {
		for _, o := range offers {
			endpoint[o.NodeId] = o.Endpoint
		}
	}
	out := make([]Delivery, len(app.Nodes))
	var wg sync.WaitGroup
	for i, n := range app.Nodes {
		wg.Go(func() {
			out[i].Node = n
			if endpoint[n] == "" {
				out[i].Error = "no compute endpoint on chain"
				return
			}
			join := service.JoinParams{Round: id, AppSalt: salts[i], Call: call, OwnerKey: d.cfg.Owner.PubKey()}
			sig, err := d.cfg.Owner.Sign(service.JoinBytes(d.cfg.ChainID, join))
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			join.Signature = sig
			err = caller.RPC(ctx, d.cfg.HTTP, endpoint[n], service.MethodRound, join, nil)
			var e *service.Error
			if errors.As(err, &e) && e.Code == service.CodeNotLoaded && d.cfg.Module != nil {
				err = d.load(ctx, endpoint[n], app.Id)
				if err == nil {
					err = caller.RPC(ctx, d.cfg.HTTP, endpoint[n], service.MethodRound, join, nil)
				}
			}
			if err != nil {
				out[i].Error = err.Error()
			}
		})
	}
	wg.Wait()
	return out
}

func (d *Driver) load(ctx context.Context, endpoint, app string) error {
	mod, err := d.cfg.Module(ctx, app)
	if err != nil {
		return err
	}
	return caller.Load(ctx, d.cfg.HTTP, endpoint, app, mod)
}

// wait polls the round until done says it has got where the driver waits
// for.
func (d *Driver) wait(ctx context.Context, id uint64, done func(trustedfntypes.Round) bool) (trustedfntypes.Round, error) {
	for {
		r, err := d.cfg.Chain.FnRound(ctx, id)
		if err != nil || done(r) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(d.cfg.Poll):
		}
	}
}

func (d *Driver) salt() []byte {
	b := make([]byte, 32)
	io.ReadFull(d.cfg.Rand, b)
	return b
}
