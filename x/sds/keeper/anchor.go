package keeper

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/types"
)

// AnchorIndex records the root of meta node metaNodeID's index for period
// (DESIGN §4, §5.2: a tampered index becomes visible). sender must operate
// that meta node, and it must be active. A period's anchor is immutable: an
// identical repeat returns the stored anchor, a different root is
// ErrAnchorConflict. The period is the current ledger period or an ended
// one (issue 8): an anchor for a period that has not begun would name a
// root nobody can check yet, and fill the store with future keys.
func (k Keeper) AnchorIndex(ctx context.Context, sender sdk.AccAddress, metaNodeID string, period uint64, root []byte) (types.Anchor, error) {
	if err := types.ValidateAnchorFields(metaNodeID, root); err != nil {
		return types.Anchor{}, err
	}
	if k.periods.k == nil {
		return types.Anchor{}, errors.New("x/sds: no ledger period clock (the app must call SetPeriodKeeper)")
	}
	current, err := k.periods.k.CurrentLedgerPeriod(ctx)
	if err != nil {
		return types.Anchor{}, err
	}
	if period > current {
		return types.Anchor{}, errorsmod.Wrapf(types.ErrFuturePeriod, "period %d; the chain is in period %d", period, current)
	}
	if !k.reg.IsActiveMetaNodeOperator(ctx, sender, metaNodeID) {
		return types.Anchor{}, errorsmod.Wrapf(types.ErrNotMetaOperator, "%s does not operate active meta node %q", sender, metaNodeID)
	}
	key := collections.Join(period, metaNodeID)
	prev, err := k.Anchors.Get(ctx, key)
	switch {
	case err == nil && prev.SameRoot(root):
		return prev, nil
	case err == nil:
		return types.Anchor{}, errorsmod.Wrapf(types.ErrAnchorConflict,
			"period %d, meta node %q: anchored %x at height %d, got %x", period, metaNodeID, prev.Root, prev.Height, root)
	case !errors.Is(err, collections.ErrNotFound):
		return types.Anchor{}, err
	}
	a := types.Anchor{
		MetaNodeId: metaNodeID,
		Period:     period,
		Root:       append([]byte(nil), root...),
		Height:     sdk.UnwrapSDKContext(ctx).BlockHeight(),
	}
	if err := k.Anchors.Set(ctx, key, a); err != nil {
		return types.Anchor{}, err
	}
	emit(ctx, sdk.NewEvent(EventTypeAnchorIndex,
		sdk.NewAttribute(AttributeKeyMetaNode, metaNodeID),
		sdk.NewAttribute(AttributeKeyPeriod, strconv.FormatUint(period, 10)),
		sdk.NewAttribute(AttributeKeyRoot, hex.EncodeToString(root)),
	))
	return a, nil
}

// AnchorsOfPeriod returns every anchor committed for period, ordered by meta node id.
func (k Keeper) AnchorsOfPeriod(ctx context.Context, period uint64) ([]types.Anchor, error) {
	it, err := k.Anchors.Iterate(ctx, collections.NewPrefixedPairRange[uint64, string](period))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	return it.Values()
}
