package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/types"
)

// InitGenesis loads a validated genesis state. The sds module account must
// already hold at least the sum of all prepayments (bank's genesis runs first).
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(k.addressCodec); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	total := math.ZeroInt()
	for _, p := range gs.Prepaid {
		addr, err := k.addressCodec.StringToBytes(p.Address)
		if err != nil {
			return err
		}
		if err := k.Prepaid.Set(ctx, addr, p.Amount.Amount); err != nil {
			return err
		}
		if total, err = total.SafeAdd(p.Amount.Amount); err != nil {
			return fmt.Errorf("%w: total prepaid overflows: %w", types.ErrInvalidGenesis, err)
		}
	}
	if held := k.bank.GetBalance(ctx, k.moduleAddr, types.Denom); held.Amount.LT(total) {
		return fmt.Errorf("%w: sds module account holds %s, prepayments total %s%s",
			types.ErrInvalidGenesis, held, total, types.Denom)
	}
	for _, a := range gs.Anchors {
		if err := k.Anchors.Set(ctx, collections.Join(a.Period, a.MetaNodeId), a); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis returns the current state as genesis.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	err = k.Prepaid.Walk(ctx, nil, func(addr sdk.AccAddress, amt math.Int) (bool, error) {
		s, err := k.addressCodec.BytesToString(addr)
		if err != nil {
			return true, err
		}
		gs.Prepaid = append(gs.Prepaid, types.Prepayment{Address: s, Amount: sdk.NewCoin(types.Denom, amt)})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Anchors.Walk(ctx, nil, func(_ collections.Pair[uint64, string], a types.Anchor) (bool, error) {
		gs.Anchors = append(gs.Anchors, a)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}
