package meta

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Issue 8: "per-account rate limits on signed requests (a token bucket),
// so one key filling a table cannot lock out others". An account past its
// burst is refused with ResourceExhausted and a message that says so,
// another account is served meanwhile, and the bucket refills with time.
func TestSignedRequestsRateLimitedPerAccount(t *testing.T) {
	h := newHarness(t, 3)
	h.s.Close()
	h.cfg.unsigned = false
	h.cfg.Rates.AccountRate, h.cfg.Rates.AccountBurst = 0.01, 2 // signed() moves the clock a second
	h.s = h.open()
	alice, bob := newUser(t), newUser(t)
	list := func(u user) error {
		_, err := h.s.List(ctx, signed(t, h, u, &metav1.ListRequest{Owner: u.addr, Dir: "/"}))
		return err
	}
	for range 2 {
		if err := list(alice); err != nil {
			t.Fatal(err)
		}
	}
	err := list(alice)
	wantCode(t, err, codes.ResourceExhausted)
	if err == nil || !containsAll(err.Error(), "too many requests", alice.addr, "slow down") {
		t.Fatalf("refusal says %v", err)
	}
	if err := list(bob); err != nil {
		t.Fatalf("bob, while alice is limited: %v", err)
	}
	h.clock.Advance(100 * time.Second)
	if err := list(alice); err != nil {
		t.Fatalf("alice once her bucket refilled: %v", err)
	}
}

// The buckets forget callers that have refilled once they hold MaxKeys,
// and never refuse a new caller for lack of room.
func TestBucketsForgetIdleCallers(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBuckets(1, 1, 2, func() time.Time { return now })
	if !b.allow("a") || !b.allow("b") || b.allow("a") {
		t.Fatal("a bucket of one")
	}
	if !b.allow("c") {
		t.Fatal("a new caller refused while the others are busy")
	}
	now = now.Add(10 * time.Second)
	b.allow("d")
	if len(b.m) > 2 {
		t.Fatalf("%d buckets after every caller refilled, want at most 2", len(b.m))
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
