package placement

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// Placer chooses resource nodes for slices. It is safe for concurrent use.
type Placer struct {
	cfg Config

	mu  sync.Mutex // guards rng, which is not safe for concurrent use
	rng *rand.Rand
}

// New returns a Placer that draws its randomness from rng. Given the same
// seed and the same sequence of calls, it gives the same answers.
func New(cfg Config, rng *rand.Rand) (*Placer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, errors.New("placement: nil rng")
	}
	return &Placer{cfg: cfg, rng: rng}, nil
}

// Place returns req.Count distinct nodes for one slice, in pipeline order:
// the client streams to the first, which forwards to the second, and so on
// (whitepaper §4.2.4). A node is eligible when it is not excluded, has a
// capacity and has at least req.Size bytes free. Nodes are drawn by
// weighted random sampling without replacement, spread over distinct
// regions while distinct regions remain; a chosen node in the client's
// region goes first. The input order of nodes does not matter.
func (p *Placer) Place(nodes []Node, req Request) ([]Node, error) {
	if req.Count < 1 {
		return nil, fmt.Errorf("%w: count %d, want >= 1", ErrInvalidRequest, req.Count)
	}
	cands, err := candidates(nodes, req)
	if err != nil {
		return nil, err
	}
	if len(cands) < req.Count {
		return nil, fmt.Errorf("%w: need %d, have %d eligible of %d",
			ErrNotEnoughNodes, req.Count, len(cands), len(nodes))
	}
	keys := p.sample(cands, req.ClientRegion)
	chosen := spread(cands, keys, req.Count)
	leadWithRegion(chosen, req.ClientRegion)
	return chosen, nil
}

// candidates returns the eligible nodes sorted by ID, so that what follows
// consumes randomness in an order that does not depend on the caller's.
func candidates(nodes []Node, req Request) ([]Node, error) {
	byID := func(a, b Node) int { return cmp.Compare(a.ID, b.ID) }
	sorted := slices.Clone(nodes)
	if !slices.IsSortedFunc(sorted, byID) { // callers often pass a sorted list
		slices.SortFunc(sorted, byID)
	}
	for i := 1; i < len(sorted); i++ {
		if sorted[i].ID == sorted[i-1].ID {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateNode, sorted[i].ID)
		}
	}
	return slices.DeleteFunc(sorted, func(n Node) bool { return !req.eligible(n) }), nil
}

// keyed is a candidate's sampling key: candidates are drawn in descending
// key order.
type keyed struct {
	key float64
	i   int // index into the candidates
}

// before orders keys descending; equal keys (vanishingly rare) fall back to
// ID order, so the order is total and the result deterministic.
func (a keyed) before(b keyed) bool {
	return a.key > b.key || (a.key == b.key && a.i < b.i)
}

// sample draws a sampling key per candidate for weighted random sampling
// without replacement: the Efraimidis–Spirakis method gives node i the key
// u_i^(1/w_i) for uniform u_i, and descending key order is distributed as
// repeatedly picking a remaining node with probability proportional to its
// weight. Keys are stored as ln(u)/w, which orders the same way and does not
// underflow for small weights.
func (p *Placer) sample(cands []Node, clientRegion string) []keyed {
	draws := p.draw(2 * len(cands))
	s := measure(cands)
	keys := make([]keyed, len(cands))
	for i, n := range cands {
		w := p.cfg.Weights.score(s.factors(n, clientRegion, draws[2*i]))
		u := 1 - draws[2*i+1] // in (0, 1], so the log is finite
		keys[i] = keyed{math.Log(u) / w, i}
	}
	return keys
}

// draw takes n uniform numbers in [0, 1) from the shared generator, holding
// the lock only for that.
func (p *Placer) draw(n int) []float64 {
	out := make([]float64, n)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range out {
		out[i] = p.rng.Float64()
	}
	return out
}

// spread takes count nodes in key order, but no region twice until every
// region has been used, no region three times until every region still
// holding candidates has been used twice, and so on: offsite backup
// awareness (whitepaper §4.2.4 step 3). Round r holds each region's r-th
// best node; taking the rounds in turn, each in key order, is the same as
// skipping nodes of used regions while drawing, so the draw stays weighted.
//
// Every round holds at least one node, so only each region's best count
// nodes matter: keeping just those makes this linear in the candidates
// rather than a full sort.
func spread(cands []Node, keys []keyed, count int) []Node {
	best := make(map[string][]keyed)
	for _, k := range keys {
		region := cands[k.i].Region
		best[region] = insertTop(best[region], k, count)
	}
	chosen := make([]Node, 0, count)
	for r := 0; len(chosen) < count; r++ {
		var round []keyed
		for _, top := range best {
			if r < len(top) {
				round = append(round, top[r])
			}
		}
		slices.SortFunc(round, func(a, b keyed) int {
			if a.before(b) {
				return -1
			}
			return 1
		})
		for _, k := range round[:min(len(round), count-len(chosen))] {
			chosen = append(chosen, cands[k.i])
		}
	}
	return chosen
}

// insertTop adds k to top, a list kept in key order and at most n long.
func insertTop(top []keyed, k keyed, n int) []keyed {
	if len(top) == n && !k.before(top[n-1]) {
		return top
	}
	j := len(top)
	for j > 0 && k.before(top[j-1]) {
		j--
	}
	if len(top) < n {
		top = append(top, keyed{})
	}
	copy(top[j+1:], top[j:])
	top[j] = k
	return top
}

// leadWithRegion moves the first chosen node in region to the front, keeping
// the others in order: the client streams the slice to the first node, so
// the nearest one should take it (whitepaper §4.2.4 step 3, "physical
// distance").
func leadWithRegion(chosen []Node, region string) {
	if region == "" {
		return
	}
	i := slices.IndexFunc(chosen, func(n Node) bool { return n.Region == region })
	if i > 0 {
		lead := chosen[i]
		copy(chosen[1:i+1], chosen[:i])
		chosen[0] = lead
	}
}
