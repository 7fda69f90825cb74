package s3

import (
	"net/http"
	"strings"
)

const userMetaPrefix = "x-amz-meta-"

// metaOf is the metadata a PUT, a CopyObject with REPLACE or a
// CreateMultipartUpload stores: the standard headers S3 keeps and the
// x-amz-meta-* ones. Headers it would have to keep and cannot are
// refused rather than dropped.
func metaOf(h http.Header) (ObjectMeta, error) {
	encrypted, err := sseOf(h)
	if err != nil {
		return ObjectMeta{}, err
	}
	if encrypted {
		h = h.Clone()
		h.Del(sseHeader)
	}
	if err := refuseObjectHeaders(h); err != nil {
		return ObjectMeta{}, err
	}
	m := ObjectMeta{
		Encrypted:          encrypted,
		ContentType:        h.Get("Content-Type"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    contentEncoding(h),
		CacheControl:       h.Get("Cache-Control"),
	}
	size := 0
	for name, vs := range h {
		lower := strings.ToLower(name)
		user, ok := strings.CutPrefix(lower, userMetaPrefix)
		if !ok {
			continue
		}
		if user == "" {
			return ObjectMeta{}, errInvalidArgument.withMessage("x-amz-meta- needs a name after it")
		}
		if m.User == nil {
			m.User = map[string]string{}
		}
		m.User[user] = strings.Join(vs, ",")
		size += len(user) + len(m.User[user])
	}
	if size > maxUserMeta {
		return ObjectMeta{}, errMetadataTooLarge.withMessage("Your metadata headers are %d bytes, more than the %d allowed", size, maxUserMeta)
	}
	return m, nil
}

const sseHeader = "X-Amz-Server-Side-Encryption"

// sseOf reads x-amz-server-side-encryption: AES256 asks the gateway to
// encrypt (package crypt, AES-256-GCM); KMS is not implemented.
func sseOf(h http.Header) (bool, error) {
	switch v := h.Get(sseHeader); v {
	case "":
		return false, nil
	case "AES256":
		return true, nil
	case "aws:kms", "aws:kms:dsse":
		return false, errNotImplemented.withMessage("Server-side encryption with KMS keys (%s: %s) is not implemented; use AES256", sseHeader, v)
	default:
		return false, errInvalidArgument.withMessage("The encryption method specified is not supported: %q (AES256)", clip(v))
	}
}

// contentEncoding is Content-Encoding without aws-chunked, which is how
// the request was sent and not how the object is.
func contentEncoding(h http.Header) string {
	var keep []string
	for _, v := range h.Values("Content-Encoding") {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
				keep = append(keep, e)
			}
		}
	}
	return strings.Join(keep, ",")
}

// unsupportedObjectHeaders would each need the gateway to keep or enforce
// something it does not; accepting them would be a success that is not.
var unsupportedObjectHeaders = []struct{ header, what string }{
	{"X-Amz-Server-Side-Encryption", "Server-side encryption"},
	{"X-Amz-Server-Side-Encryption-Customer-Algorithm", "Server-side encryption with customer keys"},
	{"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "Server-side encryption with KMS keys"},
	{"X-Amz-Object-Lock-Mode", "Object lock"},
	{"X-Amz-Object-Lock-Retain-Until-Date", "Object lock"},
	{"X-Amz-Object-Lock-Legal-Hold", "Object lock"},
	{"X-Amz-Tagging", "Object tagging"},
	{"X-Amz-Website-Redirect-Location", "Website redirects"},
	{"Content-Language", "Storing Content-Language"},
	{"Expires", "Storing Expires"},
}

func refuseObjectHeaders(h http.Header) error {
	for _, u := range unsupportedObjectHeaders {
		if h.Get(u.header) != "" {
			return errNotImplemented.withMessage("%s (%s) is not implemented", u.what, u.header)
		}
	}
	return refuseACL(h)
}

// setMetaHeaders shows an object's metadata in a GET or HEAD answer, with
// the response-* overrides of the query.
func setMetaHeaders(h http.Header, m ObjectMeta, query map[string][]string) {
	ct := m.ContentType
	if ct == "" {
		ct = "binary/octet-stream" // S3's, and it keeps net/http from sniffing
	}
	h.Set("Content-Type", ct)
	set := func(name, v string) {
		if v != "" {
			h.Set(name, v)
		}
	}
	if m.Encrypted {
		h.Set(sseHeader, "AES256")
	}
	set("Content-Disposition", m.ContentDisposition)
	set("Content-Encoding", m.ContentEncoding)
	set("Cache-Control", m.CacheControl)
	for k, v := range m.User {
		h[http.CanonicalHeaderKey(userMetaPrefix+k)] = []string{v}
	}
	for param, header := range responseOverrides {
		if v, ok := query[param]; ok && len(v) > 0 {
			h.Set(header, v[0])
		}
	}
}

// responseOverrides are the query parameters of a signed GET that set a
// response header, as S3 allows.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}
