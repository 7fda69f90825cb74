package resource_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/resource/storetest"
)

// fakeRegistry is the chain's node registry.
type fakeRegistry struct {
	mu     sync.Mutex
	active map[string][]byte
}

func (f *fakeRegistry) ActiveResourceNodes(context.Context) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range f.active {
		out[k] = v
	}
	return out, nil
}

func (f *fakeRegistry) add(n *testNode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active[n.ID()] = n.key.Public()
}

func withRegistry(r resource.Registry) nodeOpt {
	return func(c *resource.Config, _ *disk.Options) { c.Registry = r }
}

// DESIGN §3 (issue 3): a resource node accepts only peers registered and
// active on chain: it forwards to none other, and takes no store another
// node forwards unless that node is registered.
func TestStoreRefusesUnregisteredPeers(t *testing.T) {
	meta := newFakeMeta(t)
	reg := &fakeRegistry{active: map[string][]byte{}}
	t0 := time.Unix(1_700_000_000, 0)
	clk := &clock{t: t0}
	opts := []nodeOpt{withRegistry(reg), withClock(clk)}
	a, b, c := startNode(t, meta, opts...), startNode(t, meta, opts...), startNode(t, meta, opts...)
	reg.add(a)
	reg.add(c) // b is not registered
	// The nodes read the registry before these registrations; a node that
	// does not know a peer reads it again, at most once a second.
	clk.Set(t0.Add(2 * time.Second))
	data, id := storetest.Data(21, 64<<10)

	// a would forward to b: refused before anything is stored.
	_, err := resource.StoreSlice(context.Background(), a.client(t), pipelineHeader("t1", data, id.String(), a, b), bytes.NewReader(data))
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "not registered") {
		t.Fatalf("forward to an unregistered node: %v, want PermissionDenied", err)
	}
	if !a.empty() || !b.empty() {
		t.Fatal("a refused store left a slice behind")
	}

	// b (unregistered, reached directly by a client, whom the ticket
	// governs) forwards to a: a is registered, but refuses a store that an
	// unregistered node forwards.
	resp, err := resource.StoreSlice(context.Background(), b.client(t), pipelineHeader("t2", data, id.String(), b, a), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Failures) != 1 || resp.Failures[0].NodeId != a.ID() || !strings.Contains(resp.Failures[0].Error, "not registered") {
		t.Fatalf("a took a store forwarded by an unregistered node: %+v", resp)
	}

	// Registered on both ends: the pipeline works.
	resp, err = resource.StoreSlice(context.Background(), a.client(t), pipelineHeader("t3", data, id.String(), a, c), bytes.NewReader(data))
	if err != nil || len(resp.Receipts) != 2 {
		t.Fatalf("registered pipeline: %+v, %v", resp, err)
	}
}
