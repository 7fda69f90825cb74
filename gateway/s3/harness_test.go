package s3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	testKey    = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
)

// harness is a Server on an httptest.Server over a memBackend, with a
// clock the test can move (the SDK signs with the real time).
type harness struct {
	t       *testing.T
	srv     *httptest.Server
	server  *Server
	backend *memBackend
	skew    atomic.Int64 // nanoseconds added to the real time

	mu   sync.Mutex
	seen []*http.Request // every request's method, URL and header, as it arrived
}

// requests is what the server has seen so far.
func (h *harness) requests() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seen)
}

type harnessOption func(*Config)

func newHarness(t *testing.T, tls bool, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t}
	clock := func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }
	h.backend = newMemBackend(clock)
	cfg := DefaultConfig()
	cfg.Clock = clock
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg, memAccounts{testKey: {testSecret, h.backend}})
	if err != nil {
		t.Fatal(err)
	}
	h.server = s
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.seen = append(h.seen, &http.Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone(), RequestURI: r.RequestURI})
		h.mu.Unlock()
		s.ServeHTTP(w, r)
	})
	if tls {
		h.srv = httptest.NewTLSServer(record)
	} else {
		h.srv = httptest.NewServer(record)
	}
	t.Cleanup(h.srv.Close)
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// client is the AWS SDK's S3 client for the harness, path-style, with
// static credentials, no retries, and checksums as config.LoadDefaultConfig
// sets them (a CRC32 on every upload that supports one).
func (h *harness) client(secret string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:                     testRegion,
		BaseEndpoint:               aws.String(h.srv.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(testKey, secret, ""),
		HTTPClient:                 h.srv.Client(),
		Retryer:                    aws.NopRetryer{},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

// do sends a request signed as S3 clients sign (the path not escaped
// again), with payloadHash as x-amz-content-sha256 ("" for the body's
// SHA-256).
func (h *harness) do(method, path string, body []byte, payloadHash string, header http.Header) *http.Response {
	h.t.Helper()
	r, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	sign(h.t, r, payloadHash, testSecret, time.Now())
	resp, err := h.srv.Client().Do(r)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// raw sends a request as written, over its own connection: the header
// as given (signed or not), Content-Length as declared whatever the body
// holds, then the end of what the client sends.
func (h *harness) raw(method, path, host string, contentLength int, header http.Header, body []byte) *http.Response {
	h.t.Helper()
	conn, err := net.Dial("tcp", h.srv.Listener.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n", method, path, host, contentLength)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
	}
	req.WriteString("\r\n")
	req.Write(body)
	if _, err := conn.Write(req.Bytes()); err != nil {
		h.t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func sign(t *testing.T, r *http.Request, payloadHash, secret string, at time.Time) {
	t.Helper()
	r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: secret}, r, payloadHash, "s3", testRegion, at); err != nil {
		t.Fatal(err)
	}
}

// wantError checks that resp is the S3 error code with status.
func wantError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (%s)\n%s", resp.StatusCode, status, code, body)
	}
	var e struct {
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an error document: %v\n%s", err, body)
	}
	if e.Code != code {
		t.Fatalf("code %s, want %s: %s", e.Code, code, e.Message)
	}
	if e.RequestID == "" || e.RequestID != resp.Header.Get("X-Amz-Request-Id") {
		t.Fatalf("request id %q in the document, %q in the header", e.RequestID, resp.Header.Get("X-Amz-Request-Id"))
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }
