package resource

import (
	"bytes"
	"testing"

	"github.com/stratos-net/stratos/wire"
)

func TestCoalesce(t *testing.T) {
	// Whatever frames a client sends, the downstream gets full frames and a
	// short last one, with the same bytes in the same order.
	var want bytes.Buffer
	frames := make(chan []byte, 100)
	for i, n := range []int{wire.FrameSize, 10, wire.FrameSize, 300_000, 800_000, wire.FrameSize, 5} {
		p := bytes.Repeat([]byte{byte(i)}, n)
		want.Write(p)
		frames <- p
	}
	close(frames)
	var got bytes.Buffer
	var sizes []int
	err := coalesce(frames, func(p []byte) error {
		sizes = append(sizes, len(p))
		got.Write(p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatal("bytes changed")
	}
	for i, n := range sizes[:len(sizes)-1] {
		if n != wire.FrameSize {
			t.Fatalf("frame %d is %d bytes; sizes %v", i, n, sizes)
		}
	}
	if last := sizes[len(sizes)-1]; last != want.Len()%wire.FrameSize {
		t.Fatalf("last frame %d bytes, want %d", last, want.Len()%wire.FrameSize)
	}
}
