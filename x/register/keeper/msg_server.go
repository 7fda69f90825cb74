package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/register/types"
)

// msgServer validates messages statelessly and delegates to the keeper.
type msgServer struct{ k Keeper }

// NewMsgServer returns the module's MsgServer.
func NewMsgServer(k Keeper) types.MsgServer { return msgServer{k: k} }

var _ types.MsgServer = msgServer{}

func (s msgServer) address(field, a string) (sdk.AccAddress, error) {
	bz, err := s.k.addressCodec.StringToBytes(a)
	if err != nil || a == "" {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q", field, a)
	}
	return bz, nil
}

func validDeposit(c sdk.Coin) error {
	if err := c.Validate(); err != nil {
		return errorsmod.Wrap(types.ErrInvalidDeposit, err.Error())
	}
	return nil
}

func (s msgServer) RegisterResourceNode(ctx context.Context, msg *types.MsgRegisterResourceNode) (*types.MsgRegisterResourceNodeResponse, error) {
	operator, err := s.address("operator", msg.Operator)
	if err != nil {
		return nil, err
	}
	if _, err := types.NodeIDFromPublicKey(msg.PublicKey); err != nil {
		return nil, err
	}
	if err := types.ValidateNetworkAddress(msg.NetworkAddress, true); err != nil {
		return nil, err
	}
	if msg.Capacity == 0 {
		return nil, errorsmod.Wrap(types.ErrInvalidNode, "capacity is zero")
	}
	if err := types.ValidateRegion(msg.Region); err != nil {
		return nil, err
	}
	if err := validDeposit(msg.Deposit); err != nil {
		return nil, err
	}
	id, err := s.k.RegisterResourceNode(ctx, operator, msg.PublicKey, msg.NetworkAddress, msg.Capacity, msg.Region, msg.Deposit)
	if err != nil {
		return nil, err
	}
	return &types.MsgRegisterResourceNodeResponse{NodeId: id}, nil
}

func (s msgServer) UpdateResourceNode(ctx context.Context, msg *types.MsgUpdateResourceNode) (*types.MsgUpdateResourceNodeResponse, error) {
	operator, err := s.address("operator", msg.Operator)
	if err != nil {
		return nil, err
	}
	if err := types.ValidateNodeID(msg.NodeId); err != nil {
		return nil, err
	}
	if err := types.ValidateNetworkAddress(msg.NetworkAddress, false); err != nil {
		return nil, err
	}
	if err := types.ValidateRegion(msg.Region); err != nil {
		return nil, err
	}
	if err := s.k.UpdateResourceNode(ctx, operator, msg.NodeId, msg.NetworkAddress, msg.Capacity, msg.Region); err != nil {
		return nil, err
	}
	return &types.MsgUpdateResourceNodeResponse{}, nil
}

func (s msgServer) DeactivateResourceNode(ctx context.Context, msg *types.MsgDeactivateResourceNode) (*types.MsgDeactivateResourceNodeResponse, error) {
	operator, err := s.address("operator", msg.Operator)
	if err != nil {
		return nil, err
	}
	if err := types.ValidateNodeID(msg.NodeId); err != nil {
		return nil, err
	}
	return s.k.DeactivateResourceNode(ctx, operator, msg.NodeId)
}

func (s msgServer) RegisterMetaNode(ctx context.Context, msg *types.MsgRegisterMetaNode) (*types.MsgRegisterMetaNodeResponse, error) {
	operator, err := s.address("operator", msg.Operator)
	if err != nil {
		return nil, err
	}
	if _, err := types.NodeIDFromPublicKey(msg.PublicKey); err != nil {
		return nil, err
	}
	if err := types.ValidateNetworkAddress(msg.NetworkAddress, true); err != nil {
		return nil, err
	}
	if err := validDeposit(msg.Deposit); err != nil {
		return nil, err
	}
	id, status, err := s.k.RegisterMetaNode(ctx, operator, msg.PublicKey, msg.NetworkAddress, msg.Deposit)
	if err != nil {
		return nil, err
	}
	return &types.MsgRegisterMetaNodeResponse{NodeId: id, Status: status}, nil
}

func (s msgServer) ApproveMetaNode(ctx context.Context, msg *types.MsgApproveMetaNode) (*types.MsgApproveMetaNodeResponse, error) {
	voter, err := s.address("voter", msg.Voter)
	if err != nil {
		return nil, err
	}
	if err := types.ValidateNodeID(msg.VoterNodeId); err != nil {
		return nil, err
	}
	if err := types.ValidateNodeID(msg.CandidateNodeId); err != nil {
		return nil, err
	}
	if msg.VoterNodeId == msg.CandidateNodeId {
		return nil, errorsmod.Wrap(types.ErrUnauthorized, "a meta node cannot approve itself")
	}
	status, err := s.k.ApproveMetaNode(ctx, voter, msg.VoterNodeId, msg.CandidateNodeId)
	if err != nil {
		return nil, err
	}
	return &types.MsgApproveMetaNodeResponse{Status: status}, nil
}

func (s msgServer) VoteRemoveMetaNode(ctx context.Context, msg *types.MsgVoteRemoveMetaNode) (*types.MsgVoteRemoveMetaNodeResponse, error) {
	voter, err := s.address("voter", msg.Voter)
	if err != nil {
		return nil, err
	}
	if err := types.ValidateRemovalVote(msg.VoterNodeId, msg.TargetNodeId); err != nil {
		return nil, err
	}
	return s.k.VoteRemoveMetaNode(ctx, voter, msg.VoterNodeId, msg.TargetNodeId)
}

func (s msgServer) SetMetaNodeStatus(ctx context.Context, msg *types.MsgSetMetaNodeStatus) (*types.MsgSetMetaNodeStatusResponse, error) {
	if _, err := s.address("authority", msg.Authority); err != nil {
		return nil, err
	}
	slashed, err := s.k.SetMetaNodeStatus(ctx, msg.Authority, msg.NodeId, msg.Status)
	if err != nil {
		return nil, err
	}
	return &types.MsgSetMetaNodeStatusResponse{Slashed: slashed}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if _, err := s.address("authority", msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, err
	}
	if err := s.k.UpdateParams(ctx, msg.Authority, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
