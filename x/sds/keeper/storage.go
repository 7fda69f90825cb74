package keeper

import (
	"github.com/stratos-net/stratos/x/sds/fee"

	"context"
	"strconv"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	pottypes "github.com/stratos-net/stratos/x/pot/types"
	"github.com/stratos-net/stratos/x/sds/types"
)

// StorageFee is ceil(bytes × price × seconds / (2^30 × 2,592,000)) in ustos:
// price per GiB per 30 days, pro rata for seconds. The three factors are
// below 2^64, so the product (< 2^192) fits math.Int's 256 bits for every
// input, and nothing is rounded before the one division.
func StorageFee(bytes, price, seconds uint64) math.Int {
	return math.NewIntFromBigInt(fee.Storage(bytes, price, seconds))
}

// ChargeStorage charges user for keeping bytes (counting every replica) for
// seconds at storage_price, up to the user's prepaid balance, and moves the
// charged coins from the sds module account to the pot module account, which
// credits them to the nodes holding the replicas (DESIGN §7: "storage fees
// are settled to the nodes that hold replicas"). It returns what was charged
// (zero if nothing is prepaid).
func (k Keeper) ChargeStorage(ctx context.Context, user sdk.AccAddress, bytes, seconds uint64) (sdk.Coin, error) {
	params, err := k.GetParams(ctx)
	if err != nil {
		return zeroCoin(), err
	}
	charged, rest, err := k.debit(ctx, user, StorageFee(bytes, params.StoragePrice, seconds), k.toPot(ctx, "storage", user))
	if err != nil || charged.IsZero() {
		return zeroCoin(), err
	}
	coin := sdk.NewCoin(types.Denom, charged)
	emit(ctx, sdk.NewEvent(EventTypeChargeStorage,
		sdk.NewAttribute(AttributeKeyUser, user.String()),
		sdk.NewAttribute(AttributeKeyBytes, strconv.FormatUint(bytes, 10)),
		sdk.NewAttribute(AttributeKeySeconds, strconv.FormatUint(seconds, 10)),
		sdk.NewAttribute(AttributeKeyAmount, coin.String()),
		sdk.NewAttribute(AttributeKeyPrepaid, rest.String()),
	))
	return coin, nil
}

// toPot pays a charged fee of user into the pot module account.
func (k Keeper) toPot(ctx context.Context, what string, user sdk.AccAddress) func(sdk.Coins) error {
	return func(c sdk.Coins) error {
		if err := k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, pottypes.ModuleName, c); err != nil {
			return errorsmod.Wrapf(err, "move %s fee %s of %s to the %s module", what, c, user, pottypes.ModuleName)
		}
		return nil
	}
}
