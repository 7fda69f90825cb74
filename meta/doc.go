// Package meta is the meta node (DESIGN §5): it serves the namespace and the
// slice index to clients, places slices on resource nodes, tracks their
// health from heartbeats, and schedules repairs when replicas are lost.
//
// The authoritative state is the index (meta/index), changed only through
// Commands, so a later change can replicate them with Raft. Everything else
// here is soft state rebuilt after a restart: node liveness and load
// (meta/health), the repair queue, pending deletion orders, and which slices
// each upload task has placed.
//
// Bytes never pass through a meta node: clients stream slices straight to
// resource nodes and bring back the nodes' signed receipts, which this node
// checks against the registered node keys before a file becomes visible.
package meta
