package raftnode

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stratos-net/stratos/kv/pebblekv"
	"github.com/stratos-net/stratos/meta/index"
)

// BenchmarkFileCreations measures committed index commands per second
// (upload task creations, one per file) through a cluster of 1 and of 3
// meta nodes on Pebble and raft-boltdb, with 64 concurrent proposers so
// batching shows (issue 7: the cluster should keep at least half the
// single node's rate, and more than 5,000 creations per second).
//
// direct is the meta node before the log: each command applied to the
// index on its own, in a synced batch.
func BenchmarkFileCreations(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		store, err := pebblekv.Open(b.TempDir(), pebblekv.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		ix, err := index.Open(store, index.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		parallel(b, func(i int64) error {
			_, err := ix.Apply(createTask("bench", fmt.Sprintf("/f%d", i)))
			return err
		})
	})
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			c := newCluster(b, n, nil)
			l := c.leader()
			parallel(b, func(i int64) error {
				_, err := l.node.Apply(context.Background(), createTask("bench", fmt.Sprintf("/f%d", i)))
				return err
			})
		})
	}
}

// parallel runs b.N calls of f from 64 goroutines and reports their rate.
func parallel(b *testing.B, f func(i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := f(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
}
