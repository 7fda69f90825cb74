// Package keeper implements x/sds state transitions: prepay, traffic and
// storage fee settlement, and index anchors (DESIGN §4, §7).
package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/x/sds/types"
)

// Keeper holds x/sds state. Prepaid ustos itself sits in the sds module
// account; Prepaid records how much of it belongs to each user.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	bank         types.BankKeeper
	reg          types.RegisterKeeper
	authority    string
	moduleAddr   sdk.AccAddress
	// periods is set once the app has built x/pot, which itself takes this
	// keeper (SetPeriodKeeper); a pointer, so every copy sees it.
	periods *periodSource

	Schema  collections.Schema
	Params  collections.Item[types.Params]
	Prepaid collections.Map[sdk.AccAddress, math.Int]
	// Anchors is keyed by (period, meta node id), so one period's anchors
	// are a contiguous range.
	Anchors collections.Map[collections.Pair[uint64, string], types.Anchor]
}

// NewKeeper builds the keeper. authority is the address allowed to update
// params (the gov module account).
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	bank types.BankKeeper,
	reg types.RegisterKeeper,
	authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Sprintf("x/sds: invalid authority %q: %v", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		addressCodec: addressCodec,
		bank:         bank,
		reg:          reg,
		authority:    authority,
		moduleAddr:   authtypes.NewModuleAddress(types.ModuleName),
		periods:      &periodSource{},
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Prepaid:      collections.NewMap(sb, types.PrepaidPrefix, "prepaid", sdk.AccAddressKey, sdk.IntValue),
		Anchors: collections.NewMap(sb, types.AnchorsPrefix, "anchors",
			collections.PairKeyCodec(collections.Uint64Key, collections.StringKey), codec.CollValue[types.Anchor](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

type periodSource struct{ k types.PeriodKeeper }

// SetPeriodKeeper gives the keeper x/pot's ledger period clock, which
// AnchorIndex needs; the app calls it once x/pot's keeper exists.
func (k Keeper) SetPeriodKeeper(p types.PeriodKeeper) { k.periods.k = p }

// Authority returns the address allowed to send MsgUpdateParams.
func (k Keeper) Authority() string { return k.authority }

// AddressCodec returns the account address codec the keeper was built with.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }

// ModuleAddress is the sds module account, which holds all prepaid ustos.
func (k Keeper) ModuleAddress() sdk.AccAddress { return k.moduleAddr }

// GetParams returns the module parameters.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

// SetParams validates and stores the module parameters.
func (k Keeper) SetParams(ctx context.Context, p types.Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return k.Params.Set(ctx, p)
}

// PrepaidOf returns user's prepaid ustos (zero if nothing is prepaid).
func (k Keeper) PrepaidOf(ctx context.Context, user sdk.AccAddress) (math.Int, error) {
	amt, err := k.Prepaid.Get(ctx, user)
	if errors.Is(err, collections.ErrNotFound) {
		return math.ZeroInt(), nil
	}
	return amt, err
}

// setPrepaid stores a prepaid balance, removing the entry once it is zero so
// exported genesis only lists users with something prepaid.
func (k Keeper) setPrepaid(ctx context.Context, user sdk.AccAddress, amt math.Int) error {
	if amt.IsZero() {
		return k.Prepaid.Remove(ctx, user)
	}
	return k.Prepaid.Set(ctx, user, amt)
}

func emit(ctx context.Context, ev sdk.Event) {
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(ev)
}
