package s3

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const maxListBuckets = 10000

func (s *Server) listBuckets(rq *request) error {
	buckets, err := rq.backend.Buckets(rq.r.Context())
	if err != nil {
		return err
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].Name < buckets[j].Name })
	prefix := rq.query.Get("prefix")
	max, err := intParam(rq, "max-buckets", maxListBuckets, 1, maxListBuckets)
	if err != nil {
		return err
	}
	after, err := decodeToken(rq.query.Get("continuation-token"))
	if err != nil {
		return err
	}
	doc := listAllMyBucketsResult{Xmlns: xmlns, Owner: rq.owner, Prefix: prefix}
	for _, b := range buckets {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= after {
			continue
		}
		if len(doc.Buckets) == max {
			doc.ContinuationToken = encodeToken(doc.Buckets[max-1].Name)
			break
		}
		doc.Buckets = append(doc.Buckets, bucketEntry{Name: b.Name, CreationDate: isoTime(b.Created), BucketRegion: s.cfg.Region})
	}
	return writeXML(rq.w, http.StatusOK, doc)
}

func (s *Server) createBucket(rq *request) error {
	if err := refuseBucketHeaders(rq.r.Header); err != nil {
		return err
	}
	raw, err := s.readDocument(rq, maxConfigBody)
	if err != nil {
		return err
	}
	if _, err := parseCreateBucket(raw); err != nil {
		return err
	}
	if err := rq.backend.CreateBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// refuseBucketHeaders refuses what CreateBucket would have to keep and
// cannot: ACLs that grant anything and object lock.
func refuseBucketHeaders(h http.Header) error {
	if err := refuseACL(h); err != nil {
		return err
	}
	if strings.EqualFold(h.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
		return errNotImplemented.withMessage("Object lock is not implemented")
	}
	if v := h.Get("X-Amz-Object-Ownership"); v != "" && v != "BucketOwnerEnforced" {
		return errNotImplemented.withMessage("Object ownership %q is not implemented: objects always belong to the bucket's owner", clip(v))
	}
	return nil
}

// refuseACL refuses ACLs other than the private one every bucket and
// object has.
func refuseACL(h http.Header) error {
	if v := h.Get("X-Amz-Acl"); v != "" && v != "private" && v != "bucket-owner-full-control" {
		return errNotImplemented.withMessage("ACLs are not implemented: x-amz-acl %q (everything is private)", clip(v))
	}
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			return errNotImplemented.withMessage("ACLs are not implemented: %s", name)
		}
	}
	return nil
}

func (s *Server) deleteBucket(rq *request) error {
	if err := rq.backend.DeleteBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) headBucket(rq *request) error {
	if err := rq.backend.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	rq.w.Header().Set("X-Amz-Bucket-Region", s.cfg.Region)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketLocation(rq *request) error {
	if err := rq.backend.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	doc := locationConstraint{Xmlns: xmlns}
	if s.cfg.Region != "us-east-1" { // S3 names us-east-1 by saying nothing
		doc.Region = s.cfg.Region
	}
	return writeXML(rq.w, http.StatusOK, doc)
}

// getBucketVersioning answers truthfully that versioning was never
// enabled: an empty VersioningConfiguration, as S3 answers for such a
// bucket. Clients (rclone, Terraform, s3fs) ask before they work on a
// bucket; turning it on (PUT ?versioning) is NotImplemented.
func (s *Server) getBucketVersioning(rq *request) error {
	if err := rq.backend.HeadBucket(rq.r.Context(), rq.bucket); err != nil {
		return err
	}
	return writeXML(rq.w, http.StatusOK, versioningConfiguration{Xmlns: xmlns})
}

// intParam is the query parameter name as an integer in [lo, hi]: def if
// absent, hi if above it (as S3 caps max-keys).
func intParam(rq *request, name string, def, lo, hi int) (int, error) {
	v, ok := rq.query[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.Join(v, ""))
	if err != nil || n < lo {
		return 0, errInvalidArgument.withMessage("%s must be an integer of at least %d, not %q", name, lo, clip(strings.Join(v, "")))
	}
	return min(n, hi), nil
}

// encodeToken makes a continuation token of where a listing stopped.
func encodeToken(after string) string {
	return base64.StdEncoding.EncodeToString([]byte(after))
}

func decodeToken(token string) (string, error) {
	after, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return "", errInvalidArgument.withMessage("The continuation token provided is incorrect")
	}
	return string(after), nil
}
