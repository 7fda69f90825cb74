// Package network is the S3 gateway's Backend over the storage network
// (DESIGN §9): one account's files through the Go SDK. A bucket is a
// top-level directory and an object is the file at index.ObjectPath(bucket,
// key), so what S3 writes the CLI reads and the other way round. Bytes go
// straight between the gateway and resource nodes as slices; multipart
// parts are files of their own while the upload is open, and completing it
// joins their slices in the index without reading them again.
package network

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/gateway/s3"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Files is what the backend needs of the Go SDK (a *client.Client).
type Files interface {
	Put(ctx context.Context, path string, r io.Reader, size int64, opts client.PutOptions) (*metav1.FileEntry, error)
	Stat(ctx context.Context, pathOrID string) (*metav1.StatResponse, error)
	GetRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error
	List(ctx context.Context, dir string) ([]*metav1.DirEntry, error)
	Remove(ctx context.Context, path string) (*metav1.FileEntry, error)
	Buckets(ctx context.Context, name string) ([]*metav1.BucketEntry, error)
	CreateBucket(ctx context.Context, name string) error
	DeleteBucket(ctx context.Context, name string) error
	ListObjects(ctx context.Context, bucket, prefix, delimiter, after string, limit int) (*metav1.ListObjectsResponse, error)
	Compose(ctx context.Context, path string, sources []string, object *metav1.ObjectMeta, keep bool) (*metav1.FileEntry, error)
}

var _ Files = (*client.Client)(nil)

const (
	// uploadsDir holds open multipart uploads: /.uploads/<bucket>/<id> is
	// the upload (its metadata, the key in keyMeta), and
	// /.uploads/<bucket>/<id>/<part, 5 digits> its parts. ".uploads" is no
	// valid bucket name, so S3 never lists it.
	uploadsDir = "/.uploads"
	keyMeta    = "stratos-upload-key"
	// bucketTTL is how long a bucket seen to exist is believed to.
	bucketTTL = 5 * time.Second
)

// Backend is one account's storage.
type Backend struct {
	files Files
	log   *slog.Logger
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // bucket → when it was seen to exist
}

var _ s3.Backend = (*Backend)(nil)

// New returns the backend of the account files signs for; now may be nil
// (the system clock).
func New(files Files, log *slog.Logger, now func() time.Time) *Backend {
	if now == nil {
		now = time.Now
	}
	return &Backend{files: files, log: log, now: now, seen: map[string]time.Time{}}
}

// Buckets lists the account's buckets with valid S3 names.
func (b *Backend) Buckets(ctx context.Context) ([]s3.Bucket, error) {
	es, err := b.files.Buckets(ctx, "")
	if err != nil {
		return nil, mapErr(err, s3.ErrNoSuchBucket)
	}
	var out []s3.Bucket
	for _, e := range es {
		if s3.ValidBucketName(e.GetName()) {
			out = append(out, s3.Bucket{Name: e.GetName(), Created: time.Unix(0, e.GetCreatedUnixNano()).UTC()})
		}
	}
	return out, nil
}

func (b *Backend) CreateBucket(ctx context.Context, name string) error {
	if err := b.files.CreateBucket(ctx, name); err != nil {
		if errors.Is(err, client.ErrExists) {
			return fmt.Errorf("%s: %w", name, s3.ErrBucketExists)
		}
		return mapErr(err, s3.ErrNoSuchBucket)
	}
	return nil
}

func (b *Backend) DeleteBucket(ctx context.Context, name string) error {
	b.mu.Lock()
	delete(b.seen, name)
	b.mu.Unlock()
	if err := b.files.DeleteBucket(ctx, name); err != nil {
		if errors.Is(err, client.ErrNotEmpty) {
			return fmt.Errorf("%s: %w", name, s3.ErrBucketNotEmpty)
		}
		return mapErr(err, s3.ErrNoSuchBucket)
	}
	return nil
}

// HeadBucket says whether the bucket exists, remembering a yes briefly so
// that a run of PUTs does not ask each time.
func (b *Backend) HeadBucket(ctx context.Context, name string) error {
	now := b.now()
	b.mu.Lock()
	at, ok := b.seen[name]
	b.mu.Unlock()
	if ok && now.Sub(at) < bucketTTL {
		return nil
	}
	es, err := b.files.Buckets(ctx, name)
	if err != nil {
		return mapErr(err, s3.ErrNoSuchBucket)
	}
	if len(es) == 0 {
		return fmt.Errorf("%s: %w", name, s3.ErrNoSuchBucket)
	}
	b.mu.Lock()
	b.seen[name] = now
	b.mu.Unlock()
	return nil
}

func (b *Backend) Put(ctx context.Context, bucket, key string, body io.Reader, size int64, meta s3.ObjectMeta) (s3.Object, error) {
	if err := b.HeadBucket(ctx, bucket); err != nil {
		return s3.Object{}, err
	}
	p, err := objectPath(bucket, key)
	if err != nil {
		return s3.Object{}, err
	}
	f, err := b.putFile(ctx, p, body, size, meta)
	if err != nil {
		return s3.Object{}, err
	}
	return toObject(key, f), nil
}

// putFile stores body at p with meta, its ETag the MD5 of what was read.
func (b *Backend) putFile(ctx context.Context, p string, body io.Reader, size int64, meta s3.ObjectMeta) (*metav1.FileEntry, error) {
	sum := md5.New()
	opts := client.PutOptions{Overwrite: true, Encrypt: meta.Encrypted, Object: func() *metav1.ObjectMeta {
		meta.ETag = hex.EncodeToString(sum.Sum(nil))
		return toProto(meta)
	}}
	f, err := b.files.Put(ctx, p, io.TeeReader(body, sum), size, opts)
	if err != nil {
		return nil, mapErr(err, s3.ErrNoSuchKey)
	}
	return f, nil
}

func (b *Backend) Head(ctx context.Context, bucket, key string) (s3.Object, error) {
	p, err := objectPath(bucket, key)
	if err != nil {
		return s3.Object{}, err
	}
	st, err := b.files.Stat(ctx, p)
	if err != nil {
		if errors.Is(err, client.ErrNotFound) {
			if berr := b.HeadBucket(ctx, bucket); berr != nil {
				return s3.Object{}, berr
			}
		}
		return s3.Object{}, mapErr(err, s3.ErrNoSuchKey)
	}
	return toObject(key, st.GetFile()), nil
}

func (b *Backend) Get(ctx context.Context, bucket, key string, offset, length int64, w io.Writer) error {
	p, err := objectPath(bucket, key)
	if err != nil {
		return err
	}
	if err := b.files.GetRange(ctx, p, offset, length, w); err != nil {
		return mapErr(err, s3.ErrNoSuchKey)
	}
	return nil
}

func (b *Backend) Delete(ctx context.Context, bucket, key string) error {
	p, err := objectPath(bucket, key)
	if err != nil {
		return err
	}
	if _, err := b.files.Remove(ctx, p); err != nil {
		return mapErr(err, s3.ErrNoSuchKey)
	}
	return nil
}

// Copy makes a second file of the source's slices: no bytes move.
func (b *Backend) Copy(ctx context.Context, srcBucket, srcKey, bucket, key string, meta *s3.ObjectMeta) (s3.Object, error) {
	src, err := b.Head(ctx, srcBucket, srcKey)
	if err != nil {
		return s3.Object{}, err
	}
	if err := b.HeadBucket(ctx, bucket); err != nil {
		return s3.Object{}, err
	}
	m := src.Meta
	if meta != nil {
		m = *meta
		m.ETag = src.Meta.ETag // the same bytes
	}
	from, _ := objectPath(srcBucket, srcKey)
	to, err := objectPath(bucket, key)
	if err != nil {
		return s3.Object{}, err
	}
	if from == to && meta == nil {
		return src, nil
	}
	f, err := b.files.Compose(ctx, to, []string{from}, toProto(m), true)
	if err != nil {
		return s3.Object{}, mapErr(err, s3.ErrNoSuchKey)
	}
	return toObject(key, f), nil
}

func (b *Backend) List(ctx context.Context, bucket string, q s3.ListQuery) (s3.Listing, error) {
	if err := b.HeadBucket(ctx, bucket); err != nil {
		return s3.Listing{}, err
	}
	resp, err := b.files.ListObjects(ctx, bucket, q.Prefix, q.Delimiter, q.After, q.Max)
	if err != nil {
		return s3.Listing{}, mapErr(err, s3.ErrNoSuchBucket)
	}
	out := s3.Listing{CommonPrefixes: resp.GetCommonPrefixes(), Truncated: resp.GetTruncated(), Next: resp.GetNext()}
	for _, o := range resp.GetObjects() {
		out.Objects = append(out.Objects, toObject(o.GetKey(), o.GetFile()))
	}
	return out, nil
}

func objectPath(bucket, key string) (string, error) {
	p, err := index.ObjectPath(bucket, key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", s3.ErrInvalidKey, err)
	}
	return p, nil
}

// mapErr turns the SDK's errors into the S3 ones; notFound is what a
// missing thing is for the caller.
func mapErr(err error, notFound error) error {
	switch {
	case errors.Is(err, client.ErrNotFound):
		return fmt.Errorf("%w: %w", notFound, err)
	case errors.Is(err, client.ErrMetaUnavailable), errors.Is(err, client.ErrUnavailable),
		errors.Is(err, client.ErrNoSpace), errors.Is(err, client.ErrTooFewReplicas):
		return fmt.Errorf("%w: %w", s3.ErrBackendDown, err)
	case errors.Is(err, client.ErrDenied):
		return fmt.Errorf("%w: %w", s3.ErrAccessForbidden, err)
	}
	return err
}

func toProto(m s3.ObjectMeta) *metav1.ObjectMeta {
	out := &metav1.ObjectMeta{ContentType: m.ContentType, ContentDisposition: m.ContentDisposition,
		ContentEncoding: m.ContentEncoding, CacheControl: m.CacheControl, Etag: m.ETag}
	for _, name := range slices.Sorted(maps.Keys(m.User)) {
		out.User = append(out.User, &metav1.MetaPair{Name: strings.ToLower(name), Value: m.User[name]})
	}
	return out
}

func fromProto(m *metav1.ObjectMeta) s3.ObjectMeta {
	out := s3.ObjectMeta{ContentType: m.GetContentType(), ContentDisposition: m.GetContentDisposition(),
		ContentEncoding: m.GetContentEncoding(), CacheControl: m.GetCacheControl(), ETag: m.GetEtag()}
	for _, p := range m.GetUser() {
		if out.User == nil {
			out.User = map[string]string{}
		}
		out.User[p.GetName()] = p.GetValue()
	}
	return out
}

func toObject(key string, f *metav1.FileEntry) s3.Object {
	o := s3.Object{Key: key, Size: client.PlainSize(f), Modified: time.Unix(0, f.GetCreatedUnixNano()).UTC(), Meta: fromProto(f.GetObject())}
	o.Meta.Encrypted = f.GetEncrypted()
	if o.Meta.ETag == "" {
		// A file stored without an MD5: its file ID (the Merkle root of
		// its slices) names the content as well. The "-1" form tells
		// clients that it is no MD5 of the body, so none checks it as one.
		o.Meta.ETag = etagOfFileID(f.GetFileId()) + "-1"
	}
	return o
}

// etagOfFileID shortens a file ID to the 32 hex digits S3 clients expect.
func etagOfFileID(id string) string {
	sum := md5.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}

// partsETag is S3's multipart ETag: the MD5 of the parts' binary MD5s,
// then "-" and their number.
func partsETag(etags []string) string {
	h := md5.New()
	for _, e := range etags {
		raw, _ := hex.DecodeString(e)
		h.Write(raw)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(etags))
}
