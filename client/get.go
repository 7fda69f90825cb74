package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
// before it have been written by then.
func (c *Client) Get(ctx context.Context, pathOrID string, w io.Writer, opts GetOptions) (*metav1.FileEntry, error) {
	loc, err := c.locate(ctx, pathOrID)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", pathOrID, err)
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
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", pathOrID, ctxOr(ctx, err))
	}
	c.reportDownload(ctx, loc)
	return loc.file, nil
}

// reportDownload sends the holders' receipts of a finished download to the
// meta node, under the owner's signature: the client's side of the proof of
// traffic (DESIGN §7). It does not wait; a lost report only costs the
// holders that period's credit.
func (c *Client) reportDownload(ctx context.Context, loc *location) {
	loc.mu.Lock()
	receipts := loc.receipts
	loc.mu.Unlock()
	if len(receipts) == 0 || loc.taskID == "" {
		return
	}
	req := &metav1.ReportDownloadRequest{Owner: c.cfg.Owner, TaskId: loc.taskID, Receipts: receipts}
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
// end of the file is ErrInvalid.
func (c *Client) GetRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error {
	if offset < 0 || length < 0 {
		return fmt.Errorf("get %s: %w: range offset %d length %d", pathOrID, ErrInvalid, offset, length)
	}
	loc, err := c.locate(ctx, pathOrID)
	if err != nil {
		return fmt.Errorf("get %s: %w", pathOrID, err)
	}
	size := int64(loc.file.GetSize())
	if offset > size || length > size-offset {
		return fmt.Errorf("get %s: %w: range [%d, %d) outside a file of %d bytes", pathOrID, ErrInvalid, offset, offset+length, size)
	}
	if length == 0 {
		return nil
	}
	end := offset + length
	from, to := loc.span(offset, end)
	err = c.fetchOrdered(ctx, loc, from, to, func(i int, data []byte) error {
		start := loc.starts[i]
		lo, hi := max(offset-start, 0), min(end-start, int64(len(data)))
		if _, err := w.Write(data[lo:hi]); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("get %s: %w", pathOrID, ctxOr(ctx, err))
	}
	c.reportDownload(ctx, loc)
	return nil
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

	mu       sync.Mutex
	receipts []*storagev1.Receipt // the holders' receipts for verified slices
}

func (l *location) keep(r *storagev1.Receipt) {
	if r == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.receipts = append(l.receipts, r)
}

func (c *Client) locate(ctx context.Context, pathOrID string) (*location, error) {
	req := &metav1.LocateRequest{Owner: c.cfg.Owner}
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

// fetchSlice gets slice i from its holders in the meta node's order, moving
// on (and reporting the bad replica) until one gives the right bytes.
func (c *Client) fetchSlice(ctx context.Context, loc *location, i int, pool *bufPool) fetchResult {
	buf, err := pool.get(ctx)
	if err != nil {
		return fetchResult{err: err}
	}
	ls := loc.slices[i]
	var errs []string
	for _, h := range ls.GetHolders() {
		data, receipt, err := c.fetchFrom(ctx, loc.taskID, ls.GetSlice(), loc.ids[i], h, buf)
		if err == nil {
			loc.keep(receipt)
			return fetchResult{buf: buf, data: data}
		}
		if ctx.Err() != nil {
			return fetchResult{err: context.Cause(ctx)}
		}
		if errors.Is(err, errCorrupt) || status.Code(err) == codes.NotFound || status.Code(err) == codes.DataLoss {
			// Only what the node's copy is to blame for: a timeout or a
			// broken connection says nothing about the bytes on its disk.
			c.reportBad(ctx, loc.taskID, ls.GetSlice().GetId(), h.GetNodeId(), err)
		}
		errs = append(errs, fmt.Sprintf("node %s: %v", h.GetNodeId(), err))
	}
	if len(errs) == 0 {
		errs = append(errs, "no holders")
	}
	return fetchResult{err: fmt.Errorf("%w: slice %d (%s): %s", ErrUnavailable, i, ls.GetSlice().GetId(), strings.Join(errs, "; "))}
}

// fetchFrom reads one replica into buf, which has room for it, checks its
// length and hash, and returns it with the holder's receipt, if it sent one.
func (c *Client) fetchFrom(ctx context.Context, taskID string, ref *metav1.SliceRef, id slice.ID, h *storagev1.Peer, buf []byte) ([]byte, *storagev1.Receipt, error) {
	conn, err := c.nodes.Get(h.GetAddr(), h.GetNodeId())
	if err != nil {
		return nil, nil, err
	}
	// The watchdog ends the stream when the holder sends nothing for
	// StallTimeout, connecting and the first frame included: a node that
	// hangs (paused, swapping, half cut off) costs that long, not the minutes
	// TCP keepalives take.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(c.cfg.StallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	stream, err := storagev1.NewSliceServiceClient(conn).Fetch(ctx, &storagev1.FetchRequest{SliceId: ref.GetId(), TaskId: taskID})
	if err != nil {
		return nil, nil, stalled(ctx, err)
	}
	size := int(ref.GetSize())
	data := buf[:0]
	var receipt *storagev1.Receipt
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, stalled(ctx, err)
		}
		watchdog.Reset(c.cfg.StallTimeout)
		if len(data)+len(msg.GetData()) > size {
			return nil, nil, fmt.Errorf("%w: more than %d bytes", errCorrupt, size)
		}
		data = append(data, msg.GetData()...)
		if r := msg.GetReceipt(); r != nil {
			receipt = r
		}
	}
	if len(data) != size {
		return nil, nil, fmt.Errorf("%w: %d bytes, want %d", errCorrupt, len(data), size)
	}
	if slice.Sum(data) != id {
		return nil, nil, fmt.Errorf("%w: bytes do not hash to the slice ID", errCorrupt)
	}
	return data, receipt, nil
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
