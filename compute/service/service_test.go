package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/compute/caller"
	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/internal/wasmtest"
	"github.com/stratos-net/stratos/x/trustedfn/round"
)

// buildHello builds examples/fn/hello for WASI.
func buildHello(t testing.TB) []byte { return wasmtest.Module(t, "../../examples/fn/hello") }

// chain is the app as both sides see it.
type chain struct {
	app   service.App
	nodes []caller.Node
}

func (c *chain) App(_ context.Context, id string) (service.App, error) {
	if id != "app1test" {
		return service.App{}, errors.New("no such app")
	}
	return c.app, nil
}

type callerChain struct{ c *chain }

func (cc callerChain) App(_ context.Context, id string) (caller.App, error) {
	return caller.App{ID: id, Nodes: cc.c.nodes, Agreement: round.Agreement{Num: 2, Den: 3}}, nil
}

// network starts n nodes serving app1test, the last byzantine ones as told.
func network(t testing.TB, module []byte, n, byzantine int) (*chain, *caller.Caller) {
	t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256(module)
	c := &chain{app: service.App{CodeHash: hex.EncodeToString(sum[:]), Active: true}}
	for i := range n {
		key, err := identity.Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := service.DefaultConfig()
		cfg.Dir, cfg.Apps, cfg.Key = t.TempDir(), c, key
		cfg.Byzantine = i >= n-byzantine
		s, err := service.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(ctx) })
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		c.app.Nodes = append(c.app.Nodes, key.ID())
		c.nodes = append(c.nodes, caller.Node{ID: key.ID(), Endpoint: srv.URL, Public: key.Public()})
	}
	cfg := caller.DefaultConfig()
	cfg.Chain = callerChain{c}
	cfg.Module = func(context.Context, string) ([]byte, error) { return module, nil }
	cl, err := caller.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, cl
}

// Issue 10: "calls are served off-chain at once: the client sends the call
// to the app's nodes, compares their outputs, and returns the answer that
// more than the app's agreement threshold gave (with which nodes agreed)".
// The nodes get the module on the first call; a byzantine node's signed
// lie is outvoted and named.
func TestCallIsAnsweredByTheAgreeingNodes(t *testing.T) {
	module := buildHello(t)
	c, cl := network(t, module, 4, 1)
	res, err := cl.Call(context.Background(), "app1test", "greet", []byte(`{"name":"Ada"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Output), "Ada") || res.FnError != "" {
		t.Fatalf("output %q, error %q", res.Output, res.FnError)
	}
	if len(res.Agreed) != 3 || res.Quorum != 3 {
		t.Fatalf("agreed %v of quorum %d", res.Agreed, res.Quorum)
	}
	liar := c.nodes[3].ID
	for _, a := range res.Answers {
		if (a.Node == liar) == a.Agreed {
			t.Errorf("node %s agreed=%v (the liar is %s)", a.Node, a.Agreed, liar)
		}
	}
	again, err := cl.Call(context.Background(), "app1test", "greet", []byte(`{"name":"Ada"}`))
	if err != nil || string(again.Output) != string(res.Output) {
		t.Fatalf("second call (modules loaded): %q %v", again.Output, err)
	}
}

// With two liars of four no answer reaches three: the caller refuses to
// answer rather than pick one.
func TestNoAgreementIsAnError(t *testing.T) {
	_, cl := network(t, buildHello(t), 4, 2)
	res, err := cl.Call(context.Background(), "app1test", "greet", []byte(`{"name":"Ada"}`))
	if !errors.Is(err, caller.ErrNoAgreement) || len(res.Answers) != 4 {
		t.Fatalf("%v, %d answers", err, len(res.Answers))
	}
}

// A function that fails fails the same way on every node, and that failure
// is the agreed answer.
func TestFunctionErrorsAreAgreedOn(t *testing.T) {
	_, cl := network(t, buildHello(t), 3, 0)
	res, err := cl.Call(context.Background(), "app1test", "no-such-function", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FnError == "" || len(res.Agreed) != 3 {
		t.Fatalf("fn error %q agreed %v", res.FnError, res.Agreed)
	}
}

// A node keeps a module only if it hashes to the app's code hash, and
// serves only the apps the chain assigned it.
func TestNodeRefusesForeignModulesAndApps(t *testing.T) {
	ctx := context.Background()
	module := buildHello(t)
	c, _ := network(t, module, 1, 0)
	key, _ := identity.Generate(nil)
	cfg := service.DefaultConfig()
	cfg.Dir, cfg.Apps, cfg.Key = t.TempDir(), c, key
	cfg.AppTTL = time.Nanosecond // see the chain's change below at once
	s, err := service.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if e := s.Load(ctx, service.LoadParams{App: "app1test", Module: module}); e == nil || e.Code != service.CodeNotServed {
		t.Fatalf("load on a node not drawn for the app: %v", e)
	}
	c.app.Nodes = append(c.app.Nodes, key.ID())
	if e := s.Load(ctx, service.LoadParams{App: "app1test", Module: append([]byte{}, module[:len(module)-1]...)}); e == nil || e.Code != service.CodeModuleRefused {
		t.Fatalf("load of other bytes: %v", e)
	}
	seed := make([]byte, 32)
	if _, e := s.Call(ctx, service.CallParams{App: "app1test", Function: "greet", Seed: seed}); e == nil || e.Code != service.CodeNotLoaded {
		t.Fatalf("call before load: %v", e)
	}
	if e := s.Load(ctx, service.LoadParams{App: "app1test", Module: module}); e != nil {
		t.Fatal(e)
	}
	r, e := s.Call(ctx, service.CallParams{App: "app1test", Function: "greet", Input: []byte(`{"name":"Bo"}`), Seed: seed})
	if e != nil {
		t.Fatal(e)
	}
	if s.Usage("app1test") != uint64(r.GasUsed) || r.GasUsed <= 0 {
		t.Fatalf("usage %d after a call of %d gas", s.Usage("app1test"), r.GasUsed)
	}
	if _, e := s.Call(ctx, service.CallParams{App: "app1test", Function: "greet", Seed: seed[:5]}); e == nil || e.Code != service.CodeParams {
		t.Fatalf("short seed: %v", e)
	}
}

// `stratos fn logs`: a node gives its log of an app's calls, with what the
// function wrote to stderr, to the app's owner only.
func TestCallLogIsTheOwners(t *testing.T) {
	ctx := context.Background()
	module := buildHello(t)
	owner, addr, err := account.FromSecret([]byte("the app owner's secret key, 32b"))
	if err != nil {
		t.Fatal(err)
	}
	c, cl := network(t, module, 1, 0)
	c.app.Owner = addr
	if _, err := cl.Call(ctx, "app1test", "greet", []byte(`{"name":"Ada"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Call(ctx, "app1test", "greet", []byte(`not json`)); err != nil {
		t.Fatal(err)
	}
	logs := func(s account.Signer, at time.Time) ([]service.LogEntry, error) {
		p := service.LogsParams{App: "app1test", UnixNano: at.UnixNano(), OwnerKey: s.PubKey()}
		p.Signature, _ = s.Sign(service.LogsBytes(p))
		var out []service.LogEntry
		err := caller.RPC(ctx, http.DefaultClient, c.nodes[0].Endpoint, service.MethodLogs, p, &out)
		return out, err
	}
	entries, err := logs(owner, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Function != "greet" || entries[1].GasUsed <= 0 || entries[1].Error == "" || entries[1].Stderr == "" {
		t.Fatalf("entries %+v", entries)
	}
	mallory, _, _ := account.FromSecret([]byte("mallory's secret key, 32 bytes.."))
	var e *service.Error
	if _, err := logs(mallory, time.Now()); !errors.As(err, &e) || e.Code != service.CodeNotOwner {
		t.Fatalf("another account reads the log: %v", err)
	}
	if _, err := logs(owner, time.Now().Add(-time.Hour)); !errors.As(err, &e) || e.Code != service.CodeNotOwner {
		t.Fatalf("an hour-old request: %v", err)
	}
}

// A spot check's expected answer, computed locally, is what honest nodes
// commit to for the same call (lucky reads the clock and randomness, both
// the call's).
func TestLocalOutcomeIsTheNodesAnswer(t *testing.T) {
	ctx := context.Background()
	module := buildHello(t)
	sum := sha256.Sum256(module)
	key, _ := identity.Generate(nil)
	c := &chain{app: service.App{CodeHash: hex.EncodeToString(sum[:]), Active: true, Nodes: []string{key.ID()}}}
	cfg := service.DefaultConfig()
	cfg.Dir, cfg.Apps, cfg.Key = t.TempDir(), c, key
	s, err := service.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if e := s.Load(ctx, service.LoadParams{App: "app1test", Module: module}); e != nil {
		t.Fatal(e)
	}
	p := service.CallParams{App: "app1test", Function: "lucky", Input: []byte(`{"name":"Ada"}`),
		Seed: bytes.Repeat([]byte{7}, 32), TimeUnixNano: 42}
	got, e := s.Call(ctx, p)
	if e != nil {
		t.Fatal(e)
	}
	want, err := service.LocalOutcome(ctx, module, p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.OutputHash) != string(want[:]) {
		t.Fatalf("node %x, local %x", got.OutputHash, want)
	}
	p.Seed = bytes.Repeat([]byte{8}, 32)
	if other, _ := service.LocalOutcome(ctx, module, p); other == want {
		t.Fatal("another seed gave the same lucky answer")
	}
}

type countingChain struct {
	callerChain
	n int
}

func (c *countingChain) App(ctx context.Context, id string) (caller.App, error) {
	c.n++
	return c.callerChain.App(ctx, id)
}

// The caller reads an app from the chain (several queries) once per
// AppTTL, not on every call.
func TestCallerReadsTheAppOncePerTTL(t *testing.T) {
	c, _ := network(t, buildHello(t), 3, 0)
	cc := &countingChain{callerChain: callerChain{c}}
	cfg := caller.DefaultConfig()
	cfg.Chain = cc
	cfg.Module = func(context.Context, string) ([]byte, error) { return buildHello(t), nil }
	cl, err := caller.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cl.Call(context.Background(), "app1test", "greet", []byte(`{"name":"Ada"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if cc.n != 1 {
		t.Fatalf("the app was read %d times for three calls", cc.n)
	}
}
