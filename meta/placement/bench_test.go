package placement

import (
	"fmt"
	"testing"
)

func BenchmarkPlace(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			nodes := fleet(n, "eu", "us", "ap", "sa", "af")
			for i := range nodes {
				nodes[i].Free = uint64(i%17+1) << 30
				nodes[i].Connections = i % 11
			}
			p := seeded(b, DefaultConfig(), 1)
			req := Request{Count: 3, Size: 1 << 20, ClientRegion: "us"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Place(nodes, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
