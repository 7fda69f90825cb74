package sandbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stratos-net/stratos/compute/gas"
	"github.com/stratos-net/stratos/internal/wasmtest"
)

// buildHello builds examples/fn/hello for WASI and meters it.
func buildHello(t *testing.T) []byte {
	t.Helper()
	metered, err := gas.Instrument(wasmtest.Module(t, "../../examples/fn/hello"), gas.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return metered
}

// Issue 10: "the same call gives the same bytes on every node, checked by
// a test that runs a job on several replicas and compares" — here three
// sandboxes stand for three nodes; the clock and randomness come from the
// call, so a function that reads both still agrees.
func TestSameCallSameBytesOnEveryReplica(t *testing.T) {
	ctx := context.Background()
	wasm := buildHello(t)
	call := Call{Function: "lucky", Input: []byte(`{"name":"Ada"}`), Gas: 1 << 40,
		Time: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), Seed: [32]byte{1, 2, 3}}
	var first Result
	for i := range 3 {
		sb, err := New(ctx, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close(ctx)
		m, err := sb.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sb.Run(ctx, m, call)
		if err != nil {
			t.Fatalf("replica %d: %v (%s)", i, err, res.Stderr)
		}
		if i == 0 {
			first = res
			t.Logf("lucky: %s, %d gas", res.Output, res.GasUsed)
			continue
		}
		if string(res.Output) != string(first.Output) || res.GasUsed != first.GasUsed {
			t.Fatalf("replica %d answered %q with %d gas, replica 0 %q with %d", i, res.Output, res.GasUsed, first.Output, first.GasUsed)
		}
	}
	sb, _ := New(ctx, DefaultConfig())
	defer sb.Close(ctx)
	m, _ := sb.Compile(ctx, wasm)
	other := call
	other.Seed[0] = 9
	if res, err := sb.Run(ctx, m, other); err != nil || string(res.Output) == string(first.Output) {
		t.Fatalf("another seed gave the same answer %q (%v): the randomness is not the call's", res.Output, err)
	}
	greet := call
	greet.Function = "greet"
	if res, err := sb.Run(ctx, m, greet); err != nil || string(res.Output) != "{\"greeting\":\"Hello, Ada!\"}\n" {
		t.Fatalf("greet: %q, %v", res.Output, err)
	}
	short := call
	short.Gas = first.GasUsed / 2
	if _, err := sb.Run(ctx, m, short); !errors.Is(err, ErrOutOfGas) {
		t.Fatalf("half the gas: %v, want ErrOutOfGas", err)
	}
	bad := call
	bad.Function = "nope"
	if res, err := sb.Run(ctx, m, bad); !errors.Is(err, ErrExit) || len(res.Stderr) == 0 {
		t.Fatalf("unknown function: %v, stderr %q", err, res.Stderr)
	}
}

func TestUnmeteredModuleRefused(t *testing.T) {
	ctx := context.Background()
	sb, err := New(ctx, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	m, err := sb.Compile(ctx, []byte("\x00asm\x01\x00\x00\x00"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Run(ctx, m, Call{Gas: 100}); !errors.Is(err, ErrNotMetered) {
		t.Fatalf("an unmetered module: %v", err)
	}
	if _, err := New(ctx, Config{}); err == nil {
		t.Fatal("a zero config was accepted")
	}
}
