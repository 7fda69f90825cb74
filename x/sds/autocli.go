package sds

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/stratos-net/stratos/x/sds/types"
)

// AutoCLIOptions describes the `stratos tx sds` and `stratos query sds`
// commands; client/v2 builds them from the gogoproto descriptors.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/sds parameters (traffic and storage prices, minimum prepay)"},
				{
					RpcMethod:      "Prepaid",
					Use:            "prepaid [address]",
					Short:          "Show an account's prepaid ustos",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
				{
					RpcMethod:      "Anchor",
					Use:            "anchor [period]",
					Short:          "Show the index anchors of a traffic period",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "period"}},
				},
				{RpcMethod: "Anchors", Use: "anchors", Short: "List all index anchors"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod:      "Prepay",
					Use:            "prepay [amount]",
					Short:          "Lock ustos for traffic and storage, e.g. 10000000ustos",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "amount", Varargs: true}},
				},
				{
					RpcMethod: "AnchorIndex",
					Use:       "anchor-index [meta-node-id] [period] [root]",
					Short:     "Anchor a meta node's index root for a period (meta node operators)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "meta_node_id"}, {ProtoField: "period"}, {ProtoField: "root"},
					},
				},
				{
					RpcMethod:      "UpdateParams",
					Use:            "update-params-proposal [params]",
					Short:          "Submit a gov proposal replacing all x/sds params",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}},
					GovProposal:    true,
				},
			},
		},
	}
}
