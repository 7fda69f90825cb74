package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	emptySHA   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

type secrets map[string]string

func (s secrets) Secret(k string) (string, error) {
	if v, ok := s[k]; ok {
		return v, nil
	}
	return "", errors.New("no such key")
}

var (
	keys   = secrets{testKey: testSecret}
	signed = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
)

// arrived turns a request a client built into the one a server sees:
// RequestURI as sent, Host promoted out of the header.
func arrived(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	in := httptest.NewRequest(r.Method, r.URL.String(), nil)
	in.Host, in.RequestURI = r.URL.Host, r.URL.RequestURI()
	for k, v := range r.Header {
		in.Header[k] = v
	}
	return in
}

func request(t *testing.T, method, rawURL string, headers map[string]string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

// The AWS SDK for Go's own signer (as S3 clients use it: the path is not
// escaped twice) signs; Verify, written apart from it, must agree, and
// must refuse the request once anything signed is changed.
func TestVerifyAgreesWithTheAWSSigner(t *testing.T) {
	for _, tc := range []struct {
		name, method, url string
		headers           map[string]string
	}{
		{"get object", "GET", "http://127.0.0.1:9000/photos/cat.jpg", nil},
		{"range and metadata", "GET", "http://localhost:9000/videos/movie.mp4", map[string]string{"Range": "bytes=0-9", "X-Amz-Meta-Note": "  two   spaces "}},
		{"list with query", "GET", "http://127.0.0.1:9000/photos?list-type=2&prefix=a%20b/&delimiter=%2F&max-keys=10", nil},
		{"escaped key", "PUT", "http://127.0.0.1:9000/docs/tax%20return%20%282026%29.pdf", map[string]string{"Content-Type": "application/pdf"}},
		{"unicode key", "PUT", "http://127.0.0.1:9000/b/%E6%97%A5%E6%9C%AC/%C3%A9t%C3%A9.txt", nil},
		{"empty query value", "POST", "http://127.0.0.1:9000/b/big?uploads=", nil},
		{"a name that prefixes another", "GET", "http://127.0.0.1:9000/b/k?select-type=2&select=", nil},
		{"virtual host", "DELETE", "http://photos.s3.example.com/cat.jpg", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request(t, tc.method, tc.url, tc.headers)
			r.Header.Set("X-Amz-Content-Sha256", emptySHA)
			s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
			if err := s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, r, emptySHA, "s3", "us-east-1", signed); err != nil {
				t.Fatal(err)
			}
			in := arrived(t, r)
			res, err := Verify(in, keys, signed.Add(time.Minute))
			if err != nil {
				t.Fatalf("a request the AWS signer signed: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			if res.AccessKey != testKey || res.Region != "us-east-1" || res.PayloadHash != emptySHA || res.Presigned {
				t.Fatalf("result %+v", res)
			}

			tampered := arrived(t, r)
			tampered.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
			if _, err := Verify(tampered, keys, signed); !errors.Is(err, ErrMismatch) {
				t.Fatalf("a changed payload hash: %v, want ErrMismatch", err)
			}
			moved := arrived(t, r)
			moved.RequestURI = strings.Replace(moved.RequestURI, "/", "/x", 1)
			if _, err := Verify(moved, keys, signed); !errors.Is(err, ErrMismatch) {
				t.Fatalf("a changed path: %v, want ErrMismatch", err)
			}
			if _, err := Verify(arrived(t, r), secrets{testKey: "wrong"}, signed); !errors.Is(err, ErrMismatch) {
				t.Fatalf("the wrong secret: %v, want ErrMismatch", err)
			}
			if _, err := Verify(arrived(t, r), secrets{}, signed); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("an unknown key: %v, want ErrUnknownKey", err)
			}
			if _, err := Verify(arrived(t, r), keys, signed.Add(MaxSkew+time.Second)); !errors.Is(err, ErrSkewed) {
				t.Fatalf("a request signed 15 min ago: %v, want ErrSkewed", err)
			}
			if _, err := Verify(arrived(t, r), keys, signed.Add(-MaxSkew-time.Second)); !errors.Is(err, ErrSkewed) {
				t.Fatalf("a request signed in the future: %v, want ErrSkewed", err)
			}
		})
	}
}

// Presigned URLs (query auth), as `aws s3 presign` and the SDKs make them:
// valid until X-Amz-Expires has passed, and only for what they name.
func TestVerifyPresigned(t *testing.T) {
	r := request(t, "GET", "http://127.0.0.1:9000/videos/movie.mp4?X-Amz-Expires=3600&response-content-type=video%2Fmp4", nil)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	uri, hdr, err := s.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, r, UnsignedPayload, "s3", "eu-west-1", signed)
	if err != nil {
		t.Fatal(err)
	}
	p := request(t, "GET", uri, nil)
	for k, v := range hdr {
		p.Header[k] = v
	}
	res, err := Verify(arrived(t, p), keys, signed.Add(59*time.Minute))
	if err != nil || !res.Presigned || res.Region != "eu-west-1" || res.PayloadHash != UnsignedPayload {
		t.Fatalf("a presigned URL within its hour: %+v, %v\n%s", res, err, uri)
	}
	if _, err := Verify(arrived(t, p), keys, signed.Add(61*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("after its hour: %v, want ErrExpired", err)
	}
	other := request(t, "GET", strings.Replace(uri, "movie.mp4", "other.mp4", 1), nil)
	if _, err := Verify(arrived(t, other), keys, signed); !errors.Is(err, ErrMismatch) {
		t.Fatalf("the signature on another object: %v, want ErrMismatch", err)
	}
	changed := request(t, "GET", strings.Replace(uri, "video%2Fmp4", "text%2Fhtml", 1), nil)
	if _, err := Verify(arrived(t, changed), keys, signed); !errors.Is(err, ErrMismatch) {
		t.Fatalf("a changed query parameter: %v, want ErrMismatch", err)
	}
	long := request(t, "GET", strings.Replace(uri, "X-Amz-Expires=3600", "X-Amz-Expires=604801", 1), nil)
	if _, err := Verify(arrived(t, long), keys, signed); !errors.Is(err, ErrMalformed) {
		t.Fatalf("more than seven days: %v, want ErrMalformed", err)
	}
}

func TestVerifyRefusesWhatIsNotSigV4(t *testing.T) {
	for name, tc := range map[string]struct {
		headers map[string]string
		want    error
	}{
		"no signature":      {nil, ErrMissing},
		"signature v2":      {map[string]string{"Authorization": "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="}, ErrNotSupported},
		"no credential":     {map[string]string{"Authorization": "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + strings.Repeat("a", 64)}, ErrMalformed},
		"short signature":   {map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=" + testKey + "/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc"}, ErrMalformed},
		"host not signed":   {map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=" + testKey + "/20261204/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=" + strings.Repeat("a", 64)}, ErrMalformed},
		"other service":     {map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=" + testKey + "/20261204/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("a", 64)}, ErrMalformed},
		"no payload header": {map[string]string{"X-Amz-Date": "20261204T100000Z", "Authorization": "AWS4-HMAC-SHA256 Credential=" + testKey + "/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("a", 64)}, ErrMalformed},
	} {
		r := arrived(t, request(t, "GET", "http://127.0.0.1:9000/b/k", tc.headers))
		if _, err := Verify(r, keys, signed); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// The Authorization header and the query come from anyone: whatever they
// hold, Verify returns an error or a result, never panics, and accepts
// nothing without the secret's signature.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential="+testKey+"/20261204/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64), "20261204T100000Z", "")
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="+testKey+"%2F20261204%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261204T100000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature="+strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, authorization, date, query string) {
		r := httptest.NewRequest("GET", "http://127.0.0.1:9000/b/k", nil)
		r.URL.RawQuery = query
		r.Header.Set("Authorization", authorization)
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Amz-Content-Sha256", emptySHA)
		if _, err := Verify(r, keys, signed); err == nil {
			t.Fatalf("accepted without a real signature: %q %q %q", authorization, date, query)
		}
	})
}
