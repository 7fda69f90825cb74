package stream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stratos-net/stratos/client"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

type fakeFiles struct {
	data []byte
	mu   sync.Mutex
	gets [][2]int64 // offset, length of each range read
}

func (f *fakeFiles) Stat(_ context.Context, p string) (*metav1.StatResponse, error) {
	if p != "/v/a.mp4" && p != "merkle-sha256-"+fmt.Sprintf("%064x", 1) {
		return nil, fmt.Errorf("%w: %s", client.ErrNotFound, p)
	}
	return &metav1.StatResponse{File: &metav1.FileEntry{Path: "/v/a.mp4", FileId: "merkle-sha256-" + fmt.Sprintf("%064x", 1), Size: uint64(len(f.data))}}, nil
}

func (f *fakeFiles) GetRange(ctx context.Context, _ string, off, n int64, w io.Writer) error {
	f.mu.Lock()
	f.gets = append(f.gets, [2]int64{off, n})
	f.mu.Unlock()
	_, err := w.Write(f.data[off : off+n])
	return err
}

// A bounded range reads only its bytes; an open one reads from its start.
func TestRangesReadOnlyWhatTheyAsk(t *testing.T) {
	f := &fakeFiles{data: bytes.Repeat([]byte("0123456789"), 1000)}
	h := New(f, slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		rng     string
		status  int
		want    string
		readOff int64
		readLen int64
	}{
		{"bytes=5-14", 206, "5678901234", 5, 10},
		{"bytes=9990-", 206, "0123456789", 9990, 10},
		{"bytes=-3", 206, "789", 9997, 3},
		{"bytes=20000-", 416, "", -1, 0},
	} {
		f.gets = nil
		r := httptest.NewRequest("GET", "/stream/v/a.mp4", nil)
		r.Header.Set("Range", tc.rng)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || (tc.want != "" && w.Body.String() != tc.want) {
			t.Fatalf("%s: %d %q", tc.rng, w.Code, w.Body.String())
		}
		if tc.readOff >= 0 && (len(f.gets) != 1 || f.gets[0] != [2]int64{tc.readOff, tc.readLen}) {
			t.Fatalf("%s: range reads %v, want one of %d bytes at %d", tc.rng, f.gets, tc.readLen, tc.readOff)
		}
	}
	for _, tc := range []struct {
		method, url string
		status      int
	}{
		{"GET", "/stream/v/none.mp4", 404},
		{"GET", "/stream/", 400},
		{"PUT", "/stream/v/a.mp4", 405},
		{"GET", "/stream/" + "merkle-sha256-" + fmt.Sprintf("%064x", 1), 200},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.url, nil))
		if w.Code != tc.status {
			t.Fatalf("%s %s: %d, want %d", tc.method, tc.url, w.Code, tc.status)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("HEAD", "/stream/v/a.mp4", nil))
	if w.Code != 200 || w.Header().Get("Content-Length") != "10000" || w.Header().Get("Content-Type") != "video/mp4" {
		t.Fatalf("HEAD: %d %v", w.Code, w.Header())
	}
	if len(f.gets) != 0 && f.gets[len(f.gets)-1][1] != 10000 {
		t.Fatalf("HEAD read %v", f.gets)
	}
}

func FuzzRangeEnd(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=5-9", "bytes=-5", "bytes=1-2,4-5", "bytes=9-1", "bytes=99999999999999999999-1"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			return
		}
		if end := rangeEnd(header, size); end < 0 || end > size {
			t.Fatalf("rangeEnd(%q, %d) = %d, outside the file", header, size, end)
		}
	})
}
