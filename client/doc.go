// Package client is the Go SDK of Stratos, used by the CLI, the gateway and
// tests. It talks to a meta node for metadata and straight to resource nodes
// for bytes; bytes never pass through the meta node (DESIGN §1).
//
// Uploading (DESIGN §6.2, whitepaper §4.2.4): Put opens an upload task,
// cuts the stream into slices, and sends up to Config.Concurrency slices at
// once, each into an HDFS-style pipeline of resource nodes chosen by the meta
// node. A slice whose pipeline comes back short is sent again to nodes the
// meta node picks with the failed ones excluded. When every slice is held by
// at least the minimum number of replicas, Put commits the file; until then
// it is invisible, and on any failure Put aborts the task, so a failed Put
// never leaves a file behind.
//
// Downloading (DESIGN §6.3, whitepaper §4.2.5): Get asks the meta node where
// the slices are, fetches up to Config.Concurrency slices in parallel, checks
// each against its ID, and writes them in order. A bad or missing replica is
// reported to the meta node (which schedules a repair) and the next holder is
// tried. GetRange fetches only the slices a byte range touches.
//
// Memory stays bounded by about Concurrency × slice size in both directions.
//
// Errors returned by the meta node are mapped to this package's sentinels
// (ErrNotFound, ErrExists, ...) and keep the meta node's message; match them
// with errors.Is. Calls to the meta node are retried while it answers
// Unavailable (a restart or a leader change), for up to Config.RetryFor.
//
//	c, err := client.New(cfg)
//	...
//	defer c.Close()
//	f, err := c.Put(ctx, "/photos/cat.jpg", file, size, client.PutOptions{})
//	_, err = c.Get(ctx, f.FileId, os.Stdout, client.GetOptions{})
package client
