package pot

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// Service names of x/pot (gogoproto only: no pulsar types to reference).
const (
	queryService = "stratos.pot.v1.Query"
	msgService   = "stratos.pot.v1.Msg"
)

// AutoCLIOptions implements autocli.HasAutoCLIConfig:
//
//	stratos query pot params
//	stratos query pot rewards <node-id-or-address>
//	stratos query pot period
//	stratos query pot report <period>
//	stratos tx pot withdraw-rewards <node-id> --from <operator>
//
// MsgVolumeReport is submitted by the meta leader programmatically (it
// carries the meta nodes' signatures), so it has no CLI command.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: queryService,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Params",
					Use:       "params",
					Short:     "Query the pot module parameters",
				},
				{
					RpcMethod:      "Rewards",
					Use:            "rewards [node-id-or-address]",
					Short:          "Query the unwithdrawn rewards of a node, or of all nodes an operator address operates",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id_or_address"}},
				},
				{
					RpcMethod: "Period",
					Use:       "period",
					Short:     "Query the current ledger period, when it ends, and the last period reported",
				},
				{
					RpcMethod:      "Report",
					Use:            "report [period]",
					Short:          "Query the accepted volume report of a ledger period: its traffic rewards and storage settlement",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "period"}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: msgService,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod:      "WithdrawRewards",
					Use:            "withdraw-rewards [node-id] --from [operator]",
					Short:          "Withdraw a resource node's rewards to its operator",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod: "VolumeReport",
					Skip:      true,
				},
				{
					RpcMethod: "UpdateParams",
					Skip:      true, // governance only (MsgUpdateParams in a gov proposal)
				},
			},
		},
	}
}
