package index

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// fixture: nodes n1, n2; alice's /docs/a.txt (slices "hello", "world");
// open tasks t2 (upload /docs/new.txt, no overwrite, expires at 1100) and
// t3 (download /docs/a.txt); 10 bytes of traffic from each node to alice.
func fixture(t *testing.T) *Index {
	t.Helper()
	ix := newIndex(t, nil)
	mustApply(t, ix, registerCmd(1000, "n1"))
	mustApply(t, ix, registerCmd(1000, "n2"))
	put(t, ix, 1000, content("alice", "/docs/a.txt", "hello", "world"))
	mustApply(t, ix, uploadCmd(1000, "alice", "/docs/new.txt", false))
	mustApply(t, ix, &metav1.Command{UnixNano: 1000, Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_DOWNLOAD, Owner: "alice", Path: "/docs/a.txt", TtlNanos: 100,
	}}})
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 10), entry("n2", "alice", 10)))
	return ix
}

func createCmd(owner, path string, ttl int64, kind metav1.TaskKind, overwrite bool) *metav1.Command {
	return &metav1.Command{UnixNano: 1000, Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: kind, Owner: owner, Path: path, TtlNanos: ttl, Overwrite: overwrite,
	}}}
}

const upload = metav1.TaskKind_TASK_KIND_UPLOAD

// Every error of Apply: the right sentinel, a message naming the problem,
// and nothing written (a failed command is all or nothing, as a replicated
// log entry must be).
func TestApplyErrors(t *testing.T) {
	newFile := func() *metav1.FileEntry { return content("alice", "/docs/new.txt", "abc", "de") }
	withFile := func(edit func(f *metav1.FileEntry)) *metav1.Command {
		f := newFile()
		edit(f)
		return commitCmd(1000, "t2", f, replicas(len(f.Slices), "n1"))
	}
	hello := sliceID("hello")
	tests := []struct {
		name   string
		before func(t *testing.T, ix *Index)
		cmd    *metav1.Command
		want   error
		says   string
	}{
		{name: "nil command", cmd: nil, want: ErrBadCommand, says: "nil command"},
		{name: "no op", cmd: &metav1.Command{UnixNano: 1}, want: ErrBadCommand, says: "no operation"},

		{name: "register: no record", cmd: &metav1.Command{Op: &metav1.Command_RegisterNode{RegisterNode: &metav1.RegisterNodeCmd{}}}, want: ErrBadCommand, says: "no node record"},
		{name: "register: empty node ID", cmd: func() *metav1.Command {
			c := registerCmd(1, "x")
			c.GetRegisterNode().Node.NodeId = ""
			return c
		}(), want: ErrBadCommand, says: "node ID"},
		{name: "register: NUL in node ID", cmd: registerCmd(1, "n\x00"), want: ErrBadCommand, says: "control character"},
		{name: "register: short key", cmd: func() *metav1.Command {
			c := registerCmd(1, "n9")
			c.GetRegisterNode().Node.PublicKey = make([]byte, 31)
			return c
		}(), want: ErrBadCommand, says: "public key is 31 bytes"},
		{name: "register: no address", cmd: func() *metav1.Command {
			c := registerCmd(1, "n9")
			c.GetRegisterNode().Node.Addr = ""
			return c
		}(), want: ErrBadCommand, says: "no address"},

		{name: "create: empty", cmd: &metav1.Command{Op: &metav1.Command_CreateTask{}}, want: ErrBadCommand, says: "empty"},
		{name: "create: no kind", cmd: createCmd("alice", "/x", 10, metav1.TaskKind_TASK_KIND_UNSPECIFIED, false), want: ErrBadCommand, says: "kind"},
		{name: "create: unknown kind", cmd: createCmd("alice", "/x", 10, 99, false), want: ErrBadCommand, says: "kind"},
		{name: "create: no owner", cmd: createCmd("", "/x", 10, upload, false), want: ErrBadCommand, says: "owner"},
		{name: "create: NUL in owner", cmd: createCmd("al\x00ice", "/x", 10, upload, false), want: ErrBadCommand, says: "owner"},
		{name: "create: long owner", cmd: createCmd(strings.Repeat("a", 129), "/x", 10, upload, false), want: ErrBadCommand, says: "longer than 128"},
		{name: "create: dot-dot path", cmd: createCmd("alice", "/a/../b", 10, upload, false), want: ErrBadPath, says: "escapes"},
		{name: "create: relative path is a bad command too", cmd: createCmd("alice", "a/b", 10, upload, false), want: ErrBadCommand, says: "begin with"},
		{name: "create: zero ttl", cmd: createCmd("alice", "/x", 0, upload, false), want: ErrBadCommand, says: "ttl 0"},
		{name: "create: negative ttl", cmd: createCmd("alice", "/x", -5, upload, false), want: ErrBadCommand, says: "ttl -5"},
		{name: "create: ttl overflows", cmd: createCmd("alice", "/x", math.MaxInt64, upload, false), want: ErrBadCommand, says: "ttl"},
		{name: "create: file exists", cmd: createCmd("alice", "/docs/a.txt", 10, upload, false), want: ErrExists, says: "/docs/a.txt"},

		{name: "commit: no file", cmd: commitCmd(1000, "t2", nil, nil), want: ErrBadCommand, says: "no file"},
		{name: "commit: unknown task", cmd: commitCmd(1000, "t99", newFile(), replicas(2, "n1")), want: ErrNotFound, says: "t99"},
		{name: "commit: malformed task ID", cmd: commitCmd(1000, "t02", newFile(), replicas(2, "n1")), want: ErrNotFound, says: "t02"},
		{name: "commit: download task", cmd: commitCmd(1000, "t3", content("alice", "/docs/a.txt", "x"), replicas(1, "n1")), want: ErrBadCommand, says: "DOWNLOAD"},
		{name: "commit: expired", cmd: commitCmd(1101, "t2", newFile(), replicas(2, "n1")), want: ErrTaskExpired, says: "expired at 1100"},
		{name: "commit: other owner", cmd: withFile(func(f *metav1.FileEntry) { f.Owner = "bob" }), want: ErrBadCommand, says: "not task t2's"},
		{name: "commit: other path", cmd: withFile(func(f *metav1.FileEntry) { f.Path = "/docs/other.txt" }), want: ErrBadCommand, says: "not task t2's"},
		{name: "commit: replica sets", cmd: commitCmd(1000, "t2", newFile(), replicas(1, "n1")), want: ErrBadCommand, says: "1 replica sets for 2 slices"},
		{name: "commit: bad slice ID", cmd: withFile(func(f *metav1.FileEntry) { f.Slices[1].Id = "md5-00" }), want: ErrBadCommand, says: "slice 1"},
		{name: "commit: size", cmd: withFile(func(f *metav1.FileEntry) { f.Size++ }), want: ErrBadCommand, says: "size 6, but slices add up to 5"},
		{name: "commit: file ID", cmd: withFile(func(f *metav1.FileEntry) { f.FileId = content("", "", "de", "abc").FileId }), want: ErrBadCommand, says: "Merkle root"},
		{name: "commit: bad replica", cmd: commitCmd(1000, "t2", newFile(), replicas(2, "")), want: ErrBadCommand, says: "node ID"},
		{name: "commit: slice size differs from the index's", cmd: withFile(func(f *metav1.FileEntry) {
			*f = *content("alice", "/docs/new.txt", "hello")
			f.Slices[0].Size, f.Size = 4, 4
		}), want: ErrBadCommand, says: "has size 5, not 4"},
		{name: "commit: same slice with two sizes", cmd: withFile(func(f *metav1.FileEntry) {
			*f = *content("alice", "/docs/new.txt", "abc", "abc")
			f.Slices[1].Size, f.Size = 2, 5
		}), want: ErrBadCommand, says: "sizes 3 and 2"},
		{name: "commit: path taken since the task began", before: func(t *testing.T, ix *Index) {
			put(t, ix, 1000, content("alice", "/docs/new.txt", "other"))
		}, cmd: commitCmd(1000, "t2", newFile(), replicas(2, "n1")), want: ErrExists, says: "/docs/new.txt"},

		{name: "end: unknown task", cmd: endCmd(1000, "t42"), want: ErrNotFound, says: "t42"},
		{name: "end: empty", cmd: &metav1.Command{Op: &metav1.Command_EndTask{}}, want: ErrNotFound},

		{name: "delete: missing", cmd: deleteCmd(1000, "alice", "/docs/b.txt"), want: ErrNotFound, says: "/docs/b.txt"},
		{name: "delete: a directory", cmd: deleteCmd(1000, "alice", "/docs"), want: ErrNotFound},
		{name: "delete: other owner's", cmd: deleteCmd(1000, "bob", "/docs/a.txt"), want: ErrNotFound},
		{name: "delete: bad path", cmd: deleteCmd(1000, "alice", "/docs/"), want: ErrBadPath, says: "trailing slash"},
		{name: "delete: no owner", cmd: deleteCmd(1000, "", "/docs/a.txt"), want: ErrBadCommand, says: "owner"},

		{name: "add replicas: unknown slice", cmd: addReplicasCmd(1000, sliceID("nope"), "n3"), want: ErrNotFound, says: sliceID("nope")},
		{name: "add replicas: bad slice ID", cmd: addReplicasCmd(1000, "hello", "n3"), want: ErrBadCommand},
		{name: "add replicas: no nodes", cmd: addReplicasCmd(1000, hello), want: ErrBadCommand, says: "no node IDs"},
		{name: "add replicas: bad node", cmd: addReplicasCmd(1000, hello, "n3", "\x00"), want: ErrBadCommand, says: "node ID"},
		{name: "remove replicas: unknown slice", cmd: removeReplicasCmd(1000, sliceID("nope"), "n1"), want: ErrNotFound},
		{name: "remove replicas: no nodes", cmd: removeReplicasCmd(1000, hello), want: ErrBadCommand},

		{name: "add traffic: no entries", cmd: addTrafficCmd(), want: ErrBadCommand, says: "no entries"},
		{name: "add traffic: no node", cmd: addTrafficCmd(entry("n1", "alice", 1), entry("", "alice", 1)), want: ErrBadCommand, says: "entry 1: node ID"},
		{name: "add traffic: bad user", cmd: addTrafficCmd(entry("n1", "al\x00ice", 1)), want: ErrBadCommand, says: "user"},
		{name: "add traffic: zero bytes", cmd: addTrafficCmd(entry("n1", "alice", 5), entry("n1", "alice", 0)), want: ErrBadCommand, says: "zero bytes"},
		{name: "take traffic: top 0", cmd: takeTrafficCmd(0), want: ErrBadCommand, says: "top N is 0"},
		{name: "take traffic: empty", cmd: &metav1.Command{Op: &metav1.Command_TakeTraffic{}}, want: ErrBadCommand},
		{name: "restore traffic: no report", cmd: restoreTrafficCmd(nil), want: ErrBadCommand, says: "empty report"},
		{name: "restore traffic: zero bytes", cmd: restoreTrafficCmd(&metav1.TrafficReport{
			Nodes: []*metav1.TrafficVolume{{Id: "n1", Bytes: 3}}, Users: []*metav1.TrafficVolume{{Id: "alice", Bytes: 0}},
		}), want: ErrBadCommand, says: "user alice: zero bytes"},
		{name: "restore traffic: bad node", cmd: restoreTrafficCmd(&metav1.TrafficReport{
			Nodes: []*metav1.TrafficVolume{{Id: strings.Repeat("n", 129), Bytes: 3}},
		}), want: ErrBadCommand, says: "longer than 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := fixture(t)
			if tt.before != nil {
				tt.before(t, ix)
			}
			before := dump(t, ix.store)
			res, err := ix.Apply(tt.cmd)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Apply = %v, %v; want %v saying %q", res, err, tt.want, tt.says)
			}
			if after := dump(t, ix.store); !reflect.DeepEqual(before, after) {
				t.Fatalf("a failed command changed the store")
			}
		})
	}
}

func TestRegisterNode(t *testing.T) {
	ix := newIndex(t, nil)
	mustApply(t, ix, registerCmd(100, "n2"))
	mustApply(t, ix, registerCmd(200, "n1"))
	again := registerCmd(300, "n2")
	again.GetRegisterNode().Node.Addr = "moved:7000"
	again.GetRegisterNode().Node.RegisteredUnixNano = 5 // ignored: the command's time decides
	mustApply(t, ix, again)

	n2, err := ix.Node("n2")
	if err != nil {
		t.Fatal(err)
	}
	if n2.Addr != "moved:7000" || n2.RegisteredUnixNano != 100 {
		t.Errorf("re-registered n2 = %v; want the new address and the first registration time", n2)
	}
	nodes, err := ix.Nodes()
	if err != nil || len(nodes) != 2 || nodes[0].NodeId != "n1" || nodes[1].NodeId != "n2" || nodes[0].RegisteredUnixNano != 200 {
		t.Errorf("Nodes = %v, %v; want n1 (registered at 200), n2 in order", nodes, err)
	}
	if _, err := ix.Node("n3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Node(n3) = %v, want ErrNotFound", err)
	}
}

func TestCreateTask(t *testing.T) {
	ix := newIndex(t, nil)
	var ids []string
	for i := range 11 {
		res := mustApply(t, ix, &metav1.Command{UnixNano: 1000 + int64(i), Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
			Kind: upload, Owner: "alice", Path: "/a", Size: 7, TtlNanos: 50,
		}}})
		ids = append(ids, res.Task.Id)
	}
	// Task IDs come from a counter in the store, so every replica assigns the same ones.
	if ids[0] != "t1" || ids[10] != "t11" {
		t.Fatalf("task IDs %v", ids)
	}
	want := &metav1.Task{Id: "t3", Kind: upload, Owner: "alice", Path: "/a", Size: 7, CreatedUnixNano: 1002, ExpiresUnixNano: 1052}
	if got, err := ix.Task("t3"); err != nil || !proto.Equal(got, want) {
		t.Errorf("Task(t3) = %v, %v; want %v", got, err, want)
	}
	var seen []string
	if err := ix.Tasks(func(tk *metav1.Task) error { seen = append(seen, tk.Id); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seen, ids) { // t10 after t9: creation order, not string order
		t.Errorf("Tasks order %v, want %v", seen, ids)
	}
	// Tasks' callback may apply commands (a sweeper ending expired tasks).
	err := ix.Tasks(func(tk *metav1.Task) error {
		_, err := ix.Apply(endCmd(2000, tk.Id))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Task("t3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after ending every task: Task(t3) = %v", err)
	}
	// Ending tasks does not reuse IDs.
	if res := mustApply(t, ix, createCmd("alice", "/a", 5, upload, false)); res.Task.Id != "t12" {
		t.Errorf("next task ID %s, want t12", res.Task.Id)
	}
	for _, kind := range []metav1.TaskKind{metav1.TaskKind_TASK_KIND_DOWNLOAD, metav1.TaskKind_TASK_KIND_REPAIR} {
		if res := mustApply(t, ix, createCmd("alice", "/no/such/file", 5, kind, false)); res.Task.Kind != kind {
			t.Errorf("%v task: %v", kind, res.Task)
		}
	}
}

// DESIGN §6.2 step 5: a file is invisible until committed, then the commit
// writes the entry, the file-ID index, the slices and their holders, and
// ends the task.
func TestCommitFile(t *testing.T) {
	ix := newIndex(t, nil)
	task := mustApply(t, ix, uploadCmd(1000, "alice", "/music/song.mp3", false)).Task
	if _, err := ix.File("alice", "/music/song.mp3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before commit: File = %v, want ErrNotFound", err)
	}
	if entries, _, _ := ix.List("alice", "/", "", 0); len(entries) != 0 {
		t.Fatalf("before commit: List = %v", entries)
	}
	f := content("alice", "/music/song.mp3", "verse", "chorus")
	f.Mode, f.Encrypted = 0o644, true
	res := mustApply(t, ix, commitCmd(1050, task.Id, f, []*metav1.ReplicaSet{
		{NodeIds: []string{"n3", "n1", "n1"}}, {NodeIds: []string{"n2"}},
	}))
	want := proto.CloneOf(f)
	want.CreatedUnixNano = 1050
	if !proto.Equal(res.File, want) || len(res.Released) != 0 {
		t.Fatalf("result %v, want file %v", res, want)
	}
	if got, err := ix.File("alice", "/music/song.mp3"); err != nil || !proto.Equal(got, want) {
		t.Fatalf("File = %v, %v", got, err)
	}
	if got, err := ix.FilesByID(f.FileId); err != nil || len(got) != 1 || !proto.Equal(got[0], want) {
		t.Fatalf("FilesByID = %v, %v", got, err)
	}
	s, err := ix.Slice(sliceID("verse"))
	if err != nil || s.Refs != 1 || s.Size != 5 || !reflect.DeepEqual(s.Replicas, []string{"n1", "n3"}) {
		t.Fatalf("Slice(verse) = %v, %v; want size 5, 1 ref, replicas [n1 n3]", s, err)
	}
	if got := slicesOn(t, ix, "n1"); !reflect.DeepEqual(got, []string{sliceID("verse")}) {
		t.Fatalf("SlicesOn(n1) = %v", got)
	}
	if _, err := ix.Task(task.Id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("task still open after commit: %v", err)
	}
	if files, slices, err := ix.Stats(); files != 1 || slices != 2 || err != nil {
		t.Fatalf("Stats = %d, %d, %v; want 1, 2", files, slices, err)
	}
	// An expired task stays until EndTask; committing at the expiry instant is still allowed.
	t2 := mustApply(t, ix, uploadCmd(2000, "alice", "/late", false)).Task
	if _, err := ix.Apply(commitCmd(2101, t2.Id, content("alice", "/late"), nil)); !errors.Is(err, ErrTaskExpired) {
		t.Fatalf("late commit: %v", err)
	}
	if _, err := ix.Task(t2.Id); err != nil {
		t.Fatalf("expired task gone: %v", err)
	}
	mustApply(t, ix, commitCmd(2100, t2.Id, content("alice", "/late"), nil)) // empty file, at the deadline
}

func slicesOn(t *testing.T, ix *Index, node string) []string {
	t.Helper()
	var out []string
	if err := ix.SlicesOn(node, func(id string) error { out = append(out, id); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEndTask(t *testing.T) {
	ix := fixture(t)
	mustApply(t, ix, endCmd(1000, "t2"))
	if _, err := ix.Task("t2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Task(t2) after EndTask = %v", err)
	}
	if _, err := ix.Apply(commitCmd(1000, "t2", content("alice", "/docs/new.txt"), nil)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("commit after EndTask = %v, want ErrNotFound", err)
	}
}

func TestDeleteFile(t *testing.T) {
	ix := fixture(t)
	f, _ := ix.File("alice", "/docs/a.txt")
	res := mustApply(t, ix, deleteCmd(2000, "alice", "/docs/a.txt"))
	if !proto.Equal(res.File, f) {
		t.Fatalf("result file %v, want %v", res.File, f)
	}
	want := []*metav1.SliceEntry{
		{Id: sliceID("hello"), Size: 5, Replicas: []string{"n1", "n2"}},
		{Id: sliceID("world"), Size: 5, Replicas: []string{"n1", "n2"}},
	}
	if !protoSliceEqual(res.Released, want) {
		t.Fatalf("released %v, want %v", res.Released, want)
	}
	if _, err := ix.File("alice", "/docs/a.txt"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("File after delete: %v", err)
	}
	if _, err := ix.FilesByID(f.FileId); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FilesByID after delete: %v", err)
	}
	if ix.HasSlice(sliceID("hello")) || len(slicesOn(t, ix, "n1")) != 0 {
		t.Fatalf("released slice still indexed")
	}
	if files, slices, _ := ix.Stats(); files != 0 || slices != 0 {
		t.Fatalf("Stats = %d, %d", files, slices)
	}
}

func protoSliceEqual[M proto.Message](a, b []M) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Overwriting releases the old content's slices, except those the new
// content still uses (content addressing, DESIGN §6.1).
func TestOverwrite(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1000, content("alice", "/f", "keep", "drop"), "n1")
	res := put(t, ix, 2000, content("alice", "/f", "keep", "new"), "n2")
	if len(res.Released) != 1 || res.Released[0].Id != sliceID("drop") || !reflect.DeepEqual(res.Released[0].Replicas, []string{"n1"}) {
		t.Fatalf("released %v, want only drop on n1", res.Released)
	}
	keep, err := ix.Slice(sliceID("keep"))
	if err != nil || keep.Refs != 1 || !reflect.DeepEqual(keep.Replicas, []string{"n1", "n2"}) {
		t.Fatalf("Slice(keep) = %v, %v", keep, err)
	}
	if got, _ := ix.FilesByID(content("", "", "keep", "drop").FileId); got != nil {
		t.Fatalf("old file ID still indexed: %v", got)
	}
	// The same content again releases nothing.
	if res := put(t, ix, 3000, content("alice", "/f", "keep", "new")); len(res.Released) != 0 {
		t.Fatalf("rewriting the same content released %v", res.Released)
	}
	if files, slices, _ := ix.Stats(); files != 1 || slices != 2 {
		t.Fatalf("Stats = %d, %d; want 1, 2", files, slices)
	}
	if f, _ := ix.File("alice", "/f"); f.CreatedUnixNano != 3000 {
		t.Fatalf("created %d, want 3000", f.CreatedUnixNano)
	}
}

// Deduplication: slices shared by files, or used twice by one file, count a
// reference per use and go only when the last use does.
func TestSharedSlices(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1000, content("alice", "/a", "shared", "x"))
	put(t, ix, 1000, content("bob", "/b", "shared", "shared"))
	put(t, ix, 1000, content("bob", "/copy-of-a", "shared", "x"))
	refs := func(s string) uint64 {
		e, err := ix.Slice(sliceID(s))
		if err != nil {
			return 0
		}
		return e.Refs
	}
	if refs("shared") != 4 || refs("x") != 2 {
		t.Fatalf("refs shared=%d x=%d; want 4, 2", refs("shared"), refs("x"))
	}
	same, err := ix.FilesByID(content("", "", "shared", "x").FileId)
	if err != nil || len(same) != 2 || same[0].Owner != "alice" || same[1].Path != "/copy-of-a" {
		t.Fatalf("FilesByID = %v, %v", same, err)
	}
	if res := mustApply(t, ix, deleteCmd(2000, "bob", "/b")); len(res.Released) != 0 {
		t.Fatalf("deleting one of several users released %v", res.Released)
	}
	if refs("shared") != 2 {
		t.Fatalf("refs shared=%d after deleting a file using it twice, want 2", refs("shared"))
	}
	mustApply(t, ix, deleteCmd(2000, "alice", "/a"))
	res := mustApply(t, ix, deleteCmd(2000, "bob", "/copy-of-a"))
	if len(res.Released) != 2 || res.Released[0].Id != sliceID("shared") || res.Released[1].Id != sliceID("x") {
		t.Fatalf("last delete released %v, want shared and x once each", res.Released)
	}
	if files, slices, _ := ix.Stats(); files != 0 || slices != 0 {
		t.Fatalf("Stats = %d, %d", files, slices)
	}
}

func TestReplicas(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1000, content("alice", "/a", "data"), "n2")
	id := sliceID("data")
	mustApply(t, ix, addReplicasCmd(1000, id, "n3", "n1", "n2", "n3"))
	if s, _ := ix.Slice(id); !reflect.DeepEqual(s.Replicas, []string{"n1", "n2", "n3"}) || s.Refs != 1 {
		t.Fatalf("after add: %v", s)
	}
	mustApply(t, ix, removeReplicasCmd(1000, id, "n2", "n9"))
	if s, _ := ix.Slice(id); !reflect.DeepEqual(s.Replicas, []string{"n1", "n3"}) || s.Refs != 1 {
		t.Fatalf("after remove: %v", s)
	}
	for node, want := range map[string]int{"n1": 1, "n2": 0, "n3": 1} {
		if got := len(slicesOn(t, ix, node)); got != want {
			t.Errorf("SlicesOn(%s) has %d slices, want %d", node, got, want)
		}
	}
	res := mustApply(t, ix, deleteCmd(2000, "alice", "/a"))
	if len(res.Released) != 1 || !reflect.DeepEqual(res.Released[0].Replicas, []string{"n1", "n3"}) {
		t.Fatalf("released %v", res.Released)
	}
	if got := len(slicesOn(t, ix, "n3")); got != 0 {
		t.Fatalf("holder index kept a released slice")
	}
}

// Whitepaper §4.2.6: the Bloom filter answers definitely-absent without
// touching the store.
func TestBloomAnswersAbsent(t *testing.T) {
	cs := &countingStore{Store: kv.NewMem()}
	ix := newIndex(t, cs)
	put(t, ix, 1000, content("alice", "/present", "p"))
	cs.reset()
	for i := range 100 {
		name := "/absent-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		if _, err := ix.File("alice", name); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		if ix.HasSlice(sliceID(name)) {
			t.Fatal("HasSlice of an absent slice")
		}
	}
	// 200 lookups at a 1% false-positive rate: a handful of reads at most.
	if n := cs.gets.Load(); n > 10 {
		t.Errorf("%d store reads for 200 absent lookups", n)
	}
	if _, err := ix.File("alice", "/present"); err != nil {
		t.Fatal(err)
	}
	if !ix.HasSlice(sliceID("p")) {
		t.Fatal("HasSlice of a present slice")
	}
}

// Open rebuilds the Bloom filter from the store, and grows it past its
// initial size without losing entries.
func TestReopenAndBloomGrowth(t *testing.T) {
	store := kv.NewMem()
	ix, err := Open(store, Options{BloomItems: 4, BloomFalsePositive: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		put(t, ix, 1000, content("alice", "/f"+strings.Repeat("x", i), "c"+strings.Repeat("y", i)))
	}
	if ix.bloomCap < 20 {
		t.Errorf("Bloom filter capacity %d after 40 additions", ix.bloomCap)
	}
	ix2, err := Open(store, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Index{ix, ix2} {
		for i := range 20 {
			if _, err := x.File("alice", "/f"+strings.Repeat("x", i)); err != nil {
				t.Fatal(err)
			}
			if !x.HasSlice(sliceID("c" + strings.Repeat("y", i))) {
				t.Fatal("slice missing")
			}
		}
	}
	if _, err := Open(store, Options{}); err == nil {
		t.Fatal("Open accepted zero options")
	}
}

// Queries run concurrently with Apply (run with -race).
func TestConcurrentQueries(t *testing.T) {
	ix := newIndex(t, nil)
	done := make(chan struct{})
	errc := make(chan error, 2)
	for range 2 {
		go func() {
			for {
				select {
				case <-done:
					errc <- nil
					return
				default:
				}
				if _, _, err := ix.List("alice", "/d", "", 10); err != nil {
					errc <- err
					return
				}
				ix.HasSlice(sliceID("c"))
				_, _ = ix.File("alice", "/d/f1")
				if _, _, err := ix.Stats(); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for i := range 200 {
		p := "/d/f" + strings.Repeat("1", i%20+1)
		put(t, ix, 1000, content("alice", p, "c", p))
		if i%3 == 0 {
			mustApply(t, ix, deleteCmd(1000, "alice", p))
		}
	}
	close(done)
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
