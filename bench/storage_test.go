package bench

import (
	"math"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(ds)
	if p.P50 != 50 || p.P90 != 90 || p.P99 != 99 || p.Max != 100 {
		t.Fatalf("percentiles of 1..100 ms: %+v", p)
	}
	if (percentiles(nil) != Percentiles{}) {
		t.Fatal("no samples must give zeros")
	}
}

func TestDiskWrite(t *testing.T) {
	for _, every := range []int64{0, 1 << 20} {
		mbps, err := DiskWrite(t.TempDir(), 4<<20, every)
		if err != nil || mbps <= 0 || math.IsInf(mbps, 0) {
			t.Fatalf("DiskWrite(every %d) = %v, %v", every, mbps, err)
		}
	}
	if _, err := DiskWrite("/nonexistent/dir", 1<<20, 0); err == nil {
		t.Fatal("a missing directory must fail")
	}
}

func TestStreamDeterministic(t *testing.T) {
	a, b := make([]byte, 64), make([]byte, 64)
	newStream(3).Read(a)
	newStream(3).Read(b)
	if string(a) != string(b) {
		t.Fatal("same seed, different bytes")
	}
	newStream(4).Read(b)
	if string(a) == string(b) {
		t.Fatal("different seeds, same bytes")
	}
}
