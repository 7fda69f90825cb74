package placement

import (
	"math"
	"slices"
	"testing"
)

// The statistical tests place over a fixed seed set (1..seeds), so they are
// deterministic; the margins are wide enough that an unlucky seed set could
// not explain a pass or a failure, only a change of the algorithm.

// placeMany runs Place once per seed and counts how often each node is
// chosen.
func placeMany(t *testing.T, cfg Config, seeds int, nodes []Node, req Request, each func([]Node)) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for seed := 1; seed <= seeds; seed++ {
		got, err := seeded(t, cfg, uint64(seed)).Place(nodes, req)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, n := range got {
			counts[n.ID]++
		}
		if each != nil {
			each(got)
		}
	}
	return counts
}

// Whitepaper §2.4.3: "available storage space on each resource node" is a
// factor; a node with twice the free space of its otherwise identical twin
// must be chosen clearly more often, yet the twin still gets chosen
// (§3.2.2 condition 1: placement stays random).
func TestMoreFreeSpaceChosenMoreOften(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		nodes    int     // the twins plus nodes like the twin
		minRatio float64 // chosen(double) / chosen(twin)
	}{
		// Score 1 against 0.5 for everyone else: expected ratio 2.
		{"free weight alone, among eight", Config{Weights: Weights{Free: 1}}, 8, 1.6},
		// Default weights: free is 2 of 8 units, so expect about 6.5/5.5,
		// 1.18; over 6000 seeds 1.08 is three standard deviations below
		// that, and 1.0 six.
		{"default weights, twins alone", DefaultConfig(), 2, 1.08},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := fleet(tt.nodes, "r")
			nodes[0].Free = 2 * nodes[1].Free // n000 is n001 with twice the free space
			c := placeMany(t, tt.cfg, 6000, nodes, Request{Count: 1}, nil)
			ratio := float64(c["n000"]) / float64(c["n001"])
			t.Logf("double free %d, twin %d, ratio %.2f", c["n000"], c["n001"], ratio)
			if ratio < tt.minRatio {
				t.Errorf("double-free node chosen %d times, twin %d: ratio %.2f < %.2f",
					c["n000"], c["n001"], ratio, tt.minRatio)
			}
			if c["n001"] == 0 {
				t.Error("twin never chosen: placement is no longer random")
			}
		})
	}
}

// Eligibility (DESIGN §5.3, whitepaper §2.4.3): an excluded node and a node
// without room for the slice are never chosen, however attractive otherwise.
func TestIneligibleNeverChosen(t *testing.T) {
	nodes := fleet(10, "x", "y", "z")
	nodes[0].Capacity, nodes[0].Free = 1<<50, 1<<50 // excluded, but the biggest
	nodes[1].Free = 100                             // full for this slice
	nodes[1].Capacity = 1 << 50
	req := Request{Count: 3, Size: 101, ClientRegion: "x", Exclude: map[string]bool{"n000": true}}
	c := placeMany(t, DefaultConfig(), 2000, nodes, req, nil)
	if c["n000"] != 0 || c["n001"] != 0 {
		t.Fatalf("excluded node chosen %d times, full node %d times", c["n000"], c["n001"])
	}
}

// Whitepaper §4.2.4 step 3, "offsite backup awareness": replicas go to
// distinct regions while there are any left, and only then repeat; a chosen
// node in the client's region leads the pipeline.
func TestRegionsDistinctWhenPossible(t *testing.T) {
	tests := []struct {
		name    string
		regions []string
		count   int
	}{
		{"fewer replicas than regions", []string{"x", "y", "z", "w", "v"}, 3},
		{"as many replicas as regions", []string{"x", "y", "z"}, 3},
		{"more replicas than regions", []string{"x", "y"}, 5},
		{"one region", []string{"x"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := fleet(30, tt.regions...)
			// Make one region far more attractive, so that without the rule
			// it would take most replicas.
			for i := range nodes {
				if nodes[i].Region == "x" {
					nodes[i].Capacity *= 8
					nodes[i].Free = nodes[i].Capacity
				}
			}
			req := Request{Count: tt.count, ClientRegion: "x"}
			placeMany(t, DefaultConfig(), 500, nodes, req, func(got []Node) {
				assertRegionsSpread(t, got, len(tt.regions))
				if slices.ContainsFunc(got, func(n Node) bool { return n.Region == "x" }) && got[0].Region != "x" {
					t.Fatalf("pipeline %v does not start in the client's region", ids(got))
				}
			})
		})
	}
}

// Whitepaper §2.4.3 "random factors" and §3.2.2 condition 1: with only the
// random factor weighted, every node is equally likely. Checked with a
// chi-squared statistic against uniform (20 nodes, 19 degrees of freedom:
// the 0.1% critical value is 43.8) and a per-node band.
func TestRandomFactorAloneIsUniform(t *testing.T) {
	const seeds, count = 10000, 2
	nodes := fleet(20, "r")
	for i := range nodes { // make every other factor differ widely
		nodes[i].Capacity = uint64(i+1) << 30
		nodes[i].Free = nodes[i].Capacity / uint64(i+1)
		nodes[i].Uptime = float64(i+1) / 20
		nodes[i].Connections = i
	}
	c := placeMany(t, Config{Weights: Weights{Random: 1}}, seeds, nodes, Request{Count: count}, nil)
	want := float64(seeds*count) / float64(len(nodes))
	var chi2 float64
	for _, n := range nodes {
		d := float64(c[n.ID]) - want
		chi2 += d * d / want
		if math.Abs(d) > 0.15*want {
			t.Errorf("%s chosen %d times, want %.0f ± 15%%", n.ID, c[n.ID], want)
		}
	}
	t.Logf("chi-squared %.1f over %d nodes", chi2, len(nodes))
	if chi2 > 43.8 {
		t.Errorf("chi-squared %.1f > 43.8: choice is not uniform", chi2)
	}
}
