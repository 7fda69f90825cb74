package s3

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// preconditions evaluates a GET's or HEAD's conditional headers against
// obj as S3 does (RFC 7232 §6, with S3's pairings): 412 if If-Match fails,
// or If-Unmodified-Since fails without an If-Match that holds; then 304 if
// If-None-Match fails, or If-Modified-Since fails without an If-None-Match
// that holds. 0 means answer the object.
func preconditions(h http.Header, obj Object) int {
	modified := obj.Modified.Truncate(time.Second)
	if im := h.Get("If-Match"); im != "" {
		if !etagMatches(im, obj.Meta.ETag) {
			return http.StatusPreconditionFailed
		}
	} else if t, ok := httpTime(h.Get("If-Unmodified-Since")); ok && modified.After(t) {
		return http.StatusPreconditionFailed
	}
	if inm := h.Get("If-None-Match"); inm != "" {
		if etagMatches(inm, obj.Meta.ETag) {
			return http.StatusNotModified
		}
	} else if t, ok := httpTime(h.Get("If-Modified-Since")); ok && !modified.After(t) {
		return http.StatusNotModified
	}
	return 0
}

// etagMatches reports whether the list of entity tags (or "*") names
// etag. Weak tags compare as strong ones: S3's are all strong.
func etagMatches(list, etag string) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || unquote(t) == etag {
			return true
		}
	}
	return false
}

func httpTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	return t, err == nil
}

type rangeStatus int

const (
	rangeWhole rangeStatus = iota // no range, or one to ignore: answer 200 with everything
	rangePartial
	rangeUnsatisfiable
)

// byteRange is the part of an object a GET answers with.
type byteRange struct {
	status         rangeStatus
	offset, length int64
}

// requestedRange is the Range header's one range of obj (If-Range
// allowing). A syntactically invalid range, or several ranges, are
// ignored as RFC 7233 allows and S3 does: the whole object is answered.
func requestedRange(h http.Header, obj Object) byteRange {
	whole := byteRange{status: rangeWhole, length: obj.Size}
	v := h.Get("Range")
	if v == "" || !ifRange(h.Get("If-Range"), obj) {
		return whole
	}
	r, ok := parseRange(v, obj.Size)
	if !ok {
		return whole
	}
	return r
}

// SatisfiableRange is the one byte range a Range header v asks of an
// object of size bytes, when it is valid and satisfiable; streaming uses it
// to bound what it fetches.
func SatisfiableRange(v string, size int64) (offset, length int64, ok bool) {
	r, ok := parseRange(v, size)
	if !ok || r.status != rangePartial {
		return 0, 0, false
	}
	return r.offset, r.length, true
}

// parseRange parses "bytes=a-b", "bytes=a-" or "bytes=-n" against size;
// ok is false for anything else.
func parseRange(v string, size int64) (r byteRange, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false
	}
	unsatisfiable := byteRange{status: rangeUnsatisfiable}
	if first == "" { // the last n bytes
		n, ok := digits(last)
		if !ok {
			return byteRange{}, false
		}
		if n == 0 || size == 0 {
			return unsatisfiable, true
		}
		n = min(n, size)
		return byteRange{status: rangePartial, offset: size - n, length: n}, true
	}
	start, ok := digits(first)
	if !ok {
		return byteRange{}, false
	}
	end := size - 1
	if last != "" {
		if end, ok = digits(last); !ok || end < start {
			return byteRange{}, false
		}
		end = min(end, size-1)
	}
	if start >= size {
		return unsatisfiable, true
	}
	return byteRange{status: rangePartial, offset: start, length: end - start + 1}, true
}

// digits is a non-negative decimal, digits only.
func digits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ifRange reports whether the Range applies: no If-Range, or one that
// names the object's ETag or a time not before its last change.
func ifRange(v string, obj Object) bool {
	if v == "" {
		return true
	}
	if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/") {
		return unquote(strings.TrimPrefix(v, "W/")) == obj.Meta.ETag
	}
	t, ok := httpTime(v)
	return ok && !obj.Modified.Truncate(time.Second).After(t)
}
