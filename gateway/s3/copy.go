package s3

import (
	"net/http"
	"net/url"
	"strings"
)

// copyObject is CopyObject: a PUT whose x-amz-copy-source names the
// source, "bucket/key" URL-encoded, with or without a leading "/".
func (s *Server) copyObject(rq *request) error {
	srcBucket, srcKey, err := copySource(rq.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	if rq.r.Header.Get("X-Amz-Copy-Source-Range") != "" {
		return errInvalidArgument.withMessage("x-amz-copy-source-range is for UploadPartCopy, not CopyObject")
	}
	meta, err := copyMeta(rq.r.Header)
	if err != nil {
		return err
	}
	if meta == nil && srcBucket == rq.bucket && srcKey == rq.key {
		return errCopyToItself
	}
	src, err := rq.backend.Head(rq.r.Context(), srcBucket, srcKey)
	if err != nil {
		return err
	}
	if copyPreconditions(rq.r.Header, src) {
		return errPreconditionFailed
	}
	obj, err := rq.backend.Copy(rq.r.Context(), srcBucket, srcKey, rq.bucket, rq.key, meta)
	if err != nil {
		return err
	}
	return writeXML(rq.w, http.StatusOK, copyObjectResult{Xmlns: xmlns, LastModified: isoTime(obj.Modified), ETag: quote(obj.Meta.ETag)})
}

// copySource parses x-amz-copy-source.
func copySource(v string) (bucket, key string, err error) {
	raw, version, _ := strings.Cut(v, "?")
	if version != "" && version != "versionId=null" {
		return "", "", errNotImplemented.withMessage("Versioning is not implemented: the only version is versionId=null")
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return "", "", errInvalidArgument.withMessage("x-amz-copy-source %q is not URL-encoded", clip(v))
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(decoded, "/"), "/")
	if !ok {
		return "", "", errInvalidArgument.withMessage("x-amz-copy-source %q is not bucket/key", clip(v))
	}
	if err := checkBucketName(bucket); err != nil {
		return "", "", err
	}
	if err := checkKey(key); err != nil {
		return "", "", err
	}
	return bucket, key, nil
}

// copyMeta is the metadata the copy gets: nil to keep the source's
// (x-amz-metadata-directive COPY, the default), or the request's (REPLACE).
func copyMeta(h http.Header) (*ObjectMeta, error) {
	switch d := h.Get("X-Amz-Metadata-Directive"); d {
	case "", "COPY":
		if err := refuseObjectHeaders(h); err != nil {
			return nil, err
		}
		return nil, nil
	case "REPLACE":
		m, err := metaOf(h)
		if err != nil {
			return nil, err
		}
		if m.Encrypted {
			return nil, errNotImplemented.withMessage("Encrypting a copy is not implemented: a copy keeps the source's bytes, and a copy of an encrypted object stays encrypted")
		}
		return &m, nil
	default:
		return nil, errInvalidArgument.withMessage("Unknown metadata directive %q: COPY or REPLACE", clip(d))
	}
}

// copyPreconditions reports whether the x-amz-copy-source-if-* headers
// refuse the copy, with the same pairings as a GET's conditions, where a
// 304 is a 412 as well.
func copyPreconditions(h http.Header, src Object) bool {
	g := http.Header{}
	for _, name := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := h.Get("X-Amz-Copy-Source-" + name); v != "" {
			g.Set(name, v)
		}
	}
	return preconditions(g, src) != 0
}
