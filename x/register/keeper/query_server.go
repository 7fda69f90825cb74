package keeper

import (
	"context"

	"github.com/cosmos/cosmos-sdk/types/query"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/x/register/types"
)

type queryServer struct{ k Keeper }

// NewQueryServer returns the module's QueryServer.
func NewQueryServer(k Keeper) types.QueryServer { return queryServer{k: k} }

var _ types.QueryServer = queryServer{}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.GetParams(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) ResourceNodes(ctx context.Context, req *types.QueryResourceNodesRequest) (*types.QueryResourceNodesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	nodes, page, err := query.CollectionPaginate(ctx, q.k.ResourceNodes, req.Pagination,
		func(_ string, n types.ResourceNode) (types.ResourceNode, error) { return n, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryResourceNodesResponse{Nodes: nodes, Pagination: page}, nil
}

func (q queryServer) ResourceNode(ctx context.Context, req *types.QueryResourceNodeRequest) (*types.QueryResourceNodeResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	n, err := q.k.resourceNode(ctx, req.NodeId)
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return &types.QueryResourceNodeResponse{Node: n}, nil
}

func (q queryServer) MetaNodes(ctx context.Context, req *types.QueryMetaNodesRequest) (*types.QueryMetaNodesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	nodes, page, err := query.CollectionPaginate(ctx, q.k.MetaNodes, req.Pagination,
		func(_ string, n types.MetaNode) (types.MetaNode, error) { return n, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryMetaNodesResponse{Nodes: nodes, Pagination: page}, nil
}

func (q queryServer) MetaNode(ctx context.Context, req *types.QueryMetaNodeRequest) (*types.QueryMetaNodeResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	n, err := q.k.metaNode(ctx, req.NodeId)
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return &types.QueryMetaNodeResponse{Node: n}, nil
}
