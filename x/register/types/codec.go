package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterInterfaces registers the module's messages as sdk.Msg.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgRegisterResourceNode{},
		&MsgUpdateResourceNode{},
		&MsgDeactivateResourceNode{},
		&MsgRegisterMetaNode{},
		&MsgApproveMetaNode{},
		&MsgVoteRemoveMetaNode{},
		&MsgSetMetaNodeStatus{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers the amino names (LEGACY_AMINO_JSON signing).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgRegisterResourceNode{}, "stratos/register/MsgRegisterResourceNode", nil)
	cdc.RegisterConcrete(&MsgUpdateResourceNode{}, "stratos/register/MsgUpdateResourceNode", nil)
	cdc.RegisterConcrete(&MsgDeactivateResourceNode{}, "stratos/register/MsgDeactivateResourceNode", nil)
	cdc.RegisterConcrete(&MsgRegisterMetaNode{}, "stratos/register/MsgRegisterMetaNode", nil)
	cdc.RegisterConcrete(&MsgApproveMetaNode{}, "stratos/register/MsgApproveMetaNode", nil)
	cdc.RegisterConcrete(&MsgVoteRemoveMetaNode{}, "stratos/register/MsgVoteRemoveMetaNode", nil)
	cdc.RegisterConcrete(&MsgSetMetaNodeStatus{}, "stratos/register/MsgSetMetaNodeStatus", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "stratos/register/MsgUpdateParams", nil)
	cdc.RegisterConcrete(&Params{}, "stratos/x/register/Params", nil)
}
