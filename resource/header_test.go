package resource

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// FuzzValidateHeader feeds untrusted bytes, as a Store stream's first
// message, to the header validation: it must never panic, and whatever it
// accepts must be safe to act on.
func FuzzValidateHeader(f *testing.F) {
	const self = "self"
	id := slice.Sum([]byte("x")).String()
	for _, h := range []*storagev1.StoreHeader{
		{TaskId: "t", SliceId: id, Size: 1},
		{TaskId: "t", SliceId: id, Size: 1 << 24, Downstream: []*storagev1.Peer{{NodeId: "a", Addr: "127.0.0.1:1"}, {NodeId: "b", Addr: "h:2"}}},
		{TaskId: "t", SliceId: "sha256-../../x", Size: 1},
		{TaskId: "t", SliceId: id, Size: slice.MaxSize + 1},
		{TaskId: "t", SliceId: id, Size: 1, Downstream: []*storagev1.Peer{{NodeId: "a", Addr: "x"}, {NodeId: "a", Addr: "y"}}},
		{TaskId: "t", SliceId: id, Size: 1, Downstream: []*storagev1.Peer{{NodeId: self, Addr: "x"}}},
	} {
		b, err := proto.Marshal(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: h}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x12, 0x03, 'a', 'b', 'c'}) // a data frame first
	f.Fuzz(func(t *testing.T, b []byte) {
		var req storagev1.StoreRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		h := req.GetHeader()
		got, err := validateHeader(h, self)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error %v does not wrap ErrBadHeader", err)
			}
			return
		}
		if got.String() != h.SliceId || got.IsZero() && h.SliceId == "" {
			t.Fatalf("accepted slice ID %q as %s", h.SliceId, got)
		}
		if h.Size == 0 || h.Size > slice.MaxSize || h.TaskId == "" || len(h.Downstream) > maxDownstream {
			t.Fatalf("accepted %v", h)
		}
		seen := map[string]bool{self: true}
		for _, p := range h.Downstream {
			if p.GetAddr() == "" || seen[p.GetNodeId()] {
				t.Fatalf("accepted downstream %v", h.Downstream)
			}
			seen[p.GetNodeId()] = true
		}
	})
}
