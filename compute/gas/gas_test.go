package gas

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// module assembles a module of one type per function, the functions and
// their exports. Each function is (params, results, locals, body without
// its final end).
type fn struct {
	name            string
	params, results []byte
	body            []byte
}

func module(fns ...fn) []byte {
	vec := func(items ...[]byte) []byte {
		out := appendU32(nil, uint32(len(items)))
		for _, it := range items {
			out = append(out, it...)
		}
		return out
	}
	sec := func(id byte, body []byte) []byte {
		return append(appendU32([]byte{id}, uint32(len(body))), body...)
	}
	var types, funcs, exports, codes [][]byte
	for i, f := range fns {
		t := append([]byte{0x60}, appendU32(nil, uint32(len(f.params)))...)
		t = append(t, f.params...)
		t = append(appendU32(t, uint32(len(f.results))), f.results...)
		types = append(types, t)
		funcs = append(funcs, appendU32(nil, uint32(i)))
		e := append(appendU32(nil, uint32(len(f.name))), f.name...)
		exports = append(exports, appendU32(append(e, 0x00), uint32(i)))
		body := append([]byte{0x00}, f.body...) // no local declarations
		body = append(body, 0x0b)
		codes = append(codes, append(appendU32(nil, uint32(len(body))), body...))
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, sec(1, vec(types...))...)
	out = append(out, sec(3, vec(funcs...))...)
	out = append(out, sec(7, vec(exports...))...)
	return append(out, sec(10, vec(codes...))...)
}

const i64 = 0x7e

// spin(n): loop { n -= 1; br_if n != 0 } ; forever: loop { br 0 }.
var testModule = module(
	fn{name: "spin", params: []byte{i64}, body: []byte{
		0x03, 0x40, // loop
		0x20, 0x00, 0x42, 0x01, 0x7d, 0x21, 0x00, // local.get 0; i64.const 1; i64.sub; local.set 0
		0x20, 0x00, 0x42, 0x00, 0x52, 0x0d, 0x00, // local.get 0; i64.const 0; i64.ne; br_if 0
		0x0b, // end
	}},
	fn{name: "forever", body: []byte{0x03, 0x40, 0x0c, 0x00, 0x0b}},
	fn{name: "recurse", body: []byte{0x10, 0x02}}, // calls itself
)

type instance struct {
	mod api.Module
	gas api.MutableGlobal
}

func instantiate(t testing.TB, wasm []byte) instance {
	t.Helper()
	mod := instantiateRaw(t, wasm)
	g, ok := mod.ExportedGlobal(Export).(api.MutableGlobal)
	if !ok {
		t.Fatalf("no mutable global %q exported", Export)
	}
	return instance{mod: mod, gas: g}
}

// instantiateRaw instantiates a module that is not metered.
func instantiateRaw(t testing.TB, wasm []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// call runs name with limit gas and returns the gas used and whether it
// ran out.
func (in instance) call(t testing.TB, name string, limit int64, args ...uint64) (used int64, outOfGas bool) {
	t.Helper()
	in.gas.Set(uint64(limit))
	_, err := in.mod.ExportedFunction(name).Call(context.Background(), args...)
	left := int64(in.gas.Get())
	if err != nil {
		if left >= 0 {
			t.Fatalf("%s trapped with gas left: %v", name, err)
		}
		return limit, true
	}
	return limit - left, false
}

// Issue 10: "every node stops at the same gas count with the same 'out of
// gas' result", and what a call costs grows with the work it does.
func TestMeteredModuleRunsOutOfGasDeterministically(t *testing.T) {
	wasm, err := Instrument(testModule, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	in := instantiate(t, wasm)
	u1, oog := in.call(t, "spin", 1<<40, 1000)
	if oog || u1 <= 0 {
		t.Fatalf("spin(1000): used %d, out of gas %v", u1, oog)
	}
	u2, _ := in.call(t, "spin", 1<<40, 2000)
	perIter := (u2 - u1) / 1000
	if perIter <= 0 || u2-u1 != 1000*perIter {
		t.Fatalf("spin(2000) used %d, spin(1000) %d: not linear in the iterations", u2, u1)
	}
	if again, _ := in.call(t, "spin", 1<<40, 1000); again != u1 {
		t.Fatalf("the same call used %d then %d", u1, again)
	}
	// An endless loop and endless recursion stop, with the gas spent.
	for _, name := range []string{"forever", "recurse"} {
		if _, oog := in.call(t, name, 1_000_000); !oog {
			t.Fatalf("%s did not run out of gas", name)
		}
	}
	// Out of gas at the same count on another instance (another node).
	other := instantiate(t, wasm)
	in.call(t, "spin", u1-1, 1000)
	a := int64(in.gas.Get())
	other.call(t, "spin", u1-1, 1000)
	if b := int64(other.gas.Get()); a >= 0 || a != b {
		t.Fatalf("out of gas with %d left here and %d there", a, b)
	}
}

func TestInstrumentRefuses(t *testing.T) {
	simd := module(fn{name: "f", body: []byte{0xfd, 0x0c}})
	atomic := module(fn{name: "f", body: []byte{0xfe, 0x00}})
	for name, tc := range map[string]struct {
		wasm []byte
		want error
	}{
		"simd":      {simd, ErrRefused},
		"atomics":   {atomic, ErrRefused},
		"truncated": {testModule[:len(testModule)-3], ErrMalformed},
		"no magic":  {[]byte("hello world"), ErrMalformed},
		"version 2": {append([]byte("\x00asm\x02\x00\x00\x00"), testModule[8:]...), ErrRefused},
	} {
		if _, err := Instrument(tc.wasm, DefaultOptions()); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	wasm, err := Instrument(testModule, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Instrument(wasm, DefaultOptions()); !errors.Is(err, ErrRefused) {
		t.Fatalf("metered twice: %v", err)
	}
}

var (
	primesOnce sync.Once
	primesWasm []byte
	primesErr  error
)

// primes builds testdata/primes.go.txt for WASI with the Go toolchain
// running the test: "a developer writes them in Go (GOOS=wasip1
// GOARCH=wasm go build, no other toolchain needed)".
func primes(t testing.TB) []byte {
	t.Helper()
	primesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gas-primes-")
		if err != nil {
			primesErr = err
			return
		}
		defer os.RemoveAll(dir)
		src, _ := os.ReadFile("testdata/primes.go.txt")
		os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644)
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module primes\n\ngo 1.26\n"), 0o644)
		cmd := exec.Command("go", "build", "-o", "primes.wasm", ".")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			primesErr = errors.New(string(out))
			return
		}
		primesWasm, primesErr = os.ReadFile(filepath.Join(dir, "primes.wasm"))
	})
	if primesErr != nil {
		t.Fatalf("build the Go test program for wasip1: %v", primesErr)
	}
	return primesWasm
}

// runWASI runs a WASI command with gas (for a metered one) and returns
// what it printed, its gas used and whether it ran out.
func runWASI(t testing.TB, rt wazero.Runtime, compiled wazero.CompiledModule, limit int64, args ...string) (string, int64, bool) {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	cfg := wazero.NewModuleConfig().WithStdout(&out).WithArgs(append([]string{"primes"}, args...)...).WithStartFunctions()
	mod, err := rt.InstantiateModule(ctx, compiled, cfg.WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	g, _ := mod.ExportedGlobal(Export).(api.MutableGlobal)
	if g != nil {
		g.Set(uint64(limit))
	}
	_, err = mod.ExportedFunction("_start").Call(ctx)
	var exit *sys.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		if g != nil && int64(g.Get()) < 0 {
			return out.String(), limit, true
		}
		t.Fatalf("run: %v", err)
	}
	if g == nil {
		return out.String(), 0, false
	}
	return out.String(), limit - int64(g.Get()), false
}

func newWASIRuntime(t testing.TB) wazero.Runtime {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	return rt
}

// A real Go program, metered, prints what the plain one prints, uses the
// same gas on every run, and stops when the gas is too little.
func TestMeteredGoProgram(t *testing.T) {
	plain := primes(t)
	metered, err := Instrument(plain, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rt := newWASIRuntime(t)
	ctx := context.Background()
	p, err := rt.CompileModule(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.CompileModule(ctx, metered)
	if err != nil {
		t.Fatalf("the metered module does not compile: %v", err)
	}
	want, _, _ := runWASI(t, rt, p, 0, "5000")
	got, used, oog := runWASI(t, rt, m, 1<<50, "5000")
	if got != want || want != "669\n" || oog {
		t.Fatalf("metered printed %q (out of gas %v), plain %q", got, oog, want)
	}
	_, again, _ := runWASI(t, rt, m, 1<<50, "5000")
	_, more, _ := runWASI(t, rt, m, 1<<50, "20000")
	if again != used || more <= used {
		t.Fatalf("gas used: %d, then %d; for 4x the work %d", used, again, more)
	}
	if _, _, oog := runWASI(t, rt, m, used-1, "5000"); !oog {
		t.Fatal("one gas less than the program needs did not run out")
	}
	t.Logf("primes below 5000: %d gas; below 20000: %d gas; module %d -> %d bytes", used, more, len(plain), len(metered))
}

// FuzzInstrument feeds arbitrary modules (a developer's upload is
// untrusted): Instrument never panics, and what it returns decodes and is
// refused a second time.
func FuzzInstrument(f *testing.F) {
	f.Add(testModule)
	f.Add(module(fn{name: "f", body: []byte{0x02, 0x40, 0x03, 0x7f, 0x41, 0x01, 0x0b, 0x1a, 0x0b}}))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := Instrument(wasm, DefaultOptions())
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrRefused) {
				t.Fatalf("error outside the two kinds: %v", err)
			}
			return
		}
		if _, err := parseSections(out); err != nil {
			t.Fatalf("the output does not decode: %v", err)
		}
		if _, err := Instrument(out, DefaultOptions()); !errors.Is(err, ErrRefused) {
			t.Fatalf("the output was metered again: %v", err)
		}
		// A module wazero accepts stays one it accepts once metered.
		ctx := context.Background()
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer rt.Close(ctx)
		if _, err := rt.CompileModule(ctx, wasm); err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("wazero accepts the module but not its metered form: %v", err)
		}
	})
}

// BenchmarkMeteringOverhead: issue 10 wants "an instrumented module against
// the plain one on a CPU-bound function (target: under 30% slower)".
func BenchmarkMeteringOverhead(b *testing.B) {
	plain := primes(b)
	metered, err := Instrument(plain, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		wasm []byte
	}{{"plain", plain}, {"metered", metered}} {
		b.Run(tc.name, func(b *testing.B) {
			rt := newWASIRuntime(b)
			m, err := rt.CompileModule(context.Background(), tc.wasm)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if out, _, _ := runWASI(b, rt, m, 1<<60, "200000"); out != "17984\n" {
					b.Fatalf("printed %q", out)
				}
			}
		})
	}
}
