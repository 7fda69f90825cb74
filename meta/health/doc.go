// Package health keeps the meta leader's view of resource node liveness and
// load: soft state rebuilt from heartbeats, never written to the Raft log
// (DESIGN §5.1, §5.4; whitepaper §4.2.4 step 6, "heartbeat service and QoS
// service"). A leader that starts, or takes over, begins with every node
// Unknown and learns the network again within one heartbeat interval.
//
// A node is Alive while its last heartbeat is younger than SuspectAfter,
// Suspect until DeadAfter, and Dead after that; the repair loop re-places
// the slices of Dead nodes. Uptime is the "online time" factor of
// placement (whitepaper §2.4.3): an exponentially decaying average, over
// heartbeat intervals since the node was first seen, of whether the node
// was alive, so a node that has just come back has to earn its standing
// again.
//
// The Tracker reads time only from the clock it is given, so tests drive
// it with a fake clock and never sleep.
package health
