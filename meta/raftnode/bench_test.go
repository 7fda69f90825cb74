package raftnode

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkFileCreations measures committed index commands per second
// (upload task creations, one per file) through a cluster of 1 and of 3
// meta nodes on Pebble and raft-boltdb, with 64 concurrent proposers so
// batching shows (issue 7: the cluster should keep at least half the
// single node's rate, and more than 5,000 creations per second).
func BenchmarkFileCreations(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			c := newCluster(b, n, nil)
			l := c.leader()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						if _, err := l.node.Apply(context.Background(), createTask("bench", fmt.Sprintf("/f%d", i))); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
		})
	}
}
