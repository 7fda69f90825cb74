package s3

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratos-net/stratos/gateway/sigv4"
)

// The example of AWS's "Signature Calculation: Transfer Payload in
// Multiple Chunks" (Amazon S3 API reference, sigv4-streaming): 66,560
// bytes of 'a' in chunks of 65,536 and 1,024, with the example
// credentials, signed on 2013-05-24. Its signatures come from AWS, not
// from this repository, so they check sigv4.Chain independently.
var awsStreamingExample = struct {
	date       time.Time
	seed       string
	chunks     []int
	signatures []string // each chunk's, then the final empty chunk's
}{
	date:   time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC),
	seed:   "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
	chunks: []int{65536, 1024},
	signatures: []string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	},
}

// exampleBody frames the example's chunks, each with its signature.
func exampleBody(sigs []string) []byte {
	var b bytes.Buffer
	for i, n := range awsStreamingExample.chunks {
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", n, sigs[i])
		b.Write(bytes.Repeat([]byte("a"), n))
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "0;chunk-signature=%s\r\n\r\n", sigs[len(sigs)-1])
	return b.Bytes()
}

// exampleHeader is the example request's header, as signed.
func exampleHeader() http.Header {
	return http.Header{
		"X-Amz-Date":                   {"20130524T000000Z"},
		"X-Amz-Storage-Class":          {"REDUCED_REDUNDANCY"},
		"X-Amz-Content-Sha256":         {sigv4.StreamingPayload},
		"Content-Encoding":             {"aws-chunked"},
		"X-Amz-Decoded-Content-Length": {"66560"},
		"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
			"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class," +
			"Signature=" + awsStreamingExample.seed},
	}
}

// sendExample sends the example's request with body, declared as the
// example's 66,824 bytes whatever its length, to the harness, whose clock
// is set to the example's date.
func sendExample(t *testing.T, h *harness, body []byte) *http.Response {
	t.Helper()
	h.skew.Store(int64(awsStreamingExample.date.Sub(time.Now())))
	t.Cleanup(func() { h.skew.Store(0) })
	return h.raw("PUT", "/examplebucket/chunkObject.txt", "s3.amazonaws.com", 66824, exampleHeader(), body)
}

func TestChunkedAWSExample(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "examplebucket")
	sigs := awsStreamingExample.signatures
	resp := sendExample(t, h, exampleBody(sigs))
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("AWS's own example: %d\n%s", resp.StatusCode, body)
	}
	o, err := h.backend.object("examplebucket", "chunkObject.txt")
	if err != nil || !bytes.Equal(o.data, bytes.Repeat([]byte("a"), 66560)) || o.obj.Meta.ContentEncoding != "" {
		t.Fatalf("stored %d bytes, content encoding %q: %v", len(o.data), o.obj.Meta.ContentEncoding, err)
	}
}

func TestChunkedAWSExampleTampered(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "examplebucket")
	sigs := awsStreamingExample.signatures
	good := exampleBody(sigs)
	flipped := bytes.Clone(good)
	flipped[100] = 'b' // a byte of the first chunk's data
	swapped := exampleBody([]string{sigs[1], sigs[0], sigs[2]})
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"a changed byte", flipped, 403, "SignatureDoesNotMatch"},
		{"signatures swapped", swapped, 403, "SignatureDoesNotMatch"},
		{"the final chunk cut", good[:len(good)-86], 400, "IncompleteBody"},
		{"the last CRLF cut", good[:len(good)-2], 400, "IncompleteBody"},
		{"no chunk-signature", bytes.Replace(good, []byte(";chunk-signature="+sigs[1]), []byte(";chunk-signaturX"+sigs[1]), 1), 400, "IncompleteBody"},
		{"bad size", bytes.Replace(good, []byte("400;"), []byte("4g0;"), 1), 400, "IncompleteBody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, sendExample(t, h, tc.body), tc.status, tc.code)
			if _, err := h.backend.Head(ctx(t), "examplebucket", "chunkObject.txt"); !errors.Is(err, ErrNoSuchKey) {
				t.Fatalf("a tampered body was stored: %v", err)
			}
		})
	}
}

// decodeUnsigned decodes an unsigned aws-chunked body with a trailer, as
// the AWS SDKs send over HTTPS.
func decodeUnsigned(body []byte) ([]byte, map[string]string, error) {
	r, _ := http.NewRequest("PUT", "http://h/b/k", bytes.NewReader(body))
	c, err := newChunked(r, sigv4.StreamingUnsignedTrailer, memAccounts{})
	if err != nil {
		return nil, nil, err
	}
	out, err := io.ReadAll(c)
	return out, c.trailers(), err
}

// frameUnsigned frames data as the AWS SDK does, in chunks of size.
func frameUnsigned(data []byte, size int, trailer string) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(size, len(data))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, data[:n])
		data = data[n:]
	}
	b.WriteString("0\r\n" + trailer + "\r\n")
	return b.Bytes()
}

func TestChunkedUnsigned(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		trailers         map[string]string
		fails            bool
	}{
		{"sdk example", "b\r\nHello world\r\n0\r\nx-amz-checksum-sha256:ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=\r\n\r\n", "Hello world",
			map[string]string{"x-amz-checksum-sha256": "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="}, false},
		{"two chunks, no trailer", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde", map[string]string{}, false},
		{"LF only", "3\nabc\r\n0\n\n", "abc", map[string]string{}, false},
		{"upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", map[string]string{}, false},
		{"chunk extension ignored", "3;ext=1\r\nabc\r\n0\r\n\r\n", "abc", map[string]string{}, false},
		{"short chunk", "5\r\nabc", "", nil, true},
		{"no CRLF after data", "3\r\nabcX\r\n0\r\n\r\n", "", nil, true},
		{"no final chunk", "3\r\nabc\r\n", "", nil, true},
		{"no end of trailer", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n", "", nil, true},
		{"negative size", "-3\r\nabc\r\n0\r\n\r\n", "", nil, true},
		{"plus size", "+3\r\nabc\r\n0\r\n\r\n", "", nil, true},
		{"huge size", "ffffffffffffffffff\r\n", "", nil, true},
		{"field without colon", "0\r\nnocolon\r\n\r\n", "", nil, true},
		{"line too long", strings.Repeat("0", 5000) + "\r\n", "", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, trailers, err := decodeUnsigned([]byte(tc.body))
			if tc.fails {
				if err == nil {
					t.Fatalf("decoded %q, want an error", got)
				}
				if _, ok := errors.AsType[*apiError](err); !ok && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("error %v is neither an S3 error nor a short body", err)
				}
				return
			}
			if err != nil || string(got) != tc.want || fmt.Sprint(trailers) != fmt.Sprint(tc.trailers) {
				t.Fatalf("%q %v %v, want %q %v", got, trailers, err, tc.want, tc.trailers)
			}
		})
	}
}

// The AWS SDK over HTTPS sends STREAMING-UNSIGNED-PAYLOAD-TRAILER with a
// CRC32 in the trailer; the body is checked against it.
func TestSDKOverTLS(t *testing.T) {
	h := newHarness(t, true)
	c := h.client(testSecret)
	mustCreateBucket(t, c, "bkt")
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	mustPut(t, c, "bkt", "k", data)
	got, _ := mustGet(t, c, &awss3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(data))
	}
	var sawTrailer bool
	for _, r := range h.requests() {
		if r.Method == "PUT" && r.Header.Get("X-Amz-Content-Sha256") == sigv4.StreamingUnsignedTrailer && r.Header.Get("X-Amz-Trailer") != "" {
			sawTrailer = true
		}
	}
	if !sawTrailer {
		t.Fatal("the SDK did not send an unsigned aws-chunked body with a trailer: the test tests nothing")
	}
	id, etags := upload(t, c, "bkt", "mp", []byte("part one"))
	done := &awss3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: aws.String(id), MultipartUpload: completed([]int32{1}, etags)}
	if _, err := c.CompleteMultipartUpload(ctx(t), done); err != nil {
		t.Fatal(err)
	}
}

// A trailer whose checksum does not match the data fails the body.
func TestChunkedTrailerMismatch(t *testing.T) {
	h := newHarness(t, false)
	newBucket(t, h, "bkt")
	data := []byte("hello, trailer")
	crc := crc32.ChecksumIEEE(data)
	good := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	for _, tc := range []struct {
		name, trailer string
		status        int
		code          string
	}{
		{"matching", "x-amz-checksum-crc32:" + good + "\r\n", 200, ""},
		{"mismatched", "x-amz-checksum-crc32:AAAAAA==\r\n", 400, "BadDigest"},
		{"missing", "", 400, "InvalidRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{
				"Content-Encoding":             {"aws-chunked"},
				"X-Amz-Decoded-Content-Length": {strconv.Itoa(len(data))},
				"X-Amz-Trailer":                {"x-amz-checksum-crc32"},
			}
			resp := h.do("PUT", "/bkt/"+tc.name, frameUnsigned(data, 5, tc.trailer), sigv4.StreamingUnsignedTrailer, header)
			_, err := h.backend.Head(ctx(t), "bkt", tc.name)
			if tc.status == 200 {
				if resp.StatusCode != 200 || err != nil {
					b, _ := io.ReadAll(resp.Body)
					t.Fatalf("%d, %v\n%s", resp.StatusCode, err, b)
				}
				return
			}
			wantError(t, resp, tc.status, tc.code)
			if err == nil {
				t.Fatal("stored")
			}
		})
	}
	header := http.Header{"X-Amz-Decoded-Content-Length": {"3"}}
	wantError(t, h.do("PUT", "/bkt/long", frameUnsigned([]byte("four"), 2, ""), sigv4.StreamingUnsignedTrailer, header), 400, "IncompleteBody")
	wantError(t, h.do("PUT", "/bkt/nolength", frameUnsigned([]byte("x"), 2, ""), sigv4.StreamingUnsignedTrailer, nil), http.StatusLengthRequired, "MissingContentLength")
}

// The aws-chunked decoder reads bytes from anyone: whatever they are, it
// returns data or an error, never panics, and gives back exactly what a
// well-framed body holds.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("b\r\nHello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), []byte("data"), uint8(3))
	f.Add([]byte("3\nabc\r\n0\n\n"), []byte(""), uint8(1))
	f.Add([]byte("ffffffffffffffff\r\n"), []byte("0123456789"), uint8(200))
	f.Fuzz(func(t *testing.T, raw, data []byte, size uint8) {
		if out, _, err := decodeUnsigned(raw); err == nil && len(out) > len(raw) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(raw))
		}
		framed := frameUnsigned(data, int(size)+1, "x-amz-checksum-crc32:AAAAAA==\r\n")
		out, trailers, err := decodeUnsigned(framed)
		if err != nil || !bytes.Equal(out, data) || trailers["x-amz-checksum-crc32"] != "AAAAAA==" {
			t.Fatalf("round trip of %q: %q %v %v", data, out, trailers, err)
		}
	})
}

// Signed chunks from anyone: nothing but the one signed body is accepted.
func FuzzChunkedSigned(f *testing.F) {
	f.Add([]byte("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\naaaa\r\n"))
	f.Add([]byte("0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"))
	r, _ := http.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	r.ContentLength = 66824
	r.Header = exampleHeader()
	secrets := memAccounts{testKey: {secret: testSecret}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		c, err := newChunked(r, sigv4.StreamingPayload, secrets)
		if err != nil {
			t.Fatalf("the example's seed: %v", err)
		}
		if out, err := io.ReadAll(c); err == nil {
			t.Fatalf("accepted %d bytes without their signatures", len(out))
		}
	})
}
