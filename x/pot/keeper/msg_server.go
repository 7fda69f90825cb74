package keeper

import (
	"context"

	"github.com/stratos-net/stratos/x/pot/types"
)

type msgServer struct{ k Keeper }

// NewMsgServerImpl returns the Msg service; it only delegates to the keeper.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

var _ types.MsgServer = msgServer{}

func (s msgServer) VolumeReport(ctx context.Context, msg *types.MsgVolumeReport) (*types.MsgVolumeReportResponse, error) {
	r, err := s.k.SubmitVolumeReport(ctx, VolumeReportInput{
		Reporter:      msg.Reporter,
		Period:        msg.Period,
		ReportVolumes: msg.Volumes(),
		Signatures:    msg.Signatures,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgVolumeReportResponse{Total: r.Total, Remainder: r.Remainder,
		StorageCollected: r.StorageCollected, StorageRemainder: r.StorageRemainder, Issued: r.Issued}, nil
}

func (s msgServer) WithdrawRewards(ctx context.Context, msg *types.MsgWithdrawRewards) (*types.MsgWithdrawRewardsResponse, error) {
	coin, err := s.k.WithdrawRewards(ctx, msg.Operator, msg.NodeId)
	if err != nil {
		return nil, err
	}
	return &types.MsgWithdrawRewardsResponse{Amount: coin}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := s.k.UpdateParams(ctx, msg.Authority, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
