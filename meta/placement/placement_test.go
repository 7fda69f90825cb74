package placement

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

func seeded(t testing.TB, cfg Config, seed uint64) *Placer {
	t.Helper()
	p, err := New(cfg, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// fleet returns n healthy nodes spread round-robin over the given regions,
// with IDs n000, n001, ...
func fleet(n int, regions ...string) []Node {
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i] = Node{
			ID:       fmt.Sprintf("n%03d", i),
			Region:   regions[i%len(regions)],
			Capacity: 1 << 40, Free: 1 << 39, Uptime: 1,
		}
	}
	return nodes
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		w    Weights
		ok   bool
	}{
		{"default", DefaultConfig().Weights, true},
		{"random only", Weights{Random: 1}, true},
		{"all zero", Weights{}, false},
		{"negative", Weights{Random: 1, Free: -1}, false},
		{"NaN", Weights{Random: 1, Uptime: math.NaN()}, false},
		{"infinite", Weights{Capacity: math.Inf(1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Config{Weights: tt.w}.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tt.w, err, tt.ok)
			}
			_, err = New(Config{Weights: tt.w}, rand.New(rand.NewPCG(1, 0)))
			if (err == nil) != tt.ok {
				t.Fatalf("New(%+v) = %v, want ok=%v", tt.w, err, tt.ok)
			}
		})
	}
}

func TestNewNilRand(t *testing.T) {
	if _, err := New(DefaultConfig(), nil); err == nil {
		t.Fatal("New with nil rng succeeded")
	}
}

func TestPlaceErrors(t *testing.T) {
	nodes := []Node{
		{ID: "a", Region: "x", Capacity: 100, Free: 100},
		{ID: "b", Region: "y", Capacity: 100, Free: 10},
		{ID: "c", Region: "z", Capacity: 0, Free: 0},
		{ID: "d", Region: "z", Capacity: 100, Free: 100},
	}
	tests := []struct {
		name   string
		nodes  []Node
		req    Request
		target error
		detail string
	}{
		{"count zero", nodes, Request{Count: 0}, ErrInvalidRequest, "count 0"},
		{"count negative", nodes, Request{Count: -1}, ErrInvalidRequest, "count -1"},
		{"no nodes", nil, Request{Count: 1}, ErrNotEnoughNodes, "need 1, have 0 eligible of 0"},
		{"zero capacity is never eligible", nodes, Request{Count: 4}, ErrNotEnoughNodes, "need 4, have 3 eligible of 4"},
		{"too little free", nodes, Request{Count: 3, Size: 50}, ErrNotEnoughNodes, "need 3, have 2 eligible of 4"},
		{"excluded", nodes, Request{Count: 2, Size: 50, Exclude: map[string]bool{"a": true}}, ErrNotEnoughNodes, "need 2, have 1 eligible of 4"},
		{"duplicate id", append(slices.Clone(nodes), nodes[1]), Request{Count: 1}, ErrDuplicateNode, `"b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := seeded(t, DefaultConfig(), 1).Place(tt.nodes, tt.req)
			if !errors.Is(err, tt.target) {
				t.Fatalf("Place = %v, %v; want %v", ids(got), err, tt.target)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("error %q does not say %q", err, tt.detail)
			}
		})
	}
}

func TestPlaceTable(t *testing.T) {
	tests := []struct {
		name  string
		nodes []Node
		req   Request
		check func(t *testing.T, got []Node)
	}{
		{
			name:  "exactly enough nodes: all of them",
			nodes: fleet(3, "x", "y", "z"),
			req:   Request{Count: 3},
			check: func(t *testing.T, got []Node) {
				if g := slices.Sorted(slices.Values(ids(got))); !slices.Equal(g, []string{"n000", "n001", "n002"}) {
					t.Errorf("got %v", g)
				}
			},
		},
		{
			// whitepaper §4.2.4: the client streams to the first node.
			name:  "client region leads",
			nodes: fleet(9, "x", "y", "z"),
			req:   Request{Count: 3, ClientRegion: "z"},
			check: func(t *testing.T, got []Node) {
				if got[0].Region != "z" {
					t.Errorf("pipeline %v does not start in the client's region", got)
				}
			},
		},
		{
			name:  "unknown client region: no reordering needed, still distinct regions",
			nodes: fleet(9, "x", "y", "z"),
			req:   Request{Count: 3, ClientRegion: "mars"},
			check: func(t *testing.T, got []Node) { assertRegionsSpread(t, got, 3) },
		},
		{
			name:  "size boundary: free == size is eligible",
			nodes: []Node{{ID: "a", Capacity: 10, Free: 5}, {ID: "b", Capacity: 10, Free: 4}},
			req:   Request{Count: 1, Size: 5},
			check: func(t *testing.T, got []Node) {
				if got[0].ID != "a" {
					t.Errorf("got %v, want a", ids(got))
				}
			},
		},
		{
			name: "odd inputs do not break scoring",
			nodes: []Node{
				{ID: "a", Capacity: 10, Free: 20, Uptime: math.NaN(), Connections: -3},
				{ID: "b", Capacity: 10, Free: 0, Uptime: 7},
			},
			req: Request{Count: 2},
			check: func(t *testing.T, got []Node) {
				if len(got) != 2 || got[0].ID == got[1].ID {
					t.Errorf("got %v", ids(got))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 50; seed++ {
				got, err := seeded(t, DefaultConfig(), seed).Place(tt.nodes, tt.req)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tt.req.Count {
					t.Fatalf("seed %d: got %d nodes, want %d", seed, len(got), tt.req.Count)
				}
				tt.check(t, got)
			}
		})
	}
}

// DESIGN §5.3: placement is deterministic for a given seed, whatever order
// the caller lists the nodes in.
func TestDeterministicAcrossInputOrder(t *testing.T) {
	nodes := fleet(40, "x", "y", "z", "w")
	for i := range nodes {
		nodes[i].Free = uint64(i+1) << 30
		nodes[i].Connections = i % 7
	}
	shuffler := rand.New(rand.NewPCG(99, 0))
	for seed := uint64(1); seed <= 30; seed++ {
		req := Request{Count: 5, ClientRegion: "y", Exclude: map[string]bool{"n003": true}}
		want, err := seeded(t, DefaultConfig(), seed).Place(nodes, req)
		if err != nil {
			t.Fatal(err)
		}
		shuffled := slices.Clone(nodes)
		shuffler.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := seeded(t, DefaultConfig(), seed).Place(shuffled, req)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: shuffled input gave %v, sorted gave %v", seed, ids(got), ids(want))
		}
	}
}

func TestPlaceDoesNotModifyInput(t *testing.T) {
	nodes := fleet(20, "x", "y")
	slices.Reverse(nodes)
	before := slices.Clone(nodes)
	if _, err := seeded(t, DefaultConfig(), 1).Place(nodes, Request{Count: 3}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nodes, before) {
		t.Fatal("Place reordered or changed its input")
	}
}

// A shared Placer under -race: the lock around the generator is what keeps
// this safe.
func TestPlaceConcurrent(t *testing.T) {
	p := seeded(t, DefaultConfig(), 1)
	nodes := fleet(50, "x", "y", "z")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				got, err := p.Place(nodes, Request{Count: 3, ClientRegion: "x"})
				if err != nil {
					t.Error(err)
					return
				}
				assertRegionsSpread(t, got, 3)
			}
		})
	}
	wg.Wait()
}

// assertRegionsSpread checks offsite backup awareness (whitepaper §4.2.4
// step 3): given that many distinct regions, no region is used k+1
// times while another is used fewer than k times.
func assertRegionsSpread(t *testing.T, got []Node, regions int) {
	t.Helper()
	per := map[string]int{}
	for _, n := range got {
		per[n.Region]++
	}
	lo, hi := len(got), 0
	for _, c := range per {
		lo, hi = min(lo, c), max(hi, c)
	}
	if len(per) < min(len(got), regions) || (len(per) == regions && hi-lo > 1) {
		t.Errorf("regions unevenly used: %v (%d regions available)", per, regions)
	}
}
