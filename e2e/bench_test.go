package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/internal/cluster"
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

// go test -run x -bench SmallPut -benchtime 200x ./e2e/
//
// Issue 7: a 4 KiB put through a three-node meta cluster, one client at a
// time; p50 and p99 of the whole put (begin, pipelined store on three
// nodes, commit).
func BenchmarkSmallPut(b *testing.B) {
	opts := cluster.DefaultOptions()
	opts.Metas = 3
	cl := cluster.Start(b, opts)
	c := cl.Client()
	data := make([]byte, 4096)
	var took []time.Duration
	i := 0
	for b.Loop() {
		i++
		data[0], data[1] = byte(i), byte(i>>8)
		start := time.Now()
		if _, err := c.Put(context.Background(), fmt.Sprintf("/small/%d", i), bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
