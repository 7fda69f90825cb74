package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/internal/cluster"
	"github.com/stratos-net/stratos/meta"
	"github.com/stratos-net/stratos/slice"
)

// benchCluster is the devnet's shape: six nodes, three replicas, all in this
// process so one CPU profile covers every stage.
func benchCluster(b *testing.B, sliceSize int) *cluster.Cluster {
	opts := cluster.DefaultOptions()
	opts.SliceSize = sliceSize
	return cluster.Start(b, opts)
}

// sliceSizes are the candidates for the default slice size (DESIGN §6.1).
var sliceSizes = []int{4 << 20, 8 << 20, 16 << 20, 32 << 20}

// stream is incompressible and never repeats a slice, so content
// addressing cannot make the upload cheaper than it is.
func stream(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

const benchFile = 256 << 20

// go test -run x -bench Upload -benchtime 4x ./e2e/
func BenchmarkUpload(b *testing.B) {
	for _, ss := range sliceSizes {
		b.Run(fmt.Sprintf("slice=%dMiB", ss>>20), func(b *testing.B) { benchUpload(b, ss) })
	}
}

func benchUpload(b *testing.B, sliceSize int) {
	cl := benchCluster(b, sliceSize)
	c := cl.Client()
	b.SetBytes(benchFile)
	i := 0
	for b.Loop() {
		i++
		src := io.LimitReader(stream(byte(i)), benchFile)
		if _, err := c.Put(context.Background(), fmt.Sprintf("/bench/%d", i), src, benchFile, client.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// go test -run x -bench Download -benchtime 5x ./e2e/
func BenchmarkDownload(b *testing.B) {
	for _, ss := range sliceSizes {
		b.Run(fmt.Sprintf("slice=%dMiB", ss>>20), func(b *testing.B) { benchDownload(b, ss) })
	}
}

func benchDownload(b *testing.B, sliceSize int) {
	cl := benchCluster(b, sliceSize)
	c := cl.Client()
	if _, err := c.Put(context.Background(), "/bench/file", io.LimitReader(stream(0), benchFile), benchFile, client.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchFile)
	for b.Loop() {
		if _, err := c.Get(context.Background(), "/bench/file", io.Discard, client.GetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// go test -run x -bench DownloadReceipts -benchtime 3x ./e2e/
//
// Issue 8: "the cost of receipts on download throughput: a 1 GiB download
// with and without them". A holder never sends more than the fetch window
// ahead of the downloader's signed receipts, and the downloader signs one
// each quarter window (DESIGN §7). window=8MiB is the default (a receipt
// every 2 MiB, and the node waits whenever one is late); window=1GiB is a
// window no slice fills, so each slice is signed for once at its end and
// the node never waits: the least any receipt scheme costs, as close to
// "without" as a node that serves only signed-for bytes gets.
func BenchmarkDownloadReceipts(b *testing.B) {
	const size = 1 << 30
	for _, window := range []uint64{meta.DefaultFetchWindow, 1 << 30} {
		b.Run(fmt.Sprintf("window=%dMiB", window>>20), func(b *testing.B) {
			opts := cluster.DefaultOptions()
			opts.SliceSize = slice.DefaultSize
			opts.Meta = func(_ int, cfg *meta.Config) { cfg.FetchWindow = window }
			c := cluster.Start(b, opts).Client()
			if _, err := c.Put(context.Background(), "/bench/file", io.LimitReader(stream(0), size), size, client.PutOptions{}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			for b.Loop() {
				if _, err := c.Get(context.Background(), "/bench/file", io.Discard, client.GetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// go test -run x -bench SmallPut -benchtime 400x ./e2e/
//
// Issue 7: "4 KiB put p50/p99 through the cluster with 1 and with 32
// concurrent clients": each put is a whole signed upload (begin, pipelined
// store on three nodes, commit) through a three-node meta cluster; with 32
// clients, b.N puts are shared among them and puts/s is their total rate.
func BenchmarkSmallPut(b *testing.B) {
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			opts := cluster.DefaultOptions()
			opts.Metas = 3
			cl := cluster.Start(b, opts)
			cs := make([]*client.Client, clients)
			for i := range cs {
				cs[i] = cl.Client()
			}
			work := make(chan int)
			took := make([]time.Duration, 0, b.N)
			var mu sync.Mutex
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			b.ResetTimer()
			start := time.Now()
			for w, c := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					data := make([]byte, 4096)
					for i := range work {
						data[0], data[1], data[2] = byte(i), byte(i>>8), byte(w)
						t0 := time.Now()
						if _, err := c.Put(context.Background(), fmt.Sprintf("/small/%d-%d", w, i), bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
							errs <- err
							return
						}
						mu.Lock()
						took = append(took, time.Since(t0))
						mu.Unlock()
					}
				}()
			}
		feed:
			for i := range b.N {
				select {
				case work <- i:
				case err := <-errs:
					b.Fatal(err)
					break feed
				}
			}
			close(work)
			wg.Wait()
			elapsed := time.Since(start)
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(len(took))/elapsed.Seconds(), "puts/s")
		})
	}
}
