package s3

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors a Backend returns (wrapped), each answered with the S3 error code
// named beside it.
var (
	ErrNoSuchBucket    = errors.New("no such bucket")              // NoSuchBucket, 404
	ErrBucketExists    = errors.New("bucket already exists")       // BucketAlreadyOwnedByYou, 409
	ErrBucketNotEmpty  = errors.New("bucket not empty")            // BucketNotEmpty, 409
	ErrInvalidBucket   = errors.New("invalid bucket name")         // InvalidBucketName, 400
	ErrNoSuchKey       = errors.New("no such key")                 // NoSuchKey, 404
	ErrInvalidKey      = errors.New("invalid object key")          // InvalidArgument, 400
	ErrNoSuchUpload    = errors.New("no such multipart upload")    // NoSuchUpload, 404
	ErrInvalidPart     = errors.New("invalid part")                // InvalidPart, 400
	ErrKeyConflict     = errors.New("key taken by another object") // InvalidArgument, 400 (an escaped key's path holds another key)
	ErrBackendDown     = errors.New("storage network unavailable") // ServiceUnavailable, 503
	ErrAccessForbidden = errors.New("access denied")               // AccessDenied, 403
)

// ObjectMeta is what S3 stores beside an object's bytes and returns on
// GET and HEAD.
type ObjectMeta struct {
	ContentType        string
	ContentDisposition string
	ContentEncoding    string
	CacheControl       string
	// User holds the x-amz-meta-* headers: lower-case names without the
	// prefix.
	User map[string]string
	// Encrypted: the gateway sealed the bytes under the account's key
	// before they reached the network (package crypt), asked for with
	// x-amz-server-side-encryption: AES256; reads open them. The network's
	// nodes never see the plaintext; the gateway, which holds the key, does.
	Encrypted bool
	// ETag without quotes: the hex MD5 of the body for a single PUT,
	// "<hex MD5 of the parts' MD5s>-<N>" for a multipart upload. The
	// backend computes it; a value given to Put is ignored.
	ETag string
}

// Object is an object's entry.
type Object struct {
	Key      string
	Size     int64
	Modified time.Time
	Meta     ObjectMeta
}

// Bucket is one bucket of an account.
type Bucket struct {
	Name    string
	Created time.Time
}

// ListQuery is one page of a ListObjects call.
//
// With a Delimiter, every key under Prefix that holds the delimiter after
// Prefix rolls up into one common prefix (Prefix, the rest up to and
// including the first delimiter), listed once, in key order among the
// objects. After excludes a common prefix equal to it, so a page that
// ended on "dir/" is followed by one that starts after every "dir/..."
// key. memBackend (fake_test.go) is the reference.
type ListQuery struct {
	Prefix    string
	Delimiter string // "" lists every key under Prefix
	After     string // list keys (and common prefixes) strictly after this
	Max       int    // at most this many objects plus common prefixes; 1..1000
}

// Listing is one page of keys in UTF-8 byte order.
type Listing struct {
	Objects        []Object
	CommonPrefixes []string
	Truncated      bool
	// Next is what to pass as ListQuery.After for the next page, when
	// Truncated: the last key or common prefix of this page, never "".
	Next string
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number   int
	ETag     string // hex MD5 of the part, without quotes
	Size     int64
	Modified time.Time
}

// Upload is a multipart upload in progress.
type Upload struct {
	ID        string
	Key       string
	Initiated time.Time
}

// Backend is one account's storage as the S3 API sees it. Keys are
// arbitrary UTF-8 without control characters, at most 1024 bytes; the
// gateway checks that before calling. Every method returns one of the
// errors above (wrapped) for the cases they name.
type Backend interface {
	Buckets(ctx context.Context) ([]Bucket, error)
	CreateBucket(ctx context.Context, name string) error
	// DeleteBucket removes an empty bucket.
	DeleteBucket(ctx context.Context, name string) error
	HeadBucket(ctx context.Context, name string) error

	// Put stores size bytes of body as bucket/key, replacing any object
	// there. If body fails (including a failed digest check at its end),
	// nothing is stored and the old object, if any, stays. The gateway's
	// body returns its last bytes with a nil error only once every digest
	// matched, and io.EOF after them: read it to io.EOF (or to size bytes
	// without error) before committing anything.
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64, meta ObjectMeta) (Object, error)
	Head(ctx context.Context, bucket, key string) (Object, error)
	// Get writes length bytes of the object from offset to w; the caller
	// has checked the range against Head's size. The answer's status and
	// headers go out with the first byte written, so an error returned
	// before any write is still answered as an S3 error.
	Get(ctx context.Context, bucket, key string, offset, length int64, w io.Writer) error
	Delete(ctx context.Context, bucket, key string) error
	// Copy copies an object; meta nil keeps the source's metadata.
	Copy(ctx context.Context, srcBucket, srcKey, bucket, key string, meta *ObjectMeta) (Object, error)
	List(ctx context.Context, bucket string, q ListQuery) (Listing, error)

	// Multipart upload. PutPart stores the part's bytes as they arrive;
	// Complete joins the named parts (ascending, already checked by the
	// gateway against Parts) without reading them again.
	CreateUpload(ctx context.Context, bucket, key string, meta ObjectMeta) (uploadID string, err error)
	PutPart(ctx context.Context, bucket, key, uploadID string, number int, body io.Reader, size int64) (Part, error)
	Parts(ctx context.Context, bucket, key, uploadID string) ([]Part, error)
	Uploads(ctx context.Context, bucket, prefix string) ([]Upload, error)
	Complete(ctx context.Context, bucket, key, uploadID string, parts []int) (Object, error)
	Abort(ctx context.Context, bucket, key, uploadID string) error
}

// Accounts maps access keys to secrets (for signatures) and to the
// storage of the account each key belongs to.
type Accounts interface {
	Secret(accessKey string) (string, error)
	Backend(accessKey string) (Backend, error)
}

// ValidBucketName says whether name follows S3's rules for bucket names; a
// top-level directory whose name does not is no bucket.
func ValidBucketName(name string) bool { return checkBucketName(name) == nil }
