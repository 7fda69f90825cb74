package meta

import (
	"context"
	"time"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Authorities is what the meta cluster reads of its own members in
// x/register (whitepaper §3.3, DESIGN §5.2): the meta nodes admitted by more
// than 2/3 of the active authorities, and those registered and waiting for
// those votes. Keys are node IDs; values their ed25519 public keys.
type Authorities interface {
	MetaNodes(ctx context.Context) (active, pending map[string][]byte, err error)
}

// authorities is the meta node's copy of the chain's meta registry; known
// is false until it was read once.
type authorities struct {
	known           bool
	active, pending map[string][]byte
}

// readAuthorities refreshes the copy of the meta registry. A failed read
// keeps the last one.
func (s *Server) readAuthorities(ctx context.Context) error {
	if s.cfg.Authorities == nil {
		return nil
	}
	active, pending, err := s.cfg.Authorities.MetaNodes(ctx)
	if err != nil {
		return err
	}
	s.chain.setAuthorities(active, pending)
	return nil
}

// authorityLoop reads the chain's meta registry every ChainRefresh, and on
// the leader makes the log's configuration follow it.
func (s *Server) authorityLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.ChainRefresh)
	defer t.Stop()
	for {
		if err := s.readAuthorities(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot read the meta registry from the chain", "err", err)
		} else {
			s.reconcileMembers()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcileMembers makes the log's configuration follow the chain's meta
// registry, on the leader (issue 7: "joins as an observer, becomes a voter
// once admitted on chain"): an observer the authorities admitted becomes a
// voter; a member the chain no longer registers (voted out, or never
// there) leaves the log; a leader no longer active on chain hands over.
// It never acts on a registry it could not read, or one with no active
// authority, which no real chain has.
func (s *Server) reconcileMembers() {
	if s.cfg.Authorities == nil || !s.leading() {
		return
	}
	reg := s.chain.metaRegistry()
	if !reg.known || len(reg.active) == 0 {
		return
	}
	members, err := s.raft.Members()
	if err != nil {
		s.log.Warn("cannot read the cluster configuration", "err", err)
		return
	}
	for _, m := range members {
		_, active := reg.active[m.ID]
		_, pending := reg.pending[m.ID]
		switch {
		case m.ID == s.ID():
		case active && !m.Voter:
			if err := s.raft.AddVoter(m.ID, m.Addr); err != nil {
				s.log.Warn("cannot make an admitted meta node a voter", "node_id", m.ID, "err", err)
				continue
			}
			s.log.Info("meta node admitted on chain: now a voter", "node_id", m.ID)
		case !active && !pending:
			if err := s.raft.Remove(m.ID); err != nil {
				s.log.Warn("cannot remove a meta node the chain no longer registers", "node_id", m.ID, "err", err)
				continue
			}
			s.log.Warn("meta node left the cluster: it is no longer an authority on chain", "node_id", m.ID)
		}
	}
	if _, active := reg.active[s.ID()]; !active {
		for _, m := range members {
			if _, ok := reg.active[m.ID]; ok && m.Voter && m.ID != s.ID() {
				s.log.Warn("this meta node is no longer an active authority on chain; handing over", "to", m.ID)
				if err := s.raft.TransferLeadership(m.ID); err != nil {
					s.log.Warn("cannot hand over leadership", "to", m.ID, "err", err)
				}
				return
			}
		}
	}
}

// joinLoop asks the cluster to add this node (Join) until the log's
// configuration holds it: a meta node that did not bootstrap the cluster
// starts by replicating as an observer. Any member answers with the
// leader's name if it does not lead; every known peer is tried in turn.
func (s *Server) joinLoop(ctx context.Context) {
	if s.cfg.Bootstrap {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if s.inConfiguration() {
			return
		}
		for _, p := range s.peers.list() {
			if p.ID == s.ID() {
				continue
			}
			conn, err := s.peers.conn(p.ID, s.key)
			if err != nil {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = metav1.NewMetaServiceClient(conn).Join(cctx, &metav1.JoinRequest{Addr: s.cfg.Listen, RaftAddr: s.raft.Addr()})
			cancel()
			if err == nil {
				s.log.Info("asked to join the meta cluster", "via", p.ID)
				break
			}
			s.log.Debug("join refused", "via", p.ID, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// inConfiguration reports whether the log's configuration holds this node.
func (s *Server) inConfiguration() bool {
	members, err := s.raft.Members()
	if err != nil {
		return false
	}
	for _, m := range members {
		if m.ID == s.ID() {
			return true
		}
	}
	return false
}
