package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// trafficOf reads a node's and a user's counters.
func trafficOf(t testing.TB, ix *Index, node, user string) (uint64, uint64) {
	t.Helper()
	n, err := ix.NodeTraffic(node)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ix.UserTraffic(user)
	if err != nil {
		t.Fatal(err)
	}
	return n, u
}

func vols(pairs ...any) []*metav1.TrafficVolume {
	var out []*metav1.TrafficVolume
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, &metav1.TrafficVolume{Id: pairs[i].(string), Bytes: uint64(pairs[i+1].(int))})
	}
	return out
}

func wantReport(t testing.TB, got *metav1.TrafficReport, want *metav1.TrafficReport) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("report\n%v\nwant\n%v", got, want)
	}
}

// DESIGN §7: audited bytes are counted per resource node and per user; a
// batch may name the same node or user several times.
func TestAddTraffic(t *testing.T) {
	ix := newIndex(t, nil)
	if n, u := trafficOf(t, ix, "n1", "alice"); n != 0 || u != 0 {
		t.Fatalf("empty ledger: node %d, user %d", n, u)
	}
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 100), entry("n2", "alice", 7), entry("n1", "bob", 3)))
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 1)))
	for _, tc := range []struct {
		node, user string
		n, u       uint64
	}{{"n1", "alice", 104, 108}, {"n2", "bob", 7, 3}, {"n3", "carol", 0, 0}} {
		if n, u := trafficOf(t, ix, tc.node, tc.user); n != tc.n || u != tc.u {
			t.Errorf("%s: %d, %s: %d; want %d, %d", tc.node, n, tc.user, u, tc.n, tc.u)
		}
	}
}

// A counter stops at 2^64-1 rather than wrapping to a small number, and
// the command still succeeds: refusing it would have the leader retry real
// traffic for ever.
func TestAddTrafficSaturates(t *testing.T) {
	ix := newIndex(t, nil)
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", math.MaxUint64-5)))
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 10), entry("n1", "bob", math.MaxUint64)))
	if n, u := trafficOf(t, ix, "n1", "alice"); n != math.MaxUint64 || u != math.MaxUint64 {
		t.Fatalf("node %d, user %d; want both saturated", n, u)
	}
	r := mustApply(t, ix, takeTrafficCmd(1)).Traffic
	wantReport(t, r, &metav1.TrafficReport{
		Nodes: []*metav1.TrafficVolume{{Id: "n1", Bytes: math.MaxUint64}},
		Users: []*metav1.TrafficVolume{{Id: "alice", Bytes: math.MaxUint64}, {Id: "bob", Bytes: math.MaxUint64}},
	})
	mustApply(t, ix, restoreTrafficCmd(r))
	mustApply(t, ix, restoreTrafficCmd(r))
	if n, _ := trafficOf(t, ix, "n1", "alice"); n != math.MaxUint64 {
		t.Fatalf("restored twice: %d", n)
	}
}

// whitepaper §3.2.1: each period the top N nodes by traffic are reported
// and rewarded and their counters cleared; nodes not in the report keep
// their traffic for the next period. Every user's traffic is reported (to
// charge their prepay) and cleared.
func TestTakeTraffic(t *testing.T) {
	ix := newIndex(t, nil)
	mustApply(t, ix, addTrafficCmd(
		entry("a", "u1", 100), entry("b", "u1", 300), entry("c", "u2", 200), entry("d", "u2", 200)))
	r := mustApply(t, ix, takeTrafficCmd(2)).Traffic
	wantReport(t, r, &metav1.TrafficReport{Nodes: vols("b", 300, "c", 200), Users: vols("u1", 400, "u2", 400)})
	if n, u := trafficOf(t, ix, "b", "u1"); n != 0 || u != 0 {
		t.Fatalf("reported node %d, user %d after the take; want cleared", n, u)
	}
	if n, _ := trafficOf(t, ix, "d", "u1"); n != 200 {
		t.Fatalf("unreported node d has %d, want its 200 kept", n)
	}
	mustApply(t, ix, addTrafficCmd(entry("a", "u1", 50)))
	r = mustApply(t, ix, takeTrafficCmd(10)).Traffic
	wantReport(t, r, &metav1.TrafficReport{Nodes: vols("d", 200, "a", 150), Users: vols("u1", 50)})
	r = mustApply(t, ix, takeTrafficCmd(10)).Traffic
	if len(r.GetNodes())+len(r.GetUsers()) != 0 {
		t.Fatalf("a reported period left traffic behind: %v", r)
	}
	if got := dump(t, ix.store); len(got) != 0 {
		t.Fatalf("cleared counters left keys: %q", got)
	}
}

// A report the chain did not take goes back: the next period's report
// counts its traffic with the new.
func TestRestoreTraffic(t *testing.T) {
	ix := newIndex(t, nil)
	mustApply(t, ix, addTrafficCmd(entry("a", "u", 10)))
	r := mustApply(t, ix, takeTrafficCmd(5)).Traffic
	mustApply(t, ix, restoreTrafficCmd(r))
	mustApply(t, ix, addTrafficCmd(entry("a", "u", 5)))
	wantReport(t, mustApply(t, ix, takeTrafficCmd(5)).Traffic, &metav1.TrafficReport{Nodes: vols("a", 15), Users: vols("u", 15)})
	// A report cut down by the meta node (inactive nodes left out) restores
	// what it still names.
	mustApply(t, ix, restoreTrafficCmd(&metav1.TrafficReport{Users: vols("u", 3)}))
	if n, u := trafficOf(t, ix, "a", "u"); n != 0 || u != 3 {
		t.Fatalf("node %d, user %d; want 0, 3", n, u)
	}
}

// The ledger is index state: Snapshot carries it, Restore brings it back,
// and Root moves with it, so replicas agree on it and the anchored root
// covers it.
func TestTrafficInSnapshot(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1000, content("alice", "/a", "a"))
	before, _ := ix.Root()
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 42), entry("n2", "bob", 7)))
	after, _ := ix.Root()
	if bytes.Equal(before, after) {
		t.Fatal("counting traffic did not change the root")
	}
	dst := newIndex(t, nil)
	if err := dst.Restore(bytes.NewReader(snapshot(t, ix))); err != nil {
		t.Fatal(err)
	}
	if root, _ := dst.Root(); !bytes.Equal(root, after) {
		t.Fatal("restored index has another root")
	}
	if n, u := trafficOf(t, dst, "n1", "bob"); n != 42 || u != 7 {
		t.Fatalf("restored counters: node %d, user %d", n, u)
	}
	r := mustApply(t, dst, takeTrafficCmd(1)).Traffic
	wantReport(t, r, &metav1.TrafficReport{Nodes: vols("n1", 42), Users: vols("alice", 42, "bob", 7)})
}

// Restore refuses a snapshot whose traffic counters the index could not
// have written: a bad name, a zero or malformed count.
func TestRestoreRejectsBadTraffic(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"v/n1", "\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"u/alice", "\x01"},
		{"v/", "\x00\x00\x00\x00\x00\x00\x00\x01"},
		{"u/a\x00b", "\x00\x00\x00\x00\x00\x00\x00\x01"},
	} {
		t.Run(fmt.Sprintf("%q", tc.key), func(t *testing.T) {
			snap := handSnapshot([2]string{tc.key, tc.value})
			if err := newIndex(t, nil).Restore(bytes.NewReader(snap)); err == nil {
				t.Fatal("Restore accepted it")
			}
		})
	}
	good := handSnapshot([2]string{"u/alice", "\x00\x00\x00\x00\x00\x00\x00\x05"}, [2]string{"v/n1", "\x00\x00\x00\x00\x00\x00\x00\x05"})
	if err := newIndex(t, nil).Restore(bytes.NewReader(good)); err != nil {
		t.Fatalf("a valid ledger: %v", err)
	}
}

// handSnapshot writes a snapshot of the given records, in order.
func handSnapshot(records ...[2]string) []byte {
	var b bytes.Buffer
	b.WriteString(snapshotMagic)
	for _, r := range records {
		b.Write(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(len(r[0]))), uint32(len(r[1]))))
		b.WriteString(r[0] + r[1])
	}
	b.Write(make([]byte, 8))
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(len(records))))
	return reseal(append(b.Bytes(), make([]byte, 32)...))
}

// Apply is deterministic for the ledger too: how a batch is ordered or cut
// does not change the state (addition commutes), and the report does not
// depend on the order counters were written in.
func TestTrafficDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var entries []*metav1.TrafficEntry
	for range 300 {
		entries = append(entries, entry(fmt.Sprintf("n%d", rng.IntN(20)), fmt.Sprintf("u%d", rng.IntN(10)), uint64(1+rng.IntN(4))))
	}
	run := func(batches [][]*metav1.TrafficEntry) ([]byte, []byte) {
		ix := newIndex(t, nil)
		for _, b := range batches {
			mustApply(t, ix, addTrafficCmd(b...))
		}
		root, _ := ix.Root()
		r := mustApply(t, ix, takeTrafficCmd(5))
		return root, []byte(render(r, nil))
	}
	root, report := run([][]*metav1.TrafficEntry{entries})
	for i := range 5 {
		shuffled := append([]*metav1.TrafficEntry(nil), entries...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var batches [][]*metav1.TrafficEntry
		for len(shuffled) > 0 {
			n := min(len(shuffled), 1+rng.IntN(50))
			batches, shuffled = append(batches, shuffled[:n]), shuffled[n:]
		}
		r, rep := run(batches)
		if !bytes.Equal(r, root) || !bytes.Equal(rep, report) {
			t.Fatalf("run %d: the same traffic in other batches gave another root or report", i)
		}
	}
}

// Take then Restore conserves traffic: the report and the counters left
// behind add up to what was counted, the report holds the top N, and
// restoring it gives back exactly the state before (the same root).
func FuzzTakeRestoreConserves(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(2))
	f.Add([]byte{0, 0, 255, 255, 7}, uint8(1))
	f.Add([]byte{9, 9, 9, 9, 9, 9}, uint8(40))
	f.Fuzz(func(t *testing.T, data []byte, topN uint8) {
		if topN == 0 {
			topN = 1
		}
		ix := newIndex(t, nil)
		var entries []*metav1.TrafficEntry
		var total uint64
		for i := 0; i+2 < len(data); i += 3 {
			n := uint64(data[i+2])<<16 + uint64(data[i])%7 + 1
			entries = append(entries, entry(fmt.Sprintf("n%d", data[i]%11), fmt.Sprintf("u%d", data[i+1]%5), n))
			total += n
		}
		if len(entries) == 0 {
			return
		}
		mustApply(t, ix, addTrafficCmd(entries...))
		before, _ := ix.Root()
		r := mustApply(t, ix, takeTrafficCmd(uint32(topN))).Traffic
		left, err := ix.volumes(prefixTrafficNode)
		if err != nil {
			t.Fatal(err)
		}
		if users, _ := ix.volumes(prefixTrafficUser); len(users) != 0 {
			t.Fatalf("users left after the take: %v", users)
		}
		var reported, users, kept uint64
		for i, v := range r.GetNodes() {
			reported += v.GetBytes()
			if i > 0 && (v.GetBytes() > r.Nodes[i-1].GetBytes() || v.GetBytes() == r.Nodes[i-1].GetBytes() && v.GetId() <= r.Nodes[i-1].GetId()) {
				t.Fatalf("report out of order: %v", r.Nodes)
			}
		}
		for _, v := range r.GetUsers() {
			users += v.GetBytes()
		}
		for _, v := range left {
			kept += v.Bytes
			last := r.Nodes[len(r.Nodes)-1]
			if v.Bytes > last.GetBytes() || v.Bytes == last.GetBytes() && v.ID < last.GetId() {
				t.Fatalf("node %s (%d bytes) kept while %s (%d) was reported", v.ID, v.Bytes, last.GetId(), last.GetBytes())
			}
		}
		if len(r.GetNodes()) != min(int(topN), len(r.GetNodes())+len(left)) {
			t.Fatalf("%d nodes reported, %d kept, top %d", len(r.GetNodes()), len(left), topN)
		}
		if reported+kept != total || users != total {
			t.Fatalf("counted %d; reported %d + kept %d, users %d", total, reported, kept, users)
		}
		mustApply(t, ix, restoreTrafficCmd(r))
		if after, _ := ix.Root(); !bytes.Equal(after, before) {
			t.Fatal("Take then Restore changed the state")
		}
	})
}
