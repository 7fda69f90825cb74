package resource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Scrubbing: a copy nobody downloads is never verified by a client (DESIGN
// §6.3), so it could rot unseen until the other replicas are lost too. The
// scrubber re-reads every slice the store holds, one pass after another,
// and checks it against its ID. A corrupt copy goes the way of a corrupt
// copy found on a verify order: out of service, reported to the meta node,
// repaired from a good holder (DESIGN §5.4).
//
// It reads at most Config.ScrubRate bytes per second, one chunk at a time,
// and holds no lock of the node or the store while it reads, so uploads
// and downloads only share the disk with it.

// scrubChunk is the most the scrubber reads at once, and the burst of its
// rate limit.
const scrubChunk = 32 << 10

// scrubClock is the time the scrubber paces itself by: the wall clock, or a
// fake in tests so they never wait for real.
type scrubClock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends and returns its error.
	Sleep(ctx context.Context, d time.Duration) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ScrubStats is what the scrubber has done since the node started.
type ScrubStats struct {
	Passes uint64 // full passes finished
	Slices uint64 // slices read and checked
	Bytes  uint64 // bytes read
	// Bad counts corrupt copies found, taken out of service and reported.
	Bad uint64
	// Unreadable counts slices that could not be read for another reason
	// (an I/O error is not proof the copy is bad); the next pass tries
	// again.
	Unreadable uint64
	// Skipped counts slices deleted, or stored again, while a pass walked.
	Skipped uint64
	// LastPass is when the last full pass ended; zero before the first.
	LastPass time.Time
}

// scrubCounters are the ScrubStats, updated as the scrubber goes.
type scrubCounters struct {
	passes, slices, bytes, bad, unreadable, skipped atomic.Uint64
	lastPass                                        atomic.Int64 // unix ns; 0: none
}

// ScrubStats returns what the scrubber has done since the node started.
func (n *Node) ScrubStats() ScrubStats {
	c := &n.scrubbed
	s := ScrubStats{
		Passes: c.passes.Load(), Slices: c.slices.Load(), Bytes: c.bytes.Load(),
		Bad: c.bad.Load(), Unreadable: c.unreadable.Load(), Skipped: c.skipped.Load(),
	}
	if ns := c.lastPass.Load(); ns != 0 {
		s.LastPass = time.Unix(0, ns)
	}
	return s
}

// newScrubLimiter returns the scrubber's rate limit, or nil when scrubbing
// is off.
func newScrubLimiter(bytesPerSecond uint64) *rate.Limiter {
	if bytesPerSecond == 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(bytesPerSecond), scrubChunk)
}

// scrubLoop runs a scrub pass, pauses for ScrubInterval, and again, until
// ctx ends. The first pass starts at once: a node that was down may have
// been down because of its disk.
func (n *Node) scrubLoop(ctx context.Context, meta metav1.MetaServiceClient) {
	for {
		if err := n.scrubPass(ctx, meta); err != nil && ctx.Err() == nil {
			n.log.Warn("scrub pass failed", "err", err)
		}
		if n.clock.Sleep(ctx, n.cfg.ScrubInterval) != nil {
			return
		}
	}
}

// passCounts are the counts of one pass, for its summary.
type passCounts struct{ slices, bytes, bad, unreadable, skipped uint64 }

// scrubPass checks every slice the store holds once, or until ctx ends.
func (n *Node) scrubPass(ctx context.Context, meta metav1.MetaServiceClient) error {
	start := n.clock.Now()
	var p passCounts
	err := n.store.List(func(info SliceInfo) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n.scrubSlice(ctx, meta, info, &p)
		return ctx.Err()
	})
	took := n.clock.Now().Sub(start)
	if err != nil {
		n.log.Info("scrub pass stopped", "slices", p.slices, "bytes", p.bytes, "bad", p.bad, "unreadable", p.unreadable, "skipped", p.skipped, "took", took, "err", err)
		return fmt.Errorf("scrub: %w", err)
	}
	n.scrubbed.passes.Add(1)
	n.scrubbed.lastPass.Store(n.clock.Now().UnixNano())
	n.log.Info("scrub pass done", "slices", p.slices, "bytes", p.bytes, "bad", p.bad, "unreadable", p.unreadable, "skipped", p.skipped, "took", took)
	return nil
}

// scrubSlice checks one listed slice and acts on the result as a verify
// order would, except that a slice gone since the listing was deleted on
// purpose, not lost: the slice reports tell the meta node about any other
// disappearance.
func (n *Node) scrubSlice(ctx context.Context, meta metav1.MetaServiceClient, info SliceInfo, p *passCounts) {
	read, err := n.verifySlice(info.ID, func(size int) error { return n.pace(ctx, size) })
	p.bytes += read
	n.scrubbed.bytes.Add(read)
	switch {
	case err == nil:
		p.slices++
		n.scrubbed.slices.Add(1)
	case errors.Is(err, ErrNotFound):
		p.skipped++
		n.scrubbed.skipped.Add(1)
	case isCorrupt(err) && n.storedSince(info):
		// The copy read may not be the one stored now; the next pass
		// checks that one.
		n.log.Debug("slice stored again while scrubbed; left for the next pass", "slice", info.ID)
		p.skipped++
		n.scrubbed.skipped.Add(1)
	case isCorrupt(err):
		p.bad++
		n.scrubbed.bad.Add(1)
		n.dropCorrupt(ctx, meta, info.ID, err)
	case ctx.Err() != nil: // stopped half way: no verdict
	default: // as for a verify order: not proof the copy is bad
		p.unreadable++
		n.scrubbed.unreadable.Add(1)
		n.log.Warn("cannot scrub slice", "slice", info.ID, "err", err)
	}
}

// storedSince reports whether the slice listed as info was stored or
// received again after the listing.
func (n *Node) storedSince(info SliceInfo) bool {
	now, err := n.store.Stat(info.ID)
	return err == nil && !now.Stored.Equal(info.Stored)
}

// pace waits until the scrubber may read size more bytes, or ctx ends.
func (n *Node) pace(ctx context.Context, size int) error {
	now := n.clock.Now()
	r := n.scrubLim.ReserveN(now, size)
	if !r.OK() { // a broken invariant: pacedReader reads at most a burst
		return fmt.Errorf("scrub read of %d bytes exceeds the burst of %d", size, n.scrubLim.Burst())
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := n.clock.Sleep(ctx, d); err != nil {
			r.CancelAt(n.clock.Now())
			return err
		}
	}
	return nil
}

// pacedReader reads the left bytes of r at most scrubChunk at a time, each
// read allowed by pace first. Knowing what is left, it asks pace for no more
// than it can read, and nothing for the end of file.
type pacedReader struct {
	r    io.Reader
	left int64
	pace func(size int) error
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), scrubChunk, r.left)]
	if err := r.pace(len(p)); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}
