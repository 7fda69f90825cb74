package resource

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/durable"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// claim is the node's side of one fetch (DESIGN §7): the downloader's
// latest receipt, and the bytes the node sent.
type claim struct {
	receipt *storagev1.TrafficReceipt
	sent    uint64
}

// Bounds of the served log: the claims it keeps until the meta node takes
// them, and how many go in one report (the meta node's limit).
const (
	maxServedClaims = 1 << 16
	claimsPerReport = 4096
)

// servedLog keeps the claims of finished fetches until they are reported.
// A later claim for the same task, slice and holder replaces an earlier
// one: receipts are cumulative.
//
// With a journal (open), every claim kept is also appended to a file in
// the node's data directory, and the file is rewritten to what is still
// pending after each report: a node that crashes, or is killed, before it
// reports still has its receipts when it starts again (issue 8). The
// appends are not fsynced, so a process crash loses nothing and a power
// cut the claims of the last moments; the client's own report counts
// those anyway.
type servedLog struct {
	mu      sync.Mutex
	pending map[[2]string]*claim
	dropped uint64 // claims not kept because the log was full

	path    string   // the journal's, or "" without one
	journal *os.File // open for appending
	jerr    error    // the journal's first write error since it was opened
}

func (l *servedLog) keep(c *claim) {
	if c == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.add(c) {
		l.append(c)
	}
}

// add puts c in pending and says whether it was kept.
func (l *servedLog) add(c *claim) bool {
	if l.pending == nil {
		l.pending = make(map[[2]string]*claim)
	}
	k := [2]string{c.receipt.GetTaskId(), c.receipt.GetSliceId()}
	if old, ok := l.pending[k]; ok {
		if old.receipt.GetBytes() < c.receipt.GetBytes() {
			l.pending[k] = c
			return true
		}
		return false
	}
	if len(l.pending) >= maxServedClaims {
		l.dropped++
		return false
	}
	l.pending[k] = c
	return true
}

// servedJournal is the journal's file name in the data directory.
const servedJournal = "served.journal"

// open loads the claims a journal at path holds (a torn last record, as a
// crash mid-append leaves, is dropped), rewrites it to them, and journals
// every claim kept from now on.
func (l *servedLog) open(path string) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("served log: %w", err)
	}
	claims, _ := decodeJournal(b) // what is past a torn or bad record is lost, not fatal
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range claims {
		l.add(c)
	}
	l.path = path
	return l.rewrite()
}

// compact rewrites the journal to the claims still pending.
func (l *servedLog) compact() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path == "" {
		return nil
	}
	return l.rewrite()
}

// close compacts the journal and closes it.
func (l *servedLog) close() error {
	err := l.compact()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.journal != nil {
		err = errors.Join(err, l.journal.Close())
		l.journal = nil
	}
	return err
}

// rewrite replaces the journal with the pending claims (durable.WriteFile:
// a crash leaves the old file or the new) and reopens it for appending.
// l.mu is held.
func (l *servedLog) rewrite() error {
	var buf []byte
	for _, c := range l.pending {
		buf = appendRecord(buf, c)
	}
	if err := durable.WriteFile(l.path, buf, 0o600); err != nil {
		return fmt.Errorf("served log: %w", err)
	}
	if l.journal != nil {
		l.journal.Close()
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		l.journal = nil
		return fmt.Errorf("served log: %w", err)
	}
	l.journal, l.jerr = f, nil
	return nil
}

// append journals c. l.mu is held.
func (l *servedLog) append(c *claim) {
	if l.journal == nil || l.jerr != nil {
		return
	}
	if _, err := l.journal.Write(appendRecord(nil, c)); err != nil {
		l.jerr = err // the claim is still pending in memory; the next rewrite retries
	}
}

// appendRecord appends c to b as one journal record: the length of the
// TrafficClaim that carries it (uvarint), then the claim.
func appendRecord(b []byte, c *claim) []byte {
	m, _ := proto.Marshal(&metav1.TrafficClaim{Receipt: c.receipt, Sent: c.sent})
	b = binary.AppendUvarint(b, uint64(len(m)))
	return append(b, m...)
}

// maxRecord bounds one journal record: a receipt is a few hundred bytes.
const maxRecord = 64 << 10

// decodeJournal reads the records of b in order. It stops at the first
// record that is torn (cut short) or malformed and returns the claims
// before it, with an error that says what stopped it.
func decodeJournal(b []byte) ([]*claim, error) {
	var out []*claim
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > maxRecord || n > uint64(len(b)-k) {
			return out, fmt.Errorf("served log: torn or bad record after %d claims", len(out))
		}
		var m metav1.TrafficClaim
		if err := proto.Unmarshal(b[k:k+int(n)], &m); err != nil || m.GetReceipt() == nil {
			return out, fmt.Errorf("served log: bad record after %d claims: %v", len(out), err)
		}
		out = append(out, &claim{receipt: m.GetReceipt(), sent: m.GetSent()})
		b = b[k+int(n):]
	}
	return out, nil
}

// len is the number of claims pending.
func (l *servedLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// take removes up to n claims.
func (l *servedLog) take(n int) []*claim {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*claim
	for k, c := range l.pending {
		if len(out) == n {
			break
		}
		out = append(out, c)
		delete(l.pending, k)
	}
	return out
}

// trafficLoop reports the served log to the meta node every interval.
func (n *Node) trafficLoop(ctx context.Context, meta metav1.MetaServiceClient, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// One last report on the way down, so a clean stop loses nothing.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rpcTimeout)
			n.reportTraffic(ctx, meta)
			cancel()
			return
		case <-t.C:
		}
		n.reportTraffic(ctx, meta)
	}
}

// reportTraffic sends what the served log holds. Claims of a report that
// failed go back to the log; the meta node counts each receipt once, so a
// report that arrived but whose answer was lost costs nothing when resent.
func (n *Node) reportTraffic(ctx context.Context, meta metav1.MetaServiceClient) {
	for {
		batch := n.served.take(claimsPerReport)
		if len(batch) == 0 {
			return
		}
		req := &metav1.ReportTrafficRequest{}
		for _, c := range batch {
			req.Claims = append(req.Claims, &metav1.TrafficClaim{Receipt: c.receipt, Sent: c.sent})
		}
		cctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		resp, err := meta.ReportTraffic(cctx, req)
		cancel()
		if err != nil {
			for _, c := range batch {
				n.served.keep(c)
			}
			n.log.Warn("traffic report failed", "claims", len(batch), "err", err)
			return
		}
		n.log.Debug("reported traffic", "claims", len(batch), "counted", resp.GetCountedBytes())
		if err := n.served.compact(); err != nil {
			n.log.Warn("cannot rewrite the served log", "err", err)
		}
	}
}
