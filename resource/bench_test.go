package resource_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/slice"
)

// BenchmarkPipeline stores 16 MiB slices through three nodes on loopback,
// each with a disk store: the throughput of one upload pipeline, fsyncs and
// TLS included. Every slice differs, so no node can skip the write.
func BenchmarkPipeline(b *testing.B) {
	meta := newFakeMeta(b)
	nodes := []*testNode{startNode(b, meta), startNode(b, meta), startNode(b, meta)}
	client := nodes[0].client(b)
	data, _ := storetest.Data(1, slice.DefaultSize)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		binary.BigEndian.PutUint64(data, uint64(i))
		id := slice.Sum(data)
		b.StartTimer()
		resp, err := resource.StoreSlice(context.Background(), client, pipelineHeader("bench", data, id.String(), nodes...), bytes.NewReader(data))
		if err != nil || len(resp.Receipts) != 3 {
			b.Fatalf("store: %v, %v", resp, err)
		}
		b.StopTimer()
		for _, n := range nodes {
			n.store.Delete(id) // keep the disk from filling
		}
		b.StartTimer()
	}
}
