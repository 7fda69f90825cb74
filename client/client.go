package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/crypt"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// Errors a caller can match with errors.Is. Errors from the meta node carry
// its message after the sentinel's text.
var (
	ErrNotFound    = errors.New("not found")
	ErrExists      = errors.New("already exists")
	ErrInvalid     = errors.New("invalid request")
	ErrNoSpace     = errors.New("not enough space or nodes in the network")
	ErrUnavailable = errors.New("data unavailable") // no good replica of some slice reachable
	ErrTaskExpired = errors.New("upload task expired")
	// ErrTooFewReplicas is returned by Put when a slice could not be stored
	// on the minimum number of resource nodes (DESIGN §6.2 step 4).
	ErrTooFewReplicas = errors.New("too few replicas stored")
	// ErrMetaUnavailable is returned when the meta node kept answering
	// Unavailable (or could not be reached) for Config.RetryFor.
	ErrMetaUnavailable = errors.New("meta node unavailable")
	// ErrDenied: the network's rules refuse the request, e.g. nothing
	// prepaid on chain; the message says what to do.
	ErrDenied = errors.New("not allowed")
)

// Config configures a Client. Zero values of Concurrency, RetryFor and
// MaxAttempts mean the defaults.
type Config struct {
	MetaAddr, MetaID string        // meta node address and node ID (TLS pins it via wire.Dial)
	Metas            []MetaNode    // the other meta nodes of the cluster: calls follow the leader among them all
	Owner            string        // the account whose namespace we use
	Region           string        // the client's region, for placement locality
	Concurrency      int           // slices in flight per transfer; default 4
	RetryFor         time.Duration // how long meta calls retry while the meta node is Unavailable; default 30s
	MaxAttempts      int           // pipeline attempts per slice before giving up; default 4
	StallTimeout     time.Duration // a holder silent this long is skipped for the next; default 5s
	// Signer, if set, is Owner's account key: it signs every request on the
	// namespace (DESIGN §3). A network with a chain refuses unsigned ones.
	Signer account.Signer
	Logger *slog.Logger // nil discards logs
}

// Defaults.
const (
	defaultConcurrency = 4
	defaultRetryFor    = 30 * time.Second
	defaultMaxAttempts = 4
	defaultStall       = 5 * time.Second
)

// DefaultConfig returns a Config with every default filled in; the caller
// still has to set MetaAddr, MetaID and Owner.
func DefaultConfig() Config {
	return Config{
		Concurrency:  defaultConcurrency,
		RetryFor:     defaultRetryFor,
		MaxAttempts:  defaultMaxAttempts,
		StallTimeout: defaultStall,
	}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if _, err := c.metaNodes(); err != nil {
		return err
	}
	switch {
	case c.Owner == "":
		return fmt.Errorf("%w: config: owner is empty", ErrInvalid)
	case c.Concurrency < 0:
		return fmt.Errorf("%w: config: concurrency %d is negative", ErrInvalid, c.Concurrency)
	case c.RetryFor < 0:
		return fmt.Errorf("%w: config: retry duration %v is negative", ErrInvalid, c.RetryFor)
	case c.MaxAttempts < 0:
		return fmt.Errorf("%w: config: max attempts %d is negative", ErrInvalid, c.MaxAttempts)
	case c.StallTimeout < 0:
		return fmt.Errorf("%w: config: stall timeout %v is negative", ErrInvalid, c.StallTimeout)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Concurrency == 0 {
		c.Concurrency = d.Concurrency
	}
	if c.RetryFor == 0 {
		c.RetryFor = d.RetryFor
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = d.StallTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Client is safe for concurrent use.
type Client struct {
	cfg   Config
	log   *slog.Logger
	metas *wire.LeaderConn
	meta  metav1.MetaServiceClient // over metas: calls follow the leader
	nodes *wire.Pool

	// sliceSize is the network's slice size once a meta answer told us; it
	// decides whether Put may read a small file before BeginUpload.
	sliceSize atomic.Uint64
	// reports tracks the asynchronous ReportBadReplica calls, so Close (and
	// tests) can wait for them.
	reports sync.WaitGroup

	// Backoff between retries of a meta call; tests shorten it.
	retryBase, retryMax time.Duration

	rand      io.Reader // salts of encrypted files
	masterMu  sync.Mutex
	masterKey *crypt.Master // derived on first use (crypt.go)
}

// New returns a Client for cfg. It does not connect: the first call does.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	nodes, err := cfg.metaNodes()
	if err != nil {
		return nil, err
	}
	metas, err := wire.NewLeaderConn(nodes, wire.Dial)
	if err != nil {
		return nil, err
	}
	return &Client{
		cfg:       cfg,
		log:       cfg.Logger,
		metas:     metas,
		meta:      metav1.NewMetaServiceClient(metas),
		nodes:     wire.NewPool(),
		retryBase: 100 * time.Millisecond,
		retryMax:  time.Second,
		rand:      rand.Reader,
	}, nil
}

// Close waits for pending bad-replica reports and closes every connection.
func (c *Client) Close() error {
	c.reports.Wait()
	err := c.metas.Close()
	return errors.Join(err, c.nodes.Close())
}

// learnSliceSize remembers the network's slice size.
func (c *Client) learnSliceSize(n uint64) {
	if slice.CheckSize(int(min(n, slice.MaxSize+1))) == nil {
		c.sliceSize.Store(n)
	}
}

// metaCall is the shape of every generated MetaService method.
type metaCall[Req, Resp any] func(context.Context, Req, ...grpc.CallOption) (Resp, error)

// retry calls f until it succeeds, fails with a code other than
// Unavailable, or the meta cluster has been unavailable for
// Config.RetryFor. Calls go to the meta node believed to lead, and a
// follower's answer moves them to the leader (wire.LeaderConn; DESIGN
// §5.2: a leader that dies is replaced within seconds). The error is mapped
// with metaErr. Every meta call goes through here, so each must be safe to
// repeat; the ones that change state are (a repeated commit returns the
// committed file), except Delete, see Remove.
func retry[Req, Resp any](ctx context.Context, c *Client, f metaCall[Req, Resp], req Req) (Resp, error) {
	start := time.Now()
	wait := c.retryBase
	for {
		if err := c.sign(req); err != nil {
			var zero Resp
			return zero, err
		}
		resp, err := f(ctx, req)
		if err == nil {
			return resp, nil
		}
		if status.Code(err) != codes.Unavailable || ctx.Err() != nil || time.Since(start)+wait > c.cfg.RetryFor {
			return resp, metaErr(ctx, err)
		}
		if wait == c.retryBase {
			c.log.Warn("meta cluster unavailable, retrying", "for", c.cfg.RetryFor, "err", status.Convert(err).Message())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, c.retryMax)
	}
}

// sign signs req with the account key, if there is one and req carries
// an auth field; each attempt is signed afresh, so a retry is never stale.
func (c *Client) sign(req any) error {
	m, ok := req.(proto.Message)
	if !ok || c.cfg.Signer == nil || !account.Signable(m) {
		return nil
	}
	if err := account.Sign(m, c.cfg.Signer, time.Now()); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// metaErr maps a meta node's gRPC status to a sentinel, keeping its message.
func metaErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var sentinel error
	switch st.Code() {
	case codes.NotFound:
		sentinel = ErrNotFound
	case codes.AlreadyExists:
		sentinel = ErrExists
	case codes.InvalidArgument:
		sentinel = ErrInvalid
	case codes.ResourceExhausted:
		sentinel = ErrNoSpace
	case codes.FailedPrecondition:
		sentinel = ErrTaskExpired
	case codes.Aborted:
		sentinel = ErrNotEmpty
	case codes.Unavailable:
		sentinel = ErrMetaUnavailable
	case codes.PermissionDenied:
		sentinel = ErrDenied
	default:
		return fmt.Errorf("meta node: %w", err)
	}
	return fmt.Errorf("%w: %s", sentinel, st.Message())
}

// detached returns a short context for clean-up calls that must run even
// though ctx was canceled (AbortUpload, ReportBadReplica).
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}
