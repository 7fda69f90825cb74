package index

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// BenchmarkRootAfterChanges shows what the index root costs in an index of
// 10,000 and of 1,000,000 files on Pebble (issue 7: the anchor "is
// maintained incrementally (its cost grows with the changes of a period,
// not with the size of the index: show it with a million files)"). Each
// op is a period: 1,000 file writes, each an upload task and a commit
// overwriting a random file with new content, applied at log positions as
// a replica applies them, then the seal that takes the root. seal-µs is
// the seal alone; full-root-ms is what the root cost when it was the
// SHA-256 of a snapshot, measured once for comparison.
func BenchmarkRootAfterChanges(b *testing.B) {
	for _, files := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("files=%d", files), func(b *testing.B) {
			ix := filesOnPebble(b, files)
			start := time.Now()
			h := sha256.New()
			if err := ix.Snapshot(h); err != nil {
				b.Fatal(err)
			}
			full := time.Since(start)

			rng := rand.New(rand.NewPCG(3, 4))
			at := ix.Applied()
			apply := func(cmd *metav1.Command) *metav1.CommandResult {
				at.Index++
				res, err := ix.ApplyAt(at, cmd)
				if err != nil {
					b.Fatalf("ApplyAt(%v): %v", cmd, err)
				}
				return res
			}
			var period uint64
			var sealing time.Duration
			b.ResetTimer()
			for b.Loop() {
				period++
				for range 1000 {
					i := rng.IntN(files)
					f := content("alice", lookupPath(i), fmt.Sprintf("slice %d period %d", i, period))
					task := apply(uploadCmd(1000, f.Owner, f.Path, true)).Task
					apply(commitCmd(1000, task.Id, f, replicas(1, "n1", "n2")))
				}
				start := time.Now()
				if root := apply(sealCmd(period, 10)).GetTraffic().GetIndexRoot(); len(root) != sha256.Size {
					b.Fatalf("sealed root %x", root)
				}
				sealing += time.Since(start)
			}
			b.ReportMetric(float64(sealing.Microseconds())/float64(period), "seal-µs")
			b.ReportMetric(float64(full.Microseconds())/1000, "full-root-ms")
		})
	}
}
