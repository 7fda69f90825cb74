package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/pot/types"
)

// InitGenesis loads the genesis state. The pot module account's balance must
// equal the sum of the rewards (x/bank's genesis carries it).
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(k.addressCodec); err != nil {
		return err
	}
	if err := k.SetParams(ctx, gs.Params); err != nil {
		return err
	}
	clock := gs.Clock
	if clock.OriginUnix == 0 {
		clock = types.PeriodClock{OriginPeriod: 0, OriginUnix: sdk.UnwrapSDKContext(ctx).BlockTime().Unix()}
	}
	if err := k.Clock.Set(ctx, clock); err != nil {
		return err
	}
	for _, r := range gs.Reports {
		if err := k.Reports.Set(ctx, r.Period, r); err != nil {
			return err
		}
	}
	for _, rw := range gs.Rewards {
		if err := k.Rewards.Set(ctx, rw.NodeId, rw.Amount); err != nil {
			return err
		}
		if rw.Operator != "" {
			op, err := k.addressCodec.StringToBytes(rw.Operator)
			if err != nil {
				return fmt.Errorf("%w: operator %q: %v", types.ErrInvalidGenesis, rw.Operator, err)
			}
			if err := k.setOperator(ctx, rw.NodeId, op); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExportGenesis exports the state.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	p, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	clock, err := k.Clock.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	gs := &types.GenesisState{Params: p, Clock: clock}
	err = k.Reports.Walk(ctx, nil, func(_ uint64, r types.VolumeReport) (bool, error) {
		gs.Reports = append(gs.Reports, r)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Rewards.Walk(ctx, nil, func(node string, amt math.Int) (bool, error) {
		rw := types.NodeReward{NodeId: node, Amount: amt}
		op, err := k.NodeOperator.Get(ctx, node)
		if err == nil {
			if rw.Operator, err = k.addressCodec.BytesToString(op); err != nil {
				return true, err
			}
		} else if !errors.Is(err, collections.ErrNotFound) {
			return true, err
		}
		gs.Rewards = append(gs.Rewards, rw)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}
