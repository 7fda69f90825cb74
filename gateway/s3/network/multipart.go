package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/gateway/s3"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// A multipart upload is a file /.uploads/<bucket>/<id> holding the
// object's metadata and key, and one file per part below it. Each part is
// stored as slices when it arrives; Complete composes the parts' slices
// into the object in the index and removes the parts.

func uploadPath(bucket, id string) string { return uploadsDir + "/" + bucket + "/" + id }

func partPath(bucket, id string, n int) string {
	return fmt.Sprintf("%s/%05d", uploadPath(bucket, id), n)
}

func (b *Backend) CreateUpload(ctx context.Context, bucket, key string, meta s3.ObjectMeta) (string, error) {
	if err := b.HeadBucket(ctx, bucket); err != nil {
		return "", err
	}
	if _, err := objectPath(bucket, key); err != nil {
		return "", err
	}
	raw := make([]byte, 16)
	rand.Read(raw)
	id := hex.EncodeToString(raw)
	m := meta
	m.User = map[string]string{keyMeta: key}
	for k, v := range meta.User {
		m.User[k] = v
	}
	if _, err := b.files.Put(ctx, uploadPath(bucket, id), strings.NewReader(""), 0, client.PutOptions{
		Object: func() *metav1.ObjectMeta { return toProto(m) },
	}); err != nil {
		return "", mapErr(err, s3.ErrNoSuchBucket)
	}
	return id, nil
}

// upload returns the open upload's entry, checking that it is for key.
func (b *Backend) upload(ctx context.Context, bucket, key, id string) (*metav1.FileEntry, error) {
	if !validUploadID(id) {
		return nil, fmt.Errorf("upload %q: %w", id, s3.ErrNoSuchUpload)
	}
	st, err := b.files.Stat(ctx, uploadPath(bucket, id))
	if err != nil {
		return nil, mapErr(err, s3.ErrNoSuchUpload)
	}
	if uploadKey(st.GetFile()) != key {
		return nil, fmt.Errorf("upload %s is not for key %q: %w", id, key, s3.ErrNoSuchUpload)
	}
	return st.GetFile(), nil
}

func validUploadID(id string) bool {
	_, err := hex.DecodeString(id)
	return len(id) == 32 && err == nil
}

func uploadKey(f *metav1.FileEntry) string {
	for _, p := range f.GetObject().GetUser() {
		if p.GetName() == keyMeta {
			return p.GetValue()
		}
	}
	return ""
}

func (b *Backend) PutPart(ctx context.Context, bucket, key, id string, n int, body io.Reader, size int64) (s3.Part, error) {
	if _, err := b.upload(ctx, bucket, key, id); err != nil {
		return s3.Part{}, err
	}
	f, err := b.putFile(ctx, partPath(bucket, id, n), body, size, s3.ObjectMeta{})
	if err != nil {
		return s3.Part{}, err
	}
	return toPart(n, f), nil
}

func toPart(n int, f *metav1.FileEntry) s3.Part {
	return s3.Part{Number: n, ETag: f.GetObject().GetEtag(), Size: int64(f.GetSize()), Modified: time.Unix(0, f.GetCreatedUnixNano()).UTC()}
}

func (b *Backend) Parts(ctx context.Context, bucket, key, id string) ([]s3.Part, error) {
	if _, err := b.upload(ctx, bucket, key, id); err != nil {
		return nil, err
	}
	return b.parts(ctx, bucket, id)
}

func (b *Backend) parts(ctx context.Context, bucket, id string) ([]s3.Part, error) {
	es, err := b.files.List(ctx, uploadPath(bucket, id))
	if err != nil {
		return nil, mapErr(err, s3.ErrNoSuchUpload)
	}
	var out []s3.Part
	for _, e := range es {
		n, err := strconv.Atoi(e.GetName())
		if e.GetFile() == nil || err != nil {
			continue
		}
		out = append(out, toPart(n, e.GetFile()))
	}
	return out, nil
}

func (b *Backend) Uploads(ctx context.Context, bucket, prefix string) ([]s3.Upload, error) {
	if err := b.HeadBucket(ctx, bucket); err != nil {
		return nil, err
	}
	es, err := b.files.List(ctx, uploadsDir+"/"+bucket)
	if err != nil {
		return nil, mapErr(err, s3.ErrNoSuchBucket)
	}
	var out []s3.Upload
	for _, e := range es {
		f := e.GetFile()
		if f == nil || !validUploadID(e.GetName()) {
			continue
		}
		if key := uploadKey(f); strings.HasPrefix(key, prefix) {
			out = append(out, s3.Upload{ID: e.GetName(), Key: key, Initiated: time.Unix(0, f.GetCreatedUnixNano()).UTC()})
		}
	}
	return out, nil
}

// Complete joins the named parts into the object, in the index; parts not
// named are discarded, as S3 does.
func (b *Backend) Complete(ctx context.Context, bucket, key, id string, numbers []int) (s3.Object, error) {
	up, err := b.upload(ctx, bucket, key, id)
	if err != nil {
		return s3.Object{}, err
	}
	have, err := b.parts(ctx, bucket, id)
	if err != nil {
		return s3.Object{}, err
	}
	byNumber := map[int]s3.Part{}
	for _, p := range have {
		byNumber[p.Number] = p
	}
	var sources, etags []string
	for _, n := range numbers {
		p, ok := byNumber[n]
		if !ok {
			return s3.Object{}, fmt.Errorf("part %d: %w", n, s3.ErrInvalidPart)
		}
		sources, etags = append(sources, partPath(bucket, id, n)), append(etags, p.ETag)
		delete(byNumber, n)
	}
	if len(sources) == 0 {
		return s3.Object{}, fmt.Errorf("no parts: %w", s3.ErrInvalidPart)
	}
	meta := fromProto(up.GetObject())
	delete(meta.User, keyMeta)
	meta.ETag = partsETag(etags)
	to, err := objectPath(bucket, key)
	if err != nil {
		return s3.Object{}, err
	}
	f, err := b.files.Compose(ctx, to, sources, toProto(meta), false)
	if err != nil {
		return s3.Object{}, mapErr(err, s3.ErrInvalidPart)
	}
	for n := range byNumber {
		b.remove(ctx, partPath(bucket, id, n))
	}
	b.remove(ctx, uploadPath(bucket, id))
	return toObject(key, f), nil
}

func (b *Backend) Abort(ctx context.Context, bucket, key, id string) error {
	if _, err := b.upload(ctx, bucket, key, id); err != nil {
		return err
	}
	parts, err := b.parts(ctx, bucket, id)
	if err != nil {
		return err
	}
	for _, p := range parts {
		b.remove(ctx, partPath(bucket, id, p.Number))
	}
	b.remove(ctx, uploadPath(bucket, id))
	return nil
}

// remove deletes a file the upload no longer needs; one already gone is
// fine, and one that stays is only logged: the object does not depend on
// it, and it stays listed under /.uploads for its owner to see.
func (b *Backend) remove(ctx context.Context, p string) {
	if _, err := b.files.Remove(ctx, p); err != nil && !errors.Is(err, client.ErrNotFound) {
		b.log.Warn("multipart clean-up failed", "path", p, "err", err)
	}
}
