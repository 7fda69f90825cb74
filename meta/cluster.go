package meta

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/raftnode"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/wire"
)

// ErrNotAuthority: a meta node that is not one of the cluster's
// authorities asked to join.
var ErrNotAuthority = errors.New("not a meta authority of this network")

// peers is what this node knows of the other meta nodes' addresses, and
// the connections it keeps to them (report signatures, PoA votes).
type peers struct {
	mu    sync.Mutex
	m     map[string]Peer
	conns map[string]*grpc.ClientConn
}

func newPeers(ps []Peer) *peers {
	p := &peers{m: make(map[string]Peer, len(ps)), conns: map[string]*grpc.ClientConn{}}
	for _, x := range ps {
		p.m[x.ID] = x
	}
	return p
}

func (p *peers) get(id string) (Peer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	x, ok := p.m[id]
	return x, ok
}

// list returns every known peer, by ID.
func (p *peers) list() []Peer {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Peer, 0, len(p.m))
	for _, x := range p.m {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b Peer) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (p *peers) set(x Peer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.m[x.ID]; ok && old.Addr != x.Addr {
		if c := p.conns[x.ID]; c != nil {
			c.Close()
			delete(p.conns, x.ID)
		}
	}
	p.m[x.ID] = x
}

// conn is a kept connection to meta node id, presenting key's certificate.
func (p *peers) conn(id string, key *identity.Key) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[id]; ok {
		return c, nil
	}
	x, ok := p.m[id]
	if !ok {
		return nil, fmt.Errorf("no address known for meta node %s", id)
	}
	c, err := wire.DialAs(x.Addr, x.ID, key)
	if err != nil {
		return nil, err
	}
	p.conns[id] = c
	return c, nil
}

func (p *peers) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.conns {
		c.Close()
		delete(p.conns, id)
	}
}

// openRaft starts this node's replica of the index log. A node given no
// peers is a cluster of one.
func (s *Server) openRaft() error {
	rc := s.cfg.Raft
	rc.ID, rc.Dir, rc.Logger, rc.Now = s.ID(), filepath.Join(s.cfg.DataDir, "raft"), s.log, s.now
	if _, ok := s.peers.get(s.ID()); !ok {
		s.peers.set(Peer{ID: s.ID(), Addr: s.cfg.Listen, RaftAddr: rc.Listen})
	}
	if s.cfg.Bootstrap {
		for _, p := range s.cfg.Peers {
			rc.Bootstrap = append(rc.Bootstrap, raftnode.Peer{ID: p.ID, Addr: p.RaftAddr})
		}
		if len(rc.Bootstrap) == 0 {
			rc.Bootstrap = []raftnode.Peer{{ID: s.ID(), Addr: rc.Listen}}
		}
	}
	n, err := raftnode.Open(rc, s.ix, s.key, s.isAuthority)
	if err != nil {
		return fmt.Errorf("meta node: %w", err)
	}
	s.raft = n
	return nil
}

// isAuthority reports whether a meta node may replicate the index: one of
// the configured peers or of those that joined, or a meta node the chain
// registers (voted in, or registered and waiting for the votes).
func (s *Server) isAuthority(id string) bool {
	if _, ok := s.peers.get(id); ok {
		return true
	}
	active, pending := s.chain.authority(id)
	return active || pending
}

// leading reports whether this node leads and has applied every entry of
// the terms before its own, so what it reads of the index is current.
func (s *Server) leading() bool { return s.ready.Load() && s.raft.IsLeader() }

// leadLoop follows this node's leadership: on winning it waits until it has
// applied the whole log, then rebuilds the soft state a leader keeps (node
// liveness starts again from heartbeats); on losing it drops that state.
func (s *Server) leadLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case lead := <-s.raft.LeaderChanges():
			s.ready.Store(false)
			if !lead {
				s.log.Info("meta node follows", "leader", s.raft.LeaderID())
				s.dropLeaderState()
				continue
			}
			if err := s.raft.Barrier(10 * time.Second); err != nil {
				s.log.Warn("new leader could not apply the log; waiting for the next election", "err", err)
				continue
			}
			s.started.Store(s.now().UnixNano())
			if err := s.seedLiveness(); err != nil {
				s.log.Warn("new leader could not read the registered nodes", "err", err)
			}
			s.ready.Store(true)
			s.log.Info("meta node leads", "term", s.raft.Stats().Term)
		}
	}
}

// dropLeaderState forgets what only a leader keeps.
func (s *Server) dropLeaderState() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repairs = newRepairQueue()
	s.orders = newOrders()
}

// leaderOnly refuses every call but a local Status on a node that does not lead,
// naming the leader, so clients and resource nodes find it.
func (s *Server) leaderOnly(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if servedByAny(req) || s.leading() {
		resp, err := h(ctx, req)
		if status.Code(err) == codes.Unavailable && !s.raft.IsLeader() {
			// Leadership went while the call ran (the log refused it, or it
			// may or may not have committed: the message says which).
			return nil, s.notLeader(ctx, status.Convert(err).Message())
		}
		return resp, err
	}
	return nil, s.notLeader(ctx, "this meta node is not the leader")
}

// servedByAny: a node's own status and its signature over a sealed report
// are answered by every member.
func servedByAny(req any) bool {
	switch r := req.(type) {
	case *metav1.StatusRequest:
		return r.GetLocal()
	case *metav1.SignReportRequest, *metav1.PoaVoteRequest:
		return true
	}
	return false
}

// notLeader is the Unavailable answer of a follower, with the leader's ID
// and address in the trailer when it knows them.
func (s *Server) notLeader(ctx context.Context, msg string) error {
	msg, _, _ = strings.Cut(msg, ";") // the leader is named below, once
	id := s.raft.LeaderID()
	if id == "" || (id == s.ID() && !s.leading()) {
		return status.Error(codes.Unavailable, msg+"; an election is under way, retry shortly")
	}
	md := metadata.Pairs(wire.LeaderIDKey, id)
	if p, ok := s.peers.get(id); ok {
		md.Append(wire.LeaderAddrKey, p.Addr)
		msg += fmt.Sprintf("; the leader is %s at %s", id, p.Addr)
	} else {
		msg += "; the leader is " + id
	}
	_ = grpc.SetTrailer(ctx, md)
	return status.Error(codes.Unavailable, msg)
}

// Join adds the calling meta node to the log as an observer (DESIGN §5.2:
// it replicates the index and does not vote), or as a voter if it is one
// of the configured peers or an active authority on chain. An observer the
// chain admits later is made a voter by reconcileMembers.
func (s *Server) Join(ctx context.Context, req *metav1.JoinRequest) (*metav1.JoinResponse, error) {
	id, ok := wire.PeerID(ctx)
	if !ok {
		return nil, toStatus(fmt.Errorf("%w: the caller presented no node certificate", ErrNotAuthority))
	}
	if !s.isAuthority(id) {
		return nil, toStatus(fmt.Errorf("%w: %s", ErrNotAuthority, id))
	}
	if req.GetAddr() == "" || req.GetRaftAddr() == "" {
		return nil, toStatus(fmt.Errorf("%w: join needs the meta service and raft addresses", index.ErrBadCommand))
	}
	_, configured := s.peers.get(id)
	active, _ := s.chain.authority(id)
	voter := configured || active
	s.peers.set(Peer{ID: id, Addr: req.GetAddr(), RaftAddr: req.GetRaftAddr()})
	add := s.raft.AddObserver
	if voter {
		add = s.raft.AddVoter
	}
	if err := add(id, req.GetRaftAddr()); err != nil {
		return nil, err
	}
	s.log.Info("meta node joined", "node_id", id, "voter", voter)
	return &metav1.JoinResponse{LeaderId: s.ID()}, nil
}

// clusterStatus describes every member of the log's configuration.
func (s *Server) clusterStatus() (self *metav1.MetaNodeStatus, all []*metav1.MetaNodeStatus) {
	st := s.raft.Stats()
	members, err := s.raft.Members()
	if err != nil {
		s.log.Warn("cannot read the cluster configuration", "err", err)
	}
	for _, m := range members {
		ms := &metav1.MetaNodeStatus{NodeId: m.ID, RaftAddr: m.Addr, Voter: m.Voter, LeaderId: st.LeaderID, RaftTerm: st.Term, State: poaState(m, st.LeaderID)}
		if p, ok := s.peers.get(m.ID); ok {
			ms.Addr = p.Addr
		}
		if m.ID == s.ID() {
			ms.AppliedIndex, ms.CommitIndex, ms.LastRound = st.Applied, st.Commit, s.lastRound()
			self = ms
		}
		all = append(all, ms)
	}
	if self == nil { // not (yet) in the configuration: waiting to be added
		self = &metav1.MetaNodeStatus{NodeId: s.ID(), Addr: s.cfg.Listen, RaftAddr: s.raft.Addr(), State: "Observing",
			RaftTerm: st.Term, AppliedIndex: st.Applied, CommitIndex: st.Commit, LeaderId: st.LeaderID}
	}
	return self, all
}

// poaState names a member's state as whitepaper §3.3 does: the leader is
// Leading, other voters Following, non-voters Observing; with no leader,
// voters are Voting.
func poaState(m raftnode.Member, leader string) string {
	switch {
	case !m.Voter:
		return "Observing"
	case leader == "":
		return "Voting"
	case m.ID == leader:
		return "Leading"
	default:
		return "Following"
	}
}
