// Package s3 serves the S3 API (DESIGN §9: "it must work with stock S3
// clients") over a Backend, one account's storage, which the storage
// network implements elsewhere. Server is an http.Handler.
//
// # A request's way through
//
//  1. Address: the bucket is the host's first label under
//     Config.VirtualHostSuffix (virtual-hosted style) or the path's first
//     segment (path style); the key is the rest of the path, unescaped
//     once from the path as sent. Paths are never cleaned, and no
//     http.ServeMux is involved (it would clean and redirect them): "a//b",
//     "dir/", "x/../y", "./z" and "%2F" reach the Backend as the keys they
//     are.
//  2. Authenticate: sigv4.Verify, with Accounts as the secrets, and the
//     region must be Config.Region. Every request must be signed (in the
//     Authorization header or as a presigned URL); there is no anonymous
//     access.
//  3. Route: method, level (service, bucket, object) and the query's
//     subresources name one operation (route.go); anything else is
//     NotImplemented, never answered as if it were something else.
//  4. Check names: S3's bucket name rules; keys of 1 to 1024 bytes of
//     UTF-8 without control characters.
//  5. Run the operation against Accounts.Backend(access key). A body is
//     handed on as exactly its declared size, and the reader returns an
//     error instead of its last bytes unless every digest the client
//     declared matches: the signed x-amz-content-sha256, Content-MD5 and
//     any x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}, in a header
//     or an aws-chunked trailer. So a Backend that stores only bodies it
//     read to io.EOF never stores a corrupted or truncated one.
//
// Errors are S3's XML error documents (only the status for HEAD), and
// every answer carries x-amz-request-id. Backend errors map as backend.go
// says; any other error is InternalError and is logged.
//
// # Payloads
//
// UNSIGNED-PAYLOAD, a hex SHA-256, and the aws-chunked modes
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (each chunk's signature checked in
// its chain, sigv4.Chain), STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
// (the trailer's signature too) and STREAMING-UNSIGNED-PAYLOAD-TRAILER
// (what the AWS SDKs send over HTTPS; the trailer's checksum is checked).
// x-amz-decoded-content-length is the size of an aws-chunked object.
// SigV4a (ECDSA) is NotImplemented.
//
// # Operations
//
// ListBuckets; CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation,
// GetBucketVersioning (always the empty configuration of a bucket that
// never had versioning: clients ask before they work); ListObjects and
// ListObjectsV2; PutObject, GetObject (one range; conditional headers;
// response-* overrides), HeadObject, DeleteObject, DeleteObjects,
// CopyObject (COPY or REPLACE metadata, x-amz-copy-source-if-*);
// CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload,
// AbortMultipartUpload, ListMultipartUploads.
//
// # Not implemented
//
// These answer NotImplemented (501) rather than succeed without doing
// what was asked: every other subresource (?acl, ?policy, ?tagging, ?cors,
// ?lifecycle, ?versions, PUT ?versioning, ?attributes, ?select, ...),
// versions other than versionId=null, UploadPartCopy, POST form uploads,
// conditional PUTs (If-Match, If-None-Match), ACLs other than private,
// server-side encryption, object lock, tagging headers, website
// redirects, and the Content-Language and Expires headers (ObjectMeta
// has no place for them). x-amz-storage-class is accepted and ignored:
// the network has one class, which listings call STANDARD.
package s3
