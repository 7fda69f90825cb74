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
		&MsgVolumeReport{},
		&MsgWithdrawRewards{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers the amino names (LEGACY_AMINO_JSON signing).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgVolumeReport{}, "stratos/pot/MsgVolumeReport", nil)
	cdc.RegisterConcrete(&MsgWithdrawRewards{}, "stratos/pot/MsgWithdrawRewards", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "stratos/pot/MsgUpdateParams", nil)
	cdc.RegisterConcrete(&Params{}, "stratos/pot/Params", nil)
}
