package placement

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotEnoughNodes is returned when fewer eligible nodes exist than a
// request asks for; the wrapped message says how many were eligible.
var ErrNotEnoughNodes = errors.New("not enough eligible resource nodes")

// ErrInvalidRequest is returned for a request that cannot be answered
// whatever the nodes: a count below 1.
var ErrInvalidRequest = errors.New("invalid placement request")

// ErrDuplicateNode is returned when the node list names one ID twice: which
// of the two to trust would depend on input order, and placement must not.
var ErrDuplicateNode = errors.New("duplicate resource node")

// Node is what placement knows of one resource node: the registry's ID and
// region, and the soft state from its heartbeats (DESIGN §5.1).
type Node struct {
	ID, Region  string
	Capacity    uint64  // total bytes
	Free        uint64  // free bytes
	Uptime      float64 // 0..1, fraction of recent time the node was up
	Connections int     // current transfers
}

// Weights say how much each factor of whitepaper §2.4.3 counts in a node's
// score. Only their ratios matter.
type Weights struct{ Capacity, Free, Uptime, Connections, Locality, Random float64 }

func (w Weights) sum() float64 {
	return w.Capacity + w.Free + w.Uptime + w.Connections + w.Locality + w.Random
}

// Config is the placement policy.
type Config struct {
	Weights Weights
}

// DefaultConfig favours nodes that are reliable and have room, keeps a real
// say for the random factor so placement stays unpredictable (whitepaper
// §3.2.2 condition 1), and leaves locality a tie-breaker: region spreading
// already decides most of where replicas go.
func DefaultConfig() Config {
	return Config{Weights: Weights{
		Capacity:    1,
		Free:        2,
		Uptime:      2,
		Connections: 1,
		Locality:    1,
		Random:      1,
	}}
}

// Validate reports whether every weight is finite and non-negative and at
// least one is positive.
func (c Config) Validate() error {
	w := c.Weights
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"capacity", w.Capacity}, {"free", w.Free}, {"uptime", w.Uptime},
		{"connections", w.Connections}, {"locality", w.Locality}, {"random", w.Random},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("placement: %s weight %v: must be finite and >= 0", f.name, f.v)
		}
	}
	if w.sum() == 0 {
		return errors.New("placement: all weights are zero")
	}
	return nil
}

// Request asks for the nodes that will hold one slice.
type Request struct {
	Count        int             // distinct nodes wanted (>= 1)
	Size         uint64          // bytes the slice needs on each node
	ClientRegion string          // "" when unknown: no node counts as local
	Exclude      map[string]bool // node IDs that must not be chosen
}

func (r Request) eligible(n Node) bool {
	return !r.Exclude[n.ID] && n.Capacity > 0 && n.Free >= r.Size
}
