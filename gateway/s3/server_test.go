package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func newBucket(t *testing.T, h *harness, name string) {
	t.Helper()
	if err := h.backend.CreateBucket(ctx(t), name); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("the default config: %v", err)
	}
	for name, f := range map[string]func(*Config){
		"no region":       func(c *Config) { c.Region = "" },
		"no clock":        func(c *Config) { c.Clock = nil },
		"no logger":       func(c *Config) { c.Logger = nil },
		"no size":         func(c *Config) { c.MaxObjectSize = 0 },
		"suffix with dot": func(c *Config) { c.VirtualHostSuffix = ".s3.example.com" },
		"suffix url":      func(c *Config) { c.VirtualHostSuffix = "http://s3.example.com" },
	} {
		c := DefaultConfig()
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
		if _, err := New(c, memAccounts{}); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := New(DefaultConfig(), nil); err == nil {
		t.Error("New without accounts")
	}
}

// Every body is checked against what the client declared before the
// Backend may keep it.
func TestBodyIntegrity(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	data := []byte("the bytes the client means")
	md5sum := md5.Sum(data)
	crc := crc32.ChecksumIEEE(data)
	crcB64 := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	for _, tc := range []struct {
		name, payload string
		header        http.Header
		status        int
		code          string
	}{
		{"signed sha256", "", nil, 200, ""},
		{"unsigned", "UNSIGNED-PAYLOAD", nil, 200, ""},
		{"other sha256", sha256Hex([]byte("other bytes")), nil, 400, "XAmzContentSHA256Mismatch"},
		{"content-md5", "", http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(md5sum[:])}}, 200, ""},
		{"wrong content-md5", "", http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(make([]byte, 16))}}, 400, "BadDigest"},
		{"malformed content-md5", "", http.Header{"Content-Md5": {"not base64!"}}, 400, "InvalidDigest"},
		{"crc32", "UNSIGNED-PAYLOAD", http.Header{"X-Amz-Checksum-Crc32": {crcB64}}, 200, ""},
		{"wrong crc32", "UNSIGNED-PAYLOAD", http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}, 400, "BadDigest"},
		{"malformed crc32", "UNSIGNED-PAYLOAD", http.Header{"X-Amz-Checksum-Crc32": {"AAAA"}}, 400, "InvalidRequest"},
		{"unknown checksum", "UNSIGNED-PAYLOAD", http.Header{"X-Amz-Checksum-Md4": {"AAAA"}}, 400, "InvalidArgument"},
		{"nonsense payload mode", "NOT-A-HASH", nil, 400, "InvalidArgument"},
		{"sigv4a streaming", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", nil, 501, "NotImplemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "-")
			resp := h.do("PUT", "/bkt/"+key, data, tc.payload, tc.header)
			_, err := h.backend.Head(ctx(t), "bkt", key)
			if tc.status == 200 {
				if resp.StatusCode != 200 || err != nil {
					b, _ := io.ReadAll(resp.Body)
					t.Fatalf("status %d, stored: %v\n%s", resp.StatusCode, err, b)
				}
				if got := resp.Header.Get("ETag"); got != `"`+hex.EncodeToString(md5sum[:])+`"` {
					t.Fatalf("ETag %s", got)
				}
				return
			}
			wantError(t, resp, tc.status, tc.code)
			if !errors.Is(err, ErrNoSuchKey) {
				t.Fatalf("a refused body was stored: %v", err)
			}
		})
	}
}

// A client that goes away mid-upload leaves nothing: the Backend sees the
// body fail, not end.
func TestDisconnectMidUpload(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	h.backend.bodyFailed = make(chan error, 1)
	for _, payload := range []string{"UNSIGNED-PAYLOAD", sha256Hex(make([]byte, 1000))} {
		r, _ := http.NewRequest("PUT", h.srv.URL+"/bkt/half", nil)
		r.ContentLength = 1000
		sign(t, r, payload, testSecret, time.Now())
		conn, err := net.Dial("tcp", h.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		var head bytes.Buffer
		fmt.Fprintf(&head, "PUT /bkt/half HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n", r.Host)
		for k, v := range r.Header {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v[0])
		}
		head.WriteString("\r\n")
		head.Write(make([]byte, 400))
		if _, err := conn.Write(head.Bytes()); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		select {
		case err := <-h.backend.bodyFailed:
			if !strings.Contains(err.Error(), "IncompleteBody") {
				t.Errorf("the backend saw %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the backend never saw the body fail")
		}
		if _, err := h.backend.Head(ctx(t), "bkt", "half"); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("half an upload was stored: %v", err)
		}
	}
}

func TestMalformedXML(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	for _, tc := range []struct{ name, method, path, body, code string }{
		{"delete garbage", "POST", "/bkt?delete", "<Delete><Object>", "MalformedXML"},
		{"delete wrong root", "POST", "/bkt?delete", "<Remove><Object><Key>k</Key></Object></Remove>", "MalformedXML"},
		{"delete without key", "POST", "/bkt?delete", "<Delete><Object></Object></Delete>", "MalformedXML"},
		{"delete nothing", "POST", "/bkt?delete", "<Delete></Delete>", "MalformedXML"},
		{"delete two documents", "POST", "/bkt?delete", "<Delete><Object><Key>k</Key></Object></Delete><Delete/>", "MalformedXML"},
		{"create bucket garbage", "PUT", "/newbucket", "<CreateBucketConfiguration><Location", "MalformedXML"},
		{"create bucket wrong root", "PUT", "/newbucket", "<Nope/>", "MalformedXML"},
		{"complete garbage", "POST", "/bkt/k?uploadId=upload-0001", "not xml", "MalformedXML"},
		{"complete bad part number", "POST", "/bkt/k?uploadId=upload-0001", "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>", "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, h.do(tc.method, tc.path, []byte(tc.body), "", nil), http.StatusBadRequest, tc.code)
		})
	}
	if err := h.backend.HeadBucket(ctx(t), "newbucket"); err == nil {
		t.Fatal("a bucket was created from a malformed configuration")
	}
	resp := h.do("PUT", "/newbucket", []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`), "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "/newbucket" {
		t.Fatalf("create bucket with a configuration: %d", resp.StatusCode)
	}
	big := bytes.Repeat([]byte(" "), maxXMLBody+1)
	wantError(t, h.do("POST", "/bkt?delete", big, "UNSIGNED-PAYLOAD", nil), http.StatusBadRequest, "MaxMessageLengthExceeded")
}

// What the gateway cannot do it says it cannot, never a success that
// did not happen.
func TestNotImplemented(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	if _, err := h.backend.Put(ctx(t), "bkt", "k", strings.NewReader("v"), 1, ObjectMeta{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		header       http.Header
	}{
		{"GET", "/bkt?acl", nil},
		{"PUT", "/bkt?acl", nil},
		{"GET", "/bkt/k?acl", nil},
		{"GET", "/bkt?policy", nil},
		{"PUT", "/bkt?versioning", nil},
		{"GET", "/bkt?versions", nil},
		{"GET", "/bkt?tagging", nil},
		{"PUT", "/bkt/k?tagging", nil},
		{"GET", "/bkt?cors", nil},
		{"PUT", "/bkt?lifecycle", nil},
		{"GET", "/bkt/k?attributes", nil},
		{"POST", "/bkt/k?select", nil},
		{"POST", "/bkt/k?restore", nil},
		{"GET", "/bkt/k?versionId=3HL4kqtJlcpXroDTDmJ", nil},
		{"GET", "/bkt/k?partNumber=1", nil},
		{"POST", "/bkt", nil},
		{"PUT", "/bkt/k", http.Header{"X-Amz-Tagging": {"a=b"}}},
		{"PUT", "/bkt/k", http.Header{"X-Amz-Server-Side-Encryption": {"aws:kms"}}},
		{"POST", "/bkt/k?uploads", http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}}},
		{"PUT", "/bkt/k2", http.Header{"X-Amz-Copy-Source": {"bkt/k"}, "X-Amz-Metadata-Directive": {"REPLACE"}, "X-Amz-Server-Side-Encryption": {"AES256"}}},
		{"PUT", "/bkt/k", http.Header{"X-Amz-Acl": {"public-read"}}},
		{"PUT", "/bkt/k", http.Header{"If-None-Match": {"*"}}},
		{"PUT", "/bkt/k", http.Header{"Expires": {"Thu, 01 Dec 2094 16:00:00 GMT"}}},
		{"PUT", "/bkt/k?partNumber=1&uploadId=x", http.Header{"X-Amz-Copy-Source": {"bkt/k"}}},
		{"PUT", "/bkt2", http.Header{"X-Amz-Bucket-Object-Lock-Enabled": {"true"}}},
		{"POST", "/bkt/k?uploadId=x", http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}},
		{"PUT", "/", nil},
	} {
		resp := h.do(tc.method, tc.path, nil, "", tc.header)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotImplemented || !bytes.Contains(body, []byte("<Code>NotImplemented</Code>")) {
			t.Errorf("%s %s %v: %d\n%s", tc.method, tc.path, tc.header, resp.StatusCode, body)
		}
	}
	got, err := h.backend.object("bkt", "k")
	if err != nil || string(got.data) != "v" {
		t.Fatalf("a refused request changed the object: %q, %v", got.data, err)
	}
	resp := h.do("PATCH", "/bkt/k", nil, "", nil)
	wantError(t, resp, http.StatusMethodNotAllowed, "MethodNotAllowed")
	resp = h.do("GET", "/bkt/k?versionId=null", nil, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("versionId=null is the object: %d", resp.StatusCode)
	}
}

// Paths reach the Server as sent: nothing cleans "..", "//" or "%2F",
// and nothing redirects.
func TestPathsAreKeys(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	for _, tc := range []struct{ path, key string }{
		{"/bkt/x/../y", "x/../y"},
		{"/bkt/../bkt/z", "../bkt/z"},
		{"/bkt//lead", "/lead"},
		{"/bkt/a//b/", "a//b/"},
		{"/bkt/a%2Fb", "a/b"},
		{"/bkt/a%252Fb", "a%2Fb"},
		{"/bkt/./dot", "./dot"},
		{"/bkt/sp%20ace+plus", "sp ace+plus"},
		{"/bkt/%E6%97%A5", "日"},
	} {
		resp := h.do("PUT", tc.path, []byte(tc.key), "", nil)
		if resp.StatusCode != 200 {
			body, _ := io.ReadAll(resp.Body)
			t.Errorf("PUT %s: %d\n%s", tc.path, resp.StatusCode, body)
			continue
		}
		if o, err := h.backend.object("bkt", tc.key); err != nil || string(o.data) != tc.key {
			t.Errorf("PUT %s: key %q not stored: %v", tc.path, tc.key, err)
		}
	}
	wantError(t, h.do("GET", "//key", nil, "", nil), http.StatusBadRequest, "InvalidBucketName")
}

// A HEAD's error is only its status, as S3 answers; a GET's is the
// document; both carry the request ID.
func TestErrorShapes(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	resp := h.do("HEAD", "/bkt/missing", nil, "", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || len(body) != 0 || resp.Header.Get("X-Amz-Request-Id") == "" {
		t.Fatalf("HEAD of a missing key: %d, %d bytes, id %q", resp.StatusCode, len(body), resp.Header.Get("X-Amz-Request-Id"))
	}
	resp = h.do("GET", "/bkt/missing", nil, "", nil)
	wantError(t, resp, 404, "NoSuchKey")
	first := h.do("GET", "/", nil, "", nil).Header.Get("X-Amz-Request-Id")
	second := h.do("GET", "/", nil, "", nil).Header.Get("X-Amz-Request-Id")
	if first == "" || first == second {
		t.Fatalf("request IDs %q and %q", first, second)
	}
	for _, name := range []string{"ab", "Upper", "-lead", "trail-", "two..dots", "192.168.1.1", "xn--punycode", "under_score", strings.Repeat("a", 64)} {
		wantError(t, h.do("PUT", "/"+name, nil, "", nil), http.StatusBadRequest, "InvalidBucketName")
	}
}

// Backend errors the gateway cannot name are InternalError, logged; the
// storage network being down is ServiceUnavailable.
func TestBackendFailures(t *testing.T) {
	h := newHarness(t, false)
	h.server.accounts = memAccounts{testKey: {testSecret, failing{fmt.Errorf("locate: %w", ErrBackendDown)}}}
	wantError(t, h.do("GET", "/", nil, "", nil), http.StatusServiceUnavailable, "ServiceUnavailable")
	h.server.accounts = memAccounts{testKey: {testSecret, failing{errors.New("disk on fire")}}}
	resp := h.do("GET", "/bkt/k", nil, "", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || !bytes.Contains(body, []byte("InternalError")) || bytes.Contains(body, []byte("fire")) {
		t.Fatalf("an unknown error: %d\n%s", resp.StatusCode, body)
	}
}

// failing is a Backend whose every call fails with err.
type failing struct{ err error }

func (f failing) Buckets(context.Context) ([]Bucket, error)                 { return nil, f.err }
func (f failing) CreateBucket(context.Context, string) error                { return f.err }
func (f failing) DeleteBucket(context.Context, string) error                { return f.err }
func (f failing) HeadBucket(context.Context, string) error                  { return f.err }
func (f failing) Head(context.Context, string, string) (Object, error)      { return Object{}, f.err }
func (f failing) Delete(context.Context, string, string) error              { return f.err }
func (f failing) List(context.Context, string, ListQuery) (Listing, error)  { return Listing{}, f.err }
func (f failing) Uploads(context.Context, string, string) ([]Upload, error) { return nil, f.err }
func (f failing) Put(context.Context, string, string, io.Reader, int64, ObjectMeta) (Object, error) {
	return Object{}, f.err
}
func (f failing) Get(context.Context, string, string, int64, int64, io.Writer) error { return f.err }
func (f failing) Copy(context.Context, string, string, string, string, *ObjectMeta) (Object, error) {
	return Object{}, f.err
}
func (f failing) CreateUpload(context.Context, string, string, ObjectMeta) (string, error) {
	return "", f.err
}
func (f failing) PutPart(context.Context, string, string, string, int, io.Reader, int64) (Part, error) {
	return Part{}, f.err
}
func (f failing) Parts(context.Context, string, string, string) ([]Part, error) { return nil, f.err }
func (f failing) Complete(context.Context, string, string, string, []int) (Object, error) {
	return Object{}, f.err
}
func (f failing) Abort(context.Context, string, string, string) error { return f.err }

func TestVirtualHostedStyle(t *testing.T) {
	h := newHarness(t, false, func(c *Config) { c.VirtualHostSuffix = "s3.example.com" })
	newBucket(t, h, "photos.2026")
	put := func(host, path string) *http.Response {
		r, _ := http.NewRequest("PUT", h.srv.URL+path, strings.NewReader("cat"))
		r.Host = host
		sign(t, r, sha256Hex([]byte("cat")), testSecret, time.Now())
		resp, err := h.srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := put("photos.2026.s3.example.com:9000", "/cats//tabby.jpg"); resp.StatusCode != 200 {
		t.Fatalf("virtual-hosted PUT: %d", resp.StatusCode)
	}
	if _, err := h.backend.Head(ctx(t), "photos.2026", "cats//tabby.jpg"); err != nil {
		t.Fatal(err)
	}
	if resp := put("s3.example.com", "/photos.2026/path-style"); resp.StatusCode != 200 {
		t.Fatalf("path-style PUT to the bare suffix: %d", resp.StatusCode)
	}
	if _, err := h.backend.Head(ctx(t), "photos.2026", "path-style"); err != nil {
		t.Fatal(err)
	}
}

// The body of a GET is written as the Backend produces it; a Backend that
// fails before its first byte still gets an error answered.
func TestGetFailsBeforeFirstByte(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	if _, err := h.backend.Put(ctx(t), "bkt", "k", strings.NewReader("value"), 5, ObjectMeta{}); err != nil {
		t.Fatal(err)
	}
	h.server.accounts = memAccounts{testKey: {testSecret, getFails{h.backend}}}
	resp := h.do("GET", "/bkt/k", nil, "", nil)
	wantError(t, resp, http.StatusServiceUnavailable, "ServiceUnavailable")
}

type getFails struct{ *memBackend }

func (g getFails) Get(context.Context, string, string, int64, int64, io.Writer) error {
	return fmt.Errorf("fetch slices: %w", ErrBackendDown)
}

// Issue 9: "an S3 header ... on the gateway" encrypts: AES256 asks for it,
// and the object answers with the header on PUT, GET and HEAD.
func TestServerSideEncryptionHeader(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	sse := http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}}
	resp := h.do("PUT", "/bkt/tax.pdf", []byte("secret"), "", sse)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("PUT: %d %v", resp.StatusCode, resp.Header)
	}
	obj, err := h.backend.Head(ctx(t), "bkt", "tax.pdf")
	if err != nil || !obj.Meta.Encrypted {
		t.Fatalf("the backend was not asked to encrypt: %+v %v", obj, err)
	}
	for _, m := range []string{"GET", "HEAD"} {
		if resp := h.do(m, "/bkt/tax.pdf", nil, "", nil); resp.StatusCode != 200 || resp.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
			t.Fatalf("%s: %d %v", m, resp.StatusCode, resp.Header)
		}
	}
	if resp := h.do("GET", "/bkt/k-plain", nil, "", nil); resp.Header.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Fatal("a missing object claims encryption")
	}
	wantError(t, h.do("PUT", "/bkt/x", []byte("v"), "", http.Header{"X-Amz-Server-Side-Encryption": {"ROT13"}}), http.StatusBadRequest, "InvalidArgument")
}
