package resource

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/wire"
)

// frameStream is a Store stream whose messages a test supplies.
type frameStream struct {
	grpc.ServerStream
	msgs []*storagev1.StoreRequest
}

func (s *frameStream) Recv() (*storagev1.StoreRequest, error) {
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

func (s *frameStream) SendAndClose(*storagev1.StoreResponse) error { return nil }

// bufWriter is a SliceWriter into memory.
type bufWriter struct {
	bytes.Buffer
	writes int
}

func (w *bufWriter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }
func (w *bufWriter) Commit() error               { return nil }
func (w *bufWriter) Abort() error                { return nil }

// splitFrames cuts fuzz input into messages: each a uvarint length, then
// that many bytes of a marshalled StoreRequest.
func splitFrames(b []byte) (out []*storagev1.StoreRequest) {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return out
		}
		m := new(storagev1.StoreRequest)
		if proto.Unmarshal(b[k:k+int(n)], m) != nil {
			return out
		}
		out = append(out, m)
		b = b[k+int(n):]
	}
	return out
}

func joinFrames(tb testing.TB, msgs ...*storagev1.StoreRequest) []byte {
	var b []byte
	for _, m := range msgs {
		mb, err := proto.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		b = binary.AppendUvarint(b, uint64(len(mb)))
		b = append(b, mb...)
	}
	return b
}

func dataFrame(b []byte) *storagev1.StoreRequest {
	return &storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: b}}
}

// FuzzStoreFraming feeds a Store stream's frames after the header, as a
// hostile peer sends them (issue 8: fuzz the Store stream framing): the
// node writes exactly the data frames' bytes, in order, each at most
// wire.FrameSize, stops at a frame that is not data or is too large, and
// never panics.
func FuzzStoreFraming(f *testing.F) {
	f.Add(joinFrames(f, dataFrame([]byte("abc")), dataFrame([]byte("def"))))
	f.Add(joinFrames(f, dataFrame([]byte("abc")), &storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: &storagev1.StoreHeader{TaskId: "t"}}}))
	f.Add(joinFrames(f, dataFrame(make([]byte, wire.FrameSize+1))))
	f.Add(joinFrames(f, dataFrame(nil), &storagev1.StoreRequest{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs := splitFrames(b)
		in := recvWithin(&frameStream{msgs: append([]*storagev1.StoreRequest(nil), msgs...)}, time.Minute)
		defer in.stop()
		w := &bufWriter{}
		err := receive(in, w, nil)
		var want []byte
		bad := false
		for _, m := range msgs {
			d, ok := m.Msg.(*storagev1.StoreRequest_Data)
			if !ok || len(d.Data) > wire.FrameSize {
				bad = true
				break
			}
			want = append(want, d.Data...)
		}
		if bad != (err != nil) {
			t.Fatalf("frames %d, a bad one among them %v: receive returned %v", len(msgs), bad, err)
		}
		if !bytes.Equal(w.Bytes(), want) {
			t.Fatalf("wrote %d bytes, the data frames before any bad one hold %d", w.Len(), len(want))
		}
		if err != nil && errors.Is(err, io.EOF) {
			t.Fatalf("a bad frame ended as EOF: %v", err)
		}
	})
}
