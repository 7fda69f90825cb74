package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Errors of a Node.
var (
	// ErrNotLeader: only the leader applies commands; see NotLeaderError.
	ErrNotLeader = errors.New("not the meta leader")
	ErrClosed    = errors.New("raft node closed")
)

// NotLeaderError names the leader as this node knows it (empty while an
// election runs). Uncertain means the command was proposed and leadership
// lost before it committed: a new leader may still apply it.
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string // its log transport host:port
	Uncertain  bool
}

func (e *NotLeaderError) Error() string {
	msg := "not the meta leader"
	if e.Uncertain {
		msg = "meta leadership lost while the command was committing; it may or may not have been applied"
	}
	if e.LeaderID == "" {
		return msg + "; no leader elected yet"
	}
	return msg + "; the leader is " + e.LeaderID
}

func (e *NotLeaderError) Unwrap() error { return ErrNotLeader }

// Node is one meta node's replica of the index log.
type Node struct {
	cfg   Config
	log   *slog.Logger
	ix    *index.Index
	r     *raft.Raft
	trans *raft.NetworkTransport
	store *raftboltdb.BoltStore

	queue    chan *proposal
	inflight chan struct{}
	leading  chan bool
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

type proposal struct {
	cmd  *metav1.Command
	done chan result
}

// Open starts the node's replica of the log over ix: it opens the log
// store in cfg.Dir, brings ix up to the newest snapshot if it is behind,
// and starts the transport, accepting the peers allow admits.
func Open(cfg Config, ix *index.Index, key *identity.Key, allow func(id string) bool) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raft: %w", err)
	}
	hl := hclogger(cfg.Logger)
	n := &Node{cfg: cfg, log: cfg.Logger, ix: ix,
		queue: make(chan *proposal, 4*cfg.MaxBatch), inflight: make(chan struct{}, cfg.MaxInflight),
		leading: make(chan bool, 1), stop: make(chan struct{})}
	var err error
	if n.store, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")}); err != nil {
		return nil, fmt.Errorf("raft: open log store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hl)
	if err != nil {
		n.store.Close()
		return nil, fmt.Errorf("raft: open snapshot store: %w", err)
	}
	if err := catchUp(ix, snaps); err != nil {
		n.store.Close()
		return nil, err
	}
	layer, err := listen(cfg.Listen, cfg.Advertise, key, allow)
	if err != nil {
		n.store.Close()
		return nil, err
	}
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: layer, MaxPool: 4, Timeout: 10 * time.Second, Logger: hl})
	rc := n.raftConfig()
	if err := n.bootstrap(rc, snaps); err != nil {
		n.closeStores()
		return nil, err
	}
	if n.r, err = raft.NewRaft(rc, &fsm{ix: ix, log: cfg.Logger}, n.store, n.store, snaps, n.trans); err != nil {
		n.closeStores()
		return nil, fmt.Errorf("raft: start: %w", err)
	}
	n.wg.Add(1)
	go n.propose()
	return n, nil
}

func (n *Node) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.ID)
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.CommitTimeout = n.cfg.CommitTimeout
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.BatchApplyCh = true
	rc.NoSnapshotRestoreOnStart = true // the index holds newer state than any snapshot
	rc.NotifyCh = n.leading
	rc.Logger = hclogger(n.log)
	return rc
}

// bootstrap starts a new cluster when asked to and the node has no log.
func (n *Node) bootstrap(rc *raft.Config, snaps raft.SnapshotStore) error {
	if len(n.cfg.Bootstrap) == 0 {
		return nil
	}
	has, err := raft.HasExistingState(n.store, n.store, snaps)
	if err != nil || has {
		return err
	}
	var conf raft.Configuration
	for _, p := range n.cfg.Bootstrap {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(Address(p.ID, p.Addr))})
	}
	if err := raft.BootstrapCluster(rc, n.store, n.store, snaps, n.trans, conf); err != nil {
		return fmt.Errorf("raft: bootstrap: %w", err)
	}
	return nil
}

// catchUp restores the newest snapshot into ix if ix is behind it, which a
// node killed while installing a snapshot from the leader can be.
func catchUp(ix *index.Index, snaps raft.SnapshotStore) error {
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		return err
	}
	if list[0].Index <= ix.Applied().Index {
		return nil
	}
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("raft: open snapshot %s: %w", list[0].ID, err)
	}
	defer rc.Close()
	if err := ix.Restore(rc); err != nil {
		return fmt.Errorf("raft: restore snapshot %s: %w", list[0].ID, err)
	}
	return nil
}

func (n *Node) closeStores() {
	n.trans.Close()
	n.store.Close()
}

// Close stops the node; the index stays open for its owner to close.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		close(n.stop)
		n.wg.Wait()
		err = n.r.Shutdown().Error()
		n.closeStores()
	})
	return err
}

// Apply replicates cmd and returns its result once this node applied it.
// Only the leader applies: elsewhere it fails with a *NotLeaderError.
func (n *Node) Apply(ctx context.Context, cmd *metav1.Command) (*metav1.CommandResult, error) {
	if n.r.State() != raft.Leader {
		return nil, n.notLeader(false)
	}
	p := &proposal{cmd: cmd, done: make(chan result, 1)}
	select {
	case n.queue <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.stop:
		return nil, ErrClosed
	}
	select {
	case r := <-p.done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w (the command may still be applied)", ctx.Err())
	}
}

// propose packs waiting commands into log entries, MaxInflight at a time.
func (n *Node) propose() {
	defer n.wg.Done()
	for {
		var first *proposal
		select {
		case first = <-n.queue:
		case <-n.stop:
			return
		}
		select {
		case n.inflight <- struct{}{}: // while entries are in flight, the next batch gathers
		case <-n.stop:
			first.done <- result{err: ErrClosed}
			return
		}
		batch := n.gather(first)
		now := n.cfg.Now().UnixNano()
		cmds := make([]*metav1.Command, len(batch))
		for i, p := range batch {
			p.cmd.UnixNano = now
			cmds[i] = p.cmd
		}
		data, err := proto.Marshal(&metav1.CommandBatch{Commands: cmds})
		if err != nil { // only invalid UTF-8 in a string gets here; refuse each alone
			<-n.inflight
			n.splitInvalid(batch)
			continue
		}
		f := n.r.Apply(data, n.cfg.ApplyTimeout)
		n.wg.Add(1)
		go n.await(f, batch)
	}
}

// gather takes first and the proposals waiting behind it, up to MaxBatch.
func (n *Node) gather(first *proposal) []*proposal {
	batch := []*proposal{first}
	for len(batch) < n.cfg.MaxBatch {
		select {
		case p := <-n.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// splitInvalid answers the commands that do not encode with their error
// and proposes the others again.
func (n *Node) splitInvalid(batch []*proposal) {
	for _, p := range batch {
		if _, err := proto.Marshal(p.cmd); err != nil {
			p.done <- result{err: fmt.Errorf("%w: encode command: %w", index.ErrBadCommand, err)}
			continue
		}
		go func() {
			select {
			case n.queue <- p:
			case <-n.stop:
				p.done <- result{err: ErrClosed}
			}
		}()
	}
}

// await delivers an entry's results to its proposers.
func (n *Node) await(f raft.ApplyFuture, batch []*proposal) {
	defer n.wg.Done()
	err := f.Error()
	<-n.inflight
	if err != nil {
		err = n.applyErr(err)
		for _, p := range batch {
			p.done <- result{err: err}
		}
		return
	}
	rs, _ := f.Response().([]result)
	for i, p := range batch {
		if i < len(rs) {
			p.done <- rs[i]
		} else {
			p.done <- result{err: ErrBadEntry}
		}
	}
}

func (n *Node) applyErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
		return n.notLeader(false)
	case errors.Is(err, raft.ErrLeadershipLost):
		return n.notLeader(true)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	}
	return fmt.Errorf("raft: %w", err)
}

func (n *Node) notLeader(uncertain bool) error {
	addr, id := n.r.LeaderWithID()
	e := &NotLeaderError{LeaderID: string(id), Uncertain: uncertain}
	if _, hp, err := SplitAddress(string(addr)); err == nil {
		e.LeaderAddr = hp
	}
	return e
}

// Barrier returns once every entry committed before it is applied here: a
// new leader calls it before it reads the index to decide anything.
func (n *Node) Barrier(timeout time.Duration) error {
	if err := n.r.Barrier(timeout).Error(); err != nil {
		return n.applyErr(err)
	}
	return nil
}

// IsLeader reports whether this node leads the cluster now.
func (n *Node) IsLeader() bool { return n.r.State() == raft.Leader }

// LeaderID is the leader's node ID as this node knows it; empty during an
// election.
func (n *Node) LeaderID() string {
	_, id := n.r.LeaderWithID()
	return string(id)
}

// LeaderChanges receives true when this node becomes the leader and false
// when it stops being it. It has one reader.
func (n *Node) LeaderChanges() <-chan bool { return n.leading }

// Member is a server of the cluster's configuration.
type Member struct {
	ID    string
	Addr  string // log transport host:port
	Voter bool
}

// Members lists the cluster's configuration, by ID.
func (n *Node) Members() ([]Member, error) {
	f := n.r.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, n.applyErr(err)
	}
	var out []Member
	for _, s := range f.Configuration().Servers {
		_, hp, _ := SplitAddress(string(s.Address))
		out = append(out, Member{ID: string(s.ID), Addr: hp, Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// AddObserver adds a node that replicates the log without voting
// (DESIGN §5.2: Observing), or makes a voter one.
func (n *Node) AddObserver(id, hostport string) error {
	return n.membership(n.r.AddNonvoter(raft.ServerID(id), raft.ServerAddress(Address(id, hostport)), 0, n.cfg.ApplyTimeout))
}

// AddVoter adds a voter, or promotes an observer.
func (n *Node) AddVoter(id, hostport string) error {
	return n.membership(n.r.AddVoter(raft.ServerID(id), raft.ServerAddress(Address(id, hostport)), 0, n.cfg.ApplyTimeout))
}

// Remove takes a node out of the cluster.
func (n *Node) Remove(id string) error {
	return n.membership(n.r.RemoveServer(raft.ServerID(id), 0, n.cfg.ApplyTimeout))
}

func (n *Node) membership(f raft.Future) error {
	if err := f.Error(); err != nil {
		return n.applyErr(err)
	}
	return nil
}

// TransferLeadership hands leadership to the voter id once its log is
// current (DESIGN §5.2), so no acknowledged write is lost.
func (n *Node) TransferLeadership(id string) error {
	ms, err := n.Members()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID == id {
			return n.membership(n.r.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(Address(id, m.Addr))))
		}
	}
	return fmt.Errorf("raft: transfer leadership: %s is not a member", id)
}

// Stats is this node's view of the log.
type Stats struct {
	State    string // Leader, Follower, Candidate, Shutdown
	Term     uint64
	Applied  uint64
	Commit   uint64
	LeaderID string
}

// Stats reports this node's state.
func (n *Node) Stats() Stats {
	st := n.r.Stats()
	commit, _ := strconv.ParseUint(st["commit_index"], 10, 64)
	return Stats{State: n.r.State().String(), Term: n.r.CurrentTerm(), Applied: n.r.AppliedIndex(), Commit: commit, LeaderID: n.LeaderID()}
}

// Addr is the node's advertised log transport host:port.
func (n *Node) Addr() string {
	_, hp, _ := SplitAddress(string(n.trans.LocalAddr()))
	return hp
}
