package index

import (
	"bytes"
	"crypto/ed25519"
	"sync/atomic"
	"testing"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

func newIndex(t testing.TB, store kv.Store) *Index {
	t.Helper()
	if store == nil {
		store = kv.NewMem()
	}
	opts := DefaultOptions()
	opts.BloomItems = 1 << 12
	ix, err := Open(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// content describes a file by the contents of its slices.
func content(owner, path string, slices ...string) *metav1.FileEntry {
	f := &metav1.FileEntry{Owner: owner, Path: path}
	ids := make([]slice.ID, len(slices))
	for i, s := range slices {
		ids[i] = slice.Sum([]byte(s))
		f.Slices = append(f.Slices, &metav1.SliceRef{Id: ids[i].String(), Size: uint64(len(s))})
		f.Size += uint64(len(s))
	}
	f.FileId = slice.Root(ids).String()
	return f
}

func sliceID(s string) string { return slice.Sum([]byte(s)).String() }

func replicas(n int, nodes ...string) []*metav1.ReplicaSet {
	out := make([]*metav1.ReplicaSet, n)
	for i := range out {
		out[i] = &metav1.ReplicaSet{NodeIds: nodes}
	}
	return out
}

func registerCmd(now int64, id string) *metav1.Command {
	pub := make([]byte, ed25519.PublicKeySize)
	copy(pub, id)
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_RegisterNode{RegisterNode: &metav1.RegisterNodeCmd{
		Node: &metav1.NodeRecord{NodeId: id, PublicKey: pub, Addr: id + ".example:7000", Region: "eu", Capacity: 1 << 40},
	}}}
}

func uploadCmd(now int64, owner, path string, overwrite bool) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_UPLOAD, Owner: owner, Path: path, Overwrite: overwrite, TtlNanos: 100,
	}}}
}

func commitCmd(now int64, task string, f *metav1.FileEntry, reps []*metav1.ReplicaSet) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_CommitFile{CommitFile: &metav1.CommitFileCmd{
		TaskId: task, File: f, Replicas: reps,
	}}}
}

func deleteCmd(now int64, owner, path string) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_DeleteFile{DeleteFile: &metav1.DeleteFileCmd{Owner: owner, Path: path}}}
}

func endCmd(now int64, task string) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_EndTask{EndTask: &metav1.EndTaskCmd{TaskId: task}}}
}

func addReplicasCmd(now int64, id string, nodes ...string) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_AddReplicas{AddReplicas: &metav1.AddReplicasCmd{SliceId: id, NodeIds: nodes}}}
}

func removeReplicasCmd(now int64, id string, nodes ...string) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_RemoveReplicas{RemoveReplicas: &metav1.RemoveReplicasCmd{SliceId: id, NodeIds: nodes}}}
}

func mustApply(t testing.TB, ix *Index, cmd *metav1.Command) *metav1.CommandResult {
	t.Helper()
	res, err := ix.Apply(cmd)
	if err != nil {
		t.Fatalf("Apply(%v): %v", cmd, err)
	}
	return res
}

// put uploads a file through CreateTask and CommitFile.
func put(t testing.TB, ix *Index, now int64, f *metav1.FileEntry, nodes ...string) *metav1.CommandResult {
	t.Helper()
	if len(nodes) == 0 {
		nodes = []string{"n1", "n2"}
	}
	task := mustApply(t, ix, uploadCmd(now, f.Owner, f.Path, true)).Task
	return mustApply(t, ix, commitCmd(now, task.Id, f, replicas(len(f.Slices), nodes...)))
}

// dump returns every key and value of a store.
func dump(t testing.TB, s kv.Store) [][2][]byte {
	t.Helper()
	var out [][2][]byte
	err := s.Scan(nil, nil, func(k, v []byte) error {
		out = append(out, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// countingStore counts what the index reads from the store it wraps.
type countingStore struct {
	kv.Store
	gets, scanned atomic.Int64
}

func (c *countingStore) Get(key []byte) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.Get(key)
}

func (c *countingStore) Scan(lower, upper []byte, fn func(k, v []byte) error) error {
	return c.Store.Scan(lower, upper, func(k, v []byte) error {
		c.scanned.Add(1)
		return fn(k, v)
	})
}

func (c *countingStore) reset() { c.gets.Store(0); c.scanned.Store(0) }

func entry(node, user string, bytes uint64) *metav1.TrafficEntry {
	return &metav1.TrafficEntry{NodeId: node, User: user, Bytes: bytes}
}

func addTrafficCmd(entries ...*metav1.TrafficEntry) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_AddTraffic{AddTraffic: &metav1.AddTrafficCmd{Entries: entries}}}
}

func takeTrafficCmd(topN uint32) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_TakeTraffic{TakeTraffic: &metav1.TakeTrafficCmd{TopN: topN}}}
}

func restoreTrafficCmd(r *metav1.TrafficReport) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_RestoreTraffic{RestoreTraffic: &metav1.RestoreTrafficCmd{Report: r}}}
}
