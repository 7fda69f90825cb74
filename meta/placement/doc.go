// Package placement chooses the resource nodes that store a slice
// (DESIGN §5.3; whitepaper §2.4.3, §4.2.4 step 3). It is pure: no I/O, no
// clock, and its randomness comes from the *rand.Rand it is given, so a seed
// fixes every answer.
//
// Each eligible node gets a score from the six factors of whitepaper §2.4.3
// (total storage, available storage, online time, connections, location and
// a random factor), each scaled to 0..1 across the candidates and combined
// with the configured Weights. Nodes are then drawn by weighted random
// sampling without replacement (Efraimidis–Spirakis), so a better node is
// likelier but never certain to be chosen: placement stays "sufficiently
// random" (whitepaper §3.2.2 condition 1) and a resource node cannot predict
// which slices it will hold. Replicas go to distinct regions while distinct
// regions remain ("offsite backup awareness", whitepaper §4.2.4 step 3), and
// a node in the client's region leads the pipeline because the client
// streams to the first node.
//
// Typical use by the meta leader:
//
//	p, err := placement.New(placement.DefaultConfig(), rand.New(rand.NewPCG(s1, s2)))
//	...
//	pipeline, err := p.Place(nodes, placement.Request{Count: 3, Size: sliceSize, ClientRegion: region})
//	if errors.Is(err, placement.ErrNotEnoughNodes) { ... }
package placement
