package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// Progress reports a transfer's progress in bytes. It is called from one
// goroutine at a time, often, so it must be cheap.
type Progress func(done, total int64)

// PutOptions tune Put.
type PutOptions struct {
	Overwrite bool // replace a file already at the path
	// Progress, if set, is called as slices are acknowledged: done counts the
	// bytes of slices already stored on enough resource nodes, so it only
	// grows, and moves in steps of one slice.
	Progress Progress
	// Object, if set, is called once the whole body has been read, before
	// the commit: what it returns is stored with the file (S3's metadata,
	// whose ETag is the MD5 of the body).
	Object func() *metav1.ObjectMeta
	// Encrypt seals the bytes on the client before they are sliced
	// (package crypt), under a key derived from the account key: the
	// network stores and moves only ciphertext. Get and GetRange decrypt.
	// Progress then counts the encrypted bytes.
	Encrypt bool
}

// Put uploads size bytes from r to path (DESIGN §6.2) and returns the
// committed file entry. If r yields more or fewer than size bytes, Put fails
// with ErrInvalid. On any failure the upload task is aborted and no file is
// committed.
func (c *Client) Put(ctx context.Context, path string, r io.Reader, size int64, opts PutOptions) (*metav1.FileEntry, error) {
	if size < 0 {
		return nil, fmt.Errorf("put %s: %w: negative size %d", path, ErrInvalid, size)
	}
	if opts.Encrypt {
		var err error
		if r, size, err = c.seal(r, size); err != nil {
			return nil, fmt.Errorf("put %s: %w", path, err)
		}
	}
	req := &metav1.BeginUploadRequest{
		Owner: c.cfg.Owner, Path: path, Size: uint64(size),
		Overwrite: opts.Overwrite, ClientRegion: c.cfg.Region,
	}
	if size > 0 && size <= c.smallFileLimit() {
		// One slice for sure: name it now so the meta node places it with the
		// task, saving a round trip.
		first := make([]byte, size)
		if n, err := io.ReadFull(r, first); err != nil {
			return nil, fmt.Errorf("put %s: %w", path, readErr(err, int64(n), size))
		}
		req.Slices = []*metav1.SliceRef{{Id: slice.Sum(first).String(), Size: uint64(size)}}
		r = io.MultiReader(bytes.NewReader(first), r)
	}
	begin, err := retry(ctx, c, c.meta.BeginUpload, req)
	if err != nil {
		return nil, fmt.Errorf("put %s: %w", path, err)
	}
	c.learnSliceSize(begin.GetSliceSize())
	file, err := c.upload(ctx, path, begin, r, size, opts)
	if err != nil {
		c.abort(ctx, begin.GetTaskId())
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("put %s: %w", path, err)
	}
	return file, nil
}

// smallFileLimit is the largest file that surely fits in one slice: the
// network's slice size once known (at most the default, to bound the
// read-ahead), else the smallest slice size a network may have.
func (c *Client) smallFileLimit() int64 {
	if n := c.sliceSize.Load(); n != 0 {
		return int64(min(n, slice.DefaultSize))
	}
	return slice.MinSize
}

func readErr(err error, n, size int64) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return changedErr(n, size)
	}
	return fmt.Errorf("read: %w", err)
}

func changedErr(n, size int64) error {
	return fmt.Errorf("%w: file changed while uploading: read %d bytes, expected %d", ErrInvalid, n, size)
}

// abort ends the task at the meta node, best effort: the task also expires.
func (c *Client) abort(ctx context.Context, taskID string) {
	if taskID == "" {
		return
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	if _, err := retry(ctx, c, c.meta.AbortUpload, &metav1.AbortUploadRequest{TaskId: taskID}); err != nil {
		c.log.Warn("abort upload", "task", taskID, "err", err)
	}
}

// upload is one Put after BeginUpload.
type upload struct {
	c           *Client
	path        string
	taskID      string
	sliceSize   int
	replicas    int // R, the target
	minReplicas int
	total       int64

	mu       sync.Mutex
	initial  map[string]*metav1.Pipeline // BeginUpload's pipelines, each used once
	done     int64
	progress Progress
}

// sliceUpload is one slice of the file, in file order.
type sliceUpload struct {
	ref      *metav1.SliceRef
	id       slice.ID
	dupOf    *sliceUpload         // an earlier slice with the same bytes, sent once
	receipts []*storagev1.Receipt // set when replicated
	tickets  []*storagev1.Ticket  // of the pipelines that produced them

	// Guarded by upload.mu: whether the slice is acknowledged, and how many
	// later duplicates wait for it to count as progress.
	acked  bool
	copies int
}

func (c *Client) upload(ctx context.Context, path string, begin *metav1.BeginUploadResponse, r io.Reader, size int64, opts PutOptions) (*metav1.FileEntry, error) {
	u, err := c.newUpload(begin, size, opts.Progress)
	if err == nil {
		u.path = path
	}
	if err != nil {
		return nil, err
	}
	sl, err := u.sendAll(ctx, r)
	if err != nil {
		return nil, err
	}
	var object *metav1.ObjectMeta
	if opts.Object != nil {
		object = opts.Object()
	}
	return u.commit(ctx, sl, object, opts.Encrypt)
}

func (c *Client) newUpload(begin *metav1.BeginUploadResponse, size int64, progress Progress) (*upload, error) {
	ss, r, mr := begin.GetSliceSize(), begin.GetReplicas(), begin.GetMinReplicas()
	if ss > slice.MaxSize || slice.CheckSize(int(ss)) != nil || r == 0 || mr == 0 || mr > r {
		return nil, fmt.Errorf("meta node began upload with slice size %d, %d replicas, minimum %d: not usable", ss, r, mr)
	}
	u := &upload{
		c: c, taskID: begin.GetTaskId(), sliceSize: int(ss),
		replicas: int(r), minReplicas: int(mr), total: size,
		initial: make(map[string]*metav1.Pipeline), progress: progress,
	}
	for _, p := range begin.GetPipelines() {
		u.initial[p.GetSliceId()] = p
	}
	return u, nil
}

// sendAll cuts r into slices and replicates them, Concurrency at a time. The
// buffer pool is the bound: a slice is read only when a buffer is free.
func (u *upload) sendAll(ctx context.Context, r io.Reader) ([]*sliceUpload, error) {
	readCtx, stopReading := context.WithCancelCause(ctx)
	defer stopReading(nil)
	g, gctx := errgroup.WithContext(readCtx)
	// Reading one byte past size tells a grown file from an exact one; for a
	// file smaller than a slice it also keeps the buffers small.
	splitSize := int(min(int64(u.sliceSize), u.total+1))
	sp := slice.NewSplitter(io.LimitReader(r, u.total+1), splitSize)
	pool := newBufPool(u.c.cfg.Concurrency, splitSize)
	seen := make(map[slice.ID]*sliceUpload)
	var all []*sliceUpload
	var read int64
	var readErr error
	for {
		buf, err := pool.get(gctx)
		if err != nil {
			break // a slice failed or ctx ended; Wait and ctx say which
		}
		data, id, err := sp.Next(buf)
		if err == io.EOF {
			pool.put(buf)
			break
		}
		read += int64(len(data))
		if err == nil && read > u.total {
			err = fmt.Errorf("%w: file changed while uploading: read more than %d bytes, expected %d", ErrInvalid, u.total, u.total)
		}
		if err != nil {
			pool.put(buf)
			readErr = err
			stopReading(err)
			break
		}
		s := &sliceUpload{id: id, ref: &metav1.SliceRef{Id: id.String(), Size: uint64(len(data))}}
		all = append(all, s)
		if orig, ok := seen[id]; ok {
			s.dupOf = orig
			u.ackCopy(orig)
			pool.put(buf)
			continue
		}
		seen[id] = s
		index := len(all) - 1
		g.Go(func() error {
			defer pool.put(buf)
			return u.replicate(gctx, index, s, data)
		})
	}
	sendErr := g.Wait() // always: no goroutine may outlive the call
	if readErr != nil {
		return nil, readErr
	}
	if sendErr != nil {
		return nil, sendErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if read != u.total {
		return nil, changedErr(read, u.total)
	}
	return all, nil
}

// replicate stores one slice on R resource nodes, replacing failed pipeline
// members with nodes the meta node places (DESIGN §6.2 steps 2-4).
func (u *upload) replicate(ctx context.Context, index int, s *sliceUpload, data []byte) error {
	rs := &replicaSet{holders: make(map[string]bool), failed: make(map[string]string)}
	p := u.takeInitial(s.ref.GetId())
	attempts := 0
	for attempts < u.c.cfg.MaxAttempts && len(rs.receipts) < u.replicas {
		if p == nil {
			var err error
			p, err = u.place(ctx, s.ref, rs)
			if errors.Is(err, ErrNoSpace) && len(rs.receipts) >= u.minReplicas {
				break // enough to be safe; repair will top up
			}
			if err != nil {
				return u.shortErr(index, s, rs, attempts, fmt.Errorf("place: %w", err))
			}
		}
		if p.GetDone() {
			break // the network already holds it (dedup)
		}
		attempts++
		resp, err := u.c.store(ctx, u.taskID, s.ref, data, p)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		rs.collect(u.taskID, s.ref, p.GetNodes(), resp, err)
		if t := p.GetTicket(); t != nil {
			rs.tickets = append(rs.tickets, t)
		}
		p = nil
	}
	if !p.GetDone() && len(rs.receipts) < u.minReplicas { // GetDone is false for nil
		return u.shortErr(index, s, rs, attempts, nil)
	}
	if n := len(rs.receipts); n < u.replicas && !p.GetDone() {
		u.c.log.Warn("slice stored on fewer nodes than the replica target; repair will top up",
			"task", u.taskID, "slice", s.ref.GetId(), "replicas", n, "target", u.replicas, "failures", rs.failureText())
	}
	s.receipts, s.tickets = rs.receipts, rs.tickets
	u.ack(s)
	return nil
}

// shortErr is the error for a slice left below the minimum replicas.
func (u *upload) shortErr(index int, s *sliceUpload, rs *replicaSet, attempts int, cause error) error {
	err := fmt.Errorf("%w: slice %d (%s) on %d nodes, minimum %d, after %d attempts; failures: %s",
		ErrTooFewReplicas, index, s.ref.GetId(), len(rs.receipts), u.minReplicas, attempts, rs.failureText())
	if cause != nil {
		if len(rs.failed) == 0 && len(rs.receipts) == 0 {
			return fmt.Errorf("slice %d (%s): %w", index, s.ref.GetId(), cause)
		}
		err = fmt.Errorf("%w; %w", err, cause)
	}
	return err
}

func (u *upload) takeInitial(id string) *metav1.Pipeline {
	u.mu.Lock()
	defer u.mu.Unlock()
	p := u.initial[id]
	delete(u.initial, id)
	return p
}

// place asks the meta node for nodes for the replicas still missing,
// excluding the nodes that hold the slice or failed it.
func (u *upload) place(ctx context.Context, ref *metav1.SliceRef, rs *replicaSet) (*metav1.Pipeline, error) {
	exclude := slices.Sorted(maps.Keys(rs.holders))
	exclude = append(exclude, slices.Sorted(maps.Keys(rs.failed))...)
	resp, err := retry(ctx, u.c, u.c.meta.PlaceSlice, &metav1.PlaceSliceRequest{
		TaskId: u.taskID, Slice: ref, Exclude: exclude,
		Count: uint32(u.replicas - len(rs.receipts)), ClientRegion: u.c.cfg.Region,
		Tickets: rs.tickets,
	})
	if err != nil {
		return nil, err
	}
	if resp.GetPipeline() == nil {
		return nil, errors.New("meta node returned no pipeline")
	}
	return resp.GetPipeline(), nil
}

// ack counts a replicated slice, and the duplicates waiting on it, as done.
func (u *upload) ack(s *sliceUpload) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s.acked = true
	u.advance(int64(1+s.copies) * int64(s.ref.GetSize()))
}

// ackCopy counts a duplicate of orig as done once orig is.
func (u *upload) ackCopy(orig *sliceUpload) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if orig.acked {
		u.advance(int64(orig.ref.GetSize()))
		return
	}
	orig.copies++
}

// advance must be called with u.mu held, which also serializes Progress.
func (u *upload) advance(n int64) {
	u.done += n
	if u.progress != nil {
		u.progress(u.done, u.total)
	}
}

func (u *upload) commit(ctx context.Context, all []*sliceUpload, object *metav1.ObjectMeta, encrypted bool) (*metav1.FileEntry, error) {
	ids := make([]slice.ID, len(all))
	req := &metav1.CommitUploadRequest{TaskId: u.taskID, Slices: make([]*metav1.UploadedSlice, len(all)), Object: object, Encrypted: encrypted}
	for i, s := range all {
		ids[i] = s.id
		receipts, tickets := s.receipts, s.tickets
		if s.dupOf != nil {
			receipts, tickets = s.dupOf.receipts, s.dupOf.tickets
		}
		req.Slices[i] = &metav1.UploadedSlice{Slice: s.ref, Receipts: receipts, Tickets: tickets}
	}
	req.FileId = slice.Root(ids).String()
	resp, err := retry(ctx, u.c, u.c.meta.CommitUpload, req)
	if errors.Is(err, ErrTaskExpired) {
		if f := u.committedAnyway(ctx, req.FileId); f != nil {
			return f, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return resp.GetFile(), nil
}

// committedAnyway looks for the file a commit may have made before the meta
// node lost its answer (it restarted between applying the commit and
// replying, so the retry finds the task gone): the path then holds exactly
// the content this upload sent.
func (u *upload) committedAnyway(ctx context.Context, fileID string) *metav1.FileEntry {
	st, err := u.c.Stat(ctx, u.path)
	if err != nil || st.GetFile().GetFileId() != fileID {
		return nil
	}
	return st.GetFile()
}

// replicaSet is what one slice's attempts have achieved so far.
type replicaSet struct {
	receipts []*storagev1.Receipt
	tickets  []*storagev1.Ticket
	holders  map[string]bool   // node IDs with a receipt
	failed   map[string]string // node ID -> why it failed
}

// collect keeps the receipts that plausibly belong to this slice and notes
// the nodes that failed. The meta node checks signatures; this only keeps a
// confused or lying node from counting twice or for the wrong slice.
func (rs *replicaSet) collect(taskID string, ref *metav1.SliceRef, nodes []*storagev1.Peer, resp *storagev1.StoreResponse, err error) {
	if err != nil {
		if len(nodes) > 0 {
			rs.failed[nodes[0].GetNodeId()] = err.Error()
		}
		return
	}
	inPipeline := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		inPipeline[n.GetNodeId()] = true
	}
	for _, r := range resp.GetReceipts() {
		id := r.GetNodeId()
		if !inPipeline[id] || rs.holders[id] || r.GetTaskId() != taskID ||
			r.GetSliceId() != ref.GetId() || r.GetSize() != ref.GetSize() {
			continue
		}
		rs.holders[id] = true
		rs.receipts = append(rs.receipts, r)
	}
	for _, f := range resp.GetFailures() {
		if inPipeline[f.GetNodeId()] && !rs.holders[f.GetNodeId()] {
			rs.failed[f.GetNodeId()] = f.GetError()
		}
	}
	if len(resp.GetFailures()) > 0 {
		return // nodes after a failed one never got the bytes: not their fault
	}
	for _, n := range nodes {
		if !rs.holders[n.GetNodeId()] {
			rs.failed[n.GetNodeId()] = "no valid receipt"
		}
	}
}

func (rs *replicaSet) failureText() string {
	if len(rs.failed) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, id := range slices.Sorted(maps.Keys(rs.failed)) {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "node %s: %s", id, rs.failed[id])
	}
	return b.String()
}

// store sends one slice into a pipeline: to its first node, which forwards
// down the rest (DESIGN §6.2 step 3), with the meta node's ticket.
func (c *Client) store(ctx context.Context, taskID string, ref *metav1.SliceRef, data []byte, p *metav1.Pipeline) (*storagev1.StoreResponse, error) {
	nodes := p.GetNodes()
	if len(nodes) == 0 {
		return nil, errors.New("meta node returned an empty pipeline")
	}
	first := nodes[0]
	resp, err := c.storeOn(ctx, first, &storagev1.StoreHeader{
		TaskId: taskID, SliceId: ref.GetId(), Size: ref.GetSize(), Downstream: nodes[1:], Ticket: p.GetTicket(),
	}, data)
	if err != nil {
		return nil, fmt.Errorf("store on %s (%s): %w", first.GetNodeId(), first.GetAddr(), err)
	}
	return resp, nil
}

func (c *Client) storeOn(ctx context.Context, node *storagev1.Peer, hdr *storagev1.StoreHeader, data []byte) (*storagev1.StoreResponse, error) {
	conn, err := c.nodes.Get(node.GetAddr(), node.GetNodeId())
	if err != nil {
		return nil, err
	}
	// The watchdog ends the stream when the node takes no bytes for
	// StallTimeout: a paused or half cut-off head costs that long, then is
	// replaced, instead of the quarter minute gRPC keepalive takes. The
	// answer waits for the whole pipeline to write, fsync and sign, so it
	// gets answerWaits times longer.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(c.cfg.StallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	stream, err := storagev1.NewSliceServiceClient(conn).Store(ctx)
	if err != nil {
		return nil, stalled(ctx, err)
	}
	err = stream.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: hdr}})
	for off := 0; err == nil && off < len(data); off += wire.FrameSize {
		watchdog.Reset(c.cfg.StallTimeout)
		frame := data[off:min(off+wire.FrameSize, len(data))]
		err = stream.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: frame}})
	}
	// io.EOF means the node ended the stream; its status comes from
	// CloseAndRecv.
	if err != nil && err != io.EOF {
		return nil, stalled(ctx, err)
	}
	watchdog.Reset(answerWaits * c.cfg.StallTimeout)
	resp, err := stream.CloseAndRecv()
	return resp, stalled(ctx, err)
}

// answerWaits is how many stall timeouts a store's answer may take after
// its last byte: every node of the pipeline writes, fsyncs and signs first.
const answerWaits = 6
