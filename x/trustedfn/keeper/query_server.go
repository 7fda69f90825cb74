package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/stratos-net/stratos/x/trustedfn/types"
)

type queryServer struct{ k Keeper }

// NewQueryServerImpl returns the Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k} }

var _ types.QueryServer = queryServer{}

// DefaultRoundsLimit is how many rounds Rounds returns when no limit is set.
const DefaultRoundsLimit = 100

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q queryServer) App(ctx context.Context, r *types.QueryAppRequest) (*types.QueryAppResponse, error) {
	a, err := q.k.GetApp(ctx, r.AppId)
	if err != nil {
		return nil, err
	}
	return &types.QueryAppResponse{App: a}, nil
}

func (q queryServer) Apps(ctx context.Context, r *types.QueryAppsRequest) (*types.QueryAppsResponse, error) {
	out := &types.QueryAppsResponse{}
	err := q.k.Apps.Walk(ctx, nil, func(_ string, a types.App) (bool, error) {
		if r.Owner == "" || a.Owner == r.Owner {
			out.Apps = append(out.Apps, a)
		}
		return false, nil
	})
	return out, err
}

func (q queryServer) Round(ctx context.Context, r *types.QueryRoundRequest) (*types.QueryRoundResponse, error) {
	t, err := q.k.GetRound(ctx, r.RoundId)
	if err != nil {
		return nil, err
	}
	return &types.QueryRoundResponse{Round: t}, nil
}

func (q queryServer) Rounds(ctx context.Context, r *types.QueryRoundsRequest) (*types.QueryRoundsResponse, error) {
	if _, err := q.k.GetApp(ctx, r.AppId); err != nil {
		return nil, err
	}
	limit := int(r.Limit)
	if limit == 0 {
		limit = DefaultRoundsLimit
	}
	out := &types.QueryRoundsResponse{}
	rng := collections.NewPrefixedPairRange[string, uint64](r.AppId).Descending()
	err := q.k.AppRounds.Walk(ctx, rng, func(key collections.Pair[string, uint64]) (bool, error) {
		t, err := q.k.GetRound(ctx, key.K2())
		if err != nil {
			return true, err
		}
		out.Rounds = append(out.Rounds, t)
		return len(out.Rounds) >= limit, nil
	})
	return out, err
}

func (q queryServer) Reputation(ctx context.Context, r *types.QueryReputationRequest) (*types.QueryReputationResponse, error) {
	rec, err := q.k.Records.Get(ctx, r.NodeId)
	if errors.Is(err, collections.ErrNotFound) {
		if !q.k.reg.IsResourceNodeActive(ctx, r.NodeId) {
			return nil, types.ErrRecordNotFound.Wrapf("%s: not an active resource node and never in a round", r.NodeId)
		}
		rec, err = types.NodeRecord{NodeId: r.NodeId}, nil
	}
	if err != nil {
		return nil, err
	}
	out := &types.QueryReputationResponse{
		Record: rec, Score: rec.Score(),
		MinorityRate: rec.MinorityRate().String(), Uptime: rec.Uptime().String(),
	}
	err = q.k.NodeApps.Walk(ctx, collections.NewPrefixedPairRange[string, string](r.NodeId),
		func(key collections.Pair[string, string]) (bool, error) {
			out.Apps = append(out.Apps, key.K2())
			return false, nil
		})
	if err != nil {
		return nil, err
	}
	out.AppsHosted = uint32(len(out.Apps))
	if dep, err := q.k.reg.ResourceNodeDeposit(ctx, r.NodeId); err == nil {
		out.Stake = dep.String()
	}
	return out, nil
}

func (q queryServer) Offers(ctx context.Context, _ *types.QueryOffersRequest) (*types.QueryOffersResponse, error) {
	out := &types.QueryOffersResponse{}
	err := q.k.Offers.Walk(ctx, nil, func(_ string, o types.Offer) (bool, error) {
		out.Offers = append(out.Offers, o)
		return false, nil
	})
	return out, err
}

func (q queryServer) NextRound(ctx context.Context, _ *types.QueryNextRoundRequest) (*types.QueryNextRoundResponse, error) {
	id, err := q.k.nextRoundID(ctx)
	if err != nil {
		return nil, err
	}
	return &types.QueryNextRoundResponse{RoundId: id}, nil
}

func (q queryServer) OpenRounds(ctx context.Context, r *types.QueryOpenRoundsRequest) (*types.QueryOpenRoundsResponse, error) {
	out := &types.QueryOpenRoundsResponse{}
	err := q.k.OpenRounds.Walk(ctx, nil, func(id uint64) (bool, error) {
		t, err := q.k.GetRound(ctx, id)
		if err != nil {
			return true, err
		}
		for _, m := range t.Members {
			if r.NodeId == "" || m.NodeId == r.NodeId {
				out.Rounds = append(out.Rounds, t)
				break
			}
		}
		return false, nil
	})
	return out, err
}
