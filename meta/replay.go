package meta

import (
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/stratos-net/stratos/account"
)

// Errors of replay protection.
var (
	ErrReplayed = errors.New("request already received (a signed request is accepted once)")
	ErrBusy     = errors.New("too many signed requests in the last minutes; retry shortly")
)

// maxSeen bounds the signatures remembered. A request is remembered until
// its signing time is account.MaxSkew old, after which Verify refuses it as
// stale anyway.
const maxSeen = 500_000

// replayGuard remembers the signatures of accepted requests, so that a
// captured request cannot be sent again within the window its signature
// is valid in (deleting a file uploaded again at the same path, spending
// the prepay on downloads). Each client attempt is signed afresh, so a
// retry is never a replay.
type replayGuard struct {
	mu   sync.Mutex
	seen map[[32]byte]time.Time // signature hash → when it stops being valid
}

func newReplayGuard() *replayGuard { return &replayGuard{seen: map[[32]byte]time.Time{}} }

// first records sig, signed at signedAt, and fails if it was seen before.
// When full of signatures still valid, it refuses rather than forgets.
func (g *replayGuard) first(sig []byte, signedAt, now time.Time) error {
	k := sha256.Sum256(sig)
	g.mu.Lock()
	defer g.mu.Unlock()
	if until, ok := g.seen[k]; ok && now.Before(until) {
		return ErrReplayed
	}
	if len(g.seen) >= maxSeen {
		for s, until := range g.seen {
			if !now.Before(until) {
				delete(g.seen, s)
			}
		}
		if len(g.seen) >= maxSeen {
			return ErrBusy
		}
	}
	g.seen[k] = signedAt.Add(account.MaxSkew)
	return nil
}
