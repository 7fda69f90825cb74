package fee

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestTrafficRoundsUp(t *testing.T) {
	for _, tt := range []struct {
		bytes, price, want uint64
	}{
		{0, 100, 0},
		{1, 100, 1},         // a byte costs a whole ustos
		{GiB, 100, 100},     // exactly a GiB
		{GiB + 1, 100, 101}, // just over
		{10 * GiB, 3, 30},
		{math.MaxUint64, 1, 1 << 34},
	} {
		if got := Traffic(tt.bytes, tt.price); got.Cmp(new(big.Int).SetUint64(tt.want)) != 0 {
			t.Errorf("Traffic(%d, %d) = %s, want %d", tt.bytes, tt.price, got, tt.want)
		}
	}
}

func TestStorageRoundsUp(t *testing.T) {
	for _, tt := range []struct {
		bytes, price, seconds, want uint64
	}{
		{GiB, 100, StoragePeriodSeconds, 100}, // a GiB for 30 days
		{GiB, 100, StoragePeriodSeconds / 2, 50},
		{1, 1, 1, 1}, // any storage at all costs a ustos
		{0, 100, 3600, 0},
		{GiB, 0, 3600, 0},
	} {
		if got := Storage(tt.bytes, tt.price, tt.seconds); got.Cmp(new(big.Int).SetUint64(tt.want)) != 0 {
			t.Errorf("Storage(%d, %d, %d) = %s, want %d", tt.bytes, tt.price, tt.seconds, got, tt.want)
		}
	}
}

// The fee is the exact ceiling: fee×d ≥ n > (fee−1)×d, for inputs up to 2^64.
func TestExactCeiling(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := new(big.Int).Mul(big.NewInt(GiB), big.NewInt(StoragePeriodSeconds))
	for range 1000 {
		b, p, s := r.Uint64(), r.Uint64(), r.Uint64()
		n := new(big.Int).Mul(new(big.Int).SetUint64(b), new(big.Int).SetUint64(p))
		n.Mul(n, new(big.Int).SetUint64(s))
		f := Storage(b, p, s)
		hi := new(big.Int).Mul(f, d)
		lo := new(big.Int).Mul(new(big.Int).Sub(f, big.NewInt(1)), d)
		if hi.Cmp(n) < 0 || lo.Cmp(n) >= 0 {
			t.Fatalf("Storage(%d, %d, %d) = %s is not the ceiling", b, p, s, f)
		}
	}
}

func TestSaturate(t *testing.T) {
	if got := Saturate(Traffic(math.MaxUint64, math.MaxUint64)); got != math.MaxUint64 {
		t.Errorf("Saturate(huge) = %d", got)
	}
	if got := Saturate(big.NewInt(7)); got != 7 {
		t.Errorf("Saturate(7) = %d", got)
	}
}
