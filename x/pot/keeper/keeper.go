// Package keeper implements x/pot: Proof-of-Traffic volume reports and the
// rewards they pay (DESIGN §7, whitepaper §3.2.1).
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

	"github.com/stratos-net/stratos/x/pot/types"
)

// Keeper holds x/pot's state.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	bank         types.BankKeeper
	distr        types.DistrKeeper
	reg          types.RegisterKeeper
	sds          types.SdsKeeper
	authority    string
	moduleAddr   sdk.AccAddress

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Clock numbers the ledger periods (set at genesis).
	Clock collections.Item[types.PeriodClock]
	// Reports: period -> accepted volume report.
	Reports collections.Map[uint64, types.VolumeReport]
	// Rewards: node ID -> withdrawable ustos (held by the pot module account).
	Rewards collections.Map[string, math.Int]
	// NodeOperator: node ID -> operator recorded when rewards were last credited.
	NodeOperator collections.Map[string, []byte]
	// OperatorNodes: index (operator, node ID) so rewards can be queried by
	// operator address.
	OperatorNodes collections.KeySet[collections.Pair[sdk.AccAddress, string]]
}

// NewKeeper constructs the keeper. authority is the governance address
// allowed to update params.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec,
	bank types.BankKeeper, distr types.DistrKeeper, reg types.RegisterKeeper, sds types.SdsKeeper,
	authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/pot: invalid authority %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		addressCodec: addressCodec,
		bank:         bank,
		distr:        distr,
		reg:          reg,
		sds:          sds,
		authority:    authority,
		moduleAddr:   authtypes.NewModuleAddress(types.ModuleName),

		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Clock:        collections.NewItem(sb, types.ClockKey, "clock", codec.CollValue[types.PeriodClock](cdc)),
		Reports:      collections.NewMap(sb, types.ReportsKey, "reports", collections.Uint64Key, codec.CollValue[types.VolumeReport](cdc)),
		Rewards:      collections.NewMap(sb, types.RewardsKey, "rewards", collections.StringKey, sdk.IntValue),
		NodeOperator: collections.NewMap(sb, types.NodeOperatorKey, "node_operator", collections.StringKey, collections.BytesValue),
		OperatorNodes: collections.NewKeySet(sb, types.OperatorNodesKey, "operator_nodes",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.StringKey)),
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

// GetParams returns the params (defaults if never set).
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	p, err := k.Params.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.DefaultParams(), nil
	}
	return p, err
}

// SetParams validates and stores params.
func (k Keeper) SetParams(ctx context.Context, p types.Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return k.Params.Set(ctx, p)
}

// UpdateParams is the governance operation. A new period length takes effect
// from the start of the current period, which keeps its number: period
// numbers never go back and no period is skipped.
func (k Keeper) UpdateParams(ctx context.Context, authority string, p types.Params) error {
	if authority != k.authority {
		return fmt.Errorf("%w: expected %s, got %s", types.ErrInvalidAuthority, k.authority, authority)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	old, err := k.GetParams(ctx)
	if err != nil {
		return err
	}
	if old.PeriodSeconds != p.PeriodSeconds {
		cur, err := k.CurrentPeriod(ctx)
		if err != nil {
			return err
		}
		if err := k.Clock.Set(ctx, types.PeriodClock{OriginPeriod: cur.Current, OriginUnix: cur.StartUnix}); err != nil {
			return err
		}
	}
	return k.SetParams(ctx, p)
}

// CurrentPeriod returns the ledger period the current block time falls in
// (DESIGN §7: "a traffic period closes"; whitepaper §3.2.1 step 6), and the
// last period reported. Period 0 starts at genesis.
func (k Keeper) CurrentPeriod(ctx context.Context) (types.QueryPeriodResponse, error) {
	p, err := k.GetParams(ctx)
	if err != nil {
		return types.QueryPeriodResponse{}, err
	}
	clock, err := k.Clock.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return types.QueryPeriodResponse{}, err
	}
	now := sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
	cur, start, end := clock.PeriodAt(now, p.PeriodSeconds)
	last, reported, err := k.lastReported(ctx)
	if err != nil {
		return types.QueryPeriodResponse{}, err
	}
	return types.QueryPeriodResponse{Current: cur, StartUnix: start, EndUnix: end, PeriodSeconds: p.PeriodSeconds,
		LastReported: last, Reported: reported}, nil
}

// CurrentLedgerPeriod is the ledger period the current block falls in
// (x/sds checks index anchors against it).
func (k Keeper) CurrentLedgerPeriod(ctx context.Context) (uint64, error) {
	p, err := k.CurrentPeriod(ctx)
	return p.Current, err
}

// lastReported returns the largest period with an accepted report.
func (k Keeper) lastReported(ctx context.Context) (uint64, bool, error) {
	it, err := k.Reports.Iterate(ctx, new(collections.Range[uint64]).Descending())
	if err != nil {
		return 0, false, err
	}
	defer it.Close()
	if !it.Valid() {
		return 0, false, nil
	}
	p, err := it.Key()
	return p, err == nil, err
}

// GetRewards returns a node's withdrawable rewards (zero if none).
func (k Keeper) GetRewards(ctx context.Context, nodeID string) (math.Int, error) {
	r, err := k.Rewards.Get(ctx, nodeID)
	if errors.Is(err, collections.ErrNotFound) {
		return math.ZeroInt(), nil
	}
	return r, err
}

// credit adds amount to nodeID's rewards and keeps the operator index current
// (operator as x/register knows it now). Returns the operator's address.
func (k Keeper) credit(ctx context.Context, nodeID string, amount math.Int) (string, error) {
	op, err := k.reg.ResourceNodeOperator(ctx, nodeID)
	if err != nil {
		return "", fmt.Errorf("operator of %s: %w", nodeID, err)
	}
	if err := k.setOperator(ctx, nodeID, op); err != nil {
		return "", err
	}
	cur, err := k.GetRewards(ctx, nodeID)
	if err != nil {
		return "", err
	}
	if err := k.Rewards.Set(ctx, nodeID, cur.Add(amount)); err != nil {
		return "", err
	}
	return k.addressCodec.BytesToString(op)
}

// setOperator records op as nodeID's operator, moving the index entry if the
// operator changed.
func (k Keeper) setOperator(ctx context.Context, nodeID string, op sdk.AccAddress) error {
	old, err := k.NodeOperator.Get(ctx, nodeID)
	switch {
	case errors.Is(err, collections.ErrNotFound):
	case err != nil:
		return err
	case !sdk.AccAddress(old).Equals(op):
		if err := k.OperatorNodes.Remove(ctx, collections.Join(sdk.AccAddress(old), nodeID)); err != nil {
			return err
		}
	}
	if err := k.NodeOperator.Set(ctx, nodeID, op); err != nil {
		return err
	}
	return k.OperatorNodes.Set(ctx, collections.Join(op, nodeID))
}

// WithdrawRewards sends nodeID's rewards to its operator and zeroes them.
func (k Keeper) WithdrawRewards(ctx context.Context, operator, nodeID string) (sdk.Coin, error) {
	opAddr, err := k.addressCodec.StringToBytes(operator)
	if err != nil {
		return sdk.Coin{}, fmt.Errorf("%w: operator %q: %v", types.ErrNotOperator, operator, err)
	}
	actual, err := k.reg.ResourceNodeOperator(ctx, nodeID)
	if err != nil {
		return sdk.Coin{}, fmt.Errorf("%w: %s: %v", types.ErrNodeNotRegistered, nodeID, err)
	}
	if !actual.Equals(sdk.AccAddress(opAddr)) {
		return sdk.Coin{}, fmt.Errorf("%w: %s does not operate %s", types.ErrNotOperator, operator, nodeID)
	}
	amount, err := k.GetRewards(ctx, nodeID)
	if err != nil {
		return sdk.Coin{}, err
	}
	if !amount.IsPositive() {
		return sdk.Coin{}, fmt.Errorf("%w: node %s", types.ErrNoRewards, nodeID)
	}
	coin := sdk.NewCoin(types.Denom, amount)
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, opAddr, sdk.NewCoins(coin)); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.Rewards.Remove(ctx, nodeID); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.setOperator(ctx, nodeID, opAddr); err != nil {
		return sdk.Coin{}, err
	}
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(sdk.NewEvent("withdraw_rewards",
		sdk.NewAttribute("node_id", nodeID),
		sdk.NewAttribute("operator", operator),
		sdk.NewAttribute("amount", coin.String()),
	))
	return coin, nil
}

// RewardsOf returns the rewards of nodeIDOrAddress: if it is an account
// address, of every node it operates (per the operator index); otherwise of
// that node.
func (k Keeper) RewardsOf(ctx context.Context, nodeIDOrAddress string) (math.Int, []types.NodeReward, error) {
	if addr, err := k.addressCodec.StringToBytes(nodeIDOrAddress); err == nil && len(addr) > 0 {
		total := math.ZeroInt()
		var out []types.NodeReward
		rng := collections.NewPrefixedPairRange[sdk.AccAddress, string](addr)
		err := k.OperatorNodes.Walk(ctx, rng, func(key collections.Pair[sdk.AccAddress, string]) (bool, error) {
			r, err := k.GetRewards(ctx, key.K2())
			if err != nil {
				return true, err
			}
			total = total.Add(r)
			out = append(out, types.NodeReward{NodeId: key.K2(), Amount: r, Operator: nodeIDOrAddress})
			return false, nil
		})
		return total, out, err
	}
	r, err := k.GetRewards(ctx, nodeIDOrAddress)
	if err != nil {
		return math.Int{}, nil, err
	}
	nr := types.NodeReward{NodeId: nodeIDOrAddress, Amount: r}
	if op, err := k.NodeOperator.Get(ctx, nodeIDOrAddress); err == nil {
		nr.Operator, _ = k.addressCodec.BytesToString(op)
	}
	return r, []types.NodeReward{nr}, nil
}

// AddressCodec returns the account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }
