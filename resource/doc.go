// Package resource is the resource node of Stratos (DESIGN §6): it keeps
// slices on disk behind the small SliceStore interface, receives them through
// HDFS-style pipelines (every node writes and forwards while receiving, then
// answers with signed receipts once its copy is verified and durable), serves
// them back, and keeps the meta leader informed with heartbeats and slice
// reports (DESIGN §5.4). In the background, at a bounded rate, it re-reads
// every slice it holds against its ID (scrubbing), so a copy that rotted on
// disk is taken out of service and repaired even if nobody downloads it.
//
// A Node is built from a Config, the node key and a SliceStore:
//
//	store, err := disk.Open(filepath.Join(home, "data"), disk.DefaultOptions())
//	node, err := resource.New(cfg, key, store)
//	err = node.Run(ctx, func(addr string) { log.Printf("listening on %s", addr) })
//
// Slice store implementations live in subpackages named for what they wrap:
// disk (files plus a Pebble index) and memstore (tests). storetest is the
// conformance suite every implementation passes.
package resource
