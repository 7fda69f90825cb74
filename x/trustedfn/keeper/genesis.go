package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// InitGenesis loads the state, rebuilding the indexes.
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, o := range gs.Offers {
		if err := k.Offers.Set(ctx, o.NodeId, o); err != nil {
			return err
		}
	}
	for _, a := range gs.Apps {
		if err := k.Apps.Set(ctx, a.Id, a); err != nil {
			return err
		}
		if a.Status == types.AppStatus_APP_STATUS_PENDING {
			if err := k.Pending.Set(ctx, a.Id); err != nil {
				return err
			}
		}
		if a.Status == types.AppStatus_APP_STATUS_ACTIVE {
			for _, n := range a.Nodes {
				if err := k.NodeApps.Set(ctx, collections.Join(n, a.Id)); err != nil {
					return err
				}
			}
		}
	}
	for _, r := range gs.Rounds {
		if err := k.saveRound(ctx, nil, r); err != nil {
			return err
		}
		if r.AppId != "" {
			if err := k.AppRounds.Set(ctx, collections.Join(r.AppId, r.Id)); err != nil {
				return err
			}
		}
		if r.Phase != round.Done.String() {
			if err := k.OpenRounds.Set(ctx, r.Id); err != nil {
				return err
			}
		}
	}
	for _, rec := range gs.Records {
		if err := k.Records.Set(ctx, rec.NodeId, rec); err != nil {
			return err
		}
	}
	if err := k.NextRound.Set(ctx, gs.NextRound); err != nil {
		return err
	}
	return k.NextApp.Set(ctx, gs.NextApp)
}

// ExportGenesis exports the state.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	p, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: p}
	if err := k.Offers.Walk(ctx, nil, func(_ string, o types.Offer) (bool, error) {
		gs.Offers = append(gs.Offers, o)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Apps.Walk(ctx, nil, func(_ string, a types.App) (bool, error) {
		gs.Apps = append(gs.Apps, a)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Rounds.Walk(ctx, nil, func(id uint64, _ types.Round) (bool, error) {
		r, err := k.GetRound(ctx, id)
		gs.Rounds = append(gs.Rounds, r)
		return err != nil, err
	}); err != nil {
		return nil, err
	}
	if err := k.Records.Walk(ctx, nil, func(_ string, r types.NodeRecord) (bool, error) {
		gs.Records = append(gs.Records, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.NextRound, err = k.NextRound.Peek(ctx); err != nil {
		return nil, err
	}
	if gs.NextApp, err = k.NextApp.Peek(ctx); err != nil {
		return nil, err
	}
	return gs, nil
}
