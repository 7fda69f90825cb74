package s3

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// listArgs are the arguments both versions of ListObjects share.
type listArgs struct {
	prefix, delimiter string
	max               int
	encoding          string // "" or "url"
}

func listArgsOf(rq *request) (listArgs, error) {
	a := listArgs{prefix: rq.query.Get("prefix"), delimiter: rq.query.Get("delimiter"), encoding: rq.query.Get("encoding-type")}
	if a.encoding != "" && a.encoding != "url" {
		return a, errInvalidArgument.withMessage("Invalid Encoding Method specified in Request: %q", clip(a.encoding))
	}
	var err error
	a.max, err = intParam(rq, "max-keys", maxListKeys, 0, maxListKeys)
	return a, err
}

// encode is s as the listing shows it: URL-encoded if the client asked
// (keys may hold bytes XML 1.0 cannot), with "/" kept.
func (a listArgs) encode(s string) string {
	if a.encoding == "" || s == "" {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

// list is one page of the bucket after after. max-keys=0 lists nothing,
// but the bucket must still exist.
func list(rq *request, a listArgs, after string) (Listing, error) {
	if a.max == 0 {
		return Listing{}, rq.backend.HeadBucket(rq.r.Context(), rq.bucket)
	}
	return rq.backend.List(rq.r.Context(), rq.bucket, ListQuery{Prefix: a.prefix, Delimiter: a.delimiter, After: after, Max: a.max})
}

func (s *Server) listObjects(rq *request) error {
	switch rq.query.Get("list-type") {
	case "2":
		return s.listObjectsV2(rq)
	case "":
		return s.listObjectsV1(rq)
	}
	return errInvalidArgument.withMessage("list-type is 2 or absent, not %q", clip(rq.query.Get("list-type")))
}

func (s *Server) listObjectsV2(rq *request) error {
	a, err := listArgsOf(rq)
	if err != nil {
		return err
	}
	token, startAfter := rq.query.Get("continuation-token"), rq.query.Get("start-after")
	after := startAfter
	if _, ok := rq.query["continuation-token"]; ok {
		if after, err = decodeToken(token); err != nil {
			return err
		}
	}
	l, err := list(rq, a, after)
	if err != nil {
		return err
	}
	doc := listBucketResult{
		Xmlns: xmlns, Name: rq.bucket, Prefix: a.encode(a.prefix), Delimiter: a.encode(a.delimiter),
		MaxKeys: a.max, EncodingType: a.encoding, IsTruncated: l.Truncated,
		ContinuationToken: token, StartAfter: a.encode(startAfter),
	}
	if err := page(&doc, l, a, rq.query.Get("fetch-owner") == "true", rq.owner); err != nil {
		return err
	}
	count := len(doc.Contents) + len(doc.CommonPrefixes)
	doc.KeyCount = &count
	if l.Truncated {
		doc.NextContinuationToken = encodeToken(l.Next)
	}
	return writeXML(rq.w, http.StatusOK, doc)
}

func (s *Server) listObjectsV1(rq *request) error {
	a, err := listArgsOf(rq)
	if err != nil {
		return err
	}
	marker := rq.query.Get("marker")
	l, err := list(rq, a, marker)
	if err != nil {
		return err
	}
	encodedMarker := a.encode(marker)
	doc := listBucketResult{
		Xmlns: xmlns, Name: rq.bucket, Prefix: a.encode(a.prefix), Delimiter: a.encode(a.delimiter),
		Marker: &encodedMarker, MaxKeys: a.max, EncodingType: a.encoding, IsTruncated: l.Truncated,
	}
	if err := page(&doc, l, a, true, rq.owner); err != nil {
		return err
	}
	if l.Truncated && a.delimiter != "" { // without a delimiter, the next marker is the last key
		doc.NextMarker = a.encode(l.Next)
	}
	return writeXML(rq.w, http.StatusOK, doc)
}

// page fills doc with the listing's objects and common prefixes.
func page(doc *listBucketResult, l Listing, a listArgs, withOwner bool, o owner) error {
	if l.Truncated && l.Next == "" {
		return errInternal.because(errTruncatedWithoutNext)
	}
	for _, obj := range l.Objects {
		e := objectEntry{Key: a.encode(obj.Key), LastModified: isoTime(obj.Modified), ETag: quote(obj.Meta.ETag), Size: obj.Size, StorageClass: "STANDARD"}
		if withOwner {
			e.Owner = &o
		}
		doc.Contents = append(doc.Contents, e)
	}
	for _, p := range l.CommonPrefixes {
		doc.CommonPrefixes = append(doc.CommonPrefixes, commonPrefix{Prefix: a.encode(p)})
	}
	return nil
}

var errTruncatedWithoutNext = backendContractError("the backend's listing is truncated but says nothing of where it stopped")

// backendContractError is a Backend breaking its contract.
type backendContractError string

func (e backendContractError) Error() string { return string(e) }

func (s *Server) listUploads(rq *request) error {
	a := listArgs{prefix: rq.query.Get("prefix"), delimiter: rq.query.Get("delimiter"), encoding: rq.query.Get("encoding-type")}
	if a.encoding != "" && a.encoding != "url" {
		return errInvalidArgument.withMessage("Invalid Encoding Method specified in Request: %q", clip(a.encoding))
	}
	var err error
	if a.max, err = intParam(rq, "max-uploads", maxListKeys, 1, maxListKeys); err != nil {
		return err
	}
	uploads, err := rq.backend.Uploads(rq.r.Context(), rq.bucket, a.prefix)
	if err != nil {
		return err
	}
	keyMarker, idMarker := rq.query.Get("key-marker"), rq.query.Get("upload-id-marker")
	doc := listMultipartUploadsResult{
		Xmlns: xmlns, Bucket: rq.bucket, KeyMarker: a.encode(keyMarker), UploadIDMarker: idMarker,
		Prefix: a.encode(a.prefix), Delimiter: a.encode(a.delimiter), MaxUploads: a.max, EncodingType: a.encoding,
	}
	pageUploads(&doc, uploads, a, keyMarker, idMarker, rq.owner)
	return writeXML(rq.w, http.StatusOK, doc)
}

// pageUploads fills doc with the uploads after (keyMarker, idMarker), in
// key and then upload ID order, as S3 pages them.
func pageUploads(doc *listMultipartUploadsResult, uploads []Upload, a listArgs, keyMarker, idMarker string, o owner) {
	sort.Slice(uploads, func(i, j int) bool {
		if uploads[i].Key != uploads[j].Key {
			return uploads[i].Key < uploads[j].Key
		}
		return uploads[i].ID < uploads[j].ID
	})
	var lastKey, lastID, lastPrefix string
	for _, u := range uploads {
		if !strings.HasPrefix(u.Key, a.prefix) || u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || u.ID <= idMarker)) {
			continue
		}
		cp := commonPrefixOf(u.Key, a.prefix, a.delimiter)
		if cp != "" && (cp == lastPrefix || cp <= keyMarker) {
			continue
		}
		if len(doc.Uploads)+len(doc.CommonPrefixes) == a.max {
			doc.IsTruncated = true
			doc.NextKeyMarker, doc.NextUploadIDMarker = a.encode(lastKey), lastID
			return
		}
		if cp != "" {
			doc.CommonPrefixes = append(doc.CommonPrefixes, commonPrefix{Prefix: a.encode(cp)})
			lastKey, lastID, lastPrefix = cp, "", cp
			continue
		}
		doc.Uploads = append(doc.Uploads, uploadEntry{
			Key: a.encode(u.Key), UploadID: u.ID, Initiator: o, Owner: o,
			StorageClass: "STANDARD", Initiated: isoTime(u.Initiated),
		})
		lastKey, lastID = u.Key, u.ID
	}
}

// commonPrefixOf is the common prefix key rolls up into under prefix and
// delimiter, or "" if it rolls up into none.
func commonPrefixOf(key, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return ""
	}
	return key[:len(prefix)+i+len(delimiter)]
}
