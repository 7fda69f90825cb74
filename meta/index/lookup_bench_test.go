package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stratos-net/stratos/kv"
)

// BenchmarkLookupMillion measures File lookups, present and absent, in an
// index of a million files on Pebble (issue 7: lookup latency p50/p99 with
// a million files). The index is built in memory and restored into Pebble
// from its snapshot, which takes about a minute.
func BenchmarkLookupMillion(b *testing.B) {
	const files = 1_000_000
	ix := filesOnPebble(b, files)
	for _, present := range []bool{true, false} {
		b.Run(fmt.Sprintf("present=%v", present), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			var ds []time.Duration
			for b.Loop() {
				p := lookupPath(rng.IntN(files))
				if !present {
					p += ".missing"
				}
				start := time.Now()
				_, err := ix.File("alice", p)
				ds = append(ds, time.Since(start))
				if (err == nil) != present {
					b.Fatalf("File(%s): %v", p, err)
				}
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1000, "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds())/1000, "p99-µs")
		})
	}
}

func lookupPath(i int) string { return fmt.Sprintf("/bench/%03d/%d", i%1000, i) }

// filesOnPebble returns an index of n files at lookupPath(0…n-1) on Pebble,
// one slice each: built in memory and restored from its snapshot.
func filesOnPebble(b *testing.B, n int) *Index {
	b.Helper()
	src := newIndex(b, kv.NewMem())
	mustApply(b, src, registerCmd(1000, "n1"))
	for i := range n {
		put(b, src, 1000, content("alice", lookupPath(i), fmt.Sprintf("slice %d", i)))
	}
	state := snapshot(b, src)
	ix := newIndex(b, openPebble(b, b.TempDir()))
	if err := ix.Restore(bytes.NewReader(state)); err != nil {
		b.Fatal(err)
	}
	return ix
}
