package s3

import (
	"net/http"
	"sort"
	"strings"
)

type handler func(*Server, *request) error

type level int

const (
	serviceLevel level = iota // "/"
	bucketLevel               // "/bucket"
	objectLevel               // "/bucket/key"
)

func (l level) String() string {
	return [...]string{"the service", "a bucket", "an object"}[l]
}

type routeKey struct {
	method string
	level  level
	subs   string // the subresources in the query, sorted, joined by "&"
}

type operation struct {
	name   string
	handle handler
}

// routes is every operation the gateway implements. A request that
// matches none is NotImplemented: a subresource the gateway does not
// know how to keep (?acl, ?tagging, ?versions, ...) is refused, never
// answered as if it were the plain operation.
var routes = map[routeKey]operation{
	{http.MethodGet, serviceLevel, ""}:                   {"ListBuckets", (*Server).listBuckets},
	{http.MethodGet, bucketLevel, ""}:                    {"ListObjects", (*Server).listObjects},
	{http.MethodGet, bucketLevel, "location"}:            {"GetBucketLocation", (*Server).getBucketLocation},
	{http.MethodGet, bucketLevel, "uploads"}:             {"ListMultipartUploads", (*Server).listUploads},
	{http.MethodGet, bucketLevel, "versioning"}:          {"GetBucketVersioning", (*Server).getBucketVersioning},
	{http.MethodPut, bucketLevel, ""}:                    {"CreateBucket", (*Server).createBucket},
	{http.MethodDelete, bucketLevel, ""}:                 {"DeleteBucket", (*Server).deleteBucket},
	{http.MethodHead, bucketLevel, ""}:                   {"HeadBucket", (*Server).headBucket},
	{http.MethodPost, bucketLevel, "delete"}:             {"DeleteObjects", (*Server).deleteObjects},
	{http.MethodGet, objectLevel, ""}:                    {"GetObject", (*Server).getObject},
	{http.MethodHead, objectLevel, ""}:                   {"HeadObject", (*Server).getObject},
	{http.MethodPut, objectLevel, ""}:                    {"PutObject", (*Server).putOrCopyObject},
	{http.MethodDelete, objectLevel, ""}:                 {"DeleteObject", (*Server).deleteObject},
	{http.MethodPost, objectLevel, "uploads"}:            {"CreateMultipartUpload", (*Server).createUpload},
	{http.MethodPut, objectLevel, "partNumber&uploadId"}: {"UploadPart", (*Server).uploadPart},
	{http.MethodGet, objectLevel, "uploadId"}:            {"ListParts", (*Server).listParts},
	{http.MethodPost, objectLevel, "uploadId"}:           {"CompleteMultipartUpload", (*Server).completeUpload},
	{http.MethodDelete, objectLevel, "uploadId"}:         {"AbortMultipartUpload", (*Server).abortUpload},
}

// subresources are the query parameters that make an S3 request another
// operation. Other parameters (prefix, max-keys, response-content-type,
// X-Amz-Signature, x-id, ...) are arguments.
var subresources = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "attributes": true, "cors": true,
	"delete": true, "encryption": true, "intelligent-tiering": true, "inventory": true,
	"legal-hold": true, "lifecycle": true, "location": true, "logging": true, "metadataTable": true,
	"metrics": true, "notification": true, "object-lock": true, "ownershipControls": true,
	"partNumber": true, "policy": true, "policyStatus": true, "publicAccessBlock": true,
	"renameObject": true, "replication": true, "requestPayment": true, "restore": true,
	"retention": true, "select": true, "session": true, "tagging": true, "torrent": true,
	"uploadId": true, "uploads": true, "versionId": true, "versioning": true, "versions": true,
	"website": true,
}

// route finds the operation a request names.
func route(rq *request) (string, handler, error) {
	lvl := objectLevel
	switch {
	case rq.bucket == "" && rq.key != "":
		return "", nil, errInvalidBucketName.withMessage("The request names a key but no bucket")
	case rq.bucket == "":
		lvl = serviceLevel
	case rq.key == "":
		lvl = bucketLevel
	}
	subs, err := subresourcesOf(rq)
	if err != nil {
		return "", nil, err
	}
	op, ok := routes[routeKey{rq.r.Method, lvl, subs}]
	if ok {
		return op.name, op.handle, nil
	}
	switch rq.r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		return "", nil, errMethodNotAllowed.withMessage("The method %s is not allowed against %s", clip(rq.r.Method), lvl)
	}
	if subs == "" && rq.r.Method == http.MethodPost {
		return "", nil, errNotImplemented.withMessage("POST %s without a subresource (a browser form upload) is not implemented", lvl)
	}
	return "", nil, errNotImplemented.withMessage("%s ?%s on %s is not implemented", rq.r.Method, subs, lvl)
}

// subresourcesOf is the query's subresources as a routeKey names them.
// versionId=null is the only version there is, so it names no other
// operation; any other version is refused.
func subresourcesOf(rq *request) (string, error) {
	var subs []string
	for name, vs := range rq.query {
		if !subresources[name] {
			continue
		}
		if name == "versionId" {
			if len(vs) == 1 && vs[0] == "null" {
				continue
			}
			return "", errNotImplemented.withMessage("Versioning is not implemented: the only version is versionId=null")
		}
		subs = append(subs, name)
	}
	sort.Strings(subs)
	return strings.Join(subs, "&"), nil
}
