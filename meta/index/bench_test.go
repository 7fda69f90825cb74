package index

import (
	"fmt"
	"testing"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/pebblekv"
)

// BenchmarkCommitFile measures index throughput for small files: one
// CreateTask and one CommitFile (two synced batches) per file of one slice.
func BenchmarkCommitFile(b *testing.B) {
	b.Run("pebble", func(b *testing.B) {
		s, err := pebblekv.Open(b.TempDir(), pebblekv.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchCommit(b, s)
	})
	b.Run("mem", func(b *testing.B) { benchCommit(b, kv.NewMem()) })
}

func benchCommit(b *testing.B, s kv.Store) {
	ix, err := Open(s, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	reps := replicas(1, "n1", "n2", "n3")
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		path := fmt.Sprintf("/bench/%03d/%d", i%1000, i)
		f := content("alice", path, path)
		task := mustApply(b, ix, uploadCmd(1000, "alice", path, false)).Task
		mustApply(b, ix, commitCmd(1000, task.Id, f, reps))
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "files/s")
}
