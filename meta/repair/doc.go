// Package repair decides how the meta leader brings slices back to their
// replica target (DESIGN §5.4; whitepaper §4.2.3, §4.2.4 step 6): which
// slices to look at, which listed replicas are live or dead, when a dead
// replica may be forgotten, which live holder copies a slice to which newly
// placed nodes, and what a node's slice report says about lost replicas and
// garbage.
//
// The package holds the decisions and the repair queue, which is soft state:
// a new leader starts with an empty Queue and finds the work again from the
// dead-node scan, the sweep of the index for thin slices and the nodes'
// slice reports. Everything else it reads or changes comes through a
// Planner's fields: the index, the liveness tracker, placement, and a
// function that applies index commands. The meta server fills them with its
// Raft-replicated index and its health tracker; the simulation in this
// package's tests fills them with the same index on an in-memory store, a
// health tracker on a fake clock and a simulated network, so both run the
// same code.
//
// One repair pass (Planner.Tick) is:
//
//  1. Sweep, at most every Config.SweepEvery: queue every slice the index
//     lists with fewer than R replicas.
//  2. ScanDead: queue every slice of a node that has just turned Dead.
//  3. PlanDue: for each queued slice without a fresh job, Plan reads its
//     entry; with R live replicas it forgets the dead ones and leaves the
//     queue, with none it waits for a holder to come back, and otherwise a
//     random live holder is told to copy it to newly placed nodes.
//
// The source receives its orders in its next heartbeat (Queue.Issue) and
// confirms the copies its targets signed for (Planner.Confirm), which adds
// them to the index and forgets dead replicas.
package repair
