// Package stream serves files over plain HTTP with Range support, so audio
// and video play in a browser, and seek, without a full download (issue 9;
// the architecture article's "play directly across the network"). A
// request for /stream/<path> or /stream/<file id> reads the file through
// the Go SDK's slice-aware range read: a seek fetches from the slice that
// holds its first byte, and the fetch moves on only as fast as the browser
// reads.
//
// It serves one account's files with no credentials, so a gateway enables
// it only for an account its operator names (stratos gateway
// --stream-account); share links (package share) open single files and
// directories to anyone else.
package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/gateway/s3"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// Prefix is where the handler is mounted.
const Prefix = "/stream/"

// Files is what streaming needs of the Go SDK (a *client.Client).
type Files interface {
	Stat(ctx context.Context, pathOrID string) (*metav1.StatResponse, error)
	GetRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error
}

// Handler serves GET and HEAD under Prefix.
type Handler struct {
	files Files
	log   *slog.Logger
}

// New returns a handler reading files.
func New(files Files, log *slog.Logger) *Handler { return &Handler{files: files, log: log} }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "streaming serves GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	target, err := targetOf(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	st, err := h.files.Stat(r.Context(), target)
	if err != nil {
		h.fail(w, target, err)
		return
	}
	ServeFile(w, r, st.GetFile(), client.PlainSize(st.GetFile()), h.files.GetRange, h.log)
}

// ReadRange writes length bytes of a file from offset: Files.GetRange, or
// the stored bytes of an encrypted file (client.GetStoredRange).
type ReadRange func(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error

// ServeFile answers r with the size bytes of file f that read gives, with
// Range, conditional requests and the file's type, reading only as far as
// the range asks and as fast as the client takes it.
func ServeFile(w http.ResponseWriter, r *http.Request, f *metav1.FileEntry, size int64, read ReadRange, log *slog.Logger) {
	setHeaders(w.Header(), f)
	rs := &rangeReader{ctx: r.Context(), read: read, target: f.GetFileId(), size: size, end: rangeEnd(r.Header.Get("Range"), size)}
	http.ServeContent(w, r, path.Base(f.GetPath()), time.Unix(0, f.GetCreatedUnixNano()), rs)
	rs.Close()
	if rs.err != nil && !errors.Is(rs.err, context.Canceled) {
		log.Warn("stream read failed", "file", f.GetFileId(), "path", f.GetPath(), "err", rs.err)
	}
}

// targetOf is the path or file ID the URL names; the path is taken as
// sent, escapes decoded, never cleaned.
func targetOf(r *http.Request) (string, error) {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), strings.TrimSuffix(Prefix, "/"))
	p, err := url.PathUnescape(raw)
	if err != nil || p == "/" || p == "" {
		return "", fmt.Errorf("name a file: %s<path> or %s<file id>", Prefix, Prefix)
	}
	if id := strings.TrimPrefix(p, "/"); slice.IsFileID(id) {
		return id, nil
	}
	return p, nil
}

func (h *Handler) fail(w http.ResponseWriter, target string, err error) {
	switch {
	case errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrInvalid):
		http.Error(w, fmt.Sprintf("no file %s", target), http.StatusNotFound)
	case errors.Is(err, client.ErrMetaUnavailable):
		http.Error(w, "the storage network is unavailable; try again", http.StatusServiceUnavailable)
	default:
		h.log.Warn("stream stat failed", "target", target, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// setHeaders gives the response the file's type and identity; ServeContent
// adds the rest (length, ranges, conditional answers).
func setHeaders(h http.Header, f *metav1.FileEntry) {
	ct := f.GetObject().GetContentType()
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(f.GetPath()))
	}
	if ct == "" {
		ct = "application/octet-stream" // never sniffed: a range read has no start to sniff
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", `"`+f.GetFileId()+`"`)
	h.Set("Accept-Ranges", "bytes")
	if cc := f.GetObject().GetCacheControl(); cc != "" {
		h.Set("Cache-Control", cc)
	}
}

// rangeEnd is one past the last byte a single-range request asks for, so
// a bounded range fetches no further; anything else reads to the end.
func rangeEnd(header string, size int64) int64 {
	if off, n, ok := s3.SatisfiableRange(header, size); ok {
		return off + n
	}
	return size
}

// rangeReader is the io.ReadSeeker http.ServeContent reads: seeking is
// free, and the first Read starts one range read from the offset to end,
// written into a pipe the response drains.
type rangeReader struct {
	ctx       context.Context
	read      ReadRange
	target    string
	size, end int64
	off       int64

	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	}
	if offset < 0 {
		return 0, errors.New("seek before the start")
	}
	if r.pr != nil && offset != r.off {
		r.Close() // a new position: a new read
	}
	r.off = offset
	return offset, nil
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.pr == nil {
		r.start()
	}
	n, err := r.pr.Read(p)
	r.off += int64(n)
	return n, err
}

func (r *rangeReader) start() {
	end := r.end
	if end <= r.off {
		end = r.size
	}
	ctx, cancel := context.WithCancel(r.ctx)
	pr, pw := io.Pipe()
	r.pr, r.cancel, r.done = pr, cancel, make(chan struct{})
	go func(off, n int64) {
		defer close(r.done)
		err := r.read(ctx, r.target, off, n, pw)
		if err != nil && ctx.Err() == nil {
			r.err = err
		}
		pw.CloseWithError(err)
	}(r.off, end-r.off)
}

// Close stops a read in flight and waits for it.
func (r *rangeReader) Close() error {
	if r.pr == nil {
		return nil
	}
	r.cancel()
	r.pr.CloseWithError(context.Canceled)
	<-r.done
	r.pr = nil
	return nil
}
