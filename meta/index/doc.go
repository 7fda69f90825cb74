// Package index is the meta service's index state machine (DESIGN §5.1,
// whitepaper §4.2.2–4.2.3): the namespace (owner → directory tree → files),
// slices with their replica locations and reference counts, open tasks,
// registered resource nodes, and the traffic ledger of the current period
// (DESIGN §7: audited bytes per node and per user, the top N nodes taken
// into each period's report). Apply(cmd) changes it, the query methods read
// it, Snapshot and Restore move it between replicas. It knows nothing of
// networks, disks or clocks: time arrives inside each Command, and Apply is
// deterministic, so replicas that apply the same log hold the same bytes.
//
// # Key layout
//
// Records are deterministic protobuf encodings in a kv.Store that the index
// owns entirely. Every key but one starts with a generation byte g, '0' or
// '1'; Restore fills the unused generation and switches to it in one write
// (m/gen), so a bad snapshot never touches the state in use. Below, keys are
// shown without g ("logical keys", which are also what Snapshot writes):
//
//	n/<owner>\x00<path>               FileEntry; "/" in path is stored as \x01
//	i/<file id>\x00<owner>\x00<path>  ""   file ID → its paths (path as above)
//	a/<owner>\x00<bucket>\x00<key>    ""   an S3 object's key, raw (objects.go, objkey.go)
//	b/<owner>\x00<bucket>             BucketEntry made by CreateBucket
//	s/<slice id>                      SliceEntry (size, sorted replicas, refs)
//	h/<node id>\x00<slice id>         ""   node → the slices it holds
//	t/<seq, 8 bytes big-endian>       Task; its ID is "t<seq>"
//	r/<node id>                       NodeRecord
//	v/<node id>, u/<user>             traffic of the period, 8 bytes big-endian, > 0
//	w/<node id>                       bytes the node holds (storage.go)
//	q/<owner>                         bytes the owner stores: its shares of slices (storage.go)
//	o/<slice id>\x00<owner>           the owner's references to the slice
//	p/<period, 8 bytes big-endian>    TrafficReport sealed for the period (traffic.go)
//	c/files, c/slices, c/taskseq      counters, 8 bytes big-endian
//	c/applied                         Position of the last command applied from a log (position.go)
//	c/root                            LtHash of every other record but c/applied: the index root (root.go)
//	c/storage                         marks an index that keeps w/, q/ and o/
//	m/gen (no g)                      the generation in use; absent means '0'
//
// Owners, users and node IDs are 1–128 bytes of UTF-8 without control
// characters, paths pass CleanPath, so NUL and \x01 cannot occur inside them
// and the separators are unambiguous. Storing "/" as \x01, which sorts
// below every byte a name may contain, makes key order equal name order and
// keeps each directory's children, and each subdirectory's descendants,
// contiguous: List reads one key per subdirectory and seeks past the rest.
//
// A name in a directory is a file or a directory, never both: a file cannot
// be created over a directory or below a file (ErrExists).
//
// # Index root
//
// Root is a hash of the whole logical state that every replica holding the
// same state computes alike, and a seal (TakeTrafficCmd with seal) keeps
// the root of its log position with its report (SealedRoot), which the
// meta node anchors on chain (DESIGN §4, §5.2). It is an LtHash of every
// record, kept up to date by each write in the write's own batch, so it
// costs what the writes cost whatever the size of the index (root.go).
// Snapshots leave c/root out and Restore recomputes it; an index written
// before c/root existed gets it once, from a scan, when it is opened.
//
// # Bloom filter
//
// A Bloom filter holds every file key and slice key ever added; File, Slice,
// HasSlice and Apply's existence checks consult it first and answer
// "definitely absent" without a store read (whitepaper §4.2.6). Deletions
// leave false positives. It is rebuilt by Open and Restore, and rebuilt
// twice as large when the index outgrows it.
package index
