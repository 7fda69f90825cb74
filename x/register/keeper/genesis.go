package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/stratos-net/stratos/x/register/types"
)

// InitGenesis stores the params and the nodes as given, and indexes the
// UNBONDING resource nodes by the end of their unbonding (the index is not
// exported: the nodes carry it). It moves no coins:
// devnet registers its nodes at genesis with zero deposits (DESIGN §3); a
// non-zero genesis deposit must be funded in x/bank's genesis as the
// "register" module account's balance.
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, n := range gs.ResourceNodes {
		if err := k.ResourceNodes.Set(ctx, n.NodeId, n); err != nil {
			return err
		}
		if n.Status == types.NodeStatus_NODE_STATUS_UNBONDING && n.UnbondingEnds != nil {
			if err := k.Unbonding.Set(ctx, collections.Join(n.UnbondingEnds.UTC(), n.NodeId)); err != nil {
				return err
			}
		}
	}
	for _, n := range gs.MetaNodes {
		if err := k.MetaNodes.Set(ctx, n.NodeId, n); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis returns the params and every node, ordered by node ID. A
// meta node carries its pending approvals and removal votes (DESIGN §5.2).
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	p, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: p}
	if err := k.ResourceNodes.Walk(ctx, nil, func(_ string, n types.ResourceNode) (bool, error) {
		gs.ResourceNodes = append(gs.ResourceNodes, n)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.MetaNodes.Walk(ctx, nil, func(_ string, n types.MetaNode) (bool, error) {
		gs.MetaNodes = append(gs.MetaNodes, n)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
