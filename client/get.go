package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/crypt"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// errCorrupt marks a replica whose bytes are not the slice they claim to be.
var errCorrupt = errors.New("corrupt replica")

// GetOptions tune Get.
type GetOptions struct {
	// Progress, if set, is called after each slice is written to w with the
	// bytes written so far.
	Progress Progress
}

// Get writes the file at a path or with a file ID (if slice.IsFileID says
// so) to w, and returns its entry (DESIGN §6.3). Slices are fetched in
// parallel and verified, and reach w in order. If no holder of some slice
// gives good bytes, Get fails with ErrUnavailable; bytes of the slices
// before it have been written by then. An encrypted file reaches w
// decrypted, record by record; a wrong key fails with crypt.ErrWrongKey
// before any byte is written, altered data with crypt.ErrTampered.
func (c *Client) Get(ctx context.Context, pathOrID string, w io.Writer, opts GetOptions) (*metav1.FileEntry, error) {
	loc, err := c.locate(ctx, pathOrID)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", pathOrID, err)
	}
	var opener *crypt.Opener
	if loc.file.GetEncrypted() {
		if opener, err = c.opener(w, loc.file); err != nil {
			c.reportDownload(ctx, loc)
			return nil, fmt.Errorf("get %s: %w", pathOrID, err)
		}
		w = opener
	}
	total := int64(loc.file.GetSize())
	var done int64
	err = c.fetchOrdered(ctx, loc, 0, len(loc.slices), func(_ int, data []byte) error {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		done += int64(len(data))
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
		return nil
	})
	c.reportDownload(ctx, loc) // what was signed for is paid, finished or not
	if err == nil && opener != nil {
		err = opener.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", pathOrID, ctxOr(ctx, err))
	}
	return loc.file, nil
}

// reportDownload sends the receipts the client signed for a download to
// the meta node, under the owner's signature, and ends the download: the
// client's side of the proof of traffic (DESIGN §7). The holders report
// the same receipts; each counts once. It does not wait.
func (c *Client) reportDownload(ctx context.Context, loc *location) {
	loc.mu.Lock()
	receipts := loc.receipts
	loc.mu.Unlock()
	if loc.taskID == "" {
		return
	}
	req := &metav1.ReportDownloadRequest{Owner: c.cfg.Owner, TaskId: loc.taskID, Receipts: receipts, Finished: true}
	c.reports.Go(func() {
		ctx, cancel := detached(ctx)
		defer cancel()
		if _, err := retry(ctx, c, c.meta.ReportDownload, req); err != nil {
			c.log.Debug("report download", "task", loc.taskID, "err", err)
		}
	})
}

// GetRange writes length bytes of the file starting at offset to w. It
// fetches only the slices the range touches (whole, so they can be
// verified) and writes only the bytes asked for. A range reaching past the
// end of the file is ErrInvalid. Of an encrypted file it reads the
// plaintext: offset and length count plaintext bytes, and only the records
// the range touches are opened.
func (c *Client) GetRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error {
	return c.getRange(ctx, pathOrID, offset, length, w, true)
}

// GetStoredRange is GetRange of the bytes as the network stores them: an
// encrypted file's ciphertext, for a reader that holds the file key (a
// browser opening a share link) and not the account key.
func (c *Client) GetStoredRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error {
	return c.getRange(ctx, pathOrID, offset, length, w, false)
}

func (c *Client) getRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer, decrypt bool) error {
	if offset < 0 || length < 0 {
		return fmt.Errorf("get %s: %w: range offset %d length %d", pathOrID, ErrInvalid, offset, length)
	}
	loc, err := c.locate(ctx, pathOrID)
	if err != nil {
		return fmt.Errorf("get %s: %w", pathOrID, err)
	}
	decrypt = decrypt && loc.file.GetEncrypted()
	size := int64(loc.file.GetSize())
	if decrypt {
		size = PlainSize(loc.file)
	}
	if offset > size || length > size-offset {
		c.reportDownload(ctx, loc)
		return fmt.Errorf("get %s: %w: range [%d, %d) outside a file of %d bytes", pathOrID, ErrInvalid, offset, offset+length, size)
	}
	if length == 0 {
		c.reportDownload(ctx, loc)
		return nil
	}
	if decrypt {
		err = c.readSealedRange(ctx, loc, offset, offset+length, w)
	} else {
		err = c.readRange(ctx, loc, offset, offset+length, w)
	}
	c.reportDownload(ctx, loc)
	if err != nil {
		return fmt.Errorf("get %s: %w", pathOrID, ctxOr(ctx, err))
	}
	return nil
}

// readRange writes the stored bytes [offset, end) of a located file to w.
func (c *Client) readRange(ctx context.Context, loc *location, offset, end int64, w io.Writer) error {
	from, to := loc.span(offset, end)
	return c.fetchOrdered(ctx, loc, from, to, func(i int, data []byte) error {
		start := loc.starts[i]
		lo, hi := max(offset-start, 0), min(end-start, int64(len(data)))
		if _, err := w.Write(data[lo:hi]); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	})
}

// ctxOr returns ctx's error if it ended, so a canceled transfer says so
// plainly, else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// location is a checked Locate answer.
type location struct {
	taskID string
	file   *metav1.FileEntry
	slices []*metav1.LocatedSlice
	ids    []slice.ID
	starts []int64 // offset of each slice in the file

	// key signs this download's traffic receipts; the meta node put its
	// public half in every ticket.
	key ed25519.PrivateKey

	mu       sync.Mutex
	receipts []*storagev1.TrafficReceipt // the latest the client signed, per fetch
}

func (l *location) keep(r *storagev1.TrafficReceipt) {
	if r == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.receipts = append(l.receipts, r)
}

func (c *Client) locate(ctx context.Context, pathOrID string) (*location, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	req := &metav1.LocateRequest{Owner: c.cfg.Owner, ReceiptKey: pub}
	if slice.IsFileID(pathOrID) {
		req.FileId = pathOrID
	} else {
		req.Path = pathOrID
	}
	resp, err := retry(ctx, c, c.meta.Locate, req)
	if err != nil {
		return nil, err
	}
	loc, err := checkLocation(resp)
	if err != nil {
		return nil, fmt.Errorf("meta node's location answer: %w", err)
	}
	if req.FileId != "" && loc.file.GetFileId() != req.FileId {
		return nil, fmt.Errorf("meta node's location answer is for file %s", loc.file.GetFileId())
	}
	loc.key = key
	return loc, nil
}

// checkLocation makes sure the slice list is the file: the IDs parse, the
// sizes add up, and the Merkle root over the IDs is the file ID, so a
// verified slice is also the right slice.
func checkLocation(resp *metav1.LocateResponse) (*location, error) {
	f := resp.GetFile()
	if f == nil {
		return nil, errors.New("no file entry")
	}
	loc := &location{
		taskID: resp.GetTaskId(), file: f, slices: resp.GetSlices(),
		ids: make([]slice.ID, len(resp.GetSlices())), starts: make([]int64, len(resp.GetSlices())),
	}
	var pos uint64
	for i, ls := range loc.slices {
		id, err := slice.ParseID(ls.GetSlice().GetId())
		if err != nil {
			return nil, fmt.Errorf("slice %d: %w", i, err)
		}
		if n := ls.GetSlice().GetSize(); n == 0 || n > slice.MaxSize {
			return nil, fmt.Errorf("slice %d (%s): size %d", i, id, n)
		}
		loc.ids[i], loc.starts[i] = id, int64(pos)
		pos += ls.GetSlice().GetSize()
	}
	if pos != f.GetSize() {
		return nil, fmt.Errorf("slices add up to %d bytes, file has %d", pos, f.GetSize())
	}
	if root := slice.Root(loc.ids).String(); root != f.GetFileId() {
		return nil, fmt.Errorf("slices make file %s, entry says %s", root, f.GetFileId())
	}
	return loc, nil
}

// span returns the slices [from, to) that overlap the bytes [off, end).
func (l *location) span(off, end int64) (from, to int) {
	from = len(l.slices)
	for i, start := range l.starts {
		stop := start + int64(l.slices[i].GetSlice().GetSize())
		if stop > off && from == len(l.slices) {
			from = i
		}
		if start < end {
			to = i + 1
		}
	}
	return from, to
}

type fetchResult struct {
	buf, data []byte
	err       error
}

// fetchOrdered fetches slices [from, to) with up to Concurrency in flight
// and hands each to emit in order. Slice i+Concurrency is not started before
// slice i has been emitted, so at most Concurrency buffers exist.
func (c *Client) fetchOrdered(ctx context.Context, loc *location, from, to int, emit func(i int, data []byte) error) error {
	n, conc := to-from, c.cfg.Concurrency
	if n <= 0 {
		return nil
	}
	var biggest uint64
	for _, ls := range loc.slices[from:to] {
		biggest = max(biggest, ls.GetSlice().GetSize())
	}
	pool := newBufPool(conc, int(biggest))
	ctx, cancel := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	defer func() {
		cancel() // stops fetches still running after an error
		g.Wait()
	}()
	pending := make([]chan fetchResult, n)
	next := 0
	for k := range n {
		for ; next < n && next < k+conc; next++ {
			ch := make(chan fetchResult, 1)
			pending[next] = ch
			i := from + next
			g.Go(func() error {
				r := c.fetchSlice(gctx, loc, i, pool)
				ch <- r
				return r.err
			})
		}
		var r fetchResult
		select {
		case r = <-pending[k]:
		case <-gctx.Done():
			return context.Cause(gctx)
		}
		if r.err != nil {
			return r.err
		}
		err := emit(from+k, r.data)
		pool.put(r.buf)
		if err != nil {
			return err
		}
	}
	return nil
}

// fetchSlice gets slice i from the holder the meta node assigned, and when
// that one fails, from the one the meta node reassigns it to (the client
// does not choose: whitepaper §3.2.2 condition 3), until one gives the
// right bytes or none is left.
func (c *Client) fetchSlice(ctx context.Context, loc *location, i int, pool *bufPool) fetchResult {
	buf, err := pool.get(ctx)
	if err != nil {
		return fetchResult{err: err}
	}
	ls := loc.slices[i]
	holder, ticket := firstHolder(ls)
	var errs []string
	for attempt := 0; holder != nil; attempt++ {
		data, err := c.fetchFrom(ctx, loc, ls.GetSlice(), loc.ids[i], holder, ticket, buf)
		if err == nil {
			return fetchResult{buf: buf, data: data}
		}
		if ctx.Err() != nil {
			return fetchResult{err: context.Cause(ctx)}
		}
		if errors.Is(err, errCorrupt) || status.Code(err) == codes.NotFound || status.Code(err) == codes.DataLoss {
			// Only what the node's copy is to blame for: a timeout or a
			// broken connection says nothing about the bytes on its disk.
			c.reportBad(ctx, loc.taskID, ls.GetSlice().GetId(), holder.GetNodeId(), err)
		}
		errs = append(errs, fmt.Sprintf("node %s: %v", holder.GetNodeId(), err))
		if attempt+1 >= maxHolders {
			break
		}
		next, rerr := retry(ctx, c, c.meta.Reassign, &metav1.ReassignRequest{
			Owner: c.cfg.Owner, TaskId: loc.taskID, SliceId: ls.GetSlice().GetId(), FailedNode: holder.GetNodeId(), Reason: err.Error()})
		if rerr != nil {
			if status.Code(rerr) != codes.FailedPrecondition { // not just "no holder left"
				errs = append(errs, fmt.Sprintf("another holder: %v", rerr))
			}
			break
		}
		holder, ticket = next.GetHolder(), next.GetTicket()
		if holder.GetNodeId() != ticket.GetNodeId() {
			errs = append(errs, fmt.Sprintf("meta node reassigned the slice to %s with a ticket for %s", holder.GetNodeId(), ticket.GetNodeId()))
			break
		}
	}
	if len(errs) == 0 {
		errs = append(errs, "no holders")
	}
	return fetchResult{err: fmt.Errorf("%w: slice %d (%s): %s", ErrUnavailable, i, ls.GetSlice().GetId(), strings.Join(errs, "; "))}
}

// maxHolders bounds the holders one slice is tried on (the meta node
// bounds the reassignments too).
const maxHolders = 8

// firstHolder is the holder a Locate assigned a slice to, with its ticket;
// nil if it has none.
func firstHolder(ls *metav1.LocatedSlice) (*storagev1.Peer, *storagev1.FetchTicket) {
	t := ls.GetTicket()
	if t == nil {
		return nil, nil
	}
	for _, h := range ls.GetHolders() {
		if h.GetNodeId() == t.GetNodeId() {
			return h, t
		}
	}
	return nil, nil
}

// fetchFrom reads one replica into buf, which has room for it, checks its
// length and hash, and keeps the last receipt it signed, good bytes or not.
func (c *Client) fetchFrom(ctx context.Context, loc *location, ref *metav1.SliceRef, id slice.ID, h *storagev1.Peer, t *storagev1.FetchTicket, buf []byte) ([]byte, error) {
	if t.GetSliceId() != ref.GetId() || t.GetLength() != ref.GetSize() || t.GetOffset() != 0 {
		return nil, fmt.Errorf("meta node's ticket is for %d+%d bytes of %s, not slice %s", t.GetOffset(), t.GetLength(), t.GetSliceId(), ref.GetId())
	}
	conn, err := c.nodes.Get(h.GetAddr(), h.GetNodeId())
	if err != nil {
		return nil, err
	}
	// The watchdog ends the stream when the holder sends nothing for
	// StallTimeout, connecting and the first frame included: a node that
	// hangs (paused, swapping, half cut off) costs that long, not the minutes
	// TCP keepalives take.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(c.cfg.StallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	data := buf[:0]
	receipt, err := FetchSlice(ctx, storagev1.NewSliceServiceClient(conn), t, loc.key, func(p []byte) error {
		watchdog.Reset(c.cfg.StallTimeout)
		data = append(data, p...)
		return nil
	})
	loc.keep(receipt)
	if err != nil {
		return nil, stalled(ctx, err)
	}
	if slice.Sum(data) != id {
		return nil, fmt.Errorf("%w: bytes do not hash to the slice ID", errCorrupt)
	}
	return data, nil
}

// errStalled: a holder sent nothing for Config.StallTimeout.
var errStalled = errors.New("holder stalled")

// stalled names the watchdog as the cause of err when it fired.
func stalled(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errStalled) {
		return errStalled
	}
	return err
}

// reportBad tells the meta node about a bad replica so it can schedule a
// repair (DESIGN §6.3). It does not wait: the download goes on regardless.
func (c *Client) reportBad(ctx context.Context, taskID, sliceID, nodeID string, cause error) {
	req := &metav1.ReportBadReplicaRequest{
		SliceId: sliceID, NodeId: nodeID, Reason: cause.Error(),
		Missing: status.Code(cause) == codes.NotFound,
		Owner:   c.cfg.Owner, TaskId: taskID, // signed, as the task's owner
	}
	c.log.Warn("bad replica", "slice", sliceID, "node", nodeID, "missing", req.Missing, "err", cause)
	c.reports.Go(func() {
		ctx, cancel := detached(ctx)
		defer cancel()
		if _, err := retry(ctx, c, c.meta.ReportBadReplica, req); err != nil {
			c.log.Debug("report bad replica", "slice", sliceID, "node", nodeID, "err", err)
		}
	})
}
