package s3

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) putOrCopyObject(rq *request) error {
	if rq.r.Header.Get("X-Amz-Copy-Source") != "" {
		rq.op = "CopyObject"
		return s.copyObject(rq)
	}
	return s.putObject(rq)
}

func (s *Server) putObject(rq *request) error {
	if rq.r.Header.Get("If-Match") != "" || rq.r.Header.Get("If-None-Match") != "" {
		return errNotImplemented.withMessage("Conditional writes (If-Match, If-None-Match on PUT) are not implemented")
	}
	meta, err := metaOf(rq.r.Header)
	if err != nil {
		return err
	}
	b, err := s.openBody(rq, min(maxPutSize, s.cfg.MaxObjectSize))
	if err != nil {
		return err
	}
	obj, err := rq.backend.Put(rq.r.Context(), rq.bucket, rq.key, b, b.size, meta)
	if err := s.afterBody(rq, b, err); err != nil {
		return err
	}
	rq.w.Header().Set("ETag", quote(obj.Meta.ETag))
	if obj.Meta.Encrypted {
		rq.w.Header().Set(sseHeader, "AES256")
	}
	echoChecksums(rq)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// afterBody is the error of a call that read b: the body's own failure
// first, whatever the Backend made of it.
func (s *Server) afterBody(rq *request, b *body, err error) error {
	if b.err != nil {
		return b.err
	}
	if err != nil {
		return err
	}
	if !b.verified() {
		// The Backend stored bytes it did not read to their end, so no
		// digest was checked: a broken contract, not the client's fault.
		s.log.Error("s3 backend did not read the whole body", "op", rq.op, "bucket", rq.bucket, "key", rq.key, "read", b.read, "size", b.size)
	}
	return nil
}

// echoChecksums repeats the x-amz-checksum-* headers the body was checked
// against, as S3 does.
func echoChecksums(rq *request) {
	for name, vs := range rq.r.Header {
		if alg, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-checksum-"); ok && checksumAlgorithms[alg] != nil {
			rq.w.Header()[name] = vs
		}
	}
}

// getObject answers GET and HEAD: conditions first, then the range.
func (s *Server) getObject(rq *request) error {
	obj, err := rq.backend.Head(rq.r.Context(), rq.bucket, rq.key)
	if err != nil {
		return err
	}
	switch preconditions(rq.r.Header, obj) {
	case http.StatusPreconditionFailed:
		return errPreconditionFailed
	case http.StatusNotModified:
		rq.w.Header().Set("Last-Modified", lastModified(obj.Modified))
		rq.w.Header().Set("ETag", quote(obj.Meta.ETag))
		rq.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	rng := requestedRange(rq.r.Header, obj)
	if rng.status == rangeUnsatisfiable {
		rq.w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", obj.Size))
		return errInvalidRange.withMessage("The requested range is not satisfiable for an object of %d bytes", obj.Size)
	}
	w := &lazyWriter{w: rq.w, header: objectHeader(obj, rng, rq.query), status: http.StatusOK}
	if rng.status == rangePartial {
		w.status = http.StatusPartialContent
	}
	if rq.r.Method == http.MethodHead {
		w.start()
		return nil
	}
	if err := rq.backend.Get(rq.r.Context(), rq.bucket, rq.key, rng.offset, rng.length, w); err != nil {
		if w.started {
			s.log.Error("s3 object read failed mid-answer", "bucket", rq.bucket, "key", rq.key, "id", rq.id, "err", err)
			return nil // the client gets fewer bytes than Content-Length: net/http closes the connection
		}
		return err
	}
	w.start()
	return nil
}

// objectHeader is the header of a GET or HEAD answer with the object's
// bytes in rng.
func objectHeader(obj Object, rng byteRange, query map[string][]string) http.Header {
	h := http.Header{}
	h.Set("Last-Modified", lastModified(obj.Modified))
	h.Set("ETag", quote(obj.Meta.ETag))
	h.Set("Accept-Ranges", "bytes")
	setMetaHeaders(h, obj.Meta, query)
	if rng.status == rangePartial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.offset, rng.offset+rng.length-1, obj.Size))
	}
	h.Set("Content-Length", strconv.FormatInt(rng.length, 10))
	return h
}

// lazyWriter sends the header and status with the first byte, so an
// error before any byte can still be answered as an error.
type lazyWriter struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	started bool
}

func (l *lazyWriter) start() {
	if !l.started {
		l.started = true
		copyHeader(l.w.Header(), l.header)
		l.w.WriteHeader(l.status)
	}
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.start()
	return l.w.Write(p)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func (s *Server) deleteObject(rq *request) error {
	err := rq.backend.Delete(rq.r.Context(), rq.bucket, rq.key)
	if err != nil && !errors.Is(err, ErrNoSuchKey) { // deleting what is not there succeeds, as in S3
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteObjects(rq *request) error {
	raw, err := s.readDocument(rq, maxXMLBody)
	if err != nil {
		return err
	}
	objects, quiet, err := parseDelete(raw)
	if err != nil {
		return err
	}
	if err := rq.backend.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	doc := deleteResult{Xmlns: xmlns}
	for _, o := range objects {
		if err := s.deleteOne(rq, o); err != nil {
			e := toAPIError(err)
			if e.Status >= 500 {
				s.log.Error("s3 delete failed", "bucket", rq.bucket, "key", o.Key, "id", rq.id, "err", err)
			}
			doc.Errors = append(doc.Errors, deleteErrorEntry{Key: o.Key, Code: e.Code, Message: e.Message})
		} else if !quiet {
			doc.Deleted = append(doc.Deleted, deletedEntry{Key: o.Key})
		}
	}
	return writeXML(rq.w, http.StatusOK, doc)
}

func (s *Server) deleteOne(rq *request, o objectToDelete) error {
	if o.VersionID != "" && o.VersionID != "null" {
		return errNotImplemented.withMessage("Versioning is not implemented: the only version is null")
	}
	if err := checkKey(o.Key); err != nil {
		return err
	}
	err := rq.backend.Delete(rq.r.Context(), rq.bucket, o.Key)
	if errors.Is(err, ErrNoSuchKey) {
		return nil
	}
	return err
}
