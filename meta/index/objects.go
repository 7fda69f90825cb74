package index

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// S3's view of the namespace (DESIGN §9). Every file whose path is an
// object (ObjectKey) has a record a/<owner>\x00<bucket>\x00<key>, written
// and removed with the file, so a bucket's keys are contiguous and sorted
// in S3's order, UTF-8 byte order of the whole key, and ListObjects reads a
// prefix at every depth in one scan. Buckets that CreateBucket made are
// b/<owner>\x00<bucket> records; a top-level directory with files in it is
// a bucket too.

// ErrNotEmpty is a bucket that still holds files.
var ErrNotEmpty = errors.New("not empty")

const (
	prefixObjectKey = "a/"
	prefixBucket    = "b/"
	// MaxObjectMeta bounds the bytes of an object's metadata (S3 allows
	// 2 KiB of user metadata; the rest are a few headers).
	MaxObjectMeta = 8 << 10
	maxListLimit  = 1000
)

func objectKeyPrefix(owner, bucket string) []byte {
	return []byte(prefixObjectKey + owner + string(sepOwner) + bucket + string(sepOwner))
}

func bucketKey(owner, bucket string) []byte {
	return []byte(prefixBucket + owner + string(sepOwner) + bucket)
}

// dirPrefix is the prefix of every file key below the directory /name.
func dirPrefix(owner, name string) []byte { return append(fileKey(owner, "/"+name), sepPathByte) }

// noteObject adds or removes the object record of the file at path, if
// the path is an object.
func (t *txn) noteObject(owner, path string, present bool) {
	bucket, key, ok := ObjectKey(path)
	if !ok {
		return
	}
	k := append(objectKeyPrefix(owner, bucket), key...)
	if present {
		t.setRaw(k, []byte{})
	} else {
		t.del(k)
	}
}

// checkObjectMeta bounds metadata and keeps its encoding canonical: user
// names unique, lower-case and sorted.
func checkObjectMeta(m *metav1.ObjectMeta) error {
	if m == nil {
		return nil
	}
	size := len(m.ContentType) + len(m.ContentDisposition) + len(m.ContentEncoding) + len(m.CacheControl) + len(m.Etag)
	for i, p := range m.User {
		size += len(p.Name) + len(p.Value)
		switch {
		case p.Name == "" || p.Name != strings.ToLower(p.Name) || strings.ContainsAny(p.Name, " :\t"):
			return badCommand("object metadata: bad name %q", clip(p.Name))
		case i > 0 && m.User[i-1].Name >= p.Name:
			return badCommand("object metadata: names not sorted and unique at %q", clip(p.Name))
		}
	}
	if size > MaxObjectMeta {
		return badCommand("object metadata of %d bytes, more than %d", size, MaxObjectMeta)
	}
	return nil
}

func (t *txn) makeBucket(now int64, c *metav1.MakeBucketCmd) (*metav1.CommandResult, error) {
	if err := checkBucketCmd(c.GetOwner(), c.GetBucket()); err != nil {
		return nil, fmt.Errorf("make bucket: %w", err)
	}
	key := bucketKey(c.Owner, c.Bucket)
	if _, err := t.get(key, false); err == nil {
		return nil, fmt.Errorf("bucket %s %s: %w", c.Owner, c.Bucket, ErrExists)
	} else if !isNotFound(err) {
		return nil, err
	}
	if err := t.set(key, &metav1.BucketEntry{Name: c.Bucket, CreatedUnixNano: now}); err != nil {
		return nil, err
	}
	return &metav1.CommandResult{}, nil
}

func (t *txn) removeBucket(c *metav1.RemoveBucketCmd) (*metav1.CommandResult, error) {
	if err := checkBucketCmd(c.GetOwner(), c.GetBucket()); err != nil {
		return nil, fmt.Errorf("remove bucket: %w", err)
	}
	files, err := t.ix.hasAny(dirPrefix(c.Owner, c.Bucket))
	if err != nil {
		return nil, err
	}
	if files {
		return nil, fmt.Errorf("bucket %s %s: %w", c.Owner, c.Bucket, ErrNotEmpty)
	}
	key := bucketKey(c.Owner, c.Bucket)
	if _, err := t.get(key, false); isNotFound(err) {
		return nil, fmt.Errorf("bucket %s %s: %w", c.Owner, c.Bucket, ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	t.del(key)
	return &metav1.CommandResult{}, nil
}

func checkBucketCmd(owner, bucket string) error {
	if err := checkName("owner", owner); err != nil {
		return err
	}
	if reason := componentProblem(bucket); reason != "" {
		return badCommand("bucket %q: %s", clip(bucket), reason)
	}
	return nil
}

// hasAny says whether a logical key begins with prefix.
func (ix *Index) hasAny(prefix []byte) (bool, error) {
	found := false
	err := ix.scan(prefix, func(_, _ []byte) error { found = true; return errStop })
	return found, err
}

// composeFile makes c.Path from the sources' slices, in order, and removes
// the sources unless c.KeepSources. The slices are already stored and counted: the new file
// adds references to them before the sources drop theirs, so none is
// released.
func (t *txn) composeFile(now int64, c *metav1.ComposeFileCmd) (*metav1.CommandResult, error) {
	owner := c.GetOwner()
	if err := checkName("owner", owner); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	path, err := commandPath(c.GetPath())
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	if len(c.GetSources()) == 0 {
		return nil, badCommand("compose %s: no sources", path)
	}
	if err := checkObjectMeta(c.GetObject()); err != nil {
		return nil, fmt.Errorf("compose %s: %w", path, err)
	}
	f := &metav1.FileEntry{Owner: owner, Path: path, Object: c.GetObject()}
	var ids []slice.ID
	for _, src := range c.GetSources() {
		s, err := t.sourceFile(owner, src)
		if err != nil {
			return nil, fmt.Errorf("compose %s: %w", path, err)
		}
		if s.Path == path {
			return nil, badCommand("compose %s: the file is its own source", path)
		}
		if s.Encrypted {
			// A copy of an encrypted file is the same ciphertext, which
			// its header opens; two joined would be no encrypted file.
			if len(c.GetSources()) > 1 {
				return nil, badCommand("compose %s: source %s is encrypted: an encrypted file is copied whole, never joined", path, s.Path)
			}
			f.Encrypted = true
		}
		for _, ref := range s.Slices {
			id, err := slice.ParseID(ref.Id)
			if err != nil {
				return nil, fmt.Errorf("compose %s: index corrupt: %w", path, err)
			}
			ids = append(ids, id)
			f.Slices = append(f.Slices, ref)
		}
		f.Size += s.Size
	}
	f.FileId = slice.Root(ids).String()
	res, err := t.writeFile(now, f, make([]*metav1.ReplicaSet, len(f.Slices)))
	if err != nil {
		return nil, fmt.Errorf("compose %s: %w", path, err)
	}
	if c.KeepSources {
		return res, nil
	}
	for _, src := range slices.Compact(slices.Sorted(slices.Values(c.Sources))) {
		del, err := t.deleteFile(&metav1.DeleteFileCmd{Owner: owner, Path: src})
		if err != nil {
			return nil, fmt.Errorf("compose %s: %w", path, err)
		}
		res.Released = append(res.Released, del.Released...)
	}
	return res, nil
}

func (t *txn) sourceFile(owner, src string) (*metav1.FileEntry, error) {
	p, err := commandPath(src)
	if err != nil {
		return nil, err
	}
	s := new(metav1.FileEntry)
	found, err := t.getMsg(fileKey(owner, p), s, true)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("source %s %s: %w", owner, p, ErrNotFound)
	}
	return s, nil
}

// Buckets returns owner's buckets, sorted by name: those CreateBucket made
// and the top-level directories that hold files. With name set, only that
// one, if it exists.
func (ix *Index) Buckets(owner, name string) ([]*metav1.BucketEntry, error) {
	if err := checkName("owner", owner); err != nil {
		return nil, fmt.Errorf("buckets: %w", err)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if name != "" {
		return ix.bucket(owner, name)
	}
	byName := map[string]*metav1.BucketEntry{}
	err := ix.scan(bucketKey(owner, ""), func(k, v []byte) error {
		b := new(metav1.BucketEntry)
		if err := proto.Unmarshal(v, b); err != nil {
			return fmt.Errorf("index corrupt: decode %q: %w", k, err)
		}
		byName[b.Name] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("buckets: %w", err)
	}
	dirs, err := ix.topDirs(owner)
	if err != nil {
		return nil, fmt.Errorf("buckets: %w", err)
	}
	for _, d := range dirs {
		if byName[d.Name] == nil {
			byName[d.Name] = d
		}
	}
	out := slices.Collect(maps.Values(byName))
	slices.SortFunc(out, func(a, b *metav1.BucketEntry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (ix *Index) bucket(owner, name string) ([]*metav1.BucketEntry, error) {
	if reason := componentProblem(name); reason != "" {
		return nil, nil
	}
	b := new(metav1.BucketEntry)
	if err := ix.getMsg(bucketKey(owner, name), b); err == nil {
		return []*metav1.BucketEntry{b}, nil
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	return ix.dirBucket(owner, name)
}

// dirBucket is the top-level directory name as a bucket, dated by the
// first file in it; none if it holds no file.
func (ix *Index) dirBucket(owner, name string) ([]*metav1.BucketEntry, error) {
	var out []*metav1.BucketEntry
	err := ix.scan(dirPrefix(owner, name), func(_, v []byte) error {
		out = append(out, &metav1.BucketEntry{Name: name, CreatedUnixNano: createdOf(v)})
		return errStop
	})
	return out, err
}

// topDirs returns the top-level directories of owner as buckets.
func (ix *Index) topDirs(owner string) ([]*metav1.BucketEntry, error) {
	l := lister{ix: ix, prefix: append(fileKey(owner, ""), sepPathByte), limit: 1 << 30}
	if err := l.run(""); err != nil {
		return nil, err
	}
	var out []*metav1.BucketEntry
	for _, e := range l.out {
		if !e.Dir {
			continue
		}
		b, err := ix.dirBucket(owner, e.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

func createdOf(v []byte) int64 {
	f := new(metav1.FileEntry)
	if err := proto.Unmarshal(v, f); err != nil {
		return 0
	}
	return f.CreatedUnixNano
}

// ListObjects lists owner's bucket under prefix in UTF-8 byte order of
// the keys, every depth at once (S3's ListObjectsV2). With a delimiter,
// the keys that hold it after the prefix are rolled up into one common
// prefix each, and the scan seeks past them. It resumes strictly after
// after (a key or a common prefix) and returns at most limit objects plus
// common prefixes (1..1000). next is the last one returned.
func (ix *Index) ListObjects(owner, bucket, prefix, delimiter, after string, limit int) (*metav1.ListObjectsResponse, error) {
	if err := checkBucketCmd(owner, bucket); err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	if limit <= 0 || limit > maxListLimit {
		limit = maxListLimit
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	o := objectLister{ix: ix, owner: owner, bucket: bucket, base: objectKeyPrefix(owner, bucket),
		prefix: prefix, delimiter: delimiter, after: after, limit: limit, out: &metav1.ListObjectsResponse{}}
	if err := o.run(); err != nil {
		return nil, fmt.Errorf("list objects %s: %w", bucket, err)
	}
	return o.out, nil
}

type objectLister struct {
	ix                       *Index
	owner, bucket            string
	base                     []byte
	prefix, delimiter, after string
	limit                    int
	out                      *metav1.ListObjectsResponse
}

func (o *objectLister) full() bool { return len(o.out.Objects)+len(o.out.CommonPrefixes) == o.limit }

func (o *objectLister) run() error {
	from := append(bytes.Clone(o.base), o.prefix...)
	if o.after >= o.prefix {
		// The smallest key above after: keys hold no NUL.
		from = append(append(bytes.Clone(o.base), o.after...), 0)
	}
	end := phys(o.ix.gen, kv.PrefixEnd(append(bytes.Clone(o.base), o.prefix...)))
	for from != nil {
		seek := from
		from = nil
		err := o.ix.store.Scan(phys(o.ix.gen, seek), end, func(k, _ []byte) error {
			key := string(k[1+len(o.base):])
			if cp, ok := o.commonPrefix(key); ok {
				// Seek past every key under cp; UTF-8 never holds 0xff.
				from = append(append(bytes.Clone(o.base), cp...), 0xff)
				if cp <= o.after {
					return kv.ErrStop // resuming inside a prefix already given
				}
				return o.emit(key, cp, nil)
			}
			return o.emitObject(key)
		})
		if errors.Is(err, errFull) {
			o.out.Truncated = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var errFull = errors.New("page full")

func (o *objectLister) commonPrefix(key string) (string, bool) {
	if o.delimiter == "" {
		return "", false
	}
	i := strings.Index(key[len(o.prefix):], o.delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(o.prefix)+i+len(o.delimiter)], true
}

func (o *objectLister) emitObject(key string) error {
	p, err := ObjectPath(o.bucket, key)
	if err != nil {
		return fmt.Errorf("index corrupt: object record %q: %w", clip(key), err)
	}
	f := new(metav1.FileEntry)
	if err := o.ix.getMsg(fileKey(o.owner, p), f); err != nil {
		return fmt.Errorf("index corrupt: object %q without its file: %w", clip(key), err)
	}
	return o.emit(key, "", f)
}

// emit adds an object (f set) or a common prefix, or stops the scan when
// the page is full: the item exists, so the listing is truncated.
func (o *objectLister) emit(key, cp string, f *metav1.FileEntry) error {
	if o.full() {
		return errFull
	}
	if f != nil {
		o.out.Objects = append(o.out.Objects, &metav1.ObjectEntry{Key: key, File: f})
		o.out.Next = key
		return nil
	}
	o.out.CommonPrefixes = append(o.out.CommonPrefixes, cp)
	o.out.Next = cp
	return kv.ErrStop
}
