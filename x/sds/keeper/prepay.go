package keeper

import (
	"context"
	"fmt"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	pottypes "github.com/stratos-net/stratos/x/pot/types"
	"github.com/stratos-net/stratos/x/sds/fee"
	"github.com/stratos-net/stratos/x/sds/types"
)

// Event types and attributes emitted by x/sds.
const (
	EventTypePrepay        = "sds_prepay"
	EventTypeChargeTraffic = "sds_charge_traffic"
	EventTypeChargeStorage = "sds_charge_storage"
	EventTypeAnchorIndex   = "sds_anchor_index"
	AttributeKeyUser       = "user"
	AttributeKeyAmount     = "amount"
	AttributeKeyPrepaid    = "prepaid"
	AttributeKeyBytes      = "bytes"
	AttributeKeySeconds    = "seconds"
	AttributeKeyMetaNode   = "meta_node_id"
	AttributeKeyPeriod     = "period"
	AttributeKeyRoot       = "root"
)

// Prepay locks amount (ustos only) from sender in the sds module account and
// adds it to sender's prepaid balance (DESIGN §4). It returns the new balance.
func (k Keeper) Prepay(ctx context.Context, sender sdk.AccAddress, amount sdk.Coins) (sdk.Coin, error) {
	coin, err := k.checkPrepay(ctx, amount)
	if err != nil {
		return sdk.Coin{}, err
	}
	old, err := k.PrepaidOf(ctx, sender)
	if err != nil {
		return sdk.Coin{}, err
	}
	// Checked before any coins move: a balance beyond 256 bits cannot be stored.
	total, err := old.SafeAdd(coin.Amount)
	if err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidPrepay, "prepaid balance would overflow: %s", err)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, sender, types.ModuleName, sdk.NewCoins(coin)); err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(err, "prepay %s from %s", coin, sender)
	}
	if err := k.setPrepaid(ctx, sender, total); err != nil {
		return sdk.Coin{}, err
	}
	emit(ctx, sdk.NewEvent(EventTypePrepay,
		sdk.NewAttribute(AttributeKeyUser, sender.String()),
		sdk.NewAttribute(AttributeKeyAmount, coin.String()),
		sdk.NewAttribute(AttributeKeyPrepaid, total.String()),
	))
	return sdk.NewCoin(types.Denom, total), nil
}

// checkPrepay accepts exactly one positive ustos coin of at least min_prepay.
func (k Keeper) checkPrepay(ctx context.Context, amount sdk.Coins) (sdk.Coin, error) {
	if len(amount) != 1 {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidPrepay, "want exactly one %s coin, got %d coins", types.Denom, len(amount))
	}
	coin := amount[0]
	if err := types.ValidatePrepayCoin(coin); err != nil {
		return sdk.Coin{}, errorsmod.Wrap(types.ErrInvalidPrepay, err.Error())
	}
	params, err := k.GetParams(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	if coin.Amount.LT(params.MinPrepay.Amount) {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidPrepay, "%s is below the minimum prepay %s", coin, params.MinPrepay)
	}
	return coin, nil
}

// TrafficFee is ceil(bytes × price / 2^30) in ustos. Both factors are below
// 2^64, so the product fits in math.Int's 256 bits for every input.
func TrafficFee(bytes, price uint64) math.Int {
	return math.NewIntFromBigInt(fee.Traffic(bytes, price))
}

// ChargeTraffic charges user for bytes of audited traffic at traffic_price,
// up to the user's prepaid balance, moves the charged coins from the sds
// module account to the pot module account, which pays them to the nodes
// that served the traffic (whitepaper §3.2.2: "the traffic fee ... will be
// settled to all nodes that contain the replication"), and returns what was
// charged (zero if nothing prepaid).
func (k Keeper) ChargeTraffic(ctx context.Context, user sdk.AccAddress, bytes uint64) (sdk.Coin, error) {
	return one(k.ChargeTrafficAll(ctx, []sdk.AccAddress{user}, []uint64{bytes}))
}

// ChargeTrafficAll charges users[i] for bytes[i] as ChargeTraffic does,
// and moves everything charged to the pot module account in one transfer:
// a volume report charges thousands of users at once (issue 8). It returns
// what each was charged. If anything fails, nothing is charged.
func (k Keeper) ChargeTrafficAll(ctx context.Context, users []sdk.AccAddress, bytes []uint64) ([]math.Int, error) {
	params, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	return k.chargeAll(ctx, "traffic", users, bytes, func(i int) math.Int { return TrafficFee(bytes[i], params.TrafficPrice) },
		func(i int, coin sdk.Coin, rest math.Int) sdk.Event {
			return sdk.NewEvent(EventTypeChargeTraffic,
				sdk.NewAttribute(AttributeKeyUser, users[i].String()),
				sdk.NewAttribute(AttributeKeyBytes, math.NewIntFromUint64(bytes[i]).String()),
				sdk.NewAttribute(AttributeKeyAmount, coin.String()),
				sdk.NewAttribute(AttributeKeyPrepaid, rest.String()),
			)
		})
}

// chargeAll debits feeOf(i) from each users[i]'s prepay (capped at it),
// emits event for each non-zero charge, and pays the total into the pot
// module account in one transfer, all in a cached context written only if
// everything succeeded. what names the fee in errors.
func (k Keeper) chargeAll(ctx context.Context, what string, users []sdk.AccAddress, bytes []uint64, feeOf func(int) math.Int,
	event func(i int, charged sdk.Coin, rest math.Int) sdk.Event) ([]math.Int, error) {
	if len(users) != len(bytes) {
		return nil, fmt.Errorf("charge %s: %d users and %d byte counts", what, len(users), len(bytes))
	}
	cache, write := sdk.UnwrapSDKContext(ctx).CacheContext()
	total := math.ZeroInt()
	out := make([]math.Int, len(users))
	for i, u := range users {
		charged, rest, err := k.debit(cache, u, feeOf(i))
		if err != nil {
			return nil, err
		}
		out[i] = charged
		if charged.IsPositive() {
			total = total.Add(charged)
			emit(cache, event(i, sdk.NewCoin(types.Denom, charged), rest))
		}
	}
	if total.IsPositive() {
		c := sdk.NewCoins(sdk.NewCoin(types.Denom, total))
		if err := k.bank.SendCoinsFromModuleToModule(cache, types.ModuleName, pottypes.ModuleName, c); err != nil {
			return nil, errorsmod.Wrapf(err, "move %s fees %s of %d users to the %s module", what, c, len(users), pottypes.ModuleName)
		}
	}
	write()
	return out, nil
}

// one is the single charge of a batch of one.
func one(charged []math.Int, err error) (sdk.Coin, error) {
	if err != nil {
		return zeroCoin(), err
	}
	return sdk.NewCoin(types.Denom, charged[0]), nil
}

// debit takes fee from user's prepaid balance, or the whole balance if it
// is smaller, and returns what was taken (zero when nothing is prepaid or
// the fee is zero) and the balance left. The coins stay in the sds module
// account: the caller moves them (chargeAll).
func (k Keeper) debit(ctx context.Context, user sdk.AccAddress, fee math.Int) (charged, rest math.Int, err error) {
	if len(user) == 0 {
		return math.ZeroInt(), math.ZeroInt(), errorsmod.Wrap(types.ErrInvalidAddress, "empty user address")
	}
	prepaid, err := k.PrepaidOf(ctx, user)
	if err != nil {
		return math.ZeroInt(), math.ZeroInt(), err
	}
	charged = math.MinInt(fee, prepaid)
	if !charged.IsPositive() {
		return math.ZeroInt(), prepaid, nil
	}
	rest = prepaid.Sub(charged)
	if err := k.setPrepaid(ctx, user, rest); err != nil {
		return math.ZeroInt(), prepaid, err
	}
	return charged, rest, nil
}

func zeroCoin() sdk.Coin { return sdk.NewCoin(types.Denom, math.ZeroInt()) }
