// Package service is a resource node's compute (DESIGN §8): it runs the
// functions of the apps the chain assigned to the node, in package sandbox
// with package gas's metering, answers calls over JSON-RPC with a signed
// result, and logs each call so the node can bill its usage in rounds.
//
// A node gets an app's module from whoever calls first: fn_load carries the
// bytes, and the node keeps them only if they hash to the code hash on
// chain, so it never needs to read another account's files.
package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/compute/gas"
	"github.com/stratos-net/stratos/compute/sandbox"
	"github.com/stratos-net/stratos/durable"
	"github.com/stratos-net/stratos/x/trustedfn/round"
)

// App is what the node needs to know of an app from the chain.
type App struct {
	CodeHash string   // hex SHA-256 of the module
	Nodes    []string // the nodes drawn for it
	Active   bool
	Owner    string // its owner's account address: who may read the call log
}

// Apps looks apps up on chain.
type Apps interface {
	App(ctx context.Context, id string) (App, error)
}

// Signer is the node's key.
type Signer interface {
	ID() string
	Sign(msg []byte) []byte
}

// Config configures the service.
type Config struct {
	Dir        string // modules and call logs
	Apps       Apps
	Key        Signer
	Sandbox    sandbox.Config
	MaxGas     int64 // per call
	MaxCalls   int   // running at once
	MaxModule  int   // bytes
	MaxRequest int64 // bytes of a request body
	// AppTTL is how long an app looked up on chain is trusted.
	AppTTL time.Duration
	// Byzantine makes the node answer wrongly on purpose, signing the lie:
	// `stratos devnet --byzantine` runs such nodes to show them lose.
	Byzantine bool
	// Rounds, if set, answers fn_round: the node's part in rounds.
	Rounds Joiner
	Logger *slog.Logger
	Now    func() time.Time
}

// DefaultConfig: 10^10 gas and 4 calls at once, 16 MiB modules.
func DefaultConfig() Config {
	return Config{
		Sandbox: sandbox.DefaultConfig(), MaxGas: 10_000_000_000, MaxCalls: 4,
		MaxModule: 16 << 20, MaxRequest: 24 << 20, AppTTL: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	}
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Dir == "" || c.Apps == nil || c.Key == nil:
		return errors.New("compute service: Dir, Apps and Key are required")
	case c.MaxGas <= 0 || c.MaxCalls <= 0 || c.MaxModule <= 0 || c.MaxRequest <= 0:
		return errors.New("compute service: limits must be positive")
	}
	return c.Sandbox.Validate()
}

type cachedApp struct {
	app App
	at  time.Time
}

// Service serves one node's compute.
type Service struct {
	cfg   Config
	sb    *sandbox.Sandbox
	slots chan struct{}

	mu      sync.Mutex
	apps    map[string]cachedApp
	modules map[string]*sandbox.Module // code hash -> compiled
	usage   map[string]uint64          // app -> gas since start
	logs    map[string]*os.File
}

// New opens the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, d := range []string{"modules", "calls"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	sb, err := sandbox.New(ctx, cfg.Sandbox)
	if err != nil {
		return nil, err
	}
	return &Service{
		cfg: cfg, sb: sb, slots: make(chan struct{}, cfg.MaxCalls),
		apps: map[string]cachedApp{}, modules: map[string]*sandbox.Module{},
		usage: map[string]uint64{}, logs: map[string]*os.File{},
	}, nil
}

// Close releases the sandbox and the call logs.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.logs {
		f.Close()
	}
	return s.sb.Close(ctx)
}

// SetRounds makes j answer fn_round; call it before serving.
func (s *Service) SetRounds(j Joiner) { s.cfg.Rounds = j }

// Usage is the gas the node spent on an app's calls since it started.
func (s *Service) Usage(app string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage[app]
}

func (s *Service) app(ctx context.Context, id string) (App, error) {
	s.mu.Lock()
	c, ok := s.apps[id]
	s.mu.Unlock()
	if ok && s.cfg.Now().Sub(c.at) < s.cfg.AppTTL {
		return c.app, nil
	}
	a, err := s.cfg.Apps.App(ctx, id)
	if err != nil {
		return App{}, err
	}
	s.mu.Lock()
	s.apps[id] = cachedApp{app: a, at: s.cfg.Now()}
	s.mu.Unlock()
	return a, nil
}

// served checks the chain assigned the app to this node.
func (s *Service) served(ctx context.Context, id string) (App, *Error) {
	a, err := s.app(ctx, id)
	if err != nil {
		return App{}, &Error{Code: CodeNotServed, Message: fmt.Sprintf("app %s: %v", id, err)}
	}
	if !a.Active || !slices.Contains(a.Nodes, s.cfg.Key.ID()) {
		return App{}, &Error{Code: CodeNotServed, Message: fmt.Sprintf("node %s does not serve app %s", s.cfg.Key.ID(), id)}
	}
	return a, nil
}

func (s *Service) modulePath(codeHash string) string {
	return filepath.Join(s.cfg.Dir, "modules", codeHash+".wasm")
}

// module returns the app's compiled module, from memory or disk.
func (s *Service) module(ctx context.Context, codeHash string) (*sandbox.Module, error) {
	s.mu.Lock()
	m, ok := s.modules[codeHash]
	s.mu.Unlock()
	if ok {
		return m, nil
	}
	plain, err := os.ReadFile(s.modulePath(codeHash))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotLoaded
	}
	if err != nil {
		return nil, err
	}
	return s.compile(ctx, codeHash, plain)
}

func (s *Service) compile(ctx context.Context, codeHash string, plain []byte) (*sandbox.Module, error) {
	metered, err := gas.Instrument(plain, gas.DefaultOptions())
	if err != nil {
		return nil, err
	}
	m, err := s.sb.Compile(ctx, metered)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.modules[codeHash] = m
	s.mu.Unlock()
	return m, nil
}

// Load keeps an app's module if it hashes to the app's code hash.
func (s *Service) Load(ctx context.Context, p LoadParams) *Error {
	a, e := s.served(ctx, p.App)
	if e != nil {
		return e
	}
	if len(p.Module) > s.cfg.MaxModule {
		return &Error{Code: CodeModuleRefused, Message: fmt.Sprintf("module of %d bytes, at most %d", len(p.Module), s.cfg.MaxModule)}
	}
	sum := sha256.Sum256(p.Module)
	if hex.EncodeToString(sum[:]) != a.CodeHash {
		return &Error{Code: CodeModuleRefused, Message: fmt.Sprintf("module hashes to %x, app %s has code %s", sum, p.App, a.CodeHash)}
	}
	if _, err := s.compile(ctx, a.CodeHash, p.Module); err != nil {
		return &Error{Code: CodeModuleRefused, Message: err.Error()}
	}
	if err := durable.WriteFile(s.modulePath(a.CodeHash), p.Module, 0o600); err != nil {
		return &Error{Code: CodeInternal, Message: err.Error()}
	}
	return nil
}

// Call runs one call and signs the result.
func (s *Service) Call(ctx context.Context, p CallParams) (CallResult, *Error) {
	if len(p.Seed) != 32 {
		return CallResult{}, &Error{Code: CodeParams, Message: "seed must be 32 bytes"}
	}
	gasLimit := s.cfg.MaxGas
	if p.Gas > 0 {
		gasLimit = min(p.Gas, gasLimit)
	}
	a, e := s.served(ctx, p.App)
	if e != nil {
		return CallResult{}, e
	}
	m, err := s.module(ctx, a.CodeHash)
	if errors.Is(err, ErrNotLoaded) {
		return CallResult{}, &Error{Code: CodeNotLoaded, Message: "send the module with fn_load"}
	}
	if err != nil {
		return CallResult{}, &Error{Code: CodeInternal, Message: err.Error()}
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		return CallResult{}, &Error{Code: CodeBusy, Message: "every compute slot is busy"}
	}
	res, errText, err := run(ctx, s.sb, m, p, gasLimit)
	if err != nil {
		return CallResult{}, &Error{Code: CodeInternal, Message: err.Error()}
	}
	if s.cfg.Byzantine {
		res.Output = append(bytes.Clone(res.Output), " (a byzantine node's answer)"...)
	}
	out := CallResult{Node: s.cfg.Key.ID(), Output: res.Output, Error: errText, GasUsed: res.GasUsed}
	h := round.OutputHash(Outcome(res.Output, errText))
	out.OutputHash = h[:]
	call := CallHash(p)
	out.Signature = s.cfg.Key.Sign(ResultBytes(out.Node, call, out.OutputHash, out.GasUsed))
	s.logCall(p, call, out, res.Stderr)
	return out, nil
}

// run runs p in sb: the function's own failure is errText (the same words
// on every node); err is the host's (a canceled context).
func run(ctx context.Context, sb *sandbox.Sandbox, m *sandbox.Module, p CallParams, gasLimit int64) (sandbox.Result, string, error) {
	res, err := sb.Run(ctx, m, sandbox.Call{
		Function: p.Function, Input: p.Input, Gas: gasLimit,
		Time: time.Unix(0, p.TimeUnixNano).UTC(), Seed: [32]byte(p.Seed),
	})
	if err != nil && ctx.Err() != nil {
		return res, "", err
	}
	var errText string
	if err != nil {
		errText = err.Error()
	}
	return res, errText, nil
}

// LocalOutcome runs p on this machine as an honest node with the default
// configuration would, and returns the hash of its outcome: what an app
// knows a spot check's answer to be.
func LocalOutcome(ctx context.Context, module []byte, p CallParams) (round.Hash, error) {
	if len(p.Seed) != 32 {
		return round.Hash{}, errors.New("seed must be 32 bytes")
	}
	cfg := DefaultConfig()
	metered, err := gas.Instrument(module, gas.DefaultOptions())
	if err != nil {
		return round.Hash{}, err
	}
	sb, err := sandbox.New(ctx, cfg.Sandbox)
	if err != nil {
		return round.Hash{}, err
	}
	defer sb.Close(ctx)
	m, err := sb.Compile(ctx, metered)
	if err != nil {
		return round.Hash{}, err
	}
	limit := cfg.MaxGas
	if p.Gas > 0 {
		limit = min(p.Gas, limit)
	}
	res, errText, err := run(ctx, sb, m, p, limit)
	if err != nil {
		return round.Hash{}, err
	}
	return round.OutputHash(Outcome(res.Output, errText)), nil
}

// logCall appends the call to the app's log and adds its gas to the usage.
func (s *Service) logCall(p CallParams, call round.Hash, r CallResult, stderr []byte) {
	app := p.App
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage[app] += uint64(r.GasUsed)
	f, ok := s.logs[app]
	if !ok {
		var err error
		f, err = os.OpenFile(filepath.Join(s.cfg.Dir, "calls", app+".jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			s.cfg.Logger.Warn("compute: call log", "app", app, "err", err)
			return
		}
		s.logs[app] = f
	}
	line, _ := json.Marshal(LogEntry{
		Time: s.cfg.Now().UTC(), Function: p.Function, Call: hex.EncodeToString(call[:]),
		Output: hex.EncodeToString(r.OutputHash), GasUsed: r.GasUsed, Error: r.Error,
		Stderr: string(stderr[:min(len(stderr), maxLoggedStderr)]),
	})
	if _, err := f.Write(append(line, '\n')); err != nil {
		s.cfg.Logger.Warn("compute: call log", "app", app, "err", err)
	}
}

// maxLoggedStderr is how much of a call's stderr the log keeps.
const maxLoggedStderr = 4 << 10

// Logs returns the last entries of the node's log of an app's calls, to the
// app's owner only.
func (s *Service) Logs(ctx context.Context, p LogsParams) ([]LogEntry, *Error) {
	a, e := s.served(ctx, p.App)
	if e != nil {
		return nil, e
	}
	addr, err := account.Address(p.OwnerKey)
	if err != nil || addr != a.Owner {
		return nil, &Error{Code: CodeNotOwner, Message: fmt.Sprintf("only the owner of %s reads its call log", p.App)}
	}
	if d := s.cfg.Now().Sub(time.Unix(0, p.UnixNano)); d > MaxLogsSkew || d < -MaxLogsSkew {
		return nil, &Error{Code: CodeNotOwner, Message: fmt.Sprintf("request signed %s off this node's clock", d.Round(time.Second))}
	}
	if !(&secp256k1.PubKey{Key: p.OwnerKey}).VerifySignature(LogsBytes(p), p.Signature) {
		return nil, &Error{Code: CodeNotOwner, Message: "bad signature"}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	b, err := os.ReadFile(filepath.Join(s.cfg.Dir, "calls", p.App+".jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return []LogEntry{}, nil
	}
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: err.Error()}
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	out := make([]LogEntry, 0, min(limit, len(lines)))
	for _, l := range lines[max(0, len(lines)-limit):] {
		var e LogEntry
		if json.Unmarshal(l, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *Service) join(ctx context.Context, p JoinParams) *Error {
	if s.cfg.Rounds == nil {
		return &Error{Code: CodeNoMethod, Message: "this node takes no part in rounds (no compute_key)"}
	}
	if err := s.cfg.Rounds.Join(ctx, p); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		return &Error{Code: CodeRound, Message: err.Error()}
	}
	return nil
}

// ServeHTTP answers JSON-RPC 2.0 over POST.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "JSON-RPC 2.0: POST a request", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequest))
	if err != nil {
		writeRPC(w, Response{Error: &Error{Code: CodeInvalid, Message: err.Error()}})
		return
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		writeRPC(w, Response{Error: &Error{Code: CodeParse, Message: err.Error()}})
		return
	}
	writeRPC(w, s.handle(r.Context(), req))
}

func (s *Service) handle(ctx context.Context, req Request) Response {
	resp := Response{ID: req.ID}
	if req.JSONRPC != "2.0" {
		resp.Error = &Error{Code: CodeInvalid, Message: `"jsonrpc" must be "2.0"`}
		return resp
	}
	var result any
	switch req.Method {
	case MethodCall:
		var p CallParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			resp.Error = &Error{Code: CodeParams, Message: err.Error()}
			return resp
		}
		result, resp.Error = s.Call(ctx, p)
	case MethodLoad:
		var p LoadParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			resp.Error = &Error{Code: CodeParams, Message: err.Error()}
			return resp
		}
		result, resp.Error = struct{}{}, s.Load(ctx, p)
	case MethodLogs:
		var p LogsParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			resp.Error = &Error{Code: CodeParams, Message: err.Error()}
			return resp
		}
		result, resp.Error = s.Logs(ctx, p)
	case MethodRound:
		var p JoinParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			resp.Error = &Error{Code: CodeParams, Message: err.Error()}
			return resp
		}
		result, resp.Error = struct{}{}, s.join(ctx, p)
	default:
		resp.Error = &Error{Code: CodeNoMethod, Message: fmt.Sprintf("no method %q (%s, %s, %s)", req.Method, MethodCall, MethodLoad, MethodRound)}
	}
	if resp.Error == nil {
		resp.Result, _ = json.Marshal(result)
	}
	return resp
}

func writeRPC(w http.ResponseWriter, resp Response) {
	resp.JSONRPC = "2.0"
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}
