package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stratos-net/stratos/gateway/dashboard"
	"github.com/stratos-net/stratos/gateway/fn"
	"github.com/stratos-net/stratos/gateway/keys"
	"github.com/stratos-net/stratos/gateway/s3"
	"github.com/stratos-net/stratos/gateway/s3/network"
	"github.com/stratos-net/stratos/gateway/share"
	"github.com/stratos-net/stratos/gateway/stream"
	"github.com/stratos-net/stratos/metrics"
)

// Config configures a gateway.
type Config struct {
	Listen string // host:port; port 0 picks one
	S3     s3.Config
	Logger *slog.Logger
	// Stream, if set, is the account whose files /stream/ serves to
	// anyone who reaches the gateway, with no credentials.
	Stream stream.Files
	// Shares, if set, are the share links /s/ serves (package share).
	Shares *share.Store
	// Overview, if set, feeds the dashboard at / (package dashboard).
	Overview dashboard.Source
	// Functions, if set, serves trusted-function calls at POST /fn/ (package fn).
	Functions fn.Caller
}

// DefaultConfig listens on loopback port 9000, S3's usual local port.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:9000", S3: s3.DefaultConfig(), Logger: slog.New(slog.DiscardHandler)}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Listen == "" {
		return errors.New("gateway: no listen address")
	}
	if c.Logger == nil {
		return errors.New("gateway: no logger")
	}
	return c.S3.Validate()
}

// Files opens the network client of an account; the gateway closes it.
type Files interface {
	network.Files
	GetStoredRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error
	io.Closer
}

// Opener makes the client that signs for a key's account.
type Opener func(k keys.Key) (Files, error)

// Gateway is a running HTTP gateway.
type Gateway struct {
	ln   net.Listener
	srv  *http.Server
	accs *accounts
	done chan error
}

// Start listens and serves until Close.
func Start(cfg Config, ks *keys.Store, open Opener) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	accs := &accounts{keys: ks, open: open, log: cfg.Logger, now: cfg.S3.Clock, files: map[string]Files{}, backends: map[string]*network.Backend{}}
	if cfg.S3.Logger == nil {
		cfg.S3.Logger = cfg.Logger
	}
	api, err := s3.New(cfg.S3, accs)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	reg := metrics.NewRegistry()
	inst := metrics.NewHTTP(reg, "stratos_gateway")
	var streaming http.Handler
	if cfg.Stream != nil {
		streaming = inst.Wrap("stream", stream.New(cfg.Stream, cfg.Logger))
	}
	var shares http.Handler
	if cfg.Shares != nil {
		shares = inst.Wrap("share", share.New(cfg.Shares, func(account, address string) (share.Files, error) {
			return accs.filesOf(keys.Key{Account: account, Address: address})
		}, cfg.Logger, cfg.S3.Clock))
	}
	var dash http.Handler
	if cfg.Overview != nil {
		dash = inst.Wrap("dashboard", dashboard.New(cfg.Overview, cfg.Logger))
	}
	var fns http.Handler
	if cfg.Functions != nil {
		fns = inst.Wrap("fn", fn.New(cfg.Functions, cfg.Logger))
	}
	handler := route(inst.Wrap("s3", api), streaming, shares, dash, fns, metrics.Handler(reg))
	g := &Gateway{ln: ln, accs: accs, done: make(chan error, 1),
		srv: &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}}
	go func() { g.done <- g.srv.Serve(ln) }()
	return g, nil
}

// route sends unsigned GETs and HEADs of /metrics to Prometheus, under
// /stream/ to streaming (if on), of / and under /dashboard/ to the
// dashboard (if on), unsigned requests under /s/ to share links (if on;
// POST gives a link's password), unsigned POSTs under /fn/ to trusted
// functions (if on), and everything else to S3: S3 requests are always
// signed, so buckets named "stream", "metrics", "dashboard" or "fn" still
// work for S3 clients (and "s" is no valid bucket name).
func route(api, streaming, shares, dash, fns, prom http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain := (r.Method == http.MethodGet || r.Method == http.MethodHead) && !signed(r)
		switch {
		case plain && r.URL.Path == metrics.Path:
			prom.ServeHTTP(w, r)
		case plain && streaming != nil && strings.HasPrefix(r.URL.Path, stream.Prefix):
			streaming.ServeHTTP(w, r)
		case plain && dash != nil && (r.URL.Path == dashboard.Root || strings.HasPrefix(r.URL.Path, dashboard.Prefix)):
			dash.ServeHTTP(w, r)
		case (plain || r.Method == http.MethodPost && !signed(r)) && shares != nil && strings.HasPrefix(r.URL.Path, share.Prefix):
			shares.ServeHTTP(w, r)
		case r.Method == http.MethodPost && !signed(r) && fns != nil && strings.HasPrefix(r.URL.Path, fn.Prefix):
			fns.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

// signed reports an S3 signature (V4, or V2 which S3 refuses): an
// Authorization of another scheme, such as a share link's Basic password,
// is not one.
func signed(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS") {
		return true
	}
	q := r.URL.Query()
	return q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("AWSAccessKeyId") || q.Has("Signature")
}

// URL is the gateway's base URL, the S3 endpoint.
func (g *Gateway) URL() string { return "http://" + g.ln.Addr().String() }

// Close stops serving, letting requests in flight finish for a moment,
// and closes the accounts' clients.
func (g *Gateway) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := g.srv.Shutdown(ctx)
	if serr := <-g.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return errors.Join(err, g.accs.close())
}

// accounts resolves access keys: the secret from the keys file, the
// backend from one client per account, opened on first use.
type accounts struct {
	keys *keys.Store
	open Opener
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	files    map[string]Files            // by keyring account
	backends map[string]*network.Backend // by keyring account
}

func (a *accounts) Secret(access string) (string, error) {
	k, err := a.keys.Lookup(access)
	if err != nil {
		return "", err
	}
	return k.SecretKey, nil
}

func (a *accounts) Backend(access string) (s3.Backend, error) {
	k, err := a.keys.Lookup(access)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if b, ok := a.backends[k.Account]; ok {
		return b, nil
	}
	files, err := a.filesLocked(k)
	if err != nil {
		return nil, err
	}
	b := network.New(files, a.log, a.now)
	a.backends[k.Account] = b
	return b, nil
}

// filesOf is the client of k's account, opened on first use.
func (a *accounts) filesOf(k keys.Key) (Files, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.filesLocked(k)
}

func (a *accounts) filesLocked(k keys.Key) (Files, error) {
	if f, ok := a.files[k.Account]; ok {
		return f, nil
	}
	f, err := a.open(k)
	if err != nil {
		return nil, fmt.Errorf("gateway: account %s: %w", k.Account, err)
	}
	a.files[k.Account] = f
	return f, nil
}

func (a *accounts) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for _, f := range a.files {
		errs = append(errs, f.Close())
	}
	a.files, a.backends = map[string]Files{}, map[string]*network.Backend{}
	return errors.Join(errs...)
}
