package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/types"
)

type msgServer struct{ k Keeper }

var _ types.MsgServer = msgServer{}

// NewMsgServer returns the x/sds MsgServer. It decodes addresses and
// delegates to the keeper.
func NewMsgServer(k Keeper) types.MsgServer { return msgServer{k: k} }

func (s msgServer) Prepay(ctx context.Context, msg *types.MsgPrepay) (*types.MsgPrepayResponse, error) {
	sender, err := s.address(msg.Sender)
	if err != nil {
		return nil, err
	}
	prepaid, err := s.k.Prepay(ctx, sender, msg.Amount)
	if err != nil {
		return nil, err
	}
	return &types.MsgPrepayResponse{Prepaid: prepaid}, nil
}

func (s msgServer) AnchorIndex(ctx context.Context, msg *types.MsgAnchorIndex) (*types.MsgAnchorIndexResponse, error) {
	sender, err := s.address(msg.Sender)
	if err != nil {
		return nil, err
	}
	a, err := s.k.AnchorIndex(ctx, sender, msg.MetaNodeId, msg.Period, msg.Root)
	if err != nil {
		return nil, err
	}
	return &types.MsgAnchorIndexResponse{Anchor: a}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority != s.k.authority {
		return nil, errorsmod.Wrapf(types.ErrInvalidSigner, "want %s, got %s", s.k.authority, msg.Authority)
	}
	if err := s.k.SetParams(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

func (s msgServer) address(a string) (sdk.AccAddress, error) {
	bz, err := s.k.addressCodec.StringToBytes(a)
	if err != nil || len(bz) == 0 {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%q: %v", a, err)
	}
	return bz, nil
}
