// Package sandbox runs a trusted function's call deterministically (issue
// 10; DESIGN §8): the same module, call and seed give the same output
// bytes and the same gas on every node. A function is a WASI command
// metered by package gas: it is called with its function name as its first
// argument and the call's input on standard input, and answers on standard
// output.
//
// Nothing of the machine reaches the module: the wall clock starts at the
// call's time (the block time, given) and moves one millisecond per read,
// the monotonic clock likewise from zero, randomness is ChaCha8 from the
// call's seed, sleeping returns at once, there is no file system, no
// environment and no network, and memory is capped. Gas bounds the work,
// the output is capped too.
//
// Not yet: floating-point NaN bit patterns are not canonicalised, so a
// function whose output depends on a NaN's payload may differ between
// CPU architectures.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/stratos-net/stratos/compute/gas"
)

// Errors a caller matches with errors.Is. Each is a result every honest
// node reaches identically.
var (
	ErrOutOfGas      = errors.New("out of gas")
	ErrOutputTooLong = errors.New("output too long")
	ErrTrap          = errors.New("function trapped")
	ErrExit          = errors.New("function exited with an error")
	ErrNotMetered    = errors.New("module not metered")
)

// Config bounds every call.
type Config struct {
	MemoryPages uint32 // 64 KiB pages of linear memory at most; default 1024 (64 MiB)
	MaxOutput   int    // bytes of output at most; default 1 MiB
}

// DefaultConfig is 64 MiB of memory and 1 MiB of output.
func DefaultConfig() Config { return Config{MemoryPages: 1024, MaxOutput: 1 << 20} }

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.MemoryPages == 0 || c.MemoryPages > 65536:
		return fmt.Errorf("sandbox: memory of %d pages: want 1 to 65536", c.MemoryPages)
	case c.MaxOutput <= 0:
		return fmt.Errorf("sandbox: output limit %d: want more than 0", c.MaxOutput)
	}
	return nil
}

// Call is one invocation.
type Call struct {
	Function string
	Input    []byte
	Gas      int64     // the most it may spend
	Time     time.Time // the wall clock's start: the block time
	Seed     [32]byte  // of its randomness
}

// Result is what a call gave.
type Result struct {
	Output  []byte
	GasUsed int64
	// Stderr is what the function logged: for its developer, never
	// compared between nodes.
	Stderr []byte
}

// Sandbox compiles modules and runs calls. It is safe for concurrent use.
type Sandbox struct {
	cfg Config
	rt  wazero.Runtime
}

// New returns a sandbox; Close releases it.
func New(ctx context.Context, cfg Config) (*Sandbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Core features of WebAssembly 2.0 without threads or SIMD (package
	// gas refuses those too), memory capped.
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(cfg.MemoryPages).WithCloseOnContextDone(true).
		WithCoreFeatures(api.CoreFeaturesV2 &^ api.CoreFeatureSIMD)
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return &Sandbox{cfg: cfg, rt: rt}, nil
}

// Close frees every compiled module.
func (s *Sandbox) Close(ctx context.Context) error { return s.rt.Close(ctx) }

// Module is a compiled, metered module.
type Module struct{ c wazero.CompiledModule }

// Compile compiles a module metered by gas.Instrument.
func (s *Sandbox) Compile(ctx context.Context, metered []byte) (*Module, error) {
	c, err := s.rt.CompileModule(ctx, metered)
	if err != nil {
		return nil, fmt.Errorf("sandbox: compile: %w", err)
	}
	return &Module{c: c}, nil
}

// limited is a writer that keeps at most n bytes and remembers overflow.
type limited struct {
	buf  bytes.Buffer
	n    int
	over bool
}

func (l *limited) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > l.n {
		l.over = true
		return 0, ErrOutputTooLong
	}
	return l.buf.Write(p)
}

// Run runs call in a fresh instance of m. Its error is one of the errors
// above for what the function did (the same on every node), or another
// for what the host could not do (a canceled context).
func (s *Sandbox) Run(ctx context.Context, m *Module, call Call) (Result, error) {
	out := &limited{n: s.cfg.MaxOutput}
	errOut := &limited{n: 64 << 10}
	wall := call.Time.UnixNano()
	var wallReads, monoReads int64
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs("fn", call.Function).
		WithStdin(bytes.NewReader(call.Input)).
		WithStdout(out).WithStderr(errOut).
		WithStartFunctions(). // _start is called below, once the gas is set
		WithWalltime(func() (int64, int32) {
			wallReads++
			t := wall + wallReads*int64(time.Millisecond)
			return t / 1e9, int32(t % 1e9)
		}, sys.ClockResolution(time.Millisecond)).
		WithNanotime(func() int64 { monoReads++; return monoReads * int64(time.Millisecond) }, sys.ClockResolution(time.Millisecond)).
		WithNanosleep(func(int64) {}).
		WithOsyield(func() {}).
		WithRandSource(rand.NewChaCha8(call.Seed))
	mod, err := s.rt.InstantiateModule(ctx, m.c, cfg)
	if err != nil {
		return Result{}, fmt.Errorf("%w: instantiate: %v", ErrTrap, err)
	}
	defer mod.Close(context.WithoutCancel(ctx))
	g, ok := mod.ExportedGlobal(gas.Export).(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI64 {
		return Result{}, fmt.Errorf("%w: it exports no mutable i64 %q (run it through gas.Instrument)", ErrNotMetered, gas.Export)
	}
	g.Set(uint64(call.Gas))
	start := mod.ExportedFunction("_start")
	if start == nil {
		return Result{}, fmt.Errorf("%w: the module has no _start (build it as a WASI command)", ErrTrap)
	}
	_, err = start.Call(ctx)
	left := int64(g.Get())
	res := Result{Output: out.buf.Bytes(), Stderr: errOut.buf.Bytes(), GasUsed: call.Gas - max(left, 0)}
	var exit *sys.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return res, ctx.Err()
	case left < 0:
		res.GasUsed = call.Gas
		return res, ErrOutOfGas
	case out.over:
		return res, ErrOutputTooLong
	case errors.As(err, &exit) && exit.ExitCode() == 0:
	case errors.As(err, &exit):
		return res, fmt.Errorf("%w: code %d", ErrExit, exit.ExitCode())
	default:
		return res, fmt.Errorf("%w: %s", ErrTrap, trapText(err))
	}
	return res, nil
}

// trapText is a trap's message without the host's stack addresses, so
// that every node reports the same words.
func trapText(err error) string {
	msg := err.Error()
	if i := bytes.IndexByte([]byte(msg), '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
