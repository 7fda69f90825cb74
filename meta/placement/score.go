package placement

import "math"

// floorShare is the part of the total weight every eligible node gets on top
// of its score, so a node that scores zero on every weighted factor can
// still be drawn, only rarely.
const floorShare = 1e-3

// factors are one candidate's six factors of whitepaper §2.4.3, each in 0..1
// with 1 the best.
type factors struct {
	capacity, free, uptime, connections, locality, random float64
}

func (w Weights) score(f factors) float64 {
	return w.Capacity*f.capacity +
		w.Free*f.free +
		w.Uptime*f.uptime +
		w.Connections*f.connections +
		w.Locality*f.locality +
		w.Random*f.random +
		w.sum()*floorShare
}

// scale holds the best value of each factor among the candidates; factors
// are measured against it.
//
// Capacity, free space and uptime are divided by the candidates' maximum
// rather than min-max scaled: a ratio keeps proportions (twice the free
// space scores twice as much) and the weakest candidate keeps a non-zero
// share, where min-max would zero it and turn a 1% difference between two
// nodes into the whole range. Connections have no natural top, so they are
// scored as the spare load relative to the busiest candidate.
type scale struct {
	capacity, freeFraction, uptime float64
	connections                    int
}

func measure(cands []Node) scale {
	var s scale
	for _, n := range cands {
		s.capacity = math.Max(s.capacity, float64(n.Capacity))
		s.freeFraction = math.Max(s.freeFraction, freeFraction(n))
		s.uptime = math.Max(s.uptime, uptime(n))
		s.connections = max(s.connections, n.Connections)
	}
	return s
}

func (s scale) factors(n Node, clientRegion string, random float64) factors {
	f := factors{
		capacity:    ratio(float64(n.Capacity), s.capacity),
		free:        ratio(freeFraction(n), s.freeFraction),
		uptime:      ratio(uptime(n), s.uptime),
		connections: 1,
		random:      random,
	}
	if s.connections > 0 {
		f.connections = 1 - float64(max(n.Connections, 0))/float64(s.connections)
	}
	if clientRegion != "" && n.Region == clientRegion {
		f.locality = 1
	}
	return f
}

// freeFraction is free space as a fraction of the node's capacity, not in
// bytes: the capacity factor already rewards big nodes, and counting bytes
// again would let a large, nearly full node outscore a small empty one on
// both. As a fraction, nodes fill at a similar rate, which is the balance
// whitepaper §2.4.3 asks for ("balance the storage ... in the resource
// network"); eligibility still checks the bytes (Free >= Size).
func freeFraction(n Node) float64 {
	if n.Capacity == 0 {
		return 0
	}
	return float64(min(n.Free, n.Capacity)) / float64(n.Capacity)
}

// uptime clamps a reported uptime into 0..1; a NaN counts as never up.
func uptime(n Node) float64 {
	if !(n.Uptime > 0) {
		return 0
	}
	return min(n.Uptime, 1)
}

func ratio(x, best float64) float64 {
	if best <= 0 {
		return 0
	}
	return x / best
}
