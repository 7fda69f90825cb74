package trustedfn

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// Service names of x/trustedfn (gogoproto only: no pulsar types to reference).
const (
	queryService = "stratos.trustedfn.v1.Query"
	msgService   = "stratos.trustedfn.v1.Msg"
)

// AutoCLIOptions implements autocli.HasAutoCLIConfig:
//
//	stratos query trustedfn params
//	stratos query trustedfn app <app-id>
//	stratos query trustedfn apps [--owner ADDR]
//	stratos query trustedfn round <round-id>
//	stratos query trustedfn rounds <app-id>
//	stratos query trustedfn reputation <node-id>
//	stratos query trustedfn offers
//	stratos tx trustedfn offer-compute <node-id> <capacity> <endpoint> --from <operator>
//
// Apps are created, rounds opened and revealed by `stratos fn` and by the
// nodes, which compute the salts and hashes the messages carry.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: queryService,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Query the trustedfn parameters: payment split, slash rate, gas price"},
				{
					RpcMethod: "App", Use: "app [app-id]", Short: "Query an app: settings, nodes, escrow and record",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "app_id"}},
				},
				{RpcMethod: "Apps", Use: "apps", Short: "Query every app, or those of --owner"},
				{
					RpcMethod: "Round", Use: "round [round-id]", Short: "Query a round: commits, reveals, result, payments and slashes",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "round_id"}},
				},
				{
					RpcMethod: "Rounds", Use: "rounds [app-id]", Short: "Query an app's rounds, newest first",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "app_id"}},
				},
				{
					RpcMethod: "Reputation", Use: "reputation [node-id]", Short: "Query a node's record: score, minority rate, uptime, stake, apps",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{RpcMethod: "Offers", Use: "offers", Short: "Query the resource nodes that offer compute"},
				{RpcMethod: "NextRound", Use: "next-round", Short: "Query the ID the next round gets"},
				{RpcMethod: "OpenRounds", Use: "open-rounds", Short: "Query the rounds in progress (those of --node-id)"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: msgService,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "OfferCompute", Use: "offer-compute [node-id] [capacity] [endpoint] --from [operator]",
					Short:          "Offer a resource node's compute for up to capacity apps at its JSON-RPC endpoint URL (capacity 0 withdraws the offer)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}, {ProtoField: "capacity"}, {ProtoField: "endpoint"}},
				},
				{RpcMethod: "CreateApp", Skip: true},
				{RpcMethod: "TopUp", Skip: true},
				{RpcMethod: "StopApp", Skip: true},
				{RpcMethod: "OpenRound", Skip: true},
				{RpcMethod: "Commit", Skip: true},
				{RpcMethod: "Complain", Skip: true},
				{RpcMethod: "RevealSalts", Skip: true},
				{RpcMethod: "Reveal", Skip: true},
				{RpcMethod: "ChallengeStorage", Skip: true}, // the meta leader's
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
