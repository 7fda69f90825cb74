package resource_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/memstore"
	"github.com/stratos-net/stratos/slice"
)

// newIdleNode returns a node that is not running.
func newIdleNode(t *testing.T, store resource.SliceStore) *resource.Node {
	t.Helper()
	cfg := resource.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Capacity = "127.0.0.1:1", "meta", 1<<30
	n, err := resource.New(cfg, mustKey(t), store)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestQueueVerify(t *testing.T) {
	// Clients can cause verify orders at will: they are deduplicated and
	// their queue is bounded.
	n := newIdleNode(t, memstore.New(memstore.Options{}))
	id := slice.Sum([]byte("reported twice"))
	for _, s := range []string{id.String(), id.String(), "sha256-bad", ""} {
		n.QueueVerify(s)
	}
	if q, _ := n.QueuedVerifies(); q != 1 {
		t.Fatalf("%d orders queued, want 1", q)
	}
	for i := range resource.VerifyQueue + 10 {
		n.QueueVerify(slice.Sum([]byte{byte(i), byte(i >> 8)}).String())
	}
	if q, m := n.QueuedVerifies(); q != resource.VerifyQueue || m != resource.VerifyQueue {
		t.Fatalf("%d orders queued, %d marked; want %d", q, m, resource.VerifyQueue)
	}
}

// damagedStore serves every slice with its first byte flipped, and cannot
// quarantine.
type damagedStore struct{ resource.SliceStore }

func (s damagedStore) Open(id slice.ID) (resource.SliceReader, error) {
	r, err := s.SliceStore.Open(id)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b := make([]byte, r.Size())
	if _, err := r.ReadAt(b, 0); err != nil {
		return nil, err
	}
	b[0] ^= 1
	return byteReader{bytes.NewReader(b)}, nil
}

type byteReader struct{ *bytes.Reader }

func (r byteReader) Close() error { return nil }
func (r byteReader) Size() uint64 { return uint64(r.Reader.Size()) }

// reportRecorder is a MetaServiceClient that records bad-replica reports.
type reportRecorder struct {
	metav1.MetaServiceClient // nil: other calls panic
	reports                  []*metav1.ReportBadReplicaRequest
}

func (r *reportRecorder) ReportBadReplica(_ context.Context, req *metav1.ReportBadReplicaRequest, _ ...grpc.CallOption) (*metav1.ReportBadReplicaResponse, error) {
	r.reports = append(r.reports, req)
	return &metav1.ReportBadReplicaResponse{}, nil
}

func TestVerifyDeletesWithoutQuarantine(t *testing.T) {
	mem := memstore.New(memstore.Options{})
	n := newIdleNode(t, damagedStore{mem})
	data := []byte("a slice that rots in place")
	id := slice.Sum(data)
	w, _ := mem.Create(id, uint64(len(data)))
	w.Write(data)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	meta := &reportRecorder{}
	n.VerifyOrder(context.Background(), meta, id)
	if _, err := mem.Stat(id); !errors.Is(err, resource.ErrNotFound) {
		t.Errorf("corrupt slice still stored: Stat err = %v", err)
	}
	if len(meta.reports) != 1 || meta.reports[0].Missing || !strings.HasPrefix(meta.reports[0].Reason, "verification failed: ") {
		t.Errorf("reports = %v, want one corrupt replica", meta.reports)
	}
}
