package index

import (
	"fmt"
	"testing"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/pebblekv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
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

// BenchmarkAddTraffic measures the ledger's write path: one AddTrafficCmd
// (one synced batch) per flush of batch entries, spread over 1,000 nodes
// and 10,000 users.
func BenchmarkAddTraffic(b *testing.B) {
	for _, batch := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("pebble/batch=%d", batch), func(b *testing.B) {
			s, err := pebblekv.Open(b.TempDir(), pebblekv.DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchAddTraffic(b, s, batch)
		})
		b.Run(fmt.Sprintf("mem/batch=%d", batch), func(b *testing.B) { benchAddTraffic(b, kv.NewMem(), batch) })
	}
}

func benchAddTraffic(b *testing.B, s kv.Store, batch int) {
	ix, err := Open(s, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		entries := make([]*metav1.TrafficEntry, batch)
		for j := range entries {
			entries[j] = entry(fmt.Sprintf("node%d", i%1000), fmt.Sprintf("user%d", i%10000), 1<<16)
			i++
		}
		mustApply(b, ix, addTrafficCmd(entries...))
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkTakeTraffic measures closing a period with 10,000 nodes and
// 100,000 users in the ledger: a scan, a sort, and the deletes.
func BenchmarkTakeTraffic(b *testing.B) {
	ix := newIndex(b, kv.NewMem())
	fill := func() {
		for k := 0; k < 100_000; k += 1000 {
			entries := make([]*metav1.TrafficEntry, 1000)
			for j := range entries {
				entries[j] = entry(fmt.Sprintf("node%d", (k+j)%10_000), fmt.Sprintf("user%d", k+j), uint64(1+(k+j)%777))
			}
			mustApply(b, ix, addTrafficCmd(entries...))
		}
	}
	for b.Loop() {
		b.StopTimer()
		fill()
		b.StartTimer()
		mustApply(b, ix, takeTrafficCmd(100))
	}
}
