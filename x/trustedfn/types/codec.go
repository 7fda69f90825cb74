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
		&MsgOfferCompute{}, &MsgCreateApp{}, &MsgTopUp{}, &MsgStopApp{}, &MsgOpenRound{},
		&MsgCommit{}, &MsgComplain{}, &MsgRevealSalts{}, &MsgReveal{}, &MsgUpdateParams{}, &MsgChallengeStorage{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers the amino names (LEGACY_AMINO_JSON signing).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	for name, m := range map[string]any{
		"MsgOfferCompute": &MsgOfferCompute{}, "MsgCreateApp": &MsgCreateApp{}, "MsgTopUp": &MsgTopUp{},
		"MsgStopApp": &MsgStopApp{}, "MsgOpenRound": &MsgOpenRound{}, "MsgCommit": &MsgCommit{},
		"MsgComplain": &MsgComplain{}, "MsgRevealSalts": &MsgRevealSalts{}, "MsgReveal": &MsgReveal{},
		"MsgUpdateParams": &MsgUpdateParams{}, "Params": &Params{}, "MsgChallengeStorage": &MsgChallengeStorage{},
	} {
		cdc.RegisterConcrete(m, "stratos/trustedfn/"+name, nil)
	}
}
