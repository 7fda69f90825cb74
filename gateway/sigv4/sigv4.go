// Package sigv4 verifies AWS Signature Version 4 on S3 requests, in the
// Authorization header or in a presigned URL's query (issue 9, DESIGN §9:
// the gateway "must work with stock S3 clients"). It recomputes the
// signature from the request as it arrived and the access key's secret,
// and compares in constant time. It does not read the body: it returns
// the payload hash the client declared (x-amz-content-sha256), which the
// gateway checks against what it reads.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Errors, each matched by the S3 error code the gateway answers with.
var (
	ErrMissing      = errors.New("no AWS Signature V4 in the request")            // AccessDenied
	ErrMalformed    = errors.New("malformed AWS Signature V4")                    // AuthorizationHeaderMalformed
	ErrUnknownKey   = errors.New("unknown access key")                            // InvalidAccessKeyId
	ErrMismatch     = errors.New("the request signature does not match")          // SignatureDoesNotMatch
	ErrSkewed       = errors.New("the request time is too far from the server's") // RequestTimeTooSkewed
	ErrExpired      = errors.New("the presigned URL has expired")                 // AccessDenied (Request has expired)
	ErrNotSupported = errors.New("signature algorithm not supported")             // NotImplemented
)

const (
	algorithm = "AWS4-HMAC-SHA256"
	service   = "s3"
	// MaxSkew is how far a header-signed request's time may be from the
	// server's, as S3 allows.
	MaxSkew = 15 * time.Minute
	// MaxExpires is the longest a presigned URL may be valid: seven days.
	MaxExpires = 7 * 24 * time.Hour
	// UnsignedPayload is the payload hash of a presigned request, or of a
	// header-signed one that does not sign its body.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	amzDateFormat   = "20060102T150405Z"
)

// Secrets finds the secret of an access key (ErrUnknownKey wrapped if
// there is none).
type Secrets interface {
	Secret(accessKey string) (string, error)
}

// Result is a request that verified.
type Result struct {
	AccessKey   string
	Region      string
	PayloadHash string // as declared: a hex SHA-256, UnsignedPayload, or a STREAMING-* mode
	Presigned   bool
}

// auth is what the request claims about its signature.
type auth struct {
	accessKey, date, region string
	signedHeaders           []string
	signature               string
	amzDate                 time.Time
	expires                 time.Duration // presigned only
	presigned               bool
}

// Verify checks r's signature against secrets at time now.
func Verify(r *http.Request, secrets Secrets, now time.Time) (Result, error) {
	a, payload, err := parse(r)
	if err != nil {
		return Result{}, err
	}
	if err := checkTime(a, now); err != nil {
		return Result{}, err
	}
	secret, err := secrets.Secret(a.accessKey)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s: %w", ErrUnknownKey, clip(a.accessKey), err)
	}
	want := signature(secret, a, canonicalRequest(r, a, payload))
	got, err := hex.DecodeString(a.signature)
	if err != nil || !hmac.Equal(got, want) {
		return Result{}, ErrMismatch
	}
	return Result{AccessKey: a.accessKey, Region: a.region, PayloadHash: payload, Presigned: a.presigned}, nil
}

// parse reads the signature's parts from the Authorization header or the
// query, and the payload hash.
func parse(r *http.Request) (auth, string, error) {
	q := r.URL.Query()
	if h := r.Header.Get("Authorization"); h != "" {
		a, err := parseHeader(h)
		if err != nil {
			return auth{}, "", err
		}
		d := r.Header.Get("X-Amz-Date")
		if a.amzDate, err = time.Parse(amzDateFormat, d); err != nil {
			return auth{}, "", fmt.Errorf("%w: X-Amz-Date %q", ErrMalformed, clip(d))
		}
		payload := r.Header.Get("X-Amz-Content-Sha256")
		if payload == "" {
			return auth{}, "", fmt.Errorf("%w: no x-amz-content-sha256 header", ErrMalformed)
		}
		return a, payload, nil
	}
	if q.Get("X-Amz-Algorithm") == "" {
		return auth{}, "", ErrMissing
	}
	a, err := parseQuery(q)
	return a, UnsignedPayload, err
}

// parseHeader parses "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/
// s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex".
func parseHeader(h string) (auth, error) {
	alg, rest, ok := strings.Cut(h, " ")
	if !ok {
		return auth{}, fmt.Errorf("%w: Authorization header %q", ErrMalformed, clip(h))
	}
	if alg != algorithm {
		return auth{}, fmt.Errorf("%w: %q (only %s)", ErrNotSupported, clip(alg), algorithm)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return auth{}, fmt.Errorf("%w: Authorization field %q", ErrMalformed, clip(part))
		}
		fields[k] = v
	}
	a := auth{signature: fields["Signature"]}
	if err := a.setCredential(fields["Credential"]); err != nil {
		return auth{}, err
	}
	if err := a.setSignedHeaders(fields["SignedHeaders"]); err != nil {
		return auth{}, err
	}
	if len(a.signature) != 2*sha256.Size {
		return auth{}, fmt.Errorf("%w: signature of %d characters", ErrMalformed, len(a.signature))
	}
	return a, nil
}

// parseQuery parses a presigned URL's X-Amz-* parameters.
func parseQuery(q url.Values) (auth, error) {
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return auth{}, fmt.Errorf("%w: %q (only %s)", ErrNotSupported, clip(alg), algorithm)
	}
	a := auth{presigned: true, signature: q.Get("X-Amz-Signature")}
	if err := a.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return auth{}, err
	}
	if err := a.setSignedHeaders(q.Get("X-Amz-SignedHeaders")); err != nil {
		return auth{}, err
	}
	var err error
	if a.amzDate, err = time.Parse(amzDateFormat, q.Get("X-Amz-Date")); err != nil {
		return auth{}, fmt.Errorf("%w: X-Amz-Date %q", ErrMalformed, clip(q.Get("X-Amz-Date")))
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > MaxExpires {
		return auth{}, fmt.Errorf("%w: X-Amz-Expires %q: want 1 to %d seconds", ErrMalformed, clip(q.Get("X-Amz-Expires")), int64(MaxExpires/time.Second))
	}
	a.expires = time.Duration(secs) * time.Second
	if len(a.signature) != 2*sha256.Size {
		return auth{}, fmt.Errorf("%w: signature of %d characters", ErrMalformed, len(a.signature))
	}
	return a, nil
}

// setCredential takes "AK/yyyymmdd/region/s3/aws4_request".
func (a *auth) setCredential(c string) error {
	parts := strings.Split(c, "/")
	if len(parts) != 5 || parts[0] == "" || len(parts[1]) != 8 || parts[2] == "" || parts[3] != service || parts[4] != "aws4_request" {
		return fmt.Errorf("%w: credential %q: want ACCESSKEY/yyyymmdd/region/s3/aws4_request", ErrMalformed, clip(c))
	}
	a.accessKey, a.date, a.region = parts[0], parts[1], parts[2]
	return nil
}

// setSignedHeaders takes "host;x-amz-date": lower case, sorted, with host.
func (a *auth) setSignedHeaders(s string) error {
	hs := strings.Split(s, ";")
	if !sort.StringsAreSorted(hs) || !contains(hs, "host") {
		return fmt.Errorf("%w: signed headers %q: want them sorted, in lower case, host among them", ErrMalformed, clip(s))
	}
	for _, h := range hs {
		if h == "" || h != strings.ToLower(h) {
			return fmt.Errorf("%w: signed headers %q", ErrMalformed, clip(s))
		}
	}
	a.signedHeaders = hs
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkTime: the scope's date is the request's; a header-signed request is
// within MaxSkew of now; a presigned one is not from the future (beyond
// MaxSkew) and has not expired.
func checkTime(a auth, now time.Time) error {
	if a.amzDate.Format("20060102") != a.date {
		return fmt.Errorf("%w: credential date %s, request date %s", ErrMalformed, a.date, a.amzDate.Format(amzDateFormat))
	}
	if a.amzDate.After(now.Add(MaxSkew)) {
		return fmt.Errorf("%w: signed at %s, the server's time is %s", ErrSkewed, a.amzDate.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if a.presigned {
		if now.After(a.amzDate.Add(a.expires)) {
			return fmt.Errorf("%w: at %s", ErrExpired, a.amzDate.Add(a.expires).Format(time.RFC3339))
		}
		return nil
	}
	if a.amzDate.Before(now.Add(-MaxSkew)) {
		return fmt.Errorf("%w: signed at %s, the server's time is %s", ErrSkewed, a.amzDate.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// canonicalRequest is SigV4's canonical form of r: the path exactly as
// sent (S3 does not escape it again), the query re-encoded and sorted
// (without the signature), the signed headers' values trimmed, and the
// payload hash.
func canonicalRequest(r *http.Request, a auth, payload string) string {
	path := r.RequestURI
	if i := strings.Index(path, "://"); i >= 0 { // absolute-form: drop the scheme and host
		path = path[i+3:]
		if j := strings.IndexByte(path, '/'); j >= 0 {
			path = path[j:]
		} else {
			path = "/"
		}
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = r.URL.EscapedPath() // a request not read from the wire
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + path + "\n" + canonicalQuery(r.URL.RawQuery, a.presigned) + "\n")
	for _, h := range a.signedHeaders {
		b.WriteString(h + ":" + headerValue(r, h) + "\n")
	}
	b.WriteString("\n" + strings.Join(a.signedHeaders, ";") + "\n" + payload)
	return b.String()
}

// canonicalQuery encodes every parameter of raw (both names and values,
// everything but A-Z a-z 0-9 - _ . ~), sorted by name then value.
func canonicalQuery(raw string, presigned bool) string {
	q, _ := url.ParseQuery(raw) // what fails to parse is left out, and the signature with it
	var pairs [][2]string
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, [2]string{escape(k), escape(v)})
		}
	}
	// By name, then value: sorting "k=v" strings whole would put
	// "select-type=2" before "select=" ('-' < '='), unlike AWS.
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0] + "=" + p[1])
	}
	return b.String()
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// headerValue is a signed header's canonical value: every value of it,
// trimmed, inner runs of spaces made one, joined by commas.
func headerValue(r *http.Request, name string) string {
	var vs []string
	switch name {
	case "host":
		vs = []string{r.Host}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			vs = v
		} else if r.ContentLength >= 0 {
			vs = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vs = r.Header.Values(name)
	}
	for i, v := range vs {
		vs[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vs, ",")
}

// signature is HMAC-SHA256 of the string to sign under the scope's
// derived key.
func signature(secret string, a auth, canonical string) []byte {
	scope := a.date + "/" + a.region + "/" + service + "/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + a.amzDate.Format(amzDateFormat) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	k := mac([]byte("AWS4"+secret), a.date)
	k = mac(k, a.region)
	k = mac(k, service)
	k = mac(k, "aws4_request")
	return mac(k, toSign)
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// clip bounds what an error repeats of the request.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
