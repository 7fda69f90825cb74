package meta

import (
	"context"
	"fmt"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta/health"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// RegisterNode admits a resource node that proves it holds its key. On this
// issue's network any such node is admitted; the chain's registry (x/register)
// will decide later.
func (s *Server) RegisterNode(ctx context.Context, req *metav1.RegisterNodeRequest) (*metav1.RegisterNodeResponse, error) {
	rec := req.GetNode()
	if rec == nil || rec.GetAddr() == "" {
		return nil, toStatus(fmt.Errorf("%w: node record needs an address", ErrUnknownNode))
	}
	if err := callerIs(ctx, rec.GetNodeId()); err != nil {
		return nil, toStatus(err)
	}
	if err := identity.VerifyRegistration(rec, req.GetSignature()); err != nil {
		return nil, toStatus(fmt.Errorf("register node %s: %w", rec.GetNodeId(), err))
	}
	if err := s.onChain(ctx, rec.GetNodeId(), rec.GetPublicKey()); err != nil {
		return nil, toStatus(err)
	}
	if _, err := s.apply(&metav1.Command{Op: &metav1.Command_RegisterNode{RegisterNode: &metav1.RegisterNodeCmd{Node: rec}}}); err != nil {
		return nil, toStatus(err)
	}
	s.health.Observe(rec.GetNodeId(), health.Load{Capacity: rec.GetCapacity()})
	s.log.Info("resource node registered", "node_id", rec.GetNodeId(), "addr", rec.GetAddr(), "region", rec.GetRegion())
	return &metav1.RegisterNodeResponse{SliceSize: uint64(s.cfg.SliceSize)}, nil
}

// Heartbeat records a node's liveness and load, and hands it the repair and
// deletion orders waiting for it.
func (s *Server) Heartbeat(ctx context.Context, req *metav1.HeartbeatRequest) (*metav1.HeartbeatResponse, error) {
	id := req.GetNodeId()
	if err := callerIs(ctx, id); err != nil {
		return nil, toStatus(err)
	}
	if _, err := s.ix.Node(id); err != nil {
		return &metav1.HeartbeatResponse{Reregister: true}, nil
	}
	l := req.GetLoad()
	s.heard(id)
	capacity, free := s.offered(id, l.GetCapacity(), l.GetFree())
	s.health.Observe(id, health.Load{Capacity: capacity, Free: free, Connections: l.GetConnections(), Slices: l.GetSlices()})
	resp := &metav1.HeartbeatResponse{Repairs: s.repairOrdersFor(id)}
	resp.DeleteSlices, resp.VerifySlices = s.takeOrders(id)
	return resp, nil
}

// ReportSlices reconciles a node's inventory with the index (DESIGN §5.4):
// slices the index does not place on the node are garbage (the node keeps
// young ones, which may belong to uploads in flight), and slices the index
// places there but the node lacks in two reports running are lost replicas.
// Two reports, because a slice committed between the node listing its store
// and this handler running would otherwise look lost.
func (s *Server) ReportSlices(ctx context.Context, req *metav1.ReportSlicesRequest) (*metav1.ReportSlicesResponse, error) {
	id := req.GetNodeId()
	if err := callerIs(ctx, id); err != nil {
		return nil, toStatus(err)
	}
	if _, err := s.ix.Node(id); err != nil {
		return nil, toStatus(fmt.Errorf("%w: %s", ErrUnknownNode, id))
	}
	has := make(map[string]bool, len(req.GetSliceIds()))
	for _, sl := range req.GetSliceIds() {
		if _, err := slice.ParseID(sl); err == nil {
			has[sl] = true
		}
	}
	expected := map[string]bool{}
	if err := s.ix.SlicesOn(id, func(sl string) error { expected[sl] = true; return nil }); err != nil {
		return nil, toStatus(err)
	}
	p := s.repairer()
	rep := p.Queue.Reconcile(id, expected, has)
	p.DropLost(id, rep.Lost)
	return &metav1.ReportSlicesResponse{DeleteSlices: rep.Garbage}, nil
}

func removeReplicas(sliceID string, nodes ...string) *metav1.Command {
	return &metav1.Command{Op: &metav1.Command_RemoveReplicas{RemoveReplicas: &metav1.RemoveReplicasCmd{SliceId: sliceID, NodeIds: nodes}}}
}

// offered caps what a node says it offers at what it registered on chain
// (issue 8): a node claiming more space than it bonded for gets no more
// slices for it. What it already holds stays counted as used.
func (s *Server) offered(id string, capacity, free uint64) (uint64, uint64) {
	registered, ok := s.chain.capacity(id)
	if !ok || capacity <= registered {
		return capacity, free
	}
	used := capacity - min(free, capacity)
	if used >= registered {
		return registered, 0
	}
	return registered, min(free, registered-used)
}
