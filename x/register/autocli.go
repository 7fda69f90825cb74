package register

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// Public keys on the command line: the 32-byte ed25519 node key as 64 hex
// digits (what `stratos` prints for a node key); base64 is also accepted, and
// so is the path of a file holding the 32 raw bytes (client/v2's bytes
// argument tries file, then hex, then base64).

// AutoCLIOptions describes the `stratos query register …` and
// `stratos tx register …` commands.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "stratos.register.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the register module parameters"},
				{RpcMethod: "ResourceNodes", Use: "resource-nodes", Short: "List resource nodes"},
				{
					RpcMethod: "ResourceNode", Use: "resource-node [node-id]", Short: "Show one resource node",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{RpcMethod: "MetaNodes", Use: "meta-nodes", Short: "List meta nodes"},
				{
					RpcMethod: "MetaNode", Use: "meta-node [node-id]", Short: "Show one meta node",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: "stratos.register.v1.Msg",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "RegisterResourceNode",
					Use:       "register-resource-node [public-key-hex] [network-address] [capacity-bytes] [deposit]",
					Short:     "Register a resource node key and lock its deposit (the signer is the operator)",
					Example:   "stratos tx register register-resource-node 3b6a27bc…(64 hex digits) 10.0.0.5:7000 1099511627776 1000000ustos --region eu --from op",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "public_key"}, {ProtoField: "network_address"}, {ProtoField: "capacity"}, {ProtoField: "deposit"},
					},
				},
				{
					RpcMethod:      "UpdateResourceNode",
					Use:            "update-resource-node [node-id]",
					Short:          "Change a resource node's --network-address, --capacity or --region (omitted flags keep their value)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod:      "DeactivateResourceNode",
					Use:            "deactivate-resource-node [node-id]",
					Short:          "Deactivate a resource node; its deposit returns to the operator when the unbonding (param unbonding_seconds) ends, and can be slashed until then",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "node_id"}},
				},
				{
					RpcMethod: "RegisterMetaNode",
					Use:       "register-meta-node [public-key-hex] [network-address] [deposit]",
					Short:     "Apply as a meta node; it is pending until more than 2/3 of the active meta nodes approve (or governance admits it)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "public_key"}, {ProtoField: "network_address"}, {ProtoField: "deposit"},
					},
				},
				{
					RpcMethod: "ApproveMetaNode",
					Use:       "approve-meta-node [voter-node-id] [candidate-node-id]",
					Short:     "Vote, as the operator of an active meta node, to admit a pending meta node; more than 2/3 of the active meta nodes admit it",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "voter_node_id"}, {ProtoField: "candidate_node_id"},
					},
				},
				{
					RpcMethod: "VoteRemoveMetaNode",
					Use:       "vote-remove-meta-node [voter-node-id] [target-node-id]",
					Short:     "Vote, as the operator of an active meta node, to remove another active meta node; more than 2/3 of the others remove it and its deposit goes to the community pool",
					Example:   "stratos tx register vote-remove-meta-node <voter-node-id> <target-node-id> --from op",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "voter_node_id"}, {ProtoField: "target_node_id"},
					},
				},
				// Governance only: submitted inside a gov proposal.
				{RpcMethod: "UpdateParams", Skip: true},
				{RpcMethod: "SetMetaNodeStatus", Skip: true},
			},
		},
	}
}
