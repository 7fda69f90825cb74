package s3

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestSDKPresignedGet(t *testing.T) {
	h := newHarness(t, false)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	mustPut(t, c, "bkt", "films/night of the living dead.mp4", []byte("frames"))
	presign := awss3.NewPresignClient(c)
	req, err := presign.PresignGetObject(ctx(t), &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("films/night of the living dead.mp4"),
		ResponseContentType: aws.String("video/mp4"), ResponseContentDisposition: aws.String("inline")}, awss3.WithPresignExpires(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	get := func() *http.Response {
		t.Helper()
		r, err := http.NewRequest(req.Method, req.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header = req.SignedHeader.Clone()
		resp, err := h.srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "frames" || resp.Header.Get("Content-Type") != "video/mp4" || resp.Header.Get("Content-Disposition") != "inline" {
		t.Fatalf("presigned GET: %d %q type %q disposition %q", resp.StatusCode, body, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	h.skew.Store(int64(2 * time.Hour))
	wantError(t, get(), http.StatusForbidden, "AccessDenied")
	h.skew.Store(0)
	tampered := strings.Replace(req.URL, "living", "undead", 1)
	r, _ := http.NewRequest("GET", tampered, nil)
	resp, err = h.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantError(t, resp, http.StatusForbidden, "SignatureDoesNotMatch")
}

func TestSDKAuthFailures(t *testing.T) {
	h := newHarness(t, false)
	mustCreateBucket(t, h.client(testSecret), "bkt")
	_, err := h.client("not the secret").ListObjectsV2(ctx(t), &awss3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	wantSDKError(t, err, http.StatusForbidden, "SignatureDoesNotMatch")
	_, err = h.client("not the secret").PutObject(ctx(t), &awss3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantSDKError(t, err, http.StatusForbidden, "SignatureDoesNotMatch")
	if _, err := h.backend.Head(ctx(t), "bkt", "k"); err == nil {
		t.Fatal("a PUT with the wrong secret stored its object")
	}

	stranger := awss3.New(awss3.Options{Region: testRegion, BaseEndpoint: aws.String(h.srv.URL), UsePathStyle: true, Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTRANGER", testSecret, "")})
	_, err = stranger.ListBuckets(ctx(t), &awss3.ListBucketsInput{})
	wantSDKError(t, err, http.StatusForbidden, "InvalidAccessKeyId")

	elsewhere := awss3.New(awss3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(h.srv.URL), UsePathStyle: true, Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")})
	_, err = elsewhere.ListBuckets(ctx(t), &awss3.ListBucketsInput{})
	wantSDKError(t, err, http.StatusBadRequest, "AuthorizationHeaderMalformed")

	h.skew.Store(int64(time.Hour))
	_, err = h.client(testSecret).ListBuckets(ctx(t), &awss3.ListBucketsInput{})
	wantSDKError(t, err, http.StatusForbidden, "RequestTimeTooSkewed")
	h.skew.Store(0)

	resp, err := h.srv.Client().Get(h.srv.URL + "/bkt/k")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantError(t, resp, http.StatusForbidden, "AccessDenied")

	r, _ := http.NewRequest("GET", h.srv.URL+"/", nil)
	r.Header.Set("Authorization", "AWS "+testKey+":c2lnbmF0dXJl")
	resp, err = h.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantError(t, resp, http.StatusNotImplemented, "NotImplemented")

	r, _ = http.NewRequest("GET", h.srv.URL+"/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
	r.Header.Set("X-Amz-Date", "20261204T100000Z")
	resp, err = h.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantError(t, resp, http.StatusBadRequest, "AuthorizationHeaderMalformed")
}
