package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/x/pot/types"
)

type queryServer struct{ k Keeper }

// NewQueryServerImpl returns the Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k: k} }

var _ types.QueryServer = queryServer{}

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) Rewards(ctx context.Context, req *types.QueryRewardsRequest) (*types.QueryRewardsResponse, error) {
	if req == nil || req.NodeIdOrAddress == "" {
		return nil, status.Error(codes.InvalidArgument, "node ID or address required")
	}
	total, rewards, err := q.k.RewardsOf(ctx, req.NodeIdOrAddress)
	if err != nil {
		return nil, err
	}
	return &types.QueryRewardsResponse{Total: total, Rewards: rewards}, nil
}

func (q queryServer) Period(ctx context.Context, _ *types.QueryPeriodRequest) (*types.QueryPeriodResponse, error) {
	r, err := q.k.CurrentPeriod(ctx)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (q queryServer) Report(ctx context.Context, req *types.QueryReportRequest) (*types.QueryReportResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	r, err := q.k.Reports.Get(ctx, req.Period)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no volume report for period %d", req.Period)
	}
	if err != nil {
		return nil, err
	}
	return &types.QueryReportResponse{Report: r}, nil
}
