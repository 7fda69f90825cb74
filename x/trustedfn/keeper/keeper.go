// Package keeper implements x/trustedfn: apps and their escrow, nodes drawn
// at random for them, commit-reveal rounds driven by the rules of package
// round, and the payments, slashes and reputation each round settles
// (DESIGN §8, Stratosphere §3-§4, §6.3, §6.10).
package keeper

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// Keeper holds x/trustedfn's state.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	bank         types.BankKeeper
	distr        types.DistrKeeper
	reg          types.RegisterKeeper
	authority    string
	moduleAddr   sdk.AccAddress
	feeCollector string

	Schema collections.Schema
	Params collections.Item[types.Params]
	Apps   collections.Map[string, types.App]
	// Pending: apps waiting for their nodes to be drawn.
	Pending collections.KeySet[string]
	Offers  collections.Map[string, types.Offer]
	// Rounds holds each round without its members, which Members holds
	// one per key: a node's commit or reveal rewrites its own member, not
	// the whole round (what makes a round's gas linear in its nodes).
	Rounds  collections.Map[uint64, types.Round]
	Members collections.Map[collections.Pair[uint64, uint32], types.Member]
	// OpenRounds: rounds the end blocker still moves on.
	OpenRounds collections.KeySet[uint64]
	// AppRounds indexes rounds by app.
	AppRounds collections.KeySet[collections.Pair[string, uint64]]
	// NodeApps indexes (node, app) for the apps a node serves.
	NodeApps  collections.KeySet[collections.Pair[string, string]]
	Records   collections.Map[string, types.NodeRecord]
	NextRound collections.Sequence
	NextApp   collections.Sequence
}

// NewKeeper constructs the keeper. authority is the governance address
// allowed to update params; feeCollector the module account validators are
// paid through.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec,
	bank types.BankKeeper, distr types.DistrKeeper, reg types.RegisterKeeper, authority, feeCollector string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/trustedfn: invalid authority %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc: cdc, addressCodec: addressCodec, bank: bank, distr: distr, reg: reg,
		authority: authority, moduleAddr: authtypes.NewModuleAddress(types.ModuleName),
		feeCollector: feeCollector,

		Params:  collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Apps:    collections.NewMap(sb, types.AppsKey, "apps", collections.StringKey, codec.CollValue[types.App](cdc)),
		Pending: collections.NewKeySet(sb, types.PendingKey, "pending", collections.StringKey),
		Offers:  collections.NewMap(sb, types.OffersKey, "offers", collections.StringKey, codec.CollValue[types.Offer](cdc)),
		Rounds:  collections.NewMap(sb, types.RoundsKey, "rounds", collections.Uint64Key, codec.CollValue[types.Round](cdc)),
		Members: collections.NewMap(sb, types.MembersKey, "members",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), codec.CollValue[types.Member](cdc)),
		OpenRounds: collections.NewKeySet(sb, types.OpenRoundsKey, "open_rounds", collections.Uint64Key),
		AppRounds: collections.NewKeySet(sb, types.AppRoundsKey, "app_rounds",
			collections.PairKeyCodec(collections.StringKey, collections.Uint64Key)),
		NodeApps: collections.NewKeySet(sb, types.NodeAppsKey, "node_apps",
			collections.PairKeyCodec(collections.StringKey, collections.StringKey)),
		Records:   collections.NewMap(sb, types.RecordsKey, "records", collections.StringKey, codec.CollValue[types.NodeRecord](cdc)),
		NextRound: collections.NewSequence(sb, types.NextRoundKey, "next_round"),
		NextApp:   collections.NewSequence(sb, types.NextAppKey, "next_app"),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the governance address.
func (k Keeper) Authority() string { return k.authority }

// AddressCodec returns the account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }

// GetParams returns the params (defaults if never set).
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	p, err := k.Params.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.DefaultParams(), nil
	}
	return p, err
}

// UpdateParams is the governance operation (§6.8).
func (k Keeper) UpdateParams(ctx context.Context, authority string, p types.Params) error {
	if authority != k.authority {
		return fmt.Errorf("%w: expected %s, got %s", types.ErrInvalidAuthority, k.authority, authority)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return k.Params.Set(ctx, p)
}

// GetApp returns an app or ErrAppNotFound.
func (k Keeper) GetApp(ctx context.Context, id string) (types.App, error) {
	a, err := k.Apps.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return a, fmt.Errorf("%w: %s", types.ErrAppNotFound, id)
	}
	return a, err
}

// GetRound returns a round or ErrRoundNotFound.
func (k Keeper) GetRound(ctx context.Context, id uint64) (types.Round, error) {
	r, err := k.Rounds.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return r, fmt.Errorf("%w: %d", types.ErrRoundNotFound, id)
	}
	if err != nil {
		return r, err
	}
	err = k.Members.Walk(ctx, collections.NewPrefixedPairRange[uint64, uint32](id),
		func(_ collections.Pair[uint64, uint32], m types.Member) (bool, error) {
			r.Members = append(r.Members, m)
			return false, nil
		})
	return r, err
}

// saveRound stores t: its header if it differs from before's, and each
// member that differs from before's (all of them when before is nil).
func (k Keeper) saveRound(ctx context.Context, before *types.Round, t types.Round) error {
	header := t
	header.Members = nil
	if before == nil || !headerEqual(*before, header) {
		if err := k.Rounds.Set(ctx, t.Id, header); err != nil {
			return err
		}
	}
	for i, m := range t.Members {
		if before != nil && i < len(before.Members) && sameProto(&before.Members[i], &m) {
			continue
		}
		if err := k.Members.Set(ctx, collections.Join(t.Id, uint32(i)), m); err != nil {
			return err
		}
	}
	return nil
}

func headerEqual(a, b types.Round) bool {
	a.Members, b.Members = nil, nil
	return sameProto(&a, &b)
}

// sameProto compares two messages by their encoding (gogoproto generated
// no Equal for these types).
func sameProto(a, b interface{ Marshal() ([]byte, error) }) bool {
	x, err1 := a.Marshal()
	y, err2 := b.Marshal()
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// cloneRound copies t deeply enough for saveRound's comparison: fromRound
// replaces the slices it changes rather than writing into them.
func cloneRound(t types.Round) *types.Round {
	c := t
	c.Members = append([]types.Member(nil), t.Members...)
	return &c
}

// record returns a node's record, an empty one if it has none.
func (k Keeper) record(ctx context.Context, node string) (types.NodeRecord, error) {
	r, err := k.Records.Get(ctx, node)
	if errors.Is(err, collections.ErrNotFound) {
		return types.NodeRecord{NodeId: node}, nil
	}
	return r, err
}

// actsFor checks that signer may act for the active resource node in
// rounds: its operator, or the agent its compute offer names.
func (k Keeper) actsFor(ctx context.Context, signer, node string) error {
	if o, err := k.Offers.Get(ctx, node); err == nil && o.Agent != "" && o.Agent == signer {
		if !k.reg.IsResourceNodeActive(ctx, node) {
			return fmt.Errorf("%w: %s", types.ErrNodeNotActive, node)
		}
		return nil
	}
	return k.operatorOf(ctx, signer, node)
}

// operatorOf checks that signer operates the active resource node.
func (k Keeper) operatorOf(ctx context.Context, signer, node string) error {
	if !k.reg.IsResourceNodeActive(ctx, node) {
		return fmt.Errorf("%w: %s", types.ErrNodeNotActive, node)
	}
	op, err := k.reg.ResourceNodeOperator(ctx, node)
	if err != nil {
		return err
	}
	s, err := k.addressCodec.StringToBytes(signer)
	if err != nil {
		return fmt.Errorf("signer %q: %w", signer, err)
	}
	if !op.Equals(sdk.AccAddress(s)) {
		return fmt.Errorf("%w: %s does not operate %s", types.ErrNotOperator, signer, node)
	}
	return nil
}

func emit(ctx context.Context, kind string, kv ...string) {
	ev := sdk.NewEvent("trustedfn_" + kind)
	for i := 0; i+1 < len(kv); i += 2 {
		ev = ev.AppendAttributes(sdk.NewAttribute(kv[i], kv[i+1]))
	}
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(ev)
}
