// Package caller is the client side of a trusted function call (DESIGN §8,
// Stratosphere §3.1's distribution layer): it sends one call to every node
// of the app at once, checks each signed answer, and returns the output that
// more than the app's agreement threshold of the nodes gave, with which
// nodes agreed. A node that has not got the module yet is sent it first.
package caller

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/x/trustedfn/round"
)

// Errors.
var (
	// ErrNoAgreement: fewer nodes than the threshold gave one answer.
	ErrNoAgreement = errors.New("the app's nodes did not agree")
	ErrNotActive   = errors.New("app has no nodes yet")
)

// Node is one of an app's nodes as the chain lists it.
type Node struct {
	ID       string
	Endpoint string
	Public   ed25519.PublicKey
}

// App is an app as the chain lists it.
type App struct {
	ID        string
	Nodes     []Node
	Agreement round.Agreement
}

// Chain looks an app up.
type Chain interface {
	App(ctx context.Context, id string) (App, error)
}

// Config configures a Caller.
type Config struct {
	Chain Chain
	HTTP  *http.Client
	// Module returns an app's module bytes, for nodes that lack it; nil:
	// such nodes count as not answering.
	Module  func(ctx context.Context, app string) ([]byte, error)
	Timeout time.Duration // per node
	// AppTTL is how long an app read from the chain (its nodes, their
	// endpoints and keys: several queries) serves later calls.
	AppTTL time.Duration
	Rand   *rand.Rand // the calls' seeds
	Now    func() time.Time
	// Observe, if set, sees every call the nodes agreed on: the rounds
	// sample them (package trust).
	Observe func(p service.CallParams)
}

// DefaultConfig has a 30 s timeout per node.
func DefaultConfig() Config {
	return Config{HTTP: http.DefaultClient, Timeout: 30 * time.Second, AppTTL: 2 * time.Second, Now: time.Now}
}

// Caller makes calls.
type Caller struct {
	cfg  Config
	mu   sync.Mutex // guards cfg.Rand and apps
	apps map[string]cachedApp
}

type cachedApp struct {
	app App
	at  time.Time
}

// app reads an app from the chain, at most once per AppTTL.
func (c *Caller) app(ctx context.Context, id string) (App, error) {
	c.mu.Lock()
	ca, ok := c.apps[id]
	c.mu.Unlock()
	if ok && c.cfg.Now().Sub(ca.at) < c.cfg.AppTTL {
		return ca.app, nil
	}
	a, err := c.cfg.Chain.App(ctx, id)
	if err != nil {
		return App{}, err
	}
	c.mu.Lock()
	if len(c.apps) > 1024 {
		clear(c.apps)
	}
	c.apps[id] = cachedApp{app: a, at: c.cfg.Now()}
	c.mu.Unlock()
	return a, nil
}

// New returns a Caller.
func New(cfg Config) (*Caller, error) {
	if cfg.Chain == nil || cfg.HTTP == nil || cfg.Now == nil || cfg.Timeout <= 0 {
		return nil, errors.New("caller: Chain, HTTP, Now and a positive Timeout are required")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewChaCha8(seed()))
	}
	return &Caller{cfg: cfg, apps: map[string]cachedApp{}}, nil
}

// Answer is one node's part in a call.
type Answer struct {
	Node    string `json:"node"`
	Agreed  bool   `json:"agreed"`
	Error   string `json:"error,omitempty"` // why it gave no valid answer
	GasUsed int64  `json:"gas_used,omitempty"`
	// OutputHash is the hash it signed, hex in JSON.
	OutputHash []byte        `json:"output_hash,omitempty"`
	Latency    time.Duration `json:"latency_ns"`
}

// Result is the agreed answer.
type Result struct {
	App      string `json:"app"`
	Function string `json:"function"`
	Output   []byte `json:"output"`
	// FnError is the function's own failure (out of gas, a trap), agreed on
	// like an output.
	FnError string   `json:"fn_error,omitempty"`
	GasUsed int64    `json:"gas_used"`
	Agreed  []string `json:"agreed"`
	Quorum  int      `json:"quorum"`
	Answers []Answer `json:"answers"`
	// Call is the call's hash: what a round about it names.
	Call []byte `json:"call"`
}

// Call runs function on every node of app with input and returns the
// answer more than the agreement threshold of them gave. The error is
// ErrNoAgreement (with the Result, to show who said what) when no answer
// reached it.
func (c *Caller) Call(ctx context.Context, appID, function string, input []byte) (Result, error) {
	app, err := c.app(ctx, appID)
	if err != nil {
		return Result{}, err
	}
	if len(app.Nodes) == 0 {
		return Result{}, fmt.Errorf("%w: %s", ErrNotActive, appID)
	}
	p := service.CallParams{App: appID, Function: function, Input: input,
		Seed: c.seed(), TimeUnixNano: c.cfg.Now().UnixNano()}
	call := service.CallHash(p)
	answers := make([]Answer, len(app.Nodes))
	results := make([]*service.CallResult, len(app.Nodes))
	var wg sync.WaitGroup
	for i, n := range app.Nodes {
		wg.Go(func() {
			start := time.Now()
			r, err := c.ask(ctx, n, p, call)
			answers[i] = Answer{Node: n.ID, Latency: time.Since(start)}
			if err != nil {
				answers[i].Error = err.Error()
				return
			}
			results[i] = r
			answers[i].GasUsed, answers[i].OutputHash = r.GasUsed, r.OutputHash
		})
	}
	wg.Wait()
	res, err := tally(app, function, call, answers, results)
	if err == nil && c.cfg.Observe != nil {
		c.cfg.Observe(p)
	}
	return res, err
}

func tally(app App, function string, call round.Hash, answers []Answer, results []*service.CallResult) (Result, error) {
	votes := map[string][]int{}
	for i, r := range results {
		if r != nil {
			votes[string(r.OutputHash)] = append(votes[string(r.OutputHash)], i)
		}
	}
	quorum := app.Agreement.Quorum(len(app.Nodes))
	res := Result{App: app.ID, Function: function, Quorum: quorum, Answers: answers, Call: call[:]}
	hashes := make([]string, 0, len(votes))
	for h := range votes {
		hashes = append(hashes, h)
	}
	sort.Slice(hashes, func(a, b int) bool { return len(votes[hashes[a]]) > len(votes[hashes[b]]) })
	if len(hashes) == 0 || len(votes[hashes[0]]) < quorum {
		best := 0
		if len(hashes) > 0 {
			best = len(votes[hashes[0]])
		}
		return res, fmt.Errorf("%w: the most nodes that gave one answer is %d of %d, %d needed", ErrNoAgreement, best, len(app.Nodes), quorum)
	}
	for _, i := range votes[hashes[0]] {
		answers[i].Agreed = true
		res.Agreed = append(res.Agreed, answers[i].Node)
	}
	w := results[votes[hashes[0]][0]]
	res.Output, res.FnError, res.GasUsed = w.Output, w.Error, w.GasUsed
	return res, nil
}

// ask calls one node, sending it the module if it asks for it, and checks
// its signature.
func (c *Caller) ask(ctx context.Context, n Node, p service.CallParams, call round.Hash) (*service.CallResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var r service.CallResult
	err := c.rpc(ctx, n.Endpoint, service.MethodCall, p, &r)
	var rpcErr *service.Error
	if errors.As(err, &rpcErr) && rpcErr.Code == service.CodeNotLoaded && c.cfg.Module != nil {
		mod, merr := c.cfg.Module(ctx, p.App)
		if merr != nil {
			return nil, fmt.Errorf("node %s needs the module: %w", n.ID, merr)
		}
		if err := Load(ctx, c.cfg.HTTP, n.Endpoint, p.App, mod); err != nil {
			return nil, fmt.Errorf("load the module on %s: %w", n.ID, err)
		}
		err = c.rpc(ctx, n.Endpoint, service.MethodCall, p, &r)
	}
	if err != nil {
		return nil, err
	}
	if r.Node != n.ID {
		return nil, fmt.Errorf("answer signed as %q, not %s", r.Node, n.ID)
	}
	if err := r.Verify(n.Public, call); err != nil {
		return nil, fmt.Errorf("node %s: %w", n.ID, err)
	}
	return &r, nil
}

func (c *Caller) rpc(ctx context.Context, endpoint, method string, params, result any) error {
	return RPC(ctx, c.cfg.HTTP, endpoint, method, params, result)
}

// Load gives a node an app's module (fn_load).
func Load(ctx context.Context, hc *http.Client, endpoint, app string, module []byte) error {
	return RPC(ctx, hc, endpoint, service.MethodLoad, service.LoadParams{App: app, Module: module}, nil)
}

// RPC makes one JSON-RPC 2.0 request of a node's compute; an error the node
// answers is a *service.Error.
func RPC(ctx context.Context, hc *http.Client, endpoint, method string, params, result any) error {
	ps, err := json.Marshal(params)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(service.Request{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: method, Params: ps})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	var out service.Response
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("%s answered HTTP %d, not JSON-RPC: %.200s", endpoint, resp.StatusCode, b)
	}
	if out.Error != nil {
		return out.Error
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(out.Result, result)
}

func (c *Caller) seed() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := make([]byte, 32)
	for i := 0; i < 32; i += 8 {
		v := c.cfg.Rand.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}
