// Package keeper implements x/pot: Proof-of-Traffic volume reports and the
// rewards they pay (DESIGN §7, whitepaper §3.2.1).
package keeper

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"time"

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

// VolumeReportInput is a volume report as submitted.
type VolumeReportInput struct {
	Reporter   string
	Period     uint64
	Nodes      []types.NodeVolume
	Users      []types.UserVolume
	Signatures []types.MetaSignature
}

// SubmitVolumeReport verifies a volume report and pays its rewards
// (whitepaper §3.2.1 step 6, DESIGN §7):
//
//	total    = issuance(period)
//	reward_i = floor(total × bytes_i / Σ bytes)
//	remainder = total − Σ reward_i → community pool
//
// so exactly total ustos are minted per report. Then each user in the report
// is charged for its traffic in x/sds.
//
// Clearing the rewarded nodes' traffic counters (whitepaper §3.2.1 "the node
// that obtained the allocated Token is cleared") is the meta leader's job: it
// reports only the top N, and nodes not in the report carry their traffic into
// its next period. The chain keeps no traffic counters.
func (k Keeper) SubmitVolumeReport(ctx context.Context, in VolumeReportInput) (types.VolumeReport, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.GetParams(ctx)
	if err != nil {
		return types.VolumeReport{}, err
	}
	if _, err := k.addressCodec.StringToBytes(in.Reporter); err != nil {
		return types.VolumeReport{}, fmt.Errorf("%w: reporter %q: %v", types.ErrInvalidReport, in.Reporter, err)
	}

	// Stateless shape checks.
	if len(in.Nodes) == 0 {
		return types.VolumeReport{}, fmt.Errorf("%w: no nodes", types.ErrInvalidReport)
	}
	if len(in.Nodes) > int(params.TopN) {
		return types.VolumeReport{}, fmt.Errorf("%w: %d nodes, top_n is %d", types.ErrTooManyNodes, len(in.Nodes), params.TopN)
	}
	sum := math.ZeroInt()
	seenNodes := make(map[string]bool, len(in.Nodes))
	for _, n := range in.Nodes {
		if n.NodeId == "" {
			return types.VolumeReport{}, fmt.Errorf("%w: empty node ID", types.ErrInvalidReport)
		}
		if seenNodes[n.NodeId] {
			return types.VolumeReport{}, fmt.Errorf("%w: %s", types.ErrDuplicateNode, n.NodeId)
		}
		seenNodes[n.NodeId] = true
		if n.Bytes == 0 {
			return types.VolumeReport{}, fmt.Errorf("%w: node %s", types.ErrZeroBytes, n.NodeId)
		}
		sum = sum.Add(math.NewIntFromUint64(n.Bytes))
	}
	users := make([]sdk.AccAddress, len(in.Users))
	seenUsers := make(map[string]bool, len(in.Users))
	for i, u := range in.Users {
		addr, err := k.addressCodec.StringToBytes(u.Address)
		if err != nil {
			return types.VolumeReport{}, fmt.Errorf("%w: user address %q: %v", types.ErrInvalidReport, u.Address, err)
		}
		if seenUsers[string(addr)] {
			return types.VolumeReport{}, fmt.Errorf("%w: duplicate user %s", types.ErrInvalidReport, u.Address)
		}
		seenUsers[string(addr)] = true
		if u.Bytes == 0 {
			return types.VolumeReport{}, fmt.Errorf("%w: user %s", types.ErrZeroBytes, u.Address)
		}
		users[i] = addr
	}

	// State checks. A period is reported after it ended, once, and in
	// order: a report for an older period than the last one would let the
	// meta nodes mint the issuance of periods nobody reported in time.
	clock, err := k.CurrentPeriod(ctx)
	if err != nil {
		return types.VolumeReport{}, err
	}
	if in.Period >= clock.Current {
		return types.VolumeReport{}, fmt.Errorf("%w: period %d; the chain is in period %d, which ends at %s",
			types.ErrPeriodNotEnded, in.Period, clock.Current, time.Unix(clock.EndUnix, 0).UTC().Format(time.RFC3339))
	}
	if clock.Reported && in.Period == clock.LastReported {
		return types.VolumeReport{}, fmt.Errorf("%w: %d", types.ErrPeriodReported, in.Period)
	}
	if clock.Reported && in.Period < clock.LastReported {
		return types.VolumeReport{}, fmt.Errorf("%w: period %d, last reported %d", types.ErrStalePeriod, in.Period, clock.LastReported)
	}
	for _, n := range in.Nodes {
		if !k.reg.IsResourceNodeActive(ctx, n.NodeId) {
			return types.VolumeReport{}, fmt.Errorf("%w: %s", types.ErrNodeNotRegistered, n.NodeId)
		}
	}
	signers, err := k.verifySignatures(ctx, sdkCtx.ChainID(), in)
	if err != nil {
		return types.VolumeReport{}, err
	}

	// Rewards (whitepaper §3.2.1): floor division, remainder to the pool.
	total := params.IssuanceAt(in.Period)
	paid := math.ZeroInt()
	rewards := make([]types.NodeReward, len(in.Nodes))
	for i, n := range in.Nodes {
		r := total.Mul(math.NewIntFromUint64(n.Bytes)).Quo(sum)
		paid = paid.Add(r)
		rewards[i] = types.NodeReward{NodeId: n.NodeId, Amount: r}
	}
	remainder := total.Sub(paid)

	if total.IsPositive() {
		if err := k.bank.MintCoins(ctx, types.ModuleName, sdk.NewCoins(sdk.NewCoin(types.Denom, total))); err != nil {
			return types.VolumeReport{}, fmt.Errorf("mint issuance: %w", err)
		}
	}
	if remainder.IsPositive() {
		if err := k.distr.FundCommunityPool(ctx, sdk.NewCoins(sdk.NewCoin(types.Denom, remainder)), k.moduleAddr); err != nil {
			return types.VolumeReport{}, fmt.Errorf("fund community pool: %w", err)
		}
	}
	for i := range rewards {
		op, err := k.credit(ctx, rewards[i].NodeId, rewards[i].Amount)
		if err != nil {
			return types.VolumeReport{}, err
		}
		rewards[i].Operator = op
	}
	for i, u := range in.Users {
		if _, err := k.sds.ChargeTraffic(ctx, users[i], u.Bytes); err != nil {
			return types.VolumeReport{}, fmt.Errorf("charge user %s for %d bytes: %w", u.Address, u.Bytes, err)
		}
	}

	report := types.VolumeReport{
		Period:    in.Period,
		Height:    sdkCtx.BlockHeight(),
		Reporter:  in.Reporter,
		Nodes:     in.Nodes,
		Users:     in.Users,
		Signers:   signers,
		Total:     total,
		Rewards:   rewards,
		Remainder: remainder,
	}
	if err := k.Reports.Set(ctx, in.Period, report); err != nil {
		return types.VolumeReport{}, err
	}
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent("volume_report",
		sdk.NewAttribute("period", fmt.Sprint(in.Period)),
		sdk.NewAttribute("nodes", fmt.Sprint(len(in.Nodes))),
		sdk.NewAttribute("total", total.String()),
		sdk.NewAttribute("remainder", remainder.String()),
	))
	return report, nil
}

// verifySignatures checks that more than 2/3 of the active meta nodes signed
// the report. Every signature must be by an active meta node and valid; a
// signer appearing twice counts once. Returns the sorted distinct signers.
func (k Keeper) verifySignatures(ctx context.Context, chainID string, in VolumeReportInput) ([]string, error) {
	keys, err := k.reg.ActiveMetaNodeKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("active meta nodes: %w", err)
	}
	msg := types.VolumeReportSignBytes(chainID, in.Period, in.Nodes, in.Users)
	valid := make(map[string]bool, len(in.Signatures))
	for _, s := range in.Signatures {
		pub, ok := keys[s.MetaNodeId]
		if !ok {
			return nil, fmt.Errorf("%w: %q is not an active meta node", types.ErrBadSignature, s.MetaNodeId)
		}
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: meta node %s has a malformed public key", types.ErrBadSignature, s.MetaNodeId)
		}
		if len(s.Signature) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(pub), msg, s.Signature) {
			return nil, fmt.Errorf("%w: signature of meta node %s does not verify", types.ErrBadSignature, s.MetaNodeId)
		}
		valid[s.MetaNodeId] = true
	}
	active := len(keys)
	if 3*len(valid) <= 2*active {
		return nil, fmt.Errorf("%w: have %d of %d active meta nodes, need more than 2/3",
			types.ErrNotEnoughSignatures, len(valid), active)
	}
	signers := make([]string, 0, len(valid))
	for id := range valid {
		signers = append(signers, id)
	}
	sort.Strings(signers)
	return signers, nil
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
