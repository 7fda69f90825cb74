package gas

import (
	"context"
	"math"
	"testing"
)

const (
	f32 = 0x7d
	f64 = 0x7c
	i32 = 0x7f
)

// nanModule: div64(x, y) and div32(x, y) return the bits of x/y; sqrt64(x)
// the bits of its square root; neg64(x) the bits of -x.
var nanModule = module(
	fn{name: "div64", params: []byte{f64, f64}, results: []byte{i64},
		body: []byte{0x20, 0x00, 0x20, 0x01, 0xa3, 0xbd}}, // f64.div; i64.reinterpret_f64
	fn{name: "div32", params: []byte{f32, f32}, results: []byte{i32},
		body: []byte{0x20, 0x00, 0x20, 0x01, 0x95, 0xbc}}, // f32.div; i32.reinterpret_f32
	fn{name: "sqrt64", params: []byte{f64}, results: []byte{i64},
		body: []byte{0x20, 0x00, 0x9f, 0xbd}},
	fn{name: "neg64", params: []byte{f64}, results: []byte{i64},
		body: []byte{0x20, 0x00, 0x9a, 0xbd}}, // f64.neg only moves the sign bit
)

// DESIGN §8 ("NaNs canonicalised"): whatever NaN the CPU makes (x86 sets
// the sign bit of 0/0; a NaN operand's payload propagates), a metered
// module sees the canonical NaN, so nodes on different hardware agree; a
// number that is not a NaN passes unchanged.
func TestNaNsAreCanonical(t *testing.T) {
	metered, err := Instrument(nanModule, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	in := instantiate(t, metered)
	in.gas.Set(1 << 40)
	call := func(name string, args ...uint64) uint64 {
		t.Helper()
		res, err := in.mod.ExportedFunction(name).Call(context.Background(), args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res[0]
	}
	b64 := math.Float64bits
	b32 := func(f float32) uint64 { return uint64(math.Float32bits(f)) }
	payload := uint64(0xfff4_0000_0000_0001) // a negative signalling NaN with a payload
	for name, got := range map[string]uint64{
		"0/0 (f64)":        call("div64", b64(0), b64(0)),
		"NaN payload/1":    call("div64", payload, b64(1)),
		"sqrt(-1)":         call("sqrt64", b64(-1)),
		"0/0 (f32)":        call("div32", b32(0), b32(0)),
		"inf/inf (f32)":    call("div32", b32(float32(math.Inf(1))), b32(float32(math.Inf(1)))),
		"NaN payload (32)": call("div32", 0xffa0_0001, b32(1)),
	} {
		want := uint64(0x7ff8_0000_0000_0000)
		if name[len(name)-4:] == "f32)" || name[len(name)-4:] == "(32)" {
			want = 0x7fc0_0000
		}
		if got != want {
			t.Errorf("%s: bits %#x, want the canonical %#x", name, got, want)
		}
	}
	if got := call("div64", b64(1.5), b64(0.5)); got != b64(3) {
		t.Errorf("1.5/0.5: bits %#x, want %#x", got, b64(3))
	}
	if got := call("neg64", b64(math.NaN())); got != b64(math.NaN())^(1<<63) {
		t.Errorf("neg of a NaN: %#x; neg only flips the sign bit", got)
	}
	// Without the pass the CPU's own NaN shows (on amd64, negative).
	plain := instantiateRaw(t, nanModule)
	res, err := plain.ExportedFunction("div64").Call(context.Background(), b64(0), b64(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unmetered 0/0 on this CPU: %#x", res[0])
}
