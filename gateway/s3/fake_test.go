package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stratos-net/stratos/gateway/sigv4"
)

// memBackend is an in-memory Backend. It is the reference for what a real
// one must do: keys in byte order, common prefixes rolled up under the
// delimiter, After excluding a common prefix equal to it, nothing stored
// from a body that failed.
type memBackend struct {
	mu      sync.Mutex
	clock   func() time.Time
	buckets map[string]*memBucket
	seq     int
	// bodyFailed, if set, gets the error of every Put or PutPart whose
	// body failed.
	bodyFailed chan error
}

type memBucket struct {
	created time.Time
	objects map[string]memObject
	uploads map[string]*memUpload
}

type memObject struct {
	obj  Object
	data []byte
}

type memUpload struct {
	up    Upload
	meta  ObjectMeta
	parts map[int]memPart
}

type memPart struct {
	part Part
	data []byte
}

var _ Backend = (*memBackend)(nil)

func newMemBackend(clock func() time.Time) *memBackend {
	return &memBackend{clock: clock, buckets: map[string]*memBucket{}}
}

func (m *memBackend) Buckets(ctx context.Context) ([]Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Bucket
	for _, name := range slices.Sorted(maps.Keys(m.buckets)) {
		out = append(out, Bucket{Name: name, Created: m.buckets[name].created})
	}
	return out, nil
}

func (m *memBackend) CreateBucket(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.buckets[name]; ok {
		return fmt.Errorf("create bucket %s: %w", name, ErrBucketExists)
	}
	m.buckets[name] = &memBucket{created: m.clock(), objects: map[string]memObject{}, uploads: map[string]*memUpload{}}
	return nil
}

func (m *memBackend) DeleteBucket(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(name)
	if err != nil {
		return err
	}
	if len(b.objects) > 0 {
		return fmt.Errorf("delete bucket %s: %w", name, ErrBucketNotEmpty)
	}
	delete(m.buckets, name)
	return nil
}

func (m *memBackend) HeadBucket(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.bucket(name)
	return err
}

// bucket must be called with mu held.
func (m *memBackend) bucket(name string) (*memBucket, error) {
	b, ok := m.buckets[name]
	if !ok {
		return nil, fmt.Errorf("bucket %s: %w", name, ErrNoSuchBucket)
	}
	return b, nil
}

// readBody reads a whole body, or fails as the contract says: nothing is
// kept of a body that returned an error.
func (m *memBackend) readBody(body io.Reader, size int64) ([]byte, error) {
	data, err := io.ReadAll(body)
	if err == nil && int64(len(data)) != size {
		err = fmt.Errorf("body of %d bytes, %d declared", len(data), size)
	}
	if err != nil {
		if m.bodyFailed != nil {
			m.bodyFailed <- err
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	return data, nil
}

func (m *memBackend) Put(ctx context.Context, bucket, key string, body io.Reader, size int64, meta ObjectMeta) (Object, error) {
	if err := m.HeadBucket(ctx, bucket); err != nil {
		return Object{}, err
	}
	data, err := m.readBody(body, size)
	if err != nil {
		return Object{}, fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	sum := md5.Sum(data)
	meta = cloneMeta(meta)
	meta.ETag = hex.EncodeToString(sum[:])
	return m.store(bucket, key, data, meta)
}

func (m *memBackend) store(bucket, key string, data []byte, meta ObjectMeta) (Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return Object{}, err
	}
	obj := Object{Key: key, Size: int64(len(data)), Modified: m.clock(), Meta: meta}
	b.objects[key] = memObject{obj: obj, data: data}
	return obj, nil
}

func cloneMeta(meta ObjectMeta) ObjectMeta {
	meta.User = maps.Clone(meta.User)
	return meta
}

func (m *memBackend) object(bucket, key string) (memObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return memObject{}, err
	}
	o, ok := b.objects[key]
	if !ok {
		return memObject{}, fmt.Errorf("%s/%s: %w", bucket, key, ErrNoSuchKey)
	}
	return o, nil
}

func (m *memBackend) Head(ctx context.Context, bucket, key string) (Object, error) {
	o, err := m.object(bucket, key)
	return o.obj, err
}

func (m *memBackend) Get(ctx context.Context, bucket, key string, offset, length int64, w io.Writer) error {
	o, err := m.object(bucket, key)
	if err != nil {
		return err
	}
	if offset < 0 || length < 0 || offset+length > int64(len(o.data)) {
		return fmt.Errorf("get %s/%s: bytes %d+%d of %d", bucket, key, offset, length, len(o.data))
	}
	_, err = w.Write(o.data[offset : offset+length])
	return err
}

func (m *memBackend) Delete(ctx context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	if _, ok := b.objects[key]; !ok {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, ErrNoSuchKey)
	}
	delete(b.objects, key)
	return nil
}

func (m *memBackend) Copy(ctx context.Context, srcBucket, srcKey, bucket, key string, meta *ObjectMeta) (Object, error) {
	src, err := m.object(srcBucket, srcKey)
	if err != nil {
		return Object{}, err
	}
	newMeta := cloneMeta(src.obj.Meta)
	if meta != nil {
		newMeta = cloneMeta(*meta)
		newMeta.ETag = src.obj.Meta.ETag
	}
	return m.store(bucket, key, bytes.Clone(src.data), newMeta)
}

func (m *memBackend) List(ctx context.Context, bucket string, q ListQuery) (Listing, error) {
	if q.Max < 1 || q.Max > 1000 {
		return Listing{}, fmt.Errorf("list %s: max %d out of 1..1000", bucket, q.Max)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return Listing{}, err
	}
	var l Listing
	for _, k := range slices.Sorted(maps.Keys(b.objects)) { // Go compares strings byte by byte
		entry, rolled := k, false
		if !strings.HasPrefix(k, q.Prefix) {
			continue
		}
		if cp := commonPrefixOf(k, q.Prefix, q.Delimiter); cp != "" {
			entry, rolled = cp, true
		}
		if entry <= q.After || (rolled && len(l.CommonPrefixes) > 0 && l.CommonPrefixes[len(l.CommonPrefixes)-1] == entry) {
			continue
		}
		if len(l.Objects)+len(l.CommonPrefixes) == q.Max {
			l.Truncated = true
			return l, nil
		}
		if rolled {
			l.CommonPrefixes = append(l.CommonPrefixes, entry)
		} else {
			l.Objects = append(l.Objects, b.objects[k].obj)
		}
		l.Next = entry
	}
	l.Next = ""
	return l, nil
}

func (m *memBackend) CreateUpload(ctx context.Context, bucket, key string, meta ObjectMeta) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return "", err
	}
	m.seq++
	id := fmt.Sprintf("upload-%04d", m.seq)
	b.uploads[id] = &memUpload{up: Upload{ID: id, Key: key, Initiated: m.clock()}, meta: cloneMeta(meta), parts: map[int]memPart{}}
	return id, nil
}

// upload must be called with mu held.
func (m *memBackend) upload(bucket, key, id string) (*memBucket, *memUpload, error) {
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, nil, err
	}
	u, ok := b.uploads[id]
	if !ok || u.up.Key != key {
		return nil, nil, fmt.Errorf("upload %s of %s/%s: %w", id, bucket, key, ErrNoSuchUpload)
	}
	return b, u, nil
}

func (m *memBackend) PutPart(ctx context.Context, bucket, key, uploadID string, number int, body io.Reader, size int64) (Part, error) {
	m.mu.Lock()
	_, _, err := m.upload(bucket, key, uploadID)
	m.mu.Unlock()
	if err != nil {
		return Part{}, err
	}
	data, err := m.readBody(body, size)
	if err != nil {
		return Part{}, fmt.Errorf("part %d of %s: %w", number, uploadID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, u, err := m.upload(bucket, key, uploadID)
	if err != nil {
		return Part{}, err
	}
	sum := md5.Sum(data)
	p := Part{Number: number, ETag: hex.EncodeToString(sum[:]), Size: size, Modified: m.clock()}
	u.parts[number] = memPart{part: p, data: data}
	return p, nil
}

func (m *memBackend) Parts(ctx context.Context, bucket, key, uploadID string) ([]Part, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, u, err := m.upload(bucket, key, uploadID)
	if err != nil {
		return nil, err
	}
	var out []Part
	for _, n := range slices.Sorted(maps.Keys(u.parts)) {
		out = append(out, u.parts[n].part)
	}
	return out, nil
}

func (m *memBackend) Uploads(ctx context.Context, bucket, prefix string) ([]Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	var out []Upload
	for _, u := range b.uploads {
		if strings.HasPrefix(u.up.Key, prefix) {
			out = append(out, u.up)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Key < out[j].Key || out[i].Key == out[j].Key && out[i].ID < out[j].ID
	})
	return out, nil
}

func (m *memBackend) Complete(ctx context.Context, bucket, key, uploadID string, parts []int) (Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, u, err := m.upload(bucket, key, uploadID)
	if err != nil {
		return Object{}, err
	}
	var data, sums []byte
	for _, n := range parts {
		p, ok := u.parts[n]
		if !ok {
			return Object{}, fmt.Errorf("complete %s: part %d: %w", uploadID, n, ErrInvalidPart)
		}
		data = append(data, p.data...)
		sum, _ := hex.DecodeString(p.part.ETag)
		sums = append(sums, sum...)
	}
	total := md5.Sum(sums)
	meta := cloneMeta(u.meta)
	meta.ETag = fmt.Sprintf("%s-%d", hex.EncodeToString(total[:]), len(parts))
	obj := Object{Key: key, Size: int64(len(data)), Modified: m.clock(), Meta: meta}
	b.objects[key] = memObject{obj: obj, data: data}
	delete(b.uploads, uploadID)
	return obj, nil
}

func (m *memBackend) Abort(ctx context.Context, bucket, key, uploadID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, _, err := m.upload(bucket, key, uploadID)
	if err != nil {
		return err
	}
	delete(b.uploads, uploadID)
	return nil
}

// memAccounts is Accounts over a map: each access key its secret and
// storage.
type memAccounts map[string]memAccount

type memAccount struct {
	secret  string
	backend Backend
}

var _ Accounts = memAccounts(nil)

func (a memAccounts) Secret(key string) (string, error) {
	acc, ok := a[key]
	if !ok {
		return "", fmt.Errorf("access key %s: %w", key, sigv4.ErrUnknownKey)
	}
	return acc.secret, nil
}

func (a memAccounts) Backend(key string) (Backend, error) {
	acc, ok := a[key]
	if !ok {
		return nil, fmt.Errorf("access key %s: %w", key, ErrAccessForbidden)
	}
	return acc.backend, nil
}
