package keeper

import (
	"context"
	"strconv"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/fee"
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
	return one(k.ChargeStorageAll(ctx, []sdk.AccAddress{user}, []uint64{bytes}, seconds))
}

// ChargeStorageAll charges users[i] for keeping bytes[i] for seconds as
// ChargeStorage does, and moves everything charged to the pot module
// account in one transfer. It returns what each was charged. If anything
// fails, nothing is charged.
func (k Keeper) ChargeStorageAll(ctx context.Context, users []sdk.AccAddress, bytes []uint64, seconds uint64) ([]math.Int, error) {
	params, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	return k.chargeAll(ctx, "storage", users, bytes, func(i int) math.Int { return StorageFee(bytes[i], params.StoragePrice, seconds) },
		func(i int, coin sdk.Coin, rest math.Int) sdk.Event {
			return sdk.NewEvent(EventTypeChargeStorage,
				sdk.NewAttribute(AttributeKeyUser, users[i].String()),
				sdk.NewAttribute(AttributeKeyBytes, strconv.FormatUint(bytes[i], 10)),
				sdk.NewAttribute(AttributeKeySeconds, strconv.FormatUint(seconds, 10)),
				sdk.NewAttribute(AttributeKeyAmount, coin.String()),
				sdk.NewAttribute(AttributeKeyPrepaid, rest.String()),
			)
		})
}
