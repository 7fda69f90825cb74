package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// upload starts a multipart upload of bucket/key and uploads parts,
// returning its ID and each part's ETag.
func upload(t *testing.T, c *awss3.Client, bucket, key string, parts ...[]byte) (string, []string) {
	t.Helper()
	created, err := c.CreateMultipartUpload(ctx(t), &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		ContentType: aws.String("video/mp4"), Metadata: map[string]string{"origin": "multipart"}})
	if err != nil {
		t.Fatal(err)
	}
	var etags []string
	for i, p := range parts {
		out, err := c.UploadPart(ctx(t), &awss3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		etags = append(etags, *out.ETag)
	}
	return *created.UploadId, etags
}

func completed(numbers []int32, etags []string) *types.CompletedMultipartUpload {
	var parts []types.CompletedPart
	for i, n := range numbers {
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etags[i])})
	}
	return &types.CompletedMultipartUpload{Parts: parts}
}

// multipartETag is S3's ETag of a multipart object: the MD5 of the parts'
// MD5s, and their number.
func multipartETag(parts ...[]byte) string {
	var sums []byte
	for _, p := range parts {
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	total := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(total[:]), len(parts))
}

func TestSDKMultipartUpload(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	parts := [][]byte{bytes.Repeat([]byte("a"), minPartSize), bytes.Repeat([]byte("b"), minPartSize), []byte("tail")}
	id, etags := upload(t, c, "bkt", "movie//take 1.mp4", parts...)

	listed, err := c.ListParts(ctx(t), &awss3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("movie//take 1.mp4"), UploadId: aws.String(id), MaxParts: aws.Int32(2)})
	if err != nil || len(listed.Parts) != 2 || !*listed.IsTruncated || *listed.NextPartNumberMarker != "2" || *listed.Parts[1].ETag != etags[1] || *listed.Parts[0].Size != minPartSize {
		t.Fatalf("list parts: %+v, %v", listed, err)
	}
	rest, err := c.ListParts(ctx(t), &awss3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("movie//take 1.mp4"), UploadId: aws.String(id), PartNumberMarker: listed.NextPartNumberMarker})
	if err != nil || len(rest.Parts) != 1 || *rest.Parts[0].PartNumber != 3 || *rest.IsTruncated {
		t.Fatalf("list parts after 2: %+v, %v", rest, err)
	}
	uploads, err := c.ListMultipartUploads(ctx(t), &awss3.ListMultipartUploadsInput{Bucket: aws.String("bkt")})
	if err != nil || len(uploads.Uploads) != 1 || *uploads.Uploads[0].UploadId != id || *uploads.Uploads[0].Key != "movie//take 1.mp4" {
		t.Fatalf("list uploads: %+v, %v", uploads, err)
	}

	done, err := c.CompleteMultipartUpload(ctx(t), &awss3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("movie//take 1.mp4"),
		UploadId: aws.String(id), MultipartUpload: completed([]int32{1, 2, 3}, etags)})
	if err != nil {
		t.Fatal(err)
	}
	if want := multipartETag(parts...); *done.ETag != want {
		t.Fatalf("ETag %s, want %s", *done.ETag, want)
	}
	got, out := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("movie//take 1.mp4")})
	if !bytes.Equal(got, slices.Concat(parts...)) || *out.ContentType != "video/mp4" || out.Metadata["origin"] != "multipart" || *out.ETag != *done.ETag {
		t.Fatalf("the completed object: %d bytes, type %q, meta %v, etag %s", len(got), *out.ContentType, out.Metadata, *out.ETag)
	}
	tail, _ := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("movie//take 1.mp4"), Range: aws.String("bytes=-6")})
	if string(tail) != "bbtail" {
		t.Fatalf("the last 6 bytes across parts: %q", tail)
	}
	_, err = c.ListParts(ctx(t), &awss3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("movie//take 1.mp4"), UploadId: aws.String(id)})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchUpload")
}

// CompleteMultipartUpload's rules, each refused before the Backend joins
// anything, and the upload still there to be completed right.
func TestSDKMultipartCompletionRules(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	big := bytes.Repeat([]byte("x"), minPartSize)
	id, etags := upload(t, c, "bkt", "k", big, []byte("small"), []byte("last"))
	for _, tc := range []struct {
		name    string
		numbers []int32
		etags   []string
		code    string
	}{
		{"out of order", []int32{2, 1}, []string{etags[1], etags[0]}, "InvalidPartOrder"},
		{"a part twice", []int32{1, 1}, []string{etags[0], etags[0]}, "InvalidPartOrder"},
		{"missing part", []int32{1, 4}, []string{etags[0], etags[0]}, "InvalidPart"},
		{"wrong etag", []int32{1, 2}, []string{etags[0], `"0123"`}, "InvalidPart"},
		{"small part before the last", []int32{1, 2, 3}, etags, "EntityTooSmall"},
	} {
		_, err := c.CompleteMultipartUpload(ctx(t), &awss3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
			UploadId: aws.String(id), MultipartUpload: completed(tc.numbers, tc.etags)})
		wantSDKError(t, err, http.StatusBadRequest, tc.code)
	}
	_, err := c.CompleteMultipartUpload(ctx(t), &awss3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{}})
	wantSDKError(t, err, http.StatusBadRequest, "MalformedXML")
	// Parts may be skipped: 1 and 3 make the object.
	done, err := c.CompleteMultipartUpload(ctx(t), &awss3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		UploadId: aws.String(id), MultipartUpload: completed([]int32{1, 3}, []string{etags[0], etags[2]})})
	if err != nil {
		t.Fatal(err)
	}
	if want := multipartETag(big, []byte("last")); *done.ETag != want {
		t.Fatalf("ETag %s, want %s", *done.ETag, want)
	}

	id2, _ := upload(t, c, "bkt", "aborted", []byte("p"))
	if _, err := c.AbortMultipartUpload(ctx(t), &awss3.AbortMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("aborted"), UploadId: aws.String(id2)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx(t), &awss3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("aborted"), UploadId: aws.String(id2), PartNumber: aws.Int32(2), Body: strings.NewReader("x")})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchUpload")
	_, err = c.AbortMultipartUpload(ctx(t), &awss3.AbortMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("aborted"), UploadId: aws.String(id2)})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchUpload")
	for _, n := range []int32{0, 10001} {
		_, err = c.UploadPart(ctx(t), &awss3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: aws.String(id), PartNumber: aws.Int32(n), Body: strings.NewReader("x")})
		wantSDKError(t, err, http.StatusBadRequest, "InvalidArgument")
	}
}

func TestSDKListMultipartUploads(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	for _, k := range []string{"a/1", "a/2", "b", "b", "c/d/e"} {
		upload(t, c, "bkt", k)
	}
	var keys, prefixes []string
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String("bkt"), Delimiter: aws.String("/"), MaxUploads: aws.Int32(1)}
	for range 10 {
		page, err := c.ListMultipartUploads(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Uploads {
			keys = append(keys, *u.Key)
		}
		for _, p := range page.CommonPrefixes {
			prefixes = append(prefixes, *p.Prefix)
		}
		if !*page.IsTruncated {
			break
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
	if !slices.Equal(keys, []string{"b", "b"}) || !slices.Equal(prefixes, []string{"a/", "c/"}) {
		t.Fatalf("uploads %q, prefixes %q", keys, prefixes)
	}
}
