package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// fakeNet is a meta node and some resource nodes, each a real gRPC server
// on loopback with its own identity key.
type fakeNet struct {
	meta  *fakeMeta
	nodes []*fakeNode
	// fetching counts Fetch calls in progress across all nodes.
	fetching, maxFetching atomic.Int64
}

func newFakeNet(t testing.TB, nodes int, sliceSize uint64) *fakeNet {
	t.Helper()
	f := &fakeNet{}
	f.meta = newFakeMeta(t, sliceSize)
	for i := range nodes {
		n := newFakeNode(t, fmt.Sprintf("n%d", i), f)
		f.nodes = append(f.nodes, n)
	}
	f.meta.nodes = f.nodes
	f.meta.start(t)
	return f
}

func (f *fakeNet) client(t testing.TB, edit ...func(*Config)) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner, cfg.Region = f.meta.addr, f.meta.key.ID(), "st1alice", "eu"
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, e := range edit {
		e(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.retryBase, c.retryMax = time.Millisecond, 10*time.Millisecond
	t.Cleanup(func() { c.Close() })
	return c
}

// trackingListener remembers accepted connections so a fake can cut them.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

func newKey(t testing.TB) *identity.Key {
	k, err := identity.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// serve starts a gRPC server for key on lis (a new loopback port if nil).
func serve(t testing.TB, key *identity.Key, lis net.Listener, register func(*grpc.Server), opts ...grpc.ServerOption) (*grpc.Server, *trackingListener) {
	t.Helper()
	if lis == nil {
		var err error
		if lis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := wire.NewServer(key, wire.DefaultLimits(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	register(srv)
	tl := &trackingListener{Listener: lis}
	go srv.Serve(tl)
	t.Cleanup(srv.Stop)
	return srv, tl
}

// ---- resource node ----

type fakeNode struct {
	storagev1.UnimplementedSliceServiceServer
	name string
	key  *identity.Key
	addr string
	srv  *grpc.Server
	lis  *trackingListener
	net  *fakeNet
	pool *wire.Pool

	mu        sync.Mutex
	slices    map[string][]byte
	failStore string        // Store answers codes.Internal with this message
	dropStore bool          // Store cuts the connection once, mid-slice
	corrupt   bool          // Fetch serves a flipped byte
	missing   bool          // Fetch answers NotFound
	dropFetch bool          // Fetch cuts the connection mid-slice
	latency   time.Duration // Fetch waits up to this long, at random
	frame     int           // Fetch's frame size
	storeHook func(ctx context.Context) error
	fetchHook func(ctx context.Context, sliceID string) error
	signed    uint64 // bytes downloaders' last receipts signed for, over all fetches
	stores    int
	fetches   map[string]int // slice ID -> Fetch calls
}

func newFakeNode(t testing.TB, name string, f *fakeNet) *fakeNode {
	n := &fakeNode{name: name, key: newKey(t), net: f, pool: wire.NewPool(), frame: wire.FrameSize,
		slices: make(map[string][]byte), fetches: make(map[string]int)}
	n.srv, n.lis = serve(t, n.key, nil, func(s *grpc.Server) { storagev1.RegisterSliceServiceServer(s, n) })
	n.addr = n.lis.Addr().String()
	t.Cleanup(func() { n.pool.Close() })
	return n
}

func (n *fakeNode) id() string { return n.key.ID() }

func (n *fakeNode) peer() *storagev1.Peer { return &storagev1.Peer{NodeId: n.id(), Addr: n.addr} }

func (n *fakeNode) set(f func(n *fakeNode)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f(n)
}

func (n *fakeNode) storeCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stores
}

func (n *fakeNode) fetchCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, c := range n.fetches {
		total += c
	}
	return total
}

func (n *fakeNode) Store(stream storagev1.SliceService_StoreServer) error {
	msg, err := stream.Recv()
	if err != nil {
		return err
	}
	hdr := msg.GetHeader()
	if hdr == nil {
		return status.Error(codes.InvalidArgument, "first frame is not a header")
	}
	n.mu.Lock()
	n.stores++
	fail, drop, hook := n.failStore, n.dropStore, n.storeHook
	n.dropStore = false
	n.mu.Unlock()
	if hook != nil {
		if err := hook(stream.Context()); err != nil {
			return err
		}
	}
	if fail != "" {
		return status.Error(codes.Internal, fail)
	}
	var data []byte
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		data = append(data, msg.GetData()...)
		if drop {
			n.lis.dropAll()
			return status.Error(codes.Unavailable, "dropped")
		}
	}
	if uint64(len(data)) != hdr.GetSize() || slice.Sum(data).String() != hdr.GetSliceId() {
		return status.Error(codes.DataLoss, "slice does not match header")
	}
	n.mu.Lock()
	n.slices[hdr.GetSliceId()] = data
	n.mu.Unlock()
	resp := &storagev1.StoreResponse{}
	rec := &storagev1.Receipt{TaskId: hdr.GetTaskId(), SliceId: hdr.GetSliceId(), Size: hdr.GetSize()}
	n.key.SignReceipt(rec)
	resp.Receipts = append(resp.Receipts, rec)
	if down := hdr.GetDownstream(); len(down) > 0 {
		next := proto.Clone(hdr).(*storagev1.StoreHeader)
		next.Downstream = down[1:]
		r, err := n.forward(stream.Context(), down[0], next, data)
		if err != nil {
			resp.Failures = append(resp.Failures, &storagev1.Failure{NodeId: down[0].GetNodeId(), Error: err.Error()})
		} else {
			resp.Receipts = append(resp.Receipts, r.GetReceipts()...)
			resp.Failures = append(resp.Failures, r.GetFailures()...)
		}
	}
	return stream.SendAndClose(resp)
}

func (n *fakeNode) forward(ctx context.Context, to *storagev1.Peer, hdr *storagev1.StoreHeader, data []byte) (*storagev1.StoreResponse, error) {
	conn, err := n.pool.Get(to.GetAddr(), to.GetNodeId())
	if err != nil {
		return nil, err
	}
	s, err := storagev1.NewSliceServiceClient(conn).Store(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Header{Header: hdr}})
	for off := 0; err == nil && off < len(data); off += wire.FrameSize {
		err = s.Send(&storagev1.StoreRequest{Msg: &storagev1.StoreRequest_Data{Data: data[off:min(off+wire.FrameSize, len(data))]}})
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	return s.CloseAndRecv()
}

// Fetch serves the ticket's bytes and takes the downloader's receipts, as
// a resource node does; it does not check signatures (the resource
// package's tests do), only that the receipts cover what it sent.
func (n *fakeNode) Fetch(stream storagev1.SliceService_FetchServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	req := first.GetTicket()
	if req == nil || req.GetNodeId() != n.id() {
		return status.Errorf(codes.PermissionDenied, "no ticket for this node")
	}
	inFlight := n.net.fetching.Add(1)
	defer n.net.fetching.Add(-1)
	for {
		m := n.net.maxFetching.Load()
		if inFlight <= m || n.net.maxFetching.CompareAndSwap(m, inFlight) {
			break
		}
	}
	n.mu.Lock()
	n.fetches[req.GetSliceId()]++
	data, ok := n.slices[req.GetSliceId()]
	corrupt, missing, drop, latency, hook, frame := n.corrupt, n.missing, n.dropFetch, n.latency, n.fetchHook, n.frame
	n.mu.Unlock()
	if hook != nil {
		if err := hook(stream.Context(), req.GetSliceId()); err != nil {
			return err
		}
	}
	if latency > 0 {
		time.Sleep(mrand.N(latency))
	}
	if !ok || missing {
		return status.Errorf(codes.NotFound, "slice %s not here", req.GetSliceId())
	}
	if corrupt {
		data = slices.Clone(data)
		data[len(data)/2] ^= 0xff
	}
	end := min(uint64(len(data)), req.GetOffset()+req.GetLength())
	data = data[min(req.GetOffset(), end):end]
	for off := 0; off < len(data); off += frame {
		if drop && off > 0 {
			n.lis.dropAll()
			return status.Error(codes.Unavailable, "dropped")
		}
		if err := stream.Send(&storagev1.FetchResponse{Data: data[off:min(off+frame, len(data))]}); err != nil {
			return err
		}
	}
	var signed uint64
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		signed = m.GetReceipt().GetBytes()
	}
	n.mu.Lock()
	n.signed += signed
	n.mu.Unlock()
	return nil
}

// ---- meta node ----

type fakeTask struct {
	owner, path string
	size        uint64
	overwrite   bool
	aborted     bool
	file        *metav1.FileEntry // once committed
}

type fakeMeta struct {
	metav1.UnimplementedMetaServiceServer
	key  *identity.Key
	addr string
	srv  *grpc.Server

	mu          sync.Mutex
	sliceSize   uint64
	replicas    uint32
	minReplicas uint32
	listPage    int
	nodes       []*fakeNode
	files       map[string]*metav1.FileEntry // owner + path
	holders     map[string][]string          // slice ID -> node IDs
	tasks       map[string]*fakeTask
	calls       map[string]int   // method -> calls
	unavailable map[string]int   // method or "*" -> Unavailable answers still to give
	fail        map[string]error // method -> error to answer with
	places      []*metav1.PlaceSliceRequest
	begins      []*metav1.BeginUploadRequest
	commits     []*metav1.CommitUploadRequest
	aborts      []string
	bad         []*metav1.ReportBadReplicaRequest
	tried       map[string]bool // slice@node assigned to the download
	receiptKey  []byte          // of the last Locate
	reassigned  []*metav1.ReassignRequest
	// loseCommit makes the next successful commit forget its task and
	// answer Unavailable, as a meta node that restarts between applying a
	// commit and replying does.
	loseCommit bool
}

func newFakeMeta(t testing.TB, sliceSize uint64) *fakeMeta {
	return &fakeMeta{
		key: newKey(t), sliceSize: sliceSize, replicas: 3, minReplicas: 2, listPage: 2,
		files: make(map[string]*metav1.FileEntry), holders: make(map[string][]string),
		tasks: make(map[string]*fakeTask), calls: make(map[string]int),
		unavailable: make(map[string]int), fail: make(map[string]error),
	}
}

// start serves the meta node, on its old address if it had one (a restart).
func (m *fakeMeta) start(t testing.TB) {
	var lis net.Listener
	if m.addr != "" {
		var err error
		if lis, err = net.Listen("tcp", m.addr); err != nil {
			t.Fatal(err)
		}
	}
	srv, tl := serve(t, m.key, lis, func(s *grpc.Server) { metav1.RegisterMetaServiceServer(s, m) },
		grpc.UnaryInterceptor(m.intercept))
	m.mu.Lock()
	m.srv, m.addr = srv, tl.Addr().String()
	m.mu.Unlock()
}

func (m *fakeMeta) stop() {
	m.mu.Lock()
	srv := m.srv
	m.mu.Unlock()
	srv.Stop()
}

func (m *fakeMeta) set(f func(m *fakeMeta)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

// get runs f under the lock, for reading the fake's records.
func get[T any](m *fakeMeta, f func(m *fakeMeta) T) T {
	m.mu.Lock()
	defer m.mu.Unlock()
	return f(m)
}

func (m *fakeMeta) count(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

// intercept counts calls and injects errors before the handler runs.
func (m *fakeMeta) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	name := path.Base(info.FullMethod)
	m.mu.Lock()
	m.calls[name]++
	for _, k := range []string{name, "*"} {
		if m.unavailable[k] > 0 {
			m.unavailable[k]--
			m.mu.Unlock()
			return nil, status.Error(codes.Unavailable, "meta node restarting")
		}
	}
	err := m.fail[name]
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func fileKey(owner, p string) string { return owner + "\x00" + p }

func (m *fakeMeta) node(id string) *fakeNode {
	for _, n := range m.nodes {
		if n.id() == id {
			return n
		}
	}
	return nil
}

// pipeline places a slice on the first nodes, in registration order, that
// are neither excluded nor holders: deterministic, so tests know where.
func (m *fakeMeta) pipeline(ref *metav1.SliceRef, exclude []string, count uint32) (*metav1.Pipeline, error) {
	p := &metav1.Pipeline{SliceId: ref.GetId()}
	held := m.holders[ref.GetId()]
	if uint32(len(held)) >= m.replicas {
		p.Done = true
		return p, nil
	}
	if count == 0 {
		count = m.replicas
	}
	for _, n := range m.nodes {
		if uint32(len(p.Nodes)) == count {
			break
		}
		if !slices.Contains(exclude, n.id()) && !slices.Contains(held, n.id()) {
			p.Nodes = append(p.Nodes, n.peer())
		}
	}
	if len(p.Nodes) == 0 {
		return nil, status.Error(codes.ResourceExhausted, "no resource node left to place the slice")
	}
	return p, nil
}

func (m *fakeMeta) BeginUpload(_ context.Context, req *metav1.BeginUploadRequest) (*metav1.BeginUploadResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.begins = append(m.begins, req)
	if !strings.HasPrefix(req.GetPath(), "/") {
		return nil, status.Errorf(codes.InvalidArgument, "path %q is not absolute", req.GetPath())
	}
	if _, ok := m.files[fileKey(req.GetOwner(), req.GetPath())]; ok && !req.GetOverwrite() {
		return nil, status.Errorf(codes.AlreadyExists, "%s exists", req.GetPath())
	}
	id := fmt.Sprintf("task-%d", len(m.tasks)+1)
	m.tasks[id] = &fakeTask{owner: req.GetOwner(), path: req.GetPath(), size: req.GetSize(), overwrite: req.GetOverwrite()}
	resp := &metav1.BeginUploadResponse{TaskId: id, SliceSize: m.sliceSize, Replicas: m.replicas, MinReplicas: m.minReplicas}
	for _, ref := range req.GetSlices() {
		p, err := m.pipeline(ref, nil, 0)
		if err != nil {
			return nil, err
		}
		resp.Pipelines = append(resp.Pipelines, p)
	}
	return resp, nil
}

func (m *fakeMeta) task(id string) (*fakeTask, error) {
	t, ok := m.tasks[id]
	if !ok || t.aborted {
		return nil, status.Errorf(codes.FailedPrecondition, "task %s unknown or ended", id)
	}
	return t, nil
}

func (m *fakeMeta) PlaceSlice(_ context.Context, req *metav1.PlaceSliceRequest) (*metav1.PlaceSliceResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.places = append(m.places, req)
	if _, err := m.task(req.GetTaskId()); err != nil {
		return nil, err
	}
	p, err := m.pipeline(req.GetSlice(), req.GetExclude(), req.GetCount())
	if err != nil {
		return nil, err
	}
	return &metav1.PlaceSliceResponse{Pipeline: p}, nil
}

func (m *fakeMeta) CommitUpload(_ context.Context, req *metav1.CommitUploadRequest) (*metav1.CommitUploadResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits = append(m.commits, req)
	t, err := m.task(req.GetTaskId())
	if err != nil {
		return nil, err
	}
	if t.file != nil && t.file.GetFileId() == req.GetFileId() {
		return &metav1.CommitUploadResponse{File: t.file}, nil // a repeated commit
	}
	file := &metav1.FileEntry{Owner: t.owner, Path: t.path, FileId: req.GetFileId(), CreatedUnixNano: 1, Encrypted: req.GetEncrypted()}
	var ids []slice.ID
	newHolders := map[string][]string{}
	for i, us := range req.GetSlices() {
		id, err := slice.ParseID(us.GetSlice().GetId())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "slice %d: %v", i, err)
		}
		ids = append(ids, id)
		file.Slices = append(file.Slices, us.GetSlice())
		file.Size += us.GetSlice().GetSize()
		have := slices.Clone(m.holders[id.String()])
		for _, r := range us.GetReceipts() {
			n := m.node(r.GetNodeId())
			if n == nil || r.GetTaskId() != req.GetTaskId() || r.GetSliceId() != id.String() {
				return nil, status.Errorf(codes.InvalidArgument, "slice %d: bad receipt", i)
			}
			if err := identity.VerifyReceipt(n.key.Public(), r); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "slice %d: %v", i, err)
			}
			if !slices.Contains(have, r.GetNodeId()) {
				have = append(have, r.GetNodeId())
			}
		}
		if uint32(len(have)) < m.minReplicas {
			return nil, status.Errorf(codes.InvalidArgument, "slice %d has %d replicas", i, len(have))
		}
		newHolders[id.String()] = have
	}
	if file.Size != t.size || slice.Root(ids).String() != req.GetFileId() {
		return nil, status.Error(codes.InvalidArgument, "file ID or size does not match the slices")
	}
	for id, h := range newHolders {
		m.holders[id] = h
	}
	t.file = file
	m.files[fileKey(t.owner, t.path)] = file
	if m.loseCommit {
		m.loseCommit = false
		delete(m.tasks, req.GetTaskId())
		return nil, status.Error(codes.Unavailable, "meta node restarting")
	}
	return &metav1.CommitUploadResponse{File: file}, nil
}

func (m *fakeMeta) AbortUpload(_ context.Context, req *metav1.AbortUploadRequest) (*metav1.AbortUploadResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.aborts = append(m.aborts, req.GetTaskId())
	if t, ok := m.tasks[req.GetTaskId()]; ok {
		t.aborted = true
	}
	return &metav1.AbortUploadResponse{}, nil
}

// find looks a file up by path or ID; m.mu must be held.
func (m *fakeMeta) find(owner, p, fileID string) (*metav1.FileEntry, error) {
	if fileID != "" {
		for _, f := range m.files {
			if f.GetFileId() == fileID && f.GetOwner() == owner {
				return f, nil
			}
		}
		return nil, status.Errorf(codes.NotFound, "no file %s", fileID)
	}
	f, ok := m.files[fileKey(owner, p)]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no file at %s", p)
	}
	return f, nil
}

func (m *fakeMeta) Locate(_ context.Context, req *metav1.LocateRequest) (*metav1.LocateResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.find(req.GetOwner(), req.GetPath(), req.GetFileId())
	if err != nil {
		return nil, err
	}
	resp := &metav1.LocateResponse{File: f, TaskId: "download-1"}
	m.receiptKey = req.GetReceiptKey()
	if m.tried == nil {
		m.tried = map[string]bool{}
	}
	for _, ref := range f.GetSlices() {
		ls := &metav1.LocatedSlice{Slice: ref}
		for _, n := range m.nodes { // registration order, so tests know who is first
			if slices.Contains(m.holders[ref.GetId()], n.id()) {
				ls.Holders = append(ls.Holders, n.peer())
			}
		}
		if len(ls.Holders) > 0 {
			ls.Ticket = fakeTicket(resp.TaskId, ref, ls.Holders[0].GetNodeId(), req.GetReceiptKey())
			m.tried[ref.GetId()+"@"+ls.Holders[0].GetNodeId()] = true
		}
		resp.Slices = append(resp.Slices, ls)
	}
	return resp, nil
}

func fakeTicket(task string, ref *metav1.SliceRef, node string, key []byte) *storagev1.FetchTicket {
	return &storagev1.FetchTicket{TaskId: task, SliceId: ref.GetId(), Length: ref.GetSize(), NodeId: node, ReceiptKey: key, Window: 8 << 20}
}

// Reassign moves a slice to its next holder in registration order not
// yet tried.
func (m *fakeMeta) Reassign(_ context.Context, req *metav1.ReassignRequest) (*metav1.ReassignResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reassigned = append(m.reassigned, req)
	for _, f := range m.files {
		for _, ref := range f.GetSlices() {
			if ref.GetId() != req.GetSliceId() {
				continue
			}
			for _, n := range m.nodes {
				k := ref.GetId() + "@" + n.id()
				if slices.Contains(m.holders[ref.GetId()], n.id()) && !m.tried[k] {
					m.tried[k] = true
					return &metav1.ReassignResponse{Holder: n.peer(), Ticket: fakeTicket(req.GetTaskId(), ref, n.id(), m.receiptKey)}, nil
				}
			}
			return nil, status.Error(codes.FailedPrecondition, "no holder left to try")
		}
	}
	return nil, status.Error(codes.NotFound, "no such slice")
}

func (m *fakeMeta) ReportBadReplica(_ context.Context, req *metav1.ReportBadReplicaRequest) (*metav1.ReportBadReplicaResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bad = append(m.bad, req)
	return &metav1.ReportBadReplicaResponse{}, nil
}

func (m *fakeMeta) Stat(_ context.Context, req *metav1.StatRequest) (*metav1.StatResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.find(req.GetOwner(), req.GetPath(), req.GetFileId())
	if err != nil {
		return nil, err
	}
	resp := &metav1.StatResponse{File: f}
	for _, ref := range f.GetSlices() {
		resp.Slices = append(resp.Slices, &metav1.SliceEntry{Id: ref.GetId(), Size: ref.GetSize(), Replicas: m.holders[ref.GetId()]})
	}
	return resp, nil
}

func (m *fakeMeta) List(_ context.Context, req *metav1.ListRequest) (*metav1.ListResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := strings.TrimSuffix(req.GetDir(), "/") + "/"
	entries := map[string]*metav1.DirEntry{}
	for _, f := range m.files {
		rest, ok := strings.CutPrefix(f.GetPath(), prefix)
		if !ok || f.GetOwner() != req.GetOwner() {
			continue
		}
		if name, _, isDir := strings.Cut(rest, "/"); isDir {
			entries[name] = &metav1.DirEntry{Name: name, Dir: true}
		} else {
			entries[name] = &metav1.DirEntry{Name: name, File: f}
		}
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		if name > req.GetAfter() {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	resp := &metav1.ListResponse{}
	for i, name := range names {
		if i == m.listPage {
			resp.More = true
			break
		}
		resp.Entries = append(resp.Entries, entries[name])
	}
	return resp, nil
}

func (m *fakeMeta) Delete(_ context.Context, req *metav1.DeleteRequest) (*metav1.DeleteResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.find(req.GetOwner(), req.GetPath(), "")
	if err != nil {
		return nil, err
	}
	delete(m.files, fileKey(req.GetOwner(), req.GetPath()))
	return &metav1.DeleteResponse{File: f}, nil
}

func (m *fakeMeta) Status(context.Context, *metav1.StatusRequest) (*metav1.StatusResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	resp := &metav1.StatusResponse{MetaNodeId: m.key.ID(), SliceSize: m.sliceSize, Replicas: m.replicas,
		MinReplicas: m.minReplicas, Files: uint64(len(m.files)), Slices: uint64(len(m.holders))}
	for _, n := range m.nodes {
		resp.Nodes = append(resp.Nodes, &metav1.NodeStatus{Node: &metav1.NodeRecord{NodeId: n.id(), Addr: n.addr}, State: "alive"})
	}
	return resp, nil
}

// blockUntilDone is a hook that holds a transfer until the client cancels.
func blockUntilDone(ctx context.Context) error {
	<-ctx.Done()
	return status.FromContextError(ctx.Err()).Err()
}
