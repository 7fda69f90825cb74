package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/register/types"
)

// DeactivateResourceNode retires an ACTIVE node; only its operator may. The
// node stops being active at once (IsResourceNodeActive), but its deposit
// stays bonded, and slashable, for params.unbonding_seconds: the node is
// UNBONDING until then, and EndBlocker returns what is left of the deposit
// (DESIGN §4: "Deposits can be slashed", which must still be possible for
// what a node did just before it left). With unbonding_seconds 0 the
// deposit returns at once and the node is INACTIVE.
func (k Keeper) DeactivateResourceNode(ctx context.Context, operator sdk.AccAddress, nodeID string,
) (*types.MsgDeactivateResourceNodeResponse, error) {
	n, err := k.resourceNode(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	if !k.operatorIs(n.Operator, operator) {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "%s does not operate resource node %s", operator, nodeID)
	}
	if n.Status != types.NodeStatus_NODE_STATUS_ACTIVE {
		return nil, errorsmod.Wrapf(types.ErrInvalidStatus, "resource node %s is %s", nodeID, n.Status)
	}
	params, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	zero := sdk.NewCoin(depositDenom(n.Deposit), math.ZeroInt())
	if params.UnbondingSeconds == 0 {
		refund, err := k.returnDeposit(ctx, &n)
		if err != nil {
			return nil, err
		}
		emit(ctx, "deactivate_resource_node", "node_id", nodeID, "refund", refund.String())
		return &types.MsgDeactivateResourceNodeResponse{Refunded: refund, Unbonding: zero}, nil
	}
	ends := sdk.UnwrapSDKContext(ctx).BlockTime().Add(time.Duration(params.UnbondingSeconds) * time.Second).UTC()
	n.Status = types.NodeStatus_NODE_STATUS_UNBONDING
	n.UnbondingEnds = &ends
	if err := k.ResourceNodes.Set(ctx, nodeID, n); err != nil {
		return nil, err
	}
	if err := k.Unbonding.Set(ctx, collections.Join(ends, nodeID)); err != nil {
		return nil, err
	}
	emit(ctx, "deactivate_resource_node", "node_id", nodeID, "unbonding", n.Deposit.String(),
		"unbonding_ends", ends.Format(time.RFC3339))
	return &types.MsgDeactivateResourceNodeResponse{Refunded: zero, Unbonding: n.Deposit, UnbondingEnds: &ends}, nil
}

// EndBlocker ends the unbonding of every resource node whose unbonding_ends
// is at or before the block time: what is left of its deposit (after any
// slash) returns to its operator and the node is INACTIVE. It reads only
// the entries that are due.
func (k Keeper) EndBlocker(ctx context.Context) error {
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	var due []collections.Pair[time.Time, string]
	err := k.Unbonding.Walk(ctx, collections.NewPrefixUntilPairRange[time.Time, string](now),
		func(key collections.Pair[time.Time, string]) (bool, error) {
			due = append(due, key)
			return false, nil
		})
	if err != nil {
		return fmt.Errorf("unbonding resource nodes due at %s: %w", now, err)
	}
	for _, key := range due {
		if err := k.matureUnbonding(ctx, key); err != nil {
			return fmt.Errorf("end unbonding of resource node %s: %w", key.K2(), err)
		}
	}
	return nil
}

// matureUnbonding returns the deposit of the node of key and drops key.
func (k Keeper) matureUnbonding(ctx context.Context, key collections.Pair[time.Time, string]) error {
	if err := k.Unbonding.Remove(ctx, key); err != nil {
		return err
	}
	n, err := k.resourceNode(ctx, key.K2())
	if err != nil {
		return err
	}
	if n.Status != types.NodeStatus_NODE_STATUS_UNBONDING {
		return errorsmod.Wrapf(types.ErrInvalidStatus, "resource node %s is %s, not unbonding", n.NodeId, n.Status)
	}
	refund, err := k.returnDeposit(ctx, &n)
	if err != nil {
		return err
	}
	emit(ctx, "unbond_resource_node", "node_id", n.NodeId, "refund", refund.String())
	return nil
}

// returnDeposit sends n's deposit to its operator and stores n INACTIVE
// with a zero deposit. Returns what was sent.
func (k Keeper) returnDeposit(ctx context.Context, n *types.ResourceNode) (sdk.Coin, error) {
	refund := n.Deposit
	refund.Denom = depositDenom(refund)
	if refund.IsPositive() {
		op, err := k.addressCodec.StringToBytes(n.Operator)
		if err != nil {
			return sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidAddress, "operator %q of %s: %v", n.Operator, n.NodeId, err)
		}
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, op, sdk.NewCoins(refund)); err != nil {
			return sdk.Coin{}, err
		}
	}
	n.Status = types.NodeStatus_NODE_STATUS_INACTIVE
	n.Deposit = sdk.NewCoin(refund.Denom, math.ZeroInt())
	n.UnbondingEnds = nil
	if err := k.ResourceNodes.Set(ctx, n.NodeId, *n); err != nil {
		return sdk.Coin{}, err
	}
	return refund, nil
}

// depositDenom is c's denom, or the native denom for a zero Coin{}.
func depositDenom(c sdk.Coin) string {
	if c.Denom == "" {
		return types.Denom
	}
	return c.Denom
}
