package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stratos-net/stratos/gateway/sigv4"
)

// Server answers the S3 API for the accounts it is given.
type Server struct {
	cfg      Config
	accounts Accounts
	log      *slog.Logger
	idPrefix string
	seq      atomic.Uint64
}

var _ http.Handler = (*Server)(nil)

// New is a Server for accounts under cfg.
func New(cfg Config, accounts Accounts) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if accounts == nil {
		return nil, errors.New("s3 gateway: no accounts")
	}
	return &Server{
		cfg:      cfg,
		accounts: accounts,
		log:      cfg.Logger,
		idPrefix: strings.ToUpper(strconv.FormatInt(cfg.Clock().UnixNano(), 36)),
	}, nil
}

// request is one S3 request as it goes through the Server.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	id      string
	bucket  string
	key     string
	query   url.Values
	auth    sigv4.Result
	owner   owner
	backend Backend
	op      string // the S3 operation, for the log
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Clock()
	rec := &statusRecorder{ResponseWriter: w}
	rq := &request{w: rec, r: r, id: s.requestID(), op: "unknown"}
	rec.Header().Set("X-Amz-Request-Id", rq.id)
	rec.Header().Set("Server", "Stratos")
	if err := s.serve(rq); err != nil {
		s.fail(rq, err)
	}
	s.log.Debug("s3 request", "op", rq.op, "method", r.Method, "bucket", rq.bucket, "key", rq.key,
		"status", rec.status, "id", rq.id, "took", s.cfg.Clock().Sub(start))
}

// serve authenticates, routes and runs one request.
func (s *Server) serve(rq *request) error {
	var err error
	if rq.bucket, rq.key, err = s.address(rq.r); err != nil {
		return err
	}
	if rq.query, err = url.ParseQuery(rq.r.URL.RawQuery); err != nil {
		return errInvalidURI.withMessage("Couldn't parse the query: %s", err.Error())
	}
	if err := s.authenticate(rq); err != nil {
		return err
	}
	op, handle, err := route(rq)
	if err != nil {
		return err
	}
	rq.op = op
	if err := checkNames(rq); err != nil {
		return err
	}
	if rq.backend, err = s.accounts.Backend(rq.auth.AccessKey); err != nil {
		return fmt.Errorf("the storage of access key %s: %w", rq.auth.AccessKey, err)
	}
	return handle(s, rq)
}

// address is the bucket and key a request names: the bucket from the host
// (virtual-hosted style) or the path's first segment (path style), the key
// the rest of the path, each unescaped exactly once. The path is not
// cleaned: "a//b", "dir/", "x/../y" and "%2F" are keys as they are.
func (s *Server) address(r *http.Request) (bucket, key string, err error) {
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	if host := s.virtualBucket(r.Host); host != "" {
		key, err = url.PathUnescape(p)
		if err != nil {
			return "", "", errInvalidURI.because(err)
		}
		return host, key, nil
	}
	b, k, _ := strings.Cut(p, "/")
	if bucket, err = url.PathUnescape(b); err != nil {
		return "", "", errInvalidURI.because(err)
	}
	if key, err = url.PathUnescape(k); err != nil {
		return "", "", errInvalidURI.because(err)
	}
	return bucket, key, nil
}

// virtualBucket is the bucket a virtual-hosted style host names, or "".
func (s *Server) virtualBucket(host string) string {
	if s.cfg.VirtualHostSuffix == "" {
		return ""
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	bucket, ok := strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(s.cfg.VirtualHostSuffix))
	if !ok {
		return ""
	}
	return bucket
}

// authenticate checks the request's signature and region.
func (s *Server) authenticate(rq *request) error {
	res, err := sigv4.Verify(rq.r, s.accounts, s.cfg.Clock())
	if err != nil {
		return authError(err)
	}
	if res.Region != s.cfg.Region {
		return errAuthMalformed.withMessage("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", clip(res.Region), s.cfg.Region)
	}
	rq.auth = res
	sum := sha256.Sum256([]byte(res.AccessKey))
	rq.owner = owner{ID: hex.EncodeToString(sum[:])}
	return nil
}

// checkNames checks the bucket and key the request names, before the
// Backend sees them.
func checkNames(rq *request) error {
	if rq.bucket == "" {
		return nil
	}
	if err := checkBucketName(rq.bucket); err != nil {
		return err
	}
	if rq.key == "" {
		return nil
	}
	return checkKey(rq.key)
}

// fail answers with err as an S3 error document (only the status for
// HEAD), and logs what the client is not told.
func (s *Server) fail(rq *request, err error) {
	e := toAPIError(err)
	if e.Status >= 500 {
		s.log.Error("s3 request failed", "op", rq.op, "bucket", rq.bucket, "key", rq.key, "id", rq.id, "code", e.Code, "err", err)
	} else {
		s.log.Debug("s3 request refused", "op", rq.op, "id", rq.id, "code", e.Code, "err", err)
	}
	if rec, ok := rq.w.(*statusRecorder); ok && rec.status != 0 {
		return // the answer has begun: all that is left is to cut it short
	}
	if rq.r.Method == http.MethodHead {
		rq.w.WriteHeader(e.Status)
		return
	}
	doc := errorBody{Code: e.Code, Message: e.Message, Resource: rq.r.URL.Path, RequestID: rq.id}
	if e.Code == errAuthMalformed.Code {
		doc.Region = s.cfg.Region
	}
	if err := writeXML(rq.w, e.Status, doc); err != nil {
		s.log.Error("s3 error response", "id", rq.id, "err", err)
	}
}

func (s *Server) requestID() string {
	return s.idPrefix + fmt.Sprintf("%08X", s.seq.Add(1))
}

// statusRecorder notes the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// lastModified is the HTTP form of an object's time.
func lastModified(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
