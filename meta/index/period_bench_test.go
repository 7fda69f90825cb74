package index

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratos-net/stratos/kv/pebblekv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// go test -run x -bench PeriodMillionReports -benchtime 1x -timeout 60m ./meta/index/
//
// Issue 8: "a period with 10,000 resource nodes and a million task
// reports: reconciliation time on the meta leader". 10,000 users each
// download 100 slices held across 10,000 nodes; every slice's receipt is
// counted by its own CountDownload command (the worst case: no report
// carries two receipts), applied the way the Raft log applies them (ApplyAt
// on pebble, unsynced, 64 commands per log entry); then the period is
// sealed with the top 100 nodes. Receipt signatures are checked before a
// command is proposed, outside the index: see identity's
// BenchmarkVerifyTrafficReceipt for that cost. Reports count/s and the
// seal's time.
func BenchmarkPeriodMillionReports(b *testing.B) {
	const (
		nodes, users, perUser = 10_000, 10_000, 100
		sliceSize             = 16 << 20
		perEntry              = 64
	)
	for range b.N {
		b.StopTimer()
		s, err := pebblekv.Open(b.TempDir(), pebblekv.DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		ix := newIndex(b, s)
		rng := rand.New(rand.NewPCG(1, 2))
		at := Position{Index: 1}
		apply := func(cmd *metav1.Command) *metav1.CommandResult {
			res, err := ix.ApplyAt(at, cmd)
			if err != nil {
				b.Fatal(err)
			}
			if at.Cmd++; at.Cmd == perEntry {
				at = Position{Index: at.Index + 1}
			}
			return res
		}
		type task struct {
			id, owner string
			slices    []*metav1.DownloadSlice
		}
		tasks := make([]task, users)
		for u := range tasks {
			owner := fmt.Sprintf("user%05d", u)
			var ss []*metav1.DownloadSlice
			for i := range perUser {
				ss = append(ss, ds(fmt.Sprintf("s%05d-%03d", u, i), fmt.Sprintf("node%05d", rng.IntN(nodes)), sliceSize))
			}
			res := apply(openDownload(10, 1<<62, owner, reservation(perUser*sliceSize, 1<<62, 1<<62), ss...))
			tasks[u] = task{res.GetDownload().GetId(), owner, ss}
		}
		// Reports arrive in no particular order.
		order := make([][2]int, 0, users*perUser)
		for u := range users {
			for i := range perUser {
				order = append(order, [2]int{u, i})
			}
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		b.StartTimer()
		start := b.Elapsed()
		for _, o := range order {
			t := tasks[o[0]]
			apply(countDownload(20, t.id, t.owner, t.slices[o[1]]))
		}
		counted := b.Elapsed() - start
		r := apply(sealCmd(1, 100)).Traffic
		sealed := b.Elapsed() - start - counted
		b.StopTimer()
		if len(r.GetNodes()) != 100 || len(r.GetUsers()) != users {
			b.Fatalf("sealed %d nodes and %d users, want 100 and %d", len(r.GetNodes()), len(r.GetUsers()), users)
		}
		b.ReportMetric(float64(len(order))/counted.Seconds(), "reports/s")
		b.ReportMetric(counted.Seconds(), "count-s")
		b.ReportMetric(sealed.Seconds(), "seal-s")
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
