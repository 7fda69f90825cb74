package keeper

import (
	"context"

	"github.com/stratos-net/stratos/x/trustedfn/types"
)

type msgServer struct{ k Keeper }

// NewMsgServerImpl returns the Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

func (s msgServer) OfferCompute(ctx context.Context, m *types.MsgOfferCompute) (*types.MsgOfferComputeResponse, error) {
	return &types.MsgOfferComputeResponse{}, s.k.OfferCompute(ctx, m.Operator, m.NodeId, m.Capacity, m.Endpoint, m.Agent)
}

func (s msgServer) CreateApp(ctx context.Context, m *types.MsgCreateApp) (*types.MsgCreateAppResponse, error) {
	id, err := s.k.CreateApp(ctx, m)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateAppResponse{AppId: id}, nil
}

func (s msgServer) TopUp(ctx context.Context, m *types.MsgTopUp) (*types.MsgTopUpResponse, error) {
	return &types.MsgTopUpResponse{}, s.k.TopUp(ctx, m.Owner, m.AppId, m.Amount)
}

func (s msgServer) StopApp(ctx context.Context, m *types.MsgStopApp) (*types.MsgStopAppResponse, error) {
	refund, err := s.k.StopApp(ctx, m.Owner, m.AppId)
	if err != nil {
		return nil, err
	}
	return &types.MsgStopAppResponse{Refunded: refund}, nil
}

func (s msgServer) OpenRound(ctx context.Context, m *types.MsgOpenRound) (*types.MsgOpenRoundResponse, error) {
	id, err := s.k.OpenRound(ctx, m)
	if err != nil {
		return nil, err
	}
	return &types.MsgOpenRoundResponse{RoundId: id}, nil
}

func (s msgServer) Commit(ctx context.Context, m *types.MsgCommit) (*types.MsgCommitResponse, error) {
	return &types.MsgCommitResponse{}, s.k.Commit(ctx, m)
}

func (s msgServer) Complain(ctx context.Context, m *types.MsgComplain) (*types.MsgComplainResponse, error) {
	return &types.MsgComplainResponse{}, s.k.Complain(ctx, m)
}

func (s msgServer) RevealSalts(ctx context.Context, m *types.MsgRevealSalts) (*types.MsgRevealSaltsResponse, error) {
	return &types.MsgRevealSaltsResponse{}, s.k.RevealSalts(ctx, m)
}

func (s msgServer) Reveal(ctx context.Context, m *types.MsgReveal) (*types.MsgRevealResponse, error) {
	return &types.MsgRevealResponse{}, s.k.Reveal(ctx, m)
}

func (s msgServer) ChallengeStorage(ctx context.Context, m *types.MsgChallengeStorage) (*types.MsgChallengeStorageResponse, error) {
	id, err := s.k.ChallengeStorage(ctx, m)
	if err != nil {
		return nil, err
	}
	return &types.MsgChallengeStorageResponse{RoundId: id}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, m *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	return &types.MsgUpdateParamsResponse{}, s.k.UpdateParams(ctx, m.Authority, m.Params)
}
