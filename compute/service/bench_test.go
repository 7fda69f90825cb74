package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stratos-net/stratos/compute/gas"
	"github.com/stratos-net/stratos/compute/sandbox"
)

// BenchmarkCallLatency is issue 10's "call latency p50/p99 for a small
// function on 5 nodes against the same function run once locally in
// wazero, in one run": greet of examples/fn/hello through caller.Call to
// five nodes on loopback HTTP (each answer signed and checked), then in one
// local sandbox.
//
//	go test -run x -bench CallLatency -benchtime 200x ./compute/service/
func BenchmarkCallLatency(b *testing.B) {
	ctx := context.Background()
	module := buildHello(b)
	_, cl := network(b, module, 5, 0)
	if _, err := cl.Call(ctx, "app1test", "greet", []byte(`{"name":"Ada"}`)); err != nil { // loads the module
		b.Fatal(err)
	}
	metered, err := gas.Instrument(module, gas.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	sb, err := sandbox.New(ctx, sandbox.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close(ctx)
	m, err := sb.Compile(ctx, metered)
	if err != nil {
		b.Fatal(err)
	}
	var remote, local []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := cl.Call(ctx, "app1test", "greet", []byte(`{"name":"Ada"}`)); err != nil {
			b.Fatal(err)
		}
		remote = append(remote, time.Since(start))
		start = time.Now()
		if _, err := sb.Run(ctx, m, sandbox.Call{Function: "greet", Input: []byte(`{"name":"Ada"}`), Gas: 1 << 40, Time: time.Now()}); err != nil {
			b.Fatal(err)
		}
		local = append(local, time.Since(start))
	}
	b.StopTimer()
	ms := func(d []time.Duration, q float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(q*float64(len(d))))]) / 1e6
	}
	b.ReportMetric(ms(remote, 0.5), "5nodes-p50-ms")
	b.ReportMetric(ms(remote, 0.99), "5nodes-p99-ms")
	b.ReportMetric(ms(local, 0.5), "local-p50-ms")
	b.ReportMetric(ms(local, 0.99), "local-p99-ms")
}
