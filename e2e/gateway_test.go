package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/gateway"
	"github.com/stratos-net/stratos/gateway/keys"
	"github.com/stratos-net/stratos/internal/cluster"
)

// gatewayOn starts an S3 gateway over the cluster, for the cluster's test
// account, and returns an AWS SDK client signed with its key.
func gatewayOn(t testing.TB, c *cluster.Cluster) (*awss3.Client, string) {
	t.Helper()
	ks, err := keys.Open(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ks.Create("user", "test-account", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := gateway.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Stream = c.Client()
	g, err := gateway.Start(cfg, ks, func(keys.Key) (gateway.Files, error) { return c.Client(), nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	s3c := awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(g.URL()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(k.AccessKey, k.SecretKey, ""),
	})
	return s3c, g.URL()
}

// Issue 9: stock S3 clients work against the network, and what S3 writes
// is an ordinary file for the SDK (and the CLI), and the other way round.
func TestGatewayS3OverTheNetwork(t *testing.T) {
	c := cluster.Start(t, cluster.DefaultOptions())
	s3c, _ := gatewayOn(t, c)
	files := c.Client()
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	body := randomBytes(1, 700<<10) // three 256 KiB slices
	keysIn := []string{"cat.jpg", "a//b", "dir/", "x/../y", "sp ace/ünï", "a-c", "a/b"}
	for _, k := range keysIn {
		_, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(k),
			Body: bytes.NewReader(body), ContentType: aws.String("image/jpeg"), Metadata: map[string]string{"camera": "pinhole"}})
		if err != nil {
			t.Fatalf("put %q: %v", k, err)
		}
	}
	// S3's order: UTF-8 bytes of the whole key, so "a-c" before "a/b".
	var listed []string
	p := awss3.NewListObjectsV2Paginator(s3c, &awss3.ListObjectsV2Input{Bucket: aws.String("photos"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			listed = append(listed, *o.Key)
		}
	}
	want := slices.Sorted(slices.Values(keysIn))
	if !slices.Equal(listed, want) {
		t.Fatalf("listed %q, want %q", listed, want)
	}
	// A range read fetches the slices it needs and no more.
	got, err := s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("a//b"), Range: aws.String("bytes=300000-300099")})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(got.Body)
	if !bytes.Equal(part, body[300000:300100]) || *got.ContentType != "image/jpeg" || got.Metadata["camera"] != "pinhole" {
		t.Fatalf("range: %d bytes, type %q, metadata %v", len(part), *got.ContentType, got.Metadata)
	}
	// The object is a file at its escaped path for the SDK and the CLI.
	var buf bytes.Buffer
	if _, err := files.Get(ctx, "/photos/a/%!/b", &buf, client.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("the object a//b as a file: %d bytes, %v", buf.Len(), err)
	}
	// And a file put by the SDK is an object.
	put(t, files, "/photos/from-cli.txt", []byte("hello"))
	head, err := s3c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("from-cli.txt")})
	if err != nil || *head.ContentLength != 5 {
		t.Fatalf("head of a CLI file: %v, %v", head, err)
	}
	// Copy moves no bytes: the copy shares the source's slices.
	if _, err := s3c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("copy.jpg"), CopySource: aws.String("photos/cat.jpg")}); err != nil {
		t.Fatal(err)
	}
	src, _ := files.Stat(ctx, "/photos/cat.jpg")
	cp, err := files.Stat(ctx, "/photos/copy.jpg")
	if err != nil || cp.File.FileId != src.File.FileId {
		t.Fatalf("copy: %v, %v", cp, err)
	}
	// x-amz-server-side-encryption: AES256 seals the object in the
	// gateway: the network holds ciphertext; S3 reads give the plaintext,
	// ranges too, with the header; a copy stays encrypted.
	if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("sealed.jpg"),
		Body: bytes.NewReader(body), ServerSideEncryption: types.ServerSideEncryptionAes256}); err != nil {
		t.Fatal(err)
	}
	st, err := files.Stat(ctx, "/photos/sealed.jpg")
	if err != nil || !st.File.GetEncrypted() || client.PlainSize(st.File) != int64(len(body)) {
		t.Fatalf("stored: %v, %v", st, err)
	}
	var stored bytes.Buffer
	if err := files.GetStoredRange(ctx, "/photos/sealed.jpg", 0, int64(st.File.GetSize()), &stored); err != nil || bytes.Contains(stored.Bytes(), body[:4096]) {
		t.Fatalf("the network holds plaintext (%v)", err)
	}
	for _, rng := range []string{"", "bytes=65530-200000"} {
		in := &awss3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("sealed.jpg")}
		want := body
		if rng != "" {
			in.Range, want = aws.String(rng), body[65530:200001]
		}
		got, err := s3c.GetObject(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(got.Body)
		if !bytes.Equal(b, want) || got.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("GET %q of the encrypted object: %d bytes, sse %q", rng, len(b), got.ServerSideEncryption)
		}
	}
	if _, err := s3c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("sealed-copy.jpg"), CopySource: aws.String("photos/sealed.jpg")}); err != nil {
		t.Fatal(err)
	}
	if head, err := s3c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("sealed-copy.jpg")}); err != nil ||
		head.ServerSideEncryption != types.ServerSideEncryptionAes256 || *head.ContentLength != int64(len(body)) {
		t.Fatalf("head of the copy: %+v, %v", head, err)
	}
	// A bucket with objects cannot be deleted.
	_, err = s3c.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String("photos")})
	if !strings.Contains(errText(err), "BucketNotEmpty") {
		t.Fatalf("delete a full bucket: %v, want BucketNotEmpty", err)
	}
	_, err = s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("none")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("get a missing key: %v, want NoSuchKey", err)
	}
}

// A multipart upload stores each part as it arrives; completing it joins
// the parts' slices in the index, and the object reads back whole.
func TestGatewayMultipartOverTheNetwork(t *testing.T) {
	opts := cluster.DefaultOptions()
	opts.SliceSize = 1 << 20
	c := cluster.Start(t, opts)
	s3c, url := gatewayOn(t, c)
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("videos")}); err != nil {
		t.Fatal(err)
	}
	body := randomBytes(2, 12<<20+12345)
	up, err := s3c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("videos"), Key: aws.String("movie.mp4"), ContentType: aws.String("video/mp4")})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for i, off := 0, 0; off < len(body); i++ {
		end := min(off+5<<20, len(body))
		r, err := s3c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String("videos"), Key: aws.String("movie.mp4"),
			UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body[off:end])})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{ETag: r.ETag, PartNumber: aws.Int32(int32(i + 1))})
		off = end
	}
	uploads, err := s3c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String("videos")})
	if err != nil || len(uploads.Uploads) != 1 || *uploads.Uploads[0].Key != "movie.mp4" {
		t.Fatalf("uploads: %v, %v", uploads, err)
	}
	fin, err := s3c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String("videos"), Key: aws.String("movie.mp4"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Trim(*fin.ETag, `"`), "-3") {
		t.Fatalf("multipart ETag %s, want the -3 form", *fin.ETag)
	}
	presign := awss3.NewPresignClient(s3c)
	req, err := presign.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("videos"), Key: aws.String("movie.mp4")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.URL, url) {
		t.Fatalf("presigned %s outside %s", req.URL, url)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("presigned GET: %d, %d bytes, %s", resp.StatusCode, len(got), resp.Header.Get("Content-Type"))
	}
	if left, _ := c.Client().List(ctx, "/.uploads/videos"); len(left) != 0 {
		t.Fatalf("upload files left after completion: %v", left)
	}
}

// Issue 9: /stream/ serves any file with ranges, so a browser plays and
// seeks; S3 requests, always signed, still reach a bucket named "stream".
func TestGatewayStreamsWithRanges(t *testing.T) {
	c := cluster.Start(t, cluster.DefaultOptions())
	s3c, url := gatewayOn(t, c)
	movie := randomBytes(5, 2<<20+777) // 9 slices of 256 KiB
	put(t, c.Client(), "/videos/movie.mp4", movie)
	ctx := context.Background()
	st, err := c.Client().Stat(ctx, "/videos/movie.mp4")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, rng string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := get("/stream/videos/movie.mp4", "")
	if resp.StatusCode != 200 || !bytes.Equal(b, movie) || resp.Header.Get("Content-Type") != "video/mp4" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("whole file: %s, %d bytes, %q", resp.Status, len(b), resp.Header.Get("Content-Type"))
	}
	resp, b = get("/stream/videos/movie.mp4", "bytes=1500000-") // a seek, as a browser sends it
	if resp.StatusCode != 206 || !bytes.Equal(b, movie[1500000:]) {
		t.Fatalf("seek: %s, %d bytes", resp.Status, len(b))
	}
	resp, b = get("/stream/"+st.File.FileId, "bytes=10-19")
	if resp.StatusCode != 206 || !bytes.Equal(b, movie[10:20]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(movie)) {
		t.Fatalf("by file ID: %s, %q, %q", resp.Status, b, resp.Header.Get("Content-Range"))
	}
	if resp, _ = get("/stream/videos/movie.mp4", fmt.Sprintf("bytes=%d-", len(movie)+5)); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("range past the end: %s", resp.Status)
	}
	if resp, _ = get("/stream/videos/none.mp4", ""); resp.StatusCode != 404 {
		t.Fatalf("missing file: %s", resp.Status)
	}
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("stream")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("stream"), Key: aws.String("k"), Body: strings.NewReader("s3")}); err != nil {
		t.Fatalf("S3 PUT into a bucket named stream: %v", err)
	}
	// Prometheus: the runtime, and what was served.
	resp, b = get("/metrics", "")
	for _, want := range []string{"go_goroutines", `stratos_gateway_http_requests_total{api="stream",code="206",method="GET"} 2`,
		`stratos_gateway_http_requests_total{api="s3",code="200",method="PUT"}`, "stratos_gateway_http_sent_bytes_total"} {
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("/metrics: %s, no %q in\n%s", resp.Status, want, b)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
