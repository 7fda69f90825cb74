package resource_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/slice"
)

// put stores data on the pipeline nodes and returns its ID.
func put(t *testing.T, data []byte, nodes ...*testNode) slice.ID {
	t.Helper()
	id := slice.Sum(data)
	resp, err := resource.StoreSlice(context.Background(), nodes[0].client(t), pipelineHeader("t", data, id.String(), nodes...), bytes.NewReader(data))
	if err != nil || len(resp.Receipts) != len(nodes) {
		t.Fatalf("put: %v, %v", resp, err)
	}
	return id
}

func has(n *testNode, id slice.ID) bool {
	_, err := n.store.Stat(id)
	return err == nil
}

func TestRegisterAndHeartbeat(t *testing.T) {
	// DESIGN §5.4: nodes register with a signed record, then heartbeat
	// their load and report their slices.
	meta := newFakeMeta(t)
	n := startNode(t, meta, func(c *resource.Config, _ *disk.Options) { c.Region = "eu-west" })
	eventually(t, "the node registers and reports", func() bool {
		return meta.count(func(m *fakeMeta) int { return min(len(m.registered), len(m.reports)) }) > 0
	})
	meta.snapshot(func(m *fakeMeta) {
		req := m.registered[0]
		if err := identity.VerifyRegistration(req.Node, req.Signature); err != nil {
			t.Errorf("registration signature: %v", err)
		}
		want := &metav1.NodeRecord{NodeId: n.ID(), PublicKey: n.key.Public(), Addr: n.addr, Region: "eu-west", Capacity: 1 << 30}
		if got := req.Node; got.NodeId != want.NodeId || !bytes.Equal(got.PublicKey, want.PublicKey) || got.Addr != want.Addr || got.Region != want.Region || got.Capacity != want.Capacity {
			t.Errorf("registered %v, want %v", got, want)
		}
	})
	data, _ := storetest.Data(1, 100_000)
	put(t, data, n)
	eventually(t, "a heartbeat shows the slice", func() bool {
		return meta.count(func(m *fakeMeta) int {
			if len(m.heartbeats) == 0 {
				return 0
			}
			hb := m.heartbeats[len(m.heartbeats)-1]
			if hb.NodeId == n.ID() && hb.Load.Slices == 1 && hb.Load.Capacity == 1<<30 && hb.Load.Free == 1<<30-100_000 {
				return 1
			}
			return 0
		}) == 1
	})
}

func TestReregister(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	eventually(t, "the node registers", func() bool { return meta.count(func(m *fakeMeta) int { return len(m.registered) }) == 1 })
	meta.answer(n.ID(), &metav1.HeartbeatResponse{Reregister: true})
	eventually(t, "the node registers again and reports", func() bool {
		return meta.count(func(m *fakeMeta) int { return min(len(m.registered), len(m.reports)) }) >= 2
	})
}

func TestMetaStartsLater(t *testing.T) {
	// The meta node may start after the resource node, or restart: the node
	// keeps serving and registers once it can.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	meta := &fakeMeta{key: mustKey(t), addr: addr} // not serving yet
	n := startNode(t, meta)
	data, _ := storetest.Data(2, 70_000)
	id := put(t, data, n)
	got, err := fetch(t, n, id.String(), 0, uint64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Fetch without a meta node: %v", err)
	}
	meta = startFakeMeta(t, addr, meta.key)
	eventually(t, "the node registers with the late meta node", func() bool {
		return meta.count(func(m *fakeMeta) int { return len(m.registered) }) > 0
	})
}

func TestRepairOrder(t *testing.T) {
	// DESIGN §5.4: a healthy holder copies a slice to newly placed nodes and
	// the meta node is told with the targets' receipts.
	meta := newFakeMeta(t)
	a, b, c := startNode(t, meta), startNode(t, meta), startNode(t, meta)
	data, _ := storetest.Data(3, 3<<20+1)
	id := put(t, data, a)
	meta.answer(a.ID(), &metav1.HeartbeatResponse{Repairs: []*metav1.RepairOrder{
		{TaskId: "repair-1", SliceId: id.String(), Size: uint64(len(data)), Targets: []*storagev1.Peer{b.peer(), c.peer()},
			Ticket: ticket(meta.key, "repair-1", id.String(), uint64(len(data)), []*storagev1.Peer{b.peer(), c.peer()})},
	}})
	var confirm *metav1.ConfirmRepairRequest
	eventually(t, "the repair is confirmed", func() bool {
		return meta.count(func(m *fakeMeta) int {
			if len(m.confirms) > 0 {
				confirm = m.confirms[0]
			}
			return len(m.confirms)
		}) > 0
	})
	if confirm.TaskId != "repair-1" || len(confirm.Receipts) != 2 {
		t.Fatalf("confirm = %v", confirm)
	}
	for i, target := range []*testNode{b, c} {
		r := confirm.Receipts[i]
		if err := identity.VerifyReceipt(target.key.Public(), r); err != nil || r.SliceId != id.String() || r.TaskId != "repair-1" {
			t.Errorf("receipt %d = %v: %v", i, r, err)
		}
		if got := storetest.Get(t, target.store, id); !bytes.Equal(got, data) {
			t.Errorf("target %d holds different bytes", i)
		}
	}
}

func TestDeleteOrder(t *testing.T) {
	meta := newFakeMeta(t)
	t0 := time.Unix(1_700_000_000, 0)
	clk := &clock{t: t0}
	n := startNode(t, meta, withClock(clk))
	data1, _ := storetest.Data(4, 10_000)
	data2, _ := storetest.Data(5, 10_000)
	gone, kept := put(t, data1, n), put(t, data2, n)
	clk.Set(t0.Add(time.Hour))
	meta.answer(n.ID(), &metav1.HeartbeatResponse{DeleteSlices: []string{gone.String(), "sha256-bad"}})
	eventually(t, "the slice is deleted", func() bool { return !has(n, gone) })
	if !has(n, kept) {
		t.Fatal("deleted a slice that was not named")
	}
}

// clock is a settable clock shared by a node and its store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func withClock(clk *clock) nodeOpt {
	return func(c *resource.Config, o *disk.Options) { c.Now, o.Now = clk.Now, clk.Now }
}

func TestDeleteOrderSparesSlicesStoredSince(t *testing.T) {
	// A delete order is decided after the heartbeat that fetches it leaves;
	// a slice stored (or received again) since may belong to an upload
	// placed after that decision, so the order spares it. One stored
	// before the heartbeat left goes.
	meta := newFakeMeta(t)
	t0 := time.Unix(1_700_000_000, 0)
	clk := &clock{t: t0}
	n := startNode(t, meta, withClock(clk))
	data, _ := storetest.Data(10, 10_000)
	id := put(t, data, n) // stored at t0; every heartbeat from now leaves later

	// The heartbeat that fetches the order leaves at t0, as the slice is
	// received again: the order must spare it.
	meta.answer(n.ID(), &metav1.HeartbeatResponse{DeleteSlices: []string{id.String()}})
	meta.obeyed(t, n.ID())
	if !has(n, id) {
		t.Fatal("deleted a slice stored no earlier than the heartbeat that fetched the order")
	}
	clk.Set(t0.Add(time.Second))
	// A heartbeat that left before the clock moved may take the next order
	// and spare the slice again: keep ordering until a later one acts.
	eventually(t, "a slice stored before the heartbeat left is deleted", func() bool {
		meta.answer(n.ID(), &metav1.HeartbeatResponse{DeleteSlices: []string{id.String()}})
		return !has(n, id)
	})
}

func TestVerifyOrder(t *testing.T) {
	// DESIGN §6.3: a client reports a bad replica; the node re-hashes its
	// copy and reports it if it is corrupt (after quarantining it) or
	// missing, and says nothing if it is good.
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	goodData, _ := storetest.Data(11, 50_000)
	badData, _ := storetest.Data(12, 50_000)
	good, bad := put(t, goodData, n), put(t, badData, n)
	damaged := bytes.Clone(badData)
	damaged[100] ^= 1 // same size: only the hash can tell
	if err := os.WriteFile(n.store.Path(bad), damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	absent := slice.Sum([]byte("never stored here"))
	// One at a time, in order: when the last is reported, all were checked.
	meta.answer(n.ID(), &metav1.HeartbeatResponse{VerifySlices: []string{bad.String(), "sha256-bad", good.String(), absent.String()}})
	var reports []*metav1.ReportBadReplicaRequest
	eventually(t, "two bad replicas are reported", func() bool {
		return meta.count(func(m *fakeMeta) int { reports = m.badReports; return len(reports) }) >= 2
	})
	if r := reports[0]; r.SliceId != bad.String() || r.NodeId != n.ID() || r.Missing || !strings.HasPrefix(r.Reason, "verification failed: ") {
		t.Errorf("corrupt slice reported as %v", r)
	}
	if r := reports[1]; r.SliceId != absent.String() || r.NodeId != n.ID() || !r.Missing {
		t.Errorf("absent slice reported as %v", r)
	}
	if len(reports) != 2 {
		t.Errorf("reports = %v, want only the corrupt and the absent slice", reports)
	}
	if has(n, bad) || !has(n, good) {
		t.Errorf("after verification: holds corrupt slice %v, good slice %v; want false, true", has(n, bad), has(n, good))
	}
	q, _ := os.ReadDir(disk.QuarantineDir(n.dir))
	if len(q) != 1 || !strings.HasPrefix(q[0].Name(), bad.Hex()) {
		t.Errorf("quarantine/ = %v, want the corrupt slice", q)
	}
}

func TestMetaSeesNodeCertificate(t *testing.T) {
	// The meta node accepts a node's heartbeats and reports only from a
	// caller presenting that node's certificate.
	meta := newFakeMeta(t)
	startNode(t, meta)
	eventually(t, "heartbeats and a report are accepted", func() bool {
		return meta.count(func(m *fakeMeta) int { return min(len(m.heartbeats), len(m.reports)) }) > 0
	})
	if s := meta.count(func(m *fakeMeta) int { return m.strangers }); s != 0 {
		t.Fatalf("%d calls from a caller without the node's certificate", s)
	}
}

func TestOrphanGrace(t *testing.T) {
	// A slice the index does not reference is deleted only once it is older
	// than the grace: an upload in flight is not in the index yet.
	meta := newFakeMeta(t)
	t0 := time.Unix(1_700_000_000, 0)
	clk := &clock{t: t0}
	n := startNode(t, meta, func(c *resource.Config, o *disk.Options) {
		c.Now, o.Now = clk.Now, clk.Now
		c.OrphanGrace = 2 * time.Hour
		c.ReportInterval = 10 * time.Millisecond
	})
	oldData, _ := storetest.Data(6, 10_000)
	old := put(t, oldData, n)
	clk.Set(t0.Add(3 * time.Hour))
	youngData, _ := storetest.Data(7, 10_000)
	young := put(t, youngData, n)
	clk.Set(t0.Add(3*time.Hour + time.Minute))

	meta.snapshot(func(m *fakeMeta) {
		m.reportResp[n.ID()] = &metav1.ReportSlicesResponse{DeleteSlices: []string{old.String(), young.String()}}
	})
	eventually(t, "the old orphan is deleted", func() bool { return !has(n, old) })
	reports := meta.count(func(m *fakeMeta) int { return len(m.reports) })
	eventually(t, "two more reports", func() bool { return meta.count(func(m *fakeMeta) int { return len(m.reports) }) >= reports+2 })
	if !has(n, young) {
		t.Fatal("deleted an orphan younger than the grace")
	}
	clk.Set(t0.Add(5*time.Hour + time.Minute))
	eventually(t, "the young orphan is deleted once old enough", func() bool { return !has(n, young) })
}
