package index

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

func sealCmd(period uint64, topN uint32, inactive ...string) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_TakeTraffic{TakeTraffic: &metav1.TakeTrafficCmd{
		TopN: topN, Period: period, Seal: true, Inactive: inactive}}}
}

// DESIGN §7: "A traffic period closes at one log position: every authority
// builds the report from its own replica of the ledger there and signs
// it." The sealed report holds the traffic, the storage and the index root
// at that position (issue 7: "the index anchor is taken at that same log
// position"), and is the same however often the period is sealed.
func TestSealedReport(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1000, content("alice", "/f", "aaaaaa"), "n1", "n2")
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 10), entry("n2", "alice", 5), entry("gone", "alice", 7)))
	root := rootOf(t, ix)
	r := mustApply(t, ix, sealCmd(3, 10, "gone")).Traffic
	want := &metav1.TrafficReport{
		Nodes:       []*metav1.TrafficVolume{{Id: "n1", Bytes: 10}, {Id: "n2", Bytes: 5}},
		Users:       []*metav1.TrafficVolume{{Id: "alice", Bytes: 22}},
		StoredNodes: []*metav1.TrafficVolume{{Id: "n1", Bytes: 6}, {Id: "n2", Bytes: 6}},
		StoredUsers: []*metav1.TrafficVolume{{Id: "alice", Bytes: 12}},
		IndexRoot:   root, // of the state the report was read from
	}
	if !proto.Equal(r, want) {
		t.Fatalf("sealed %v, want %v", r, want)
	}
	if got, err := ix.SealedReport(3); err != nil || !proto.Equal(got, want) {
		t.Fatalf("SealedReport(3) = %v, %v", got, err)
	}
	if got, err := ix.SealedRoot(3); err != nil || !bytes.Equal(got, root) {
		t.Fatalf("SealedRoot(3) = %x, %v; want %x", got, err, root)
	}
	if bytes.Equal(rootOf(t, ix), root) {
		t.Fatal("the seal did not change the root: its record is state too")
	}
	// The inactive node's traffic is gone, not rolled over.
	if n, _ := ix.NodeTraffic("gone"); n != 0 {
		t.Fatalf("an inactive node keeps %d bytes of traffic", n)
	}
	// Sealing the period again (a new leader retrying) takes nothing new.
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 100)))
	if again := mustApply(t, ix, sealCmd(3, 10)).Traffic; !proto.Equal(again, want) {
		t.Fatalf("sealed again: %v", again)
	}
	if n, _ := ix.NodeTraffic("n1"); n != 100 {
		t.Fatalf("a repeated seal took the next period's traffic: n1 has %d", n)
	}
	// A refused report goes back, unsealed.
	mustApply(t, ix, &metav1.Command{Op: &metav1.Command_RestoreTraffic{RestoreTraffic: &metav1.RestoreTrafficCmd{
		Report: &metav1.TrafficReport{Nodes: want.Nodes, Users: want.Users}, Period: 3, Unseal: true}}})
	if _, err := ix.SealedReport(3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unsealed report still there: %v", err)
	}
	if _, err := ix.SealedRoot(3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SealedRoot of an unsealed period: %v", err)
	}
	if n, _ := ix.NodeTraffic("n1"); n != 110 {
		t.Fatalf("n1 has %d after the restore, want 110", n)
	}
}

func TestOldSealsDropped(t *testing.T) {
	ix := newIndex(t, nil)
	for p := uint64(1); p <= 40; p++ {
		mustApply(t, ix, addTrafficCmd(entry("n1", "alice", p)))
		mustApply(t, ix, sealCmd(p, 10))
	}
	for p := uint64(1); p <= 40; p++ {
		_, err := ix.SealedReport(p)
		if kept := p > 40-keptSeals; kept != (err == nil) {
			t.Fatalf("period %d: kept %v, err %v", p, kept, err)
		}
	}
}
