package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// The tests in this file drive the gateway with the AWS SDK for Go's own
// S3 client, as a stock client would (DESIGN §9).

// apiError's code and status, as the SDK reports them.
func sdkError(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func wantSDKError(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d %s", status, code)
	}
	gotCode, gotStatus := sdkError(err)
	if gotStatus != status || (code != "" && gotCode != code) {
		t.Fatalf("%d %s, want %d %s: %v", gotStatus, gotCode, status, code, err)
	}
}

func mustCreateBucket(t *testing.T, c *awss3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(ctx(t), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

func mustPut(t *testing.T, c *awss3.Client, bucket, key string, data []byte) *awss3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(ctx(t), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return out
}

func mustGet(t *testing.T, c *awss3.Client, in *awss3.GetObjectInput) ([]byte, *awss3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(ctx(t), in)
	if err != nil {
		t.Fatalf("get %s/%s: %v", *in.Bucket, *in.Key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s/%s: %v", *in.Bucket, *in.Key, err)
	}
	return data, out
}

func TestSDKBuckets(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	for _, name := range []string{"photos", "a.b-c", "zeta"} {
		mustCreateBucket(t, c, name)
	}
	_, err := c.CreateBucket(ctx(t), &awss3.CreateBucketInput{Bucket: aws.String("photos")})
	wantSDKError(t, err, http.StatusConflict, "BucketAlreadyOwnedByYou")
	_, err = c.CreateBucket(ctx(t), &awss3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	wantSDKError(t, err, http.StatusBadRequest, "InvalidBucketName")

	list, err := c.ListBuckets(ctx(t), &awss3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Buckets {
		names = append(names, *b.Name)
		if b.CreationDate == nil || time.Since(*b.CreationDate) > time.Minute {
			t.Errorf("bucket %s created %v", *b.Name, b.CreationDate)
		}
	}
	if want := []string{"a.b-c", "photos", "zeta"}; !slices.Equal(names, want) {
		t.Fatalf("buckets %q, want %q", names, want)
	}
	page, err := c.ListBuckets(ctx(t), &awss3.ListBucketsInput{MaxBuckets: aws.Int32(2)})
	if err != nil || len(page.Buckets) != 2 || page.ContinuationToken == nil {
		t.Fatalf("first page of 2: %+v, %v", page, err)
	}
	page, err = c.ListBuckets(ctx(t), &awss3.ListBucketsInput{MaxBuckets: aws.Int32(2), ContinuationToken: page.ContinuationToken})
	if err != nil || len(page.Buckets) != 1 || *page.Buckets[0].Name != "zeta" || page.ContinuationToken != nil {
		t.Fatalf("second page: %+v, %v", page, err)
	}

	if _, err := c.HeadBucket(ctx(t), &awss3.HeadBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.HeadBucket(ctx(t), &awss3.HeadBucketInput{Bucket: aws.String("missing")})
	wantSDKError(t, err, http.StatusNotFound, "")
	loc, err := c.GetBucketLocation(ctx(t), &awss3.GetBucketLocationInput{Bucket: aws.String("photos")})
	if err != nil || loc.LocationConstraint != "" {
		t.Fatalf("location of a us-east-1 bucket: %q, %v", loc.LocationConstraint, err)
	}
	ver, err := c.GetBucketVersioning(ctx(t), &awss3.GetBucketVersioningInput{Bucket: aws.String("photos")})
	if err != nil || ver.Status != "" {
		t.Fatalf("versioning: %+v, %v", ver, err)
	}

	mustPut(t, c, "photos", "cat.jpg", []byte("meow"))
	_, err = c.DeleteBucket(ctx(t), &awss3.DeleteBucketInput{Bucket: aws.String("photos")})
	wantSDKError(t, err, http.StatusConflict, "BucketNotEmpty")
	if _, err := c.DeleteObject(ctx(t), &awss3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("cat.jpg")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx(t), &awss3.DeleteBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteBucket(ctx(t), &awss3.DeleteBucketInput{Bucket: aws.String("photos")})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchBucket")
}

// Keys are arbitrary UTF-8 (DESIGN §9: "never rejected for //, a trailing
// / or a .. segment"): each one goes in and comes back as it is.
var oddKeys = []string{
	"plain.txt", "a//b", "dir/", "x/../y", "./z", "../up", "sp ace", "日本/été.txt", "%2F", "a%2Fb",
	"a+b", "q?x=1&y=#frag", "/leading", "trailing//", "~tilde*star(1)", "emoji-🎉", strings.Repeat("k", 1024),
}

func TestSDKObjectRoundTrip(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	for i, key := range oddKeys {
		data := []byte(fmt.Sprintf("object %d: %q", i, key))
		put := mustPut(t, c, "bkt", key, data)
		got, out := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
		if !bytes.Equal(got, data) || *out.ETag != *put.ETag {
			t.Errorf("key %q: got %q etag %s, want %q etag %s", key, got, *out.ETag, data, *put.ETag)
		}
		if _, err := h.backend.Head(ctx(t), "bkt", key); err != nil {
			t.Errorf("key %q is not in the backend as it is: %v", key, err)
		}
	}
	var listed []string
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			listed = append(listed, *o.Key)
		}
	}
	if want := slices.Sorted(slices.Values(oddKeys)); !slices.Equal(listed, want) {
		t.Fatalf("listed %q\nwant %q", listed, want)
	}
	_, err := c.PutObject(ctx(t), &awss3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	wantSDKError(t, err, http.StatusBadRequest, "KeyTooLongError")
	_, err = c.PutObject(ctx(t), &awss3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("tab\tkey"), Body: strings.NewReader("x")})
	wantSDKError(t, err, http.StatusBadRequest, "InvalidArgument")
}

func TestSDKMetadata(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	data := []byte("<h1>hello</h1>")
	_, err := c.PutObject(ctx(t), &awss3.PutObjectInput{
		Bucket: aws.String("bkt"), Key: aws.String("page.html"), Body: bytes.NewReader(data),
		ContentType: aws.String("text/html"), ContentDisposition: aws.String(`attachment; filename="p.html"`),
		ContentEncoding: aws.String("identity"), CacheControl: aws.String("max-age=60"),
		Metadata: map[string]string{"Color": "blue", "two-words": "a b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx(t), &awss3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("page.html")})
	if err != nil {
		t.Fatal(err)
	}
	if *head.ContentType != "text/html" || *head.ContentDisposition != `attachment; filename="p.html"` ||
		*head.ContentEncoding != "identity" || *head.CacheControl != "max-age=60" || *head.ContentLength != int64(len(data)) {
		t.Fatalf("head: type %q disposition %q encoding %q cache %q length %d", *head.ContentType, *head.ContentDisposition, *head.ContentEncoding, *head.CacheControl, *head.ContentLength)
	}
	if want := map[string]string{"color": "blue", "two-words": "a b"}; !maps.Equal(head.Metadata, want) {
		t.Fatalf("metadata %v, want %v", head.Metadata, want)
	}
	if head.LastModified == nil || time.Since(*head.LastModified) > time.Minute || *head.AcceptRanges != "bytes" {
		t.Fatalf("last modified %v, accept ranges %v", head.LastModified, head.AcceptRanges)
	}
	_, out := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("page.html"), ResponseContentType: aws.String("text/plain")})
	if *out.ContentType != "text/plain" || out.Metadata["color"] != "blue" {
		t.Fatalf("get with response-content-type: %q, metadata %v", *out.ContentType, out.Metadata)
	}
	_, err = c.PutObject(ctx(t), &awss3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"big": strings.Repeat("m", 3000)}})
	wantSDKError(t, err, http.StatusBadRequest, "MetadataTooLarge")
	_, err = c.HeadObject(ctx(t), &awss3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	wantSDKError(t, err, http.StatusNotFound, "")
	_, err = c.GetObject(ctx(t), &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchKey")
	_, err = c.GetObject(ctx(t), &awss3.GetObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k")})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchBucket")
}

func TestSDKRanges(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	data := []byte("0123456789")
	mustPut(t, c, "bkt", "digits", data)
	for _, tc := range []struct {
		rng, want, contentRange string
	}{
		{"bytes=0-4", "01234", "bytes 0-4/10"},
		{"bytes=5-", "56789", "bytes 5-9/10"},
		{"bytes=-3", "789", "bytes 7-9/10"},
		{"bytes=8-1000", "89", "bytes 8-9/10"},
		{"bytes=-100", "0123456789", "bytes 0-9/10"},
		{"bytes=3-3", "3", "bytes 3-3/10"},
	} {
		got, out := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("digits"), Range: aws.String(tc.rng)})
		if string(got) != tc.want || aws.ToString(out.ContentRange) != tc.contentRange || *out.ContentLength != int64(len(tc.want)) {
			t.Errorf("%s: %q %q length %d, want %q %q", tc.rng, got, aws.ToString(out.ContentRange), *out.ContentLength, tc.want, tc.contentRange)
		}
	}
	for _, rng := range []string{"bytes=10-", "bytes=10-20", "bytes=-0"} {
		_, err := c.GetObject(ctx(t), &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("digits"), Range: aws.String(rng)})
		wantSDKError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
	}
	// Ranges S3 ignores: the whole object.
	for _, rng := range []string{"bytes=5-2", "lines=1-2", "bytes=0-1,4-5", "bytes=x-"} {
		got, out := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("digits"), Range: aws.String(rng)})
		if !bytes.Equal(got, data) || out.ContentRange != nil {
			t.Errorf("%s: %q, content range %v, want the whole object", rng, got, out.ContentRange)
		}
	}
	resp := h.do("GET", "/bkt/digits", nil, "", http.Header{"Range": {"bytes=20-"}})
	if resp.Header.Get("Content-Range") != "bytes */10" {
		t.Errorf("unsatisfiable range: Content-Range %q, want bytes */10", resp.Header.Get("Content-Range"))
	}
	wantError(t, resp, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
}

func TestSDKConditionalGet(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	etag := *mustPut(t, c, "bkt", "k", []byte("v1")).ETag
	head, err := c.HeadObject(ctx(t), &awss3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	modified := *head.LastModified
	before, after := modified.Add(-time.Hour), modified.Add(time.Hour)
	in := func(f func(*awss3.GetObjectInput)) *awss3.GetObjectInput {
		in := &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}
		f(in)
		return in
	}
	for _, tc := range []struct {
		name   string
		in     *awss3.GetObjectInput
		status int // 0: the object
	}{
		{"if-match holds", in(func(i *awss3.GetObjectInput) { i.IfMatch = aws.String(etag) }), 0},
		{"if-match fails", in(func(i *awss3.GetObjectInput) { i.IfMatch = aws.String(`"other"`) }), 412},
		{"if-match star", in(func(i *awss3.GetObjectInput) { i.IfMatch = aws.String("*") }), 0},
		{"if-none-match fails", in(func(i *awss3.GetObjectInput) { i.IfNoneMatch = aws.String(etag) }), 304},
		{"if-none-match holds", in(func(i *awss3.GetObjectInput) { i.IfNoneMatch = aws.String(`"other"`) }), 0},
		{"if-modified-since later", in(func(i *awss3.GetObjectInput) { i.IfModifiedSince = aws.Time(after) }), 304},
		{"if-modified-since earlier", in(func(i *awss3.GetObjectInput) { i.IfModifiedSince = aws.Time(before) }), 0},
		{"if-unmodified-since earlier", in(func(i *awss3.GetObjectInput) { i.IfUnmodifiedSince = aws.Time(before) }), 412},
		{"if-unmodified-since later", in(func(i *awss3.GetObjectInput) { i.IfUnmodifiedSince = aws.Time(after) }), 0},
		// S3's pairings: If-Match holding overrides If-Unmodified-Since;
		// If-None-Match failing is 304 whatever If-Modified-Since says.
		{"if-match holds, unmodified-since fails", in(func(i *awss3.GetObjectInput) {
			i.IfMatch, i.IfUnmodifiedSince = aws.String(etag), aws.Time(before)
		}), 0},
		{"if-none-match fails, modified-since holds", in(func(i *awss3.GetObjectInput) {
			i.IfNoneMatch, i.IfModifiedSince = aws.String(etag), aws.Time(before)
		}), 304},
		{"if-none-match holds, modified-since fails", in(func(i *awss3.GetObjectInput) {
			i.IfNoneMatch, i.IfModifiedSince = aws.String(`"other"`), aws.Time(after)
		}), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.GetObject(ctx(t), tc.in)
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				out.Body.Close()
				return
			}
			wantSDKError(t, err, tc.status, "")
		})
	}
	_, err = c.HeadObject(ctx(t), &awss3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfNoneMatch: aws.String(etag)})
	wantSDKError(t, err, http.StatusNotModified, "")
	resp := h.do("GET", "/bkt/k", nil, "", http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag {
		t.Fatalf("304: status %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	resp = h.do("GET", "/bkt/k", nil, "", http.Header{"If-Match": {`"nope"`}})
	wantError(t, resp, http.StatusPreconditionFailed, "PreconditionFailed")
}

// listKeys is a bucket for the listing tests: nested directories, keys
// equal to a prefix, and bytes either side of '/'.
var listKeys = []string{
	"a", "a/", "a/b", "a/b/c", "a/c", "a-b", "a0", "b/1", "b/2", "b/3/x", "c", "dir/", "dir//x", "dir/sub/", "é", "z/z/z",
}

// wantListing is what a ListObjects of listKeys should answer: brute
// force over the sorted keys.
func wantListing(prefix, delimiter, after string) (keys, prefixes []string) {
	seen := map[string]bool{}
	for _, k := range slices.Sorted(slices.Values(listKeys)) {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if cp := commonPrefixOf(k, prefix, delimiter); cp != "" {
			if !seen[cp] && cp > after {
				prefixes = append(prefixes, cp)
			}
			seen[cp] = true
			continue
		}
		if k > after {
			keys = append(keys, k)
		}
	}
	return keys, prefixes
}

func TestSDKListObjectsV2(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	for _, k := range listKeys {
		mustPut(t, c, "bkt", k, []byte(k))
	}
	for _, tc := range []struct{ prefix, delimiter, startAfter string }{
		{"", "", ""}, {"", "/", ""}, {"a", "/", ""}, {"a/", "/", ""}, {"b/", "", ""}, {"dir/", "/", ""},
		{"", "/", "a/b"}, {"", "", "b"}, {"nothing", "/", ""}, {"", "b", ""}, {"a", "", "a0"},
	} {
		for _, pageSize := range []int32{1, 2, 3, 1000} {
			name := fmt.Sprintf("prefix=%q delimiter=%q start-after=%q max-keys=%d", tc.prefix, tc.delimiter, tc.startAfter, pageSize)
			in := &awss3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(pageSize)}
			if tc.prefix != "" {
				in.Prefix = aws.String(tc.prefix)
			}
			if tc.delimiter != "" {
				in.Delimiter = aws.String(tc.delimiter)
			}
			if tc.startAfter != "" {
				in.StartAfter = aws.String(tc.startAfter)
			}
			var keys, prefixes []string
			pages := 0
			for p := awss3.NewListObjectsV2Paginator(c, in); p.HasMorePages(); pages++ {
				page, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if n := len(page.Contents) + len(page.CommonPrefixes); n > int(pageSize) || int(*page.KeyCount) != n {
					t.Fatalf("%s: a page of %d entries, KeyCount %d", name, n, *page.KeyCount)
				}
				for _, o := range page.Contents {
					keys = append(keys, *o.Key)
					if *o.Size != int64(len(*o.Key)) || *o.ETag == "" || o.StorageClass != types.ObjectStorageClassStandard {
						t.Fatalf("%s: entry %+v", name, o)
					}
				}
				for _, cp := range page.CommonPrefixes {
					prefixes = append(prefixes, *cp.Prefix)
				}
			}
			wantKeys, wantPrefixes := wantListing(tc.prefix, tc.delimiter, tc.startAfter)
			if !slices.Equal(keys, wantKeys) || !slices.Equal(prefixes, wantPrefixes) {
				t.Errorf("%s: %d pages\nkeys %q\nwant %q\nprefixes %q\nwant %q", name, pages, keys, wantKeys, prefixes, wantPrefixes)
			}
		}
	}
}

func TestSDKListObjectsV1AndOptions(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	for _, k := range listKeys {
		mustPut(t, c, "bkt", k, []byte(k))
	}
	var keys, prefixes []string
	in := &awss3.ListObjectsInput{Bucket: aws.String("bkt"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)}
	for {
		page, err := c.ListObjects(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
			if o.Owner == nil || o.Owner.ID == nil {
				t.Fatalf("v1 entry without its owner: %+v", o)
			}
		}
		for _, cp := range page.CommonPrefixes {
			prefixes = append(prefixes, *cp.Prefix)
		}
		if !*page.IsTruncated {
			break
		}
		if page.NextMarker == nil {
			t.Fatal("a truncated v1 listing with a delimiter has no NextMarker")
		}
		in.Marker = page.NextMarker
	}
	wantKeys, wantPrefixes := wantListing("", "/", "")
	if !slices.Equal(keys, wantKeys) || !slices.Equal(prefixes, wantPrefixes) {
		t.Errorf("v1: keys %q want %q, prefixes %q want %q", keys, wantKeys, prefixes, wantPrefixes)
	}

	v2, err := c.ListObjectsV2(ctx(t), &awss3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("é"), FetchOwner: aws.Bool(true), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(v2.Contents) != 1 || v2.Contents[0].Owner == nil || *v2.Contents[0].Key != "%C3%A9" {
		t.Fatalf("fetch-owner, encoding-type=url: %+v, %v", v2, err)
	}
	zero, err := c.ListObjectsV2(ctx(t), &awss3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(0)})
	if err != nil || len(zero.Contents) != 0 || *zero.IsTruncated {
		t.Fatalf("max-keys=0: %+v, %v", zero, err)
	}
	_, err = c.ListObjectsV2(ctx(t), &awss3.ListObjectsV2Input{Bucket: aws.String("missing")})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchBucket")
	_, err = c.ListObjectsV2(ctx(t), &awss3.ListObjectsV2Input{Bucket: aws.String("bkt"), ContinuationToken: aws.String("!!not base64")})
	wantSDKError(t, err, http.StatusBadRequest, "InvalidArgument")
}

func TestSDKDeleteObjects(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	for _, k := range []string{"one", "two", "a//b"} {
		mustPut(t, c, "bkt", k, []byte(k))
	}
	out, err := c.DeleteObjects(ctx(t), &awss3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("one")}, {Key: aws.String("a//b")}, {Key: aws.String("never-was")}, {Key: aws.String(strings.Repeat("k", 1025))},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, *d.Key)
	}
	if want := []string{"one", "a//b", "never-was"}; !slices.Equal(deleted, want) {
		t.Errorf("deleted %q, want %q", deleted, want)
	}
	if len(out.Errors) != 1 || *out.Errors[0].Code != "KeyTooLongError" {
		t.Errorf("errors %+v, want one KeyTooLongError", out.Errors)
	}
	quiet, err := c.DeleteObjects(ctx(t), &awss3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Quiet: aws.Bool(true), Objects: []types.ObjectIdentifier{{Key: aws.String("two")}}}})
	if err != nil || len(quiet.Deleted) != 0 || len(quiet.Errors) != 0 {
		t.Fatalf("quiet: %+v, %v", quiet, err)
	}
	list, err := c.ListObjectsV2(ctx(t), &awss3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if err != nil || len(list.Contents) != 0 {
		t.Fatalf("after deleting everything: %+v, %v", list.Contents, err)
	}
	if _, err := c.DeleteObject(ctx(t), &awss3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("never-was")}); err != nil {
		t.Fatalf("deleting a missing key: %v, want success", err)
	}
}

func TestSDKCopyObject(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "src")
	mustCreateBucket(t, c, "dst")
	_, err := c.PutObject(ctx(t), &awss3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/sp ace+é"), Body: strings.NewReader("payload"),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	source := "src/" + urlEscapePath("dir/sp ace+é")
	cp, err := c.CopyObject(ctx(t), &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String(source)})
	if err != nil {
		t.Fatal(err)
	}
	got, out := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if string(got) != "payload" || *out.ContentType != "text/plain" || out.Metadata["k"] != "v" || *out.ETag != *cp.CopyObjectResult.ETag {
		t.Fatalf("COPY: %q type %q meta %v etag %s/%s", got, *out.ContentType, out.Metadata, *out.ETag, *cp.CopyObjectResult.ETag)
	}
	_, err = c.CopyObject(ctx(t), &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("/" + source),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("application/x-new"), Metadata: map[string]string{"n": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, out = mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if *out.ContentType != "application/x-new" || !maps.Equal(out.Metadata, map[string]string{"n": "1"}) {
		t.Fatalf("REPLACE: type %q meta %v", *out.ContentType, out.Metadata)
	}
	_, err = c.CopyObject(ctx(t), &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("dst/copy")})
	wantSDKError(t, err, http.StatusBadRequest, "InvalidRequest")
	_, err = c.CopyObject(ctx(t), &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	wantSDKError(t, err, http.StatusNotFound, "NoSuchKey")
	_, err = c.CopyObject(ctx(t), &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String(source), CopySourceIfMatch: aws.String(`"other"`)})
	wantSDKError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
}

// urlEscapePath escapes a key as x-amz-copy-source wants it: each
// segment, "/" kept ("+" stays itself).
func urlEscapePath(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}
