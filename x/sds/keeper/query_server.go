package keeper

import (
	"context"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/stratos-net/stratos/x/sds/types"
)

type queryServer struct{ k Keeper }

var _ types.QueryServer = queryServer{}

// NewQueryServer returns the x/sds QueryServer.
func NewQueryServer(k Keeper) types.QueryServer { return queryServer{k: k} }

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.GetParams(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) Prepaid(ctx context.Context, req *types.QueryPrepaidRequest) (*types.QueryPrepaidResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.k.addressCodec.StringToBytes(req.Address)
	if err != nil || len(addr) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid address %q: %v", req.Address, err)
	}
	amt, err := q.k.PrepaidOf(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryPrepaidResponse{Prepaid: sdk.NewCoin(types.Denom, amt)}, nil
}

func (q queryServer) Anchor(ctx context.Context, req *types.QueryAnchorRequest) (*types.QueryAnchorResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	anchors, err := q.k.AnchorsOfPeriod(ctx, req.Period)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if len(anchors) == 0 {
		return nil, status.Errorf(codes.NotFound, "no anchor for period %d", req.Period)
	}
	return &types.QueryAnchorResponse{Anchors: anchors}, nil
}

func (q queryServer) Anchors(ctx context.Context, req *types.QueryAnchorsRequest) (*types.QueryAnchorsResponse, error) {
	if req == nil {
		req = &types.QueryAnchorsRequest{}
	}
	anchors, page, err := query.CollectionPaginate(ctx, q.k.Anchors, req.Pagination,
		func(_ collections.Pair[uint64, string], a types.Anchor) (types.Anchor, error) { return a, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryAnchorsResponse{Anchors: anchors, Pagination: page}, nil
}
