// Package raftnode replicates the meta index (DESIGN §5.1): it drives the
// commands of meta/index through hashicorp/raft, so every meta node of the
// cluster applies the same commands in the same order and holds the same
// index. It is the only package that imports the Raft library.
//
// # Writes
//
// Node.Apply hands a command to the proposer, which packs the commands
// waiting at that moment into one log entry (a CommandBatch): many small
// commands share an entry, so the audit trail of every transfer survives a
// leader change without a consensus round per slice. A few entries are in
// flight at once; while they are, new commands gather into the next one.
// The proposer stamps each command with the leader's clock, so time reaches
// every replica inside the log.
//
// Only the leader proposes. Elsewhere Apply fails with a *NotLeaderError
// naming the leader, which the meta service passes on to the caller.
//
// # Applying
//
// The FSM applies an entry's commands with index.ApplyAt at their log
// positions. The index writes each position in the batch of the state it
// produced and without a sync, since the log is the durable record; on a
// restart Raft replays entries after its last snapshot, and the index skips
// those it already holds. Raft's own restore of the snapshot at start is
// off (the index's state is newer); only a node whose index is behind the
// newest snapshot, or a follower sent one by the leader, restores it.
//
// A snapshot is a point-in-time view of the index store, taken between two
// applies after a sync and streamed while applying goes on.
//
// # Transport
//
// Log traffic is TLS 1.3 with the node keys (identity), both ways: a
// server address is "<node id>@<host:port>", the dialer pins that ID, and
// the listener accepts only the nodes its caller allows (the meta
// authorities registered on chain).
package raftnode
