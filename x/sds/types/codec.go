package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterInterfaces registers the x/sds messages as sdk.Msg so they can be packed in a tx.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgPrepay{},
		&MsgAnchorIndex{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers the amino names (needed for LEGACY_AMINO_JSON signing).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgPrepay{}, "stratos/sds/MsgPrepay", nil)
	cdc.RegisterConcrete(&MsgAnchorIndex{}, "stratos/sds/MsgAnchorIndex", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "stratos/x/sds/MsgUpdateParams", nil)
	cdc.RegisterConcrete(&Params{}, "stratos/x/sds/Params", nil)
}
