package meta

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stratos-net/stratos/wire"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"
)

// ErrRateLimited: an account or node sends requests faster than its token
// bucket allows.
var ErrRateLimited = errors.New("too many requests")

// Rates are the token buckets the leader keeps per caller (issue 8:
// "per-account rate limits on signed requests (a token bucket), so one key
// filling a table cannot lock out others"): one per account, for signed
// requests, and one per resource node, for the calls its certificate
// makes. Rate is in requests per second; Burst how many may come at once.
type Rates struct {
	AccountRate  float64
	AccountBurst int
	NodeRate     float64
	NodeBurst    int
	// MaxKeys bounds the buckets remembered; past it, those that have
	// refilled (idle callers) are forgotten first.
	MaxKeys int
}

// DefaultRates let an account make 1,000 signed requests a second (a
// burst of 2,000): a busy client uploading small files in parallel, or a
// gateway signing for one account, makes a few hundred. A node's calls
// (heartbeats, reports, confirmations) come far slower: 100.
func DefaultRates() Rates {
	return Rates{AccountRate: 1000, AccountBurst: 2000, NodeRate: 100, NodeBurst: 200, MaxKeys: 100_000}
}

// Validate reports rates that cannot work.
func (r Rates) Validate() error {
	if r.AccountRate <= 0 || r.NodeRate <= 0 || r.AccountBurst < 1 || r.NodeBurst < 1 || r.MaxKeys < 1 {
		return fmt.Errorf("rates: %+v: every rate, burst and the key bound must be positive", r)
	}
	return nil
}

// buckets is one token bucket per key, on an injected clock; it owns its
// state behind its own lock.
type buckets struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	max   int
	now   func() time.Time
	m     map[string]*rate.Limiter
}

func newBuckets(r float64, burst, max int, now func() time.Time) *buckets {
	return &buckets{rate: rate.Limit(r), burst: burst, max: max, now: now, m: map[string]*rate.Limiter{}}
}

// allow takes a token from key's bucket, reporting whether there was one.
func (b *buckets) allow(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	l := b.m[key]
	if l == nil {
		if len(b.m) >= b.max {
			b.forgetIdle(now)
		}
		l = rate.NewLimiter(b.rate, b.burst)
		b.m[key] = l
	}
	return l.AllowN(now, 1)
}

// forgetIdle drops the buckets that are full again: forgetting them loses
// nothing. If every bucket is in use, the map may grow past max until
// some refill; the per-account bound of the replay guard still holds.
func (b *buckets) forgetIdle(now time.Time) {
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
}

// limitNodes refuses the calls of a resource or meta node (known by its
// certificate) beyond its token bucket. Calls from people's clients carry
// no certificate; their signed requests are limited per account.
func (s *Server) limitNodes(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if id, ok := wire.PeerID(ctx); ok && !s.isAuthority(id) && !s.nodes.allow(id) {
		return nil, toStatus(fmt.Errorf("%w from node %s: at most %g a second (bursts of %d)", ErrRateLimited, id, s.cfg.Rates.NodeRate, s.cfg.Rates.NodeBurst))
	}
	return h(ctx, req)
}
