package meta

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// handlerFixture is a meta node with three resource nodes, a file /d on
// all three, a download of it located, and an upload task open: the state
// the requests below act on.
type handlerFixture struct {
	h        *harness
	file     testFile
	download *metav1.LocateResponse
	upload   string
	counted  uint64 // download bytes counted so far
	inputs   int
}

func newHandlerFixture(tb testing.TB) *handlerFixture {
	h := newHarness(tb, 3)
	fx := &handlerFixture{h: h, file: newFile("fuzz download one", "fuzz download two")}
	h.upload("/d", fx.file, h.nodes...)
	loc, err := h.s.Locate(ctx, &metav1.LocateRequest{ReceiptKey: testReceiptPub, Owner: testOwner, Path: "/d"})
	if err != nil {
		tb.Fatal(err)
	}
	fx.download = loc
	fx.upload = h.begin("/u", fuzzFile.size)
	return fx
}

// Kinds of request FuzzHandlers sends.
const (
	kindReportDownload = iota
	kindReportSlices
	kindBeginUpload
	kindPlaceSlice
	kindList
	kindReportTraffic
	kindReassign
	numKinds
)

// FuzzHandlers sends arbitrary ReportDownload, ReportSlices, BeginUpload,
// PlaceSlice and List requests (issue 8: fuzz these handlers and List's
// continuation argument; DESIGN §11) to a meta node with a file, a located
// download and an open upload. No input panics it or makes it fail with
// an internal error, a download never counts more bytes than its file
// has, and a node's slice report never changes another node's replicas.
func FuzzHandlers(f *testing.F) {
	fx := newHandlerFixture(f)
	holder := fx.download.GetSlices()[0].GetHolders()[0].GetNodeId()
	var signer *testNode
	for _, n := range fx.h.nodes {
		if n.id == holder {
			signer = n
		}
	}
	ref := fx.download.GetSlices()[0].GetSlice()
	rcpt := &storagev1.TrafficReceipt{TaskId: fx.download.GetTaskId(), SliceId: ref.GetId(), NodeId: signer.id, Bytes: ref.GetSize()}
	identity.SignTrafficReceipt(testReceiptKey, rcpt)
	seed := func(kind int, m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(kind), uint8(0), b)
	}
	seed(kindReportDownload, &metav1.ReportDownloadRequest{Owner: testOwner, TaskId: fx.download.GetTaskId(), Receipts: []*storagev1.TrafficReceipt{rcpt}})
	var has []string
	for _, s := range fx.file.slices {
		has = append(has, s.GetId())
	}
	seed(kindReportSlices, &metav1.ReportSlicesRequest{SliceIds: has})
	seed(kindReportSlices, &metav1.ReportSlicesRequest{SliceIds: []string{"sha256-00", "not a slice"}})
	seed(kindBeginUpload, &metav1.BeginUploadRequest{Owner: testOwner, Path: "/x", Size: 100})
	seed(kindPlaceSlice, &metav1.PlaceSliceRequest{TaskId: fx.upload, Slice: fuzzFile.slices[0], Count: 3})
	seed(kindReportTraffic, &metav1.ReportTrafficRequest{Claims: []*metav1.TrafficClaim{{Receipt: rcpt, Sent: ref.GetSize()}}})
	seed(kindReassign, &metav1.ReassignRequest{Owner: testOwner, TaskId: fx.download.GetTaskId(), SliceId: ref.GetId(), FailedNode: holder})
	seed(kindList, &metav1.ListRequest{Owner: testOwner, Dir: "/", After: "d", Limit: 1})
	seed(kindList, &metav1.ListRequest{Owner: testOwner, Dir: "/../x", After: "\u00ff\x00/", Limit: 1 << 31})

	tb := runTB{dir: f.TempDir(), cleanups: new([]func())}
	f.Cleanup(func() {
		for _, fn := range *tb.cleanups {
			fn()
		}
	})
	fx = nil
	f.Fuzz(func(t *testing.T, kind, from uint8, data []byte) {
		tb.T = t
		if fx == nil || fx.inputs == 500 { // state builds up; start over now and then
			if fx != nil {
				fx.h.s.Close()
			}
			fx = newHandlerFixture(tb)
		}
		fx.inputs++
		h := fx.h
		h.t = tb
		node := h.nodes[int(from)%len(h.nodes)]
		var err error
		switch kind % numKinds {
		case kindReportDownload:
			req := new(metav1.ReportDownloadRequest)
			if proto.Unmarshal(data, req) != nil {
				return
			}
			var resp *metav1.ReportDownloadResponse
			if resp, err = h.s.ReportDownload(ctx, req); err == nil {
				fx.count(t, resp.GetCountedBytes())
			}
		case kindReportTraffic:
			req := new(metav1.ReportTrafficRequest)
			if proto.Unmarshal(data, req) != nil {
				return
			}
			var resp *metav1.ReportTrafficResponse
			if resp, err = h.s.ReportTraffic(node.ctx, req); err == nil {
				fx.count(t, resp.GetCountedBytes())
			}
		case kindReassign:
			req := new(metav1.ReassignRequest)
			if proto.Unmarshal(data, req) != nil {
				return
			}
			var resp *metav1.ReassignResponse
			if resp, err = h.s.Reassign(ctx, req); err == nil && resp.GetHolder().GetNodeId() != resp.GetTicket().GetNodeId() {
				t.Fatalf("reassigned to %s with a ticket for %s", resp.GetHolder().GetNodeId(), resp.GetTicket().GetNodeId())
			}
		case kindReportSlices:
			req := new(metav1.ReportSlicesRequest)
			if proto.Unmarshal(data, req) != nil {
				return
			}
			before := fx.othersReplicas(node.id)
			_, err = h.s.ReportSlices(node.ctx, req)
			if after := fx.othersReplicas(node.id); !slices.Equal(before, after) {
				t.Fatalf("%s's slice report changed other nodes' replicas: %v, then %v", node.id, before, after)
			}
		case kindBeginUpload:
			req := new(metav1.BeginUploadRequest)
			if proto.Unmarshal(data, req) != nil {
				return
			}
			_, err = h.s.BeginUpload(ctx, req)
		case kindPlaceSlice:
			req := new(metav1.PlaceSliceRequest)
			if proto.Unmarshal(data, req) != nil {
				return
			}
			var resp *metav1.PlaceSliceResponse
			if resp, err = h.s.PlaceSlice(ctx, req); err == nil {
				ids := peerIDs(resp.GetPipeline().GetNodes())
				if len(ids) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
					t.Fatalf("a pipeline places a slice twice on one node: %v", ids)
				}
			}
		case kindList:
			req := new(metav1.ListRequest)
			if proto.Unmarshal(data, req) != nil {
				return
			}
			var resp *metav1.ListResponse
			if resp, err = h.s.List(ctx, req); err == nil && req.GetLimit() > 0 && len(resp.GetEntries()) > int(req.GetLimit()) {
				t.Fatalf("List with limit %d returned %d entries", req.GetLimit(), len(resp.GetEntries()))
			}
		}
		if code := status.Code(err); code == codes.Internal || code == codes.Unknown {
			t.Fatalf("request kind %d: %v (code %v): a bad request is the caller's fault", kind%numKinds, err, code)
		}
	})
}

// count adds bytes a report counted: each holder of each slice of the
// one download counts at most the slice's bytes, whoever reports.
func (fx *handlerFixture) count(t *testing.T, n uint64) {
	fx.counted += n
	if most := fx.file.size * uint64(len(fx.h.nodes)); fx.counted > most {
		t.Fatalf("%d bytes counted for a download of a %d-byte file from %d nodes", fx.counted, fx.file.size, len(fx.h.nodes))
	}
}

// othersReplicas lists, for every slice of the fixture's file, its
// replicas other than node's.
func (fx *handlerFixture) othersReplicas(node string) []string {
	var out []string
	for _, s := range fx.file.slices {
		sl, err := fx.h.s.ix.Slice(s.GetId())
		if err != nil {
			continue
		}
		for _, r := range sl.GetReplicas() {
			if r != node {
				out = append(out, s.GetId()+"@"+r)
			}
		}
	}
	return out
}
