package s3

import (
	"bytes"
	"io"
	"net/url"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/stratos-net/stratos/gateway/sigv4"
)

// MinIO's Go client is a second stock client, written apart from the AWS
// SDK. Over plain HTTP it signs every chunk of an upload
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), and with a checksum its trailer
// too (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
func TestMinioClient(t *testing.T) {
	h := newHarness(t, false)
	u, err := url.Parse(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds: miniocreds.NewStaticV4(testKey, testSecret, ""), Region: testRegion,
		BucketLookup: minio.BucketLookupPath, TrailingHeaders: true, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx(t), "mbkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	small := []byte("signed, chunk by chunk")
	big := bytes.Repeat([]byte("0123456789"), 700_000) // 7 MB: a multipart upload of 5 MiB parts
	for _, tc := range []struct {
		key  string
		data []byte
		opts minio.PutObjectOptions
	}{
		{"chunked/small", small, minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"note": "minio"}}},
		{"chunked/trailer", small, minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C}},
		{"chunked/big", big, minio.PutObjectOptions{PartSize: minPartSize}},
		{"a//b/../c", small, minio.PutObjectOptions{}},
	} {
		info, err := mc.PutObject(ctx(t), "mbkt", tc.key, bytes.NewReader(tc.data), int64(len(tc.data)), tc.opts)
		if err != nil {
			t.Fatalf("put %s: %v", tc.key, err)
		}
		obj, err := mc.GetObject(ctx(t), "mbkt", tc.key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("get %s: %d bytes, %v", tc.key, len(got), err)
		}
		if stat, err := mc.StatObject(ctx(t), "mbkt", tc.key, minio.StatObjectOptions{}); err != nil || stat.ETag != info.ETag {
			t.Fatalf("stat %s: %+v, %v (put ETag %s)", tc.key, stat, err, info.ETag)
		}
	}
	stat, err := mc.StatObject(ctx(t), "mbkt", "chunked/small", minio.StatObjectOptions{})
	if err != nil || stat.ContentType != "text/plain" || stat.UserMetadata["Note"] != "minio" {
		t.Fatalf("metadata: %q %v, %v", stat.ContentType, stat.UserMetadata, err)
	}
	var keys []string
	for o := range mc.ListObjects(ctx(t), "mbkt", minio.ListObjectsOptions{Recursive: true, MaxKeys: 2}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if want := []string{"a//b/../c", "chunked/big", "chunked/small", "chunked/trailer"}; !slices.Equal(keys, want) {
		t.Fatalf("listed %q, want %q", keys, want)
	}
	modes := map[string]bool{}
	for _, r := range h.requests() {
		modes[r.Header.Get("X-Amz-Content-Sha256")] = true
	}
	if !modes[sigv4.StreamingPayload] || !modes[sigv4.StreamingPayloadTrailer] {
		t.Fatalf("MinIO sent the payload modes %v: the signed chunks were not tested", modes)
	}
	if err := mc.RemoveObject(ctx(t), "mbkt", "chunked/big", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}
