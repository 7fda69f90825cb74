package index

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/pebblekv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// randomCommands makes a random but reproducible command sequence, valid and
// invalid, against ix (to learn task IDs), applying each as it goes. It
// returns the commands and rendered results.
func randomCommands(t testing.TB, ix *Index, seed uint64, n int) ([]*metav1.Command, []string) {
	rng := rand.New(rand.NewPCG(seed, seed))
	trafficRng := rand.New(rand.NewPCG(seed, ^seed)) // leaves the other commands as they were
	owners := []string{"alice", "bob"}
	paths := []string{"/a", "/b", "/d/x", "/d/y", "/d/e/f", "/a/below-a-file", "/../bad"}
	chunks := []string{"c1", "c2", "c3", "c4", "c5"}
	nodes := []string{"n1", "n2", "n3", "n4"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	var tasks []*metav1.Task
	var taken []*metav1.TrafficReport
	var cmds []*metav1.Command
	var results []string
	now := int64(1000)
	for range n {
		now += int64(rng.IntN(20))
		var cmd *metav1.Command
		switch r := rng.IntN(10); {
		case r == 0:
			cmd = registerCmd(now, pick(nodes))
		case r <= 3:
			c := uploadCmd(now, pick(owners), pick(paths), rng.IntN(2) == 0)
			c.GetCreateTask().TtlNanos = int64(rng.IntN(1000))
			cmd = c
		case r <= 6 && len(tasks) > 0:
			task := tasks[rng.IntN(len(tasks))]
			var parts []string
			for range rng.IntN(4) {
				parts = append(parts, pick(chunks))
			}
			f := content(task.Owner, task.Path, parts...)
			reps := make([]*metav1.ReplicaSet, len(parts))
			for i := range reps {
				reps[i] = &metav1.ReplicaSet{NodeIds: []string{pick(nodes), pick(nodes)}}
			}
			cmd = commitCmd(now, task.Id, f, reps)
		case r == 7:
			cmd = deleteCmd(now, pick(owners), pick(paths))
		case r == 8:
			cmd = addReplicasCmd(now, sliceID(pick(chunks)), pick(nodes))
		default:
			cmd = removeReplicasCmd(now, sliceID(pick(chunks)), pick(nodes))
		}
		step := []*metav1.Command{cmd}
		if tr := trafficRng.IntN(9); tr < 3 {
			step = append(step, randomTrafficCmd(trafficRng, tr, taken, nodes, owners))
		}
		for _, cmd := range step {
			res, err := ix.Apply(cmd)
			if res.GetTask() != nil {
				tasks = append(tasks, res.Task)
			}
			if res.GetTraffic() != nil {
				taken = append(taken, res.Traffic)
			}
			cmds = append(cmds, cmd)
			results = append(results, render(res, err))
		}
	}
	return cmds, results
}

// randomTrafficCmd makes traffic ledger command number kind: add (valid or
// not), take, or restore one of the reports taken before.
func randomTrafficCmd(rng *rand.Rand, kind int, taken []*metav1.TrafficReport, nodes, users []string) *metav1.Command {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	switch {
	case kind == 0:
		var entries []*metav1.TrafficEntry
		for range rng.IntN(4) { // none, or zero bytes: an invalid command
			entries = append(entries, entry(pick(nodes), pick(users), uint64(rng.IntN(100))))
		}
		return addTrafficCmd(entries...)
	case kind == 1 || len(taken) == 0:
		return takeTrafficCmd(uint32(rng.IntN(4)))
	default:
		return restoreTrafficCmd(taken[rng.IntN(len(taken))])
	}
}

func render(res *metav1.CommandResult, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	b, merr := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if merr != nil {
		return "marshal: " + merr.Error()
	}
	return fmt.Sprintf("%x", b)
}

func sameStores(t *testing.T, a, b kv.Store) {
	t.Helper()
	da, db := dump(t, a), dump(t, b)
	if len(da) != len(db) {
		t.Fatalf("stores hold %d and %d keys", len(da), len(db))
	}
	for i := range da {
		if !bytes.Equal(da[i][0], db[i][0]) || !bytes.Equal(da[i][1], db[i][1]) {
			t.Fatalf("key %d differs: %q=%x vs %q=%x", i, da[i][0], da[i][1], db[i][0], db[i][1])
		}
	}
}

// hashicorp/raft's FSM contract: Apply must be deterministic. The same
// commands in the same order on fresh indexes give the same results and the
// same bytes in the store, whichever store it is.
func TestDeterminism(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			first := newIndex(t, kv.NewMem())
			cmds, want := randomCommands(t, first, seed, 400)
			stores := []kv.Store{kv.NewMem()}
			if seed == 0 { // one run on Pebble: sync writes are slow
				p, err := pebblekv.Open(t.TempDir(), pebblekv.DefaultOptions())
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				stores = append(stores, p)
			}
			for _, s := range stores {
				ix := newIndex(t, s)
				for i, cmd := range cmds {
					res, err := ix.Apply(proto.CloneOf(cmd))
					if got := render(res, err); got != want[i] {
						t.Fatalf("command %d (%v): %s, first run %s", i, cmd, got, want[i])
					}
				}
				sameStores(t, first.store, s)
				if a, b := rootOf(t, first), rootOf(t, ix); !bytes.Equal(a, b) {
					t.Fatalf("roots %x and %x", a, b)
				}
			}
			checkCounters(t, first)
		})
	}
}

func rootOf(t *testing.T, ix *Index) []byte {
	t.Helper()
	root, err := ix.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// checkCounters compares Stats with a count of the records.
func checkCounters(t *testing.T, ix *Index) {
	t.Helper()
	count := func(prefix string) uint64 {
		var n uint64
		if err := ix.scan([]byte(prefix), func(_, _ []byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	files, slices, err := ix.Stats()
	if err != nil || files != count(prefixFile) || slices != count(prefixSlice) {
		t.Fatalf("Stats = %d, %d, %v; the store holds %d files and %d slices", files, slices, err, count(prefixFile), count(prefixSlice))
	}
	if files == 0 || slices == 0 {
		t.Fatalf("random sequence committed nothing")
	}
	// Every slice's refs equals its uses, and the holder index matches replicas.
	uses := map[string]uint64{}
	err = ix.scan([]byte(prefixFile), func(_, v []byte) error {
		f := new(metav1.FileEntry)
		if err := proto.Unmarshal(v, f); err != nil {
			return err
		}
		for _, s := range f.Slices {
			uses[s.Id]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	holders := 0
	err = ix.scan([]byte(prefixSlice), func(_, v []byte) error {
		s := new(metav1.SliceEntry)
		if err := proto.Unmarshal(v, s); err != nil {
			return err
		}
		if s.Refs != uses[s.Id] {
			return fmt.Errorf("slice %s: refs %d, used %d times", s.Id, s.Refs, uses[s.Id])
		}
		holders += len(s.Replicas)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(prefixHolder); n != uint64(holders) {
		t.Fatalf("%d holder keys for %d replicas", n, holders)
	}
}
