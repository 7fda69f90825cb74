package keeper

import (
	"context"
	"crypto/ed25519"
	"fmt"
	stdmath "math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/pot/types"
	registertypes "github.com/stratos-net/stratos/x/register/types"
)

// VolumeReportInput is a volume report as submitted.
type VolumeReportInput struct {
	Reporter string
	Period   uint64
	types.ReportVolumes
	Signatures []types.MetaSignature
}

// SubmitVolumeReport verifies a volume report, charges its users for their
// traffic, pays the traffic fees and the period's issuance to the nodes that
// served it, and settles the storage of the period's end (whitepaper §3.2.1
// step 6, §3.2.2, DESIGN §7):
//
//	collected = Σ traffic charge_u (x/sds traffic_price, capped at each prepay)
//	issued    = min(issuance(period), issuance_cap_percent% × collected),
//	            or 0 if the report names no traffic node
//	total     = issued + collected
//	reward_i  = floor(total × traffic_i / Σ traffic)
//	remainder = total − Σ reward_i → community pool (all of it without
//	            traffic nodes)
//
// so at most issued ustos are minted per report. The cap is what makes
// traffic a node buys from itself a loss (issue 8, "cheating must not
// pay"): every byte it pays p for earns the nodes at most (1 + cap/100)·p,
// of which it gets its share of the traffic. Then each stored user is
// charged for its stored bytes over the period (x/sds storage_price ×
// period_seconds, capped at its prepay), paid into this module's account:
//
//	storage collected = Σ storage charge_u
//	storage_reward_i  = floor(collected × stored_i / Σ stored)
//	storage_remainder = collected − Σ storage_reward_i → community pool
//
// Both kinds of reward go to the same withdrawable balance per node, so no
// ustos is created or lost beyond the issuance.
//
// Clearing the rewarded nodes' traffic counters (whitepaper §3.2.1 "the node
// that obtained the allocated Token is cleared") is the meta leader's job: it
// reports only the top N, and nodes not in the report carry their traffic into
// its next period. The chain keeps no traffic counters. Storage is a snapshot
// of the period's end, so there is nothing to carry over.
func (k Keeper) SubmitVolumeReport(ctx context.Context, in VolumeReportInput) (types.VolumeReport, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.GetParams(ctx)
	if err != nil {
		return types.VolumeReport{}, err
	}
	if _, err := k.addressCodec.StringToBytes(in.Reporter); err != nil {
		return types.VolumeReport{}, fmt.Errorf("%w: reporter %q: %v", types.ErrInvalidReport, in.Reporter, err)
	}
	users, storedUsers, err := k.checkVolumes(params, in.ReportVolumes)
	if err != nil {
		return types.VolumeReport{}, err
	}
	clock, err := k.checkPeriod(ctx, in.Period)
	if err != nil {
		return types.VolumeReport{}, err
	}
	for _, n := range slices.Concat(in.Nodes, in.StoredNodes) {
		if !k.reg.IsResourceNodeActive(ctx, n.NodeId) {
			return types.VolumeReport{}, fmt.Errorf("%w: %s", types.ErrNodeNotRegistered, n.NodeId)
		}
	}
	signers, err := k.verifySignatures(ctx, sdkCtx.ChainID(), in)
	if err != nil {
		return types.VolumeReport{}, err
	}

	report := types.VolumeReport{
		Period:      in.Period,
		Height:      sdkCtx.BlockHeight(),
		Reporter:    in.Reporter,
		Nodes:       in.Nodes,
		Users:       in.Users,
		Signers:     signers,
		StoredNodes: in.StoredNodes,
		StoredUsers: in.StoredUsers,
	}
	if err := k.settleTraffic(ctx, params, users, &report); err != nil {
		return types.VolumeReport{}, err
	}
	if err := k.settleStorage(ctx, storedUsers, storageSeconds(clock, in.Period, params.PeriodSeconds), &report); err != nil {
		return types.VolumeReport{}, err
	}
	if err := k.Reports.Set(ctx, in.Period, report); err != nil {
		return types.VolumeReport{}, err
	}
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent("volume_report",
		sdk.NewAttribute("period", fmt.Sprint(in.Period)),
		sdk.NewAttribute("nodes", fmt.Sprint(len(in.Nodes))),
		sdk.NewAttribute("traffic_collected", report.TrafficCollected.String()),
		sdk.NewAttribute("issued", report.Issued.String()),
		sdk.NewAttribute("total", report.Total.String()),
		sdk.NewAttribute("remainder", report.Remainder.String()),
		sdk.NewAttribute("stored_nodes", fmt.Sprint(len(in.StoredNodes))),
		sdk.NewAttribute("storage_collected", report.StorageCollected.String()),
		sdk.NewAttribute("storage_remainder", report.StorageRemainder.String()),
	))
	return report, nil
}

// checkVolumes makes the stateless checks of a report's figures and returns
// the addresses of its users and of its stored users. A report names
// traffic nodes, stored nodes, or both: without traffic nodes there is no
// issuance, without stored nodes no storage fee (and then no stored users,
// whose fees would have nobody to go to).
func (k Keeper) checkVolumes(p types.Params, v types.ReportVolumes) (users, storedUsers []sdk.AccAddress, err error) {
	switch {
	case len(v.Nodes) == 0 && len(v.StoredNodes) == 0:
		return nil, nil, fmt.Errorf("%w: no traffic nodes and no stored nodes", types.ErrInvalidReport)
	case len(v.Nodes) > int(p.TopN):
		return nil, nil, fmt.Errorf("%w: %d nodes, top_n is %d", types.ErrTooManyNodes, len(v.Nodes), p.TopN)
	case uint64(len(v.StoredNodes)) > p.MaxStoredNodes():
		return nil, nil, fmt.Errorf("%w: %d stored nodes, at most %d (%d × top_n)",
			types.ErrTooManyNodes, len(v.StoredNodes), p.MaxStoredNodes(), types.StoredNodesPerTopN)
	case len(v.StoredUsers) > 0 && len(v.StoredNodes) == 0:
		return nil, nil, fmt.Errorf("%w: %d stored users but no stored nodes to pay", types.ErrInvalidReport, len(v.StoredUsers))
	}
	if err := checkNodes("", v.Nodes); err != nil {
		return nil, nil, err
	}
	if err := checkNodes("stored ", v.StoredNodes); err != nil {
		return nil, nil, err
	}
	if users, err = k.userAddresses("", v.Users); err != nil {
		return nil, nil, err
	}
	if storedUsers, err = k.userAddresses("stored ", v.StoredUsers); err != nil {
		return nil, nil, err
	}
	return users, storedUsers, nil
}

// checkNodes checks one list of nodes: non-empty, distinct IDs and non-zero
// bytes. what ("" or "stored ") names the list in errors.
func checkNodes(what string, nodes []types.NodeVolume) error {
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if n.NodeId == "" {
			return fmt.Errorf("%w: empty %snode ID", types.ErrInvalidReport, what)
		}
		if seen[n.NodeId] {
			return fmt.Errorf("%w: %s%s", types.ErrDuplicateNode, what, n.NodeId)
		}
		seen[n.NodeId] = true
		if n.Bytes == 0 {
			return fmt.Errorf("%w: %snode %s", types.ErrZeroBytes, what, n.NodeId)
		}
	}
	return nil
}

// userAddresses checks one list of users (valid, distinct addresses,
// non-zero bytes) and returns their addresses.
func (k Keeper) userAddresses(what string, users []types.UserVolume) ([]sdk.AccAddress, error) {
	out := make([]sdk.AccAddress, len(users))
	seen := make(map[string]bool, len(users))
	for i, u := range users {
		addr, err := k.addressCodec.StringToBytes(u.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: %suser address %q: %v", types.ErrInvalidReport, what, u.Address, err)
		}
		if seen[string(addr)] {
			return nil, fmt.Errorf("%w: duplicate %suser %s", types.ErrInvalidReport, what, u.Address)
		}
		seen[string(addr)] = true
		if u.Bytes == 0 {
			return nil, fmt.Errorf("%w: %suser %s", types.ErrZeroBytes, what, u.Address)
		}
		out[i] = addr
	}
	return out, nil
}

// checkPeriod: a period is reported after it ended, once, and in order: a
// report for an older period than the last one would let the meta nodes
// mint the issuance of periods nobody reported in time.
// It returns the chain's period clock, read before the report is recorded.
func (k Keeper) checkPeriod(ctx context.Context, period uint64) (types.QueryPeriodResponse, error) {
	clock, err := k.CurrentPeriod(ctx)
	if err != nil {
		return clock, err
	}
	switch {
	case period >= clock.Current:
		return clock, fmt.Errorf("%w: period %d; the chain is in period %d, which ends at %s",
			types.ErrPeriodNotEnded, period, clock.Current, time.Unix(clock.EndUnix, 0).UTC().Format(time.RFC3339))
	case clock.Reported && period == clock.LastReported:
		return clock, fmt.Errorf("%w: %d", types.ErrPeriodReported, period)
	case clock.Reported && period < clock.LastReported:
		return clock, fmt.Errorf("%w: period %d, last reported %d", types.ErrStalePeriod, period, clock.LastReported)
	}
	return clock, nil
}

// storageSeconds is how long the storage a report names is charged for:
// every period since the last one reported, not one period length, so
// skipped reports do not make storage free (issue 8: "a period's storage
// charge covers the whole time since the last report"). Storage is a
// snapshot at the period's end and the chain cannot tell when it began, so
// the first report ever charges its own period alone. checkPeriod has
// made sure period > LastReported.
func storageSeconds(clock types.QueryPeriodResponse, period, length uint64) uint64 {
	gap := uint64(1)
	if clock.Reported {
		gap = period - clock.LastReported
	}
	if hi, lo := bits.Mul64(gap, length); hi == 0 {
		return lo
	}
	return stdmath.MaxUint64
}

// settleTraffic charges each user of the report for its traffic, which
// x/sds pays into this module's account, mints the capped issuance, and
// pays both out to the traffic nodes by the bytes they served (see
// SubmitVolumeReport). Without traffic nodes the fees go to the community
// pool and nothing is minted.
func (k Keeper) settleTraffic(ctx context.Context, params types.Params, users []sdk.AccAddress, r *types.VolumeReport) error {
	bytes := make([]uint64, len(r.Users))
	for i, u := range r.Users {
		bytes[i] = u.Bytes
	}
	charged, err := k.sds.ChargeTrafficAll(ctx, users, bytes)
	if err != nil {
		return fmt.Errorf("charge %d users for their traffic: %w", len(users), err)
	}
	collected := sum(charged)
	issued := math.ZeroInt()
	if len(r.Nodes) > 0 {
		issued = params.IssuedFor(r.Period, collected)
	}
	if issued.IsPositive() {
		if err := k.bank.MintCoins(ctx, types.ModuleName, sdk.NewCoins(sdk.NewCoin(types.Denom, issued))); err != nil {
			return fmt.Errorf("mint issuance: %w", err)
		}
	}
	total := issued.Add(collected)
	rewards, remainder := split(total, r.Nodes)
	if err := k.payOut(ctx, rewards, remainder); err != nil {
		return err
	}
	r.TrafficCollected, r.Issued, r.Total, r.Rewards, r.Remainder = collected, issued, total, rewards, remainder
	return nil
}

// settleStorage charges each stored user for its bytes over seconds (see
// storageSeconds), which x/sds pays into this module's account, and pays what was
// collected out to the stored nodes by the bytes they hold (DESIGN §7:
// "storage fees are settled to the nodes that hold replicas").
func (k Keeper) settleStorage(ctx context.Context, users []sdk.AccAddress, seconds uint64, r *types.VolumeReport) error {
	bytes := make([]uint64, len(r.StoredUsers))
	for i, u := range r.StoredUsers {
		bytes[i] = u.Bytes
	}
	charged, err := k.sds.ChargeStorageAll(ctx, users, bytes, seconds)
	if err != nil {
		return fmt.Errorf("charge %d users for their storage over %d s: %w", len(users), seconds, err)
	}
	collected := sum(charged)
	rewards, remainder := split(collected, r.StoredNodes)
	if err := k.payOut(ctx, rewards, remainder); err != nil {
		return err
	}
	r.StorageCollected, r.StorageRewards, r.StorageRemainder = collected, rewards, remainder
	return nil
}

// sum adds up amounts.
func sum(amounts []math.Int) math.Int {
	s := math.ZeroInt()
	for _, a := range amounts {
		s = s.Add(a)
	}
	return s
}

// split divides amount among nodes by their bytes, rounding down:
// share_i = floor(amount × bytes_i / Σ bytes). The remainder, less than
// len(nodes) ustos, is amount − Σ share_i; with no nodes it is all of
// amount.
func split(amount math.Int, nodes []types.NodeVolume) ([]types.NodeReward, math.Int) {
	sum := math.ZeroInt()
	for _, n := range nodes {
		sum = sum.Add(math.NewIntFromUint64(n.Bytes))
	}
	if sum.IsZero() {
		return nil, amount
	}
	paid := math.ZeroInt()
	rewards := make([]types.NodeReward, len(nodes))
	for i, n := range nodes {
		r := amount.Mul(math.NewIntFromUint64(n.Bytes)).Quo(sum)
		paid = paid.Add(r)
		rewards[i] = types.NodeReward{NodeId: n.NodeId, Amount: r}
	}
	return rewards, amount.Sub(paid)
}

// payOut sends remainder from the module account to the community pool and
// credits each reward to its node's withdrawable balance, recording the
// operator in it. A zero reward credits nothing.
func (k Keeper) payOut(ctx context.Context, rewards []types.NodeReward, remainder math.Int) error {
	if remainder.IsPositive() {
		if err := k.distr.FundCommunityPool(ctx, sdk.NewCoins(sdk.NewCoin(types.Denom, remainder)), k.moduleAddr); err != nil {
			return fmt.Errorf("fund community pool: %w", err)
		}
	}
	for i := range rewards {
		if !rewards[i].Amount.IsPositive() {
			continue
		}
		op, err := k.credit(ctx, rewards[i].NodeId, rewards[i].Amount)
		if err != nil {
			return err
		}
		rewards[i].Operator = op
	}
	return nil
}

// MaxSignaturesPerMetaNode bounds a report's signature list to this many
// per active meta node. An honest leader sends at most one per authority;
// the slack leaves room for a repeated signer (ignored) without letting a
// report make the chain verify an unbounded list.
const MaxSignaturesPerMetaNode = 2

// verifySignatures counts the signatures of the report that are by
// distinct active meta nodes and verify over its sign bytes; the report is
// accepted when they are more than 2/3 of the active meta nodes, computed
// exactly: 3·counted > 2·active (DESIGN §7: 3 of 4, never 2 of 4). A
// signature by an unknown or inactive node, one that does not verify, or a
// second one by a signer already counted is ignored, not an error: the
// authorities that did sign decide. A list longer than
// MaxSignaturesPerMetaNode × active is refused before any is verified.
// Returns the sorted signers counted.
func (k Keeper) verifySignatures(ctx context.Context, chainID string, in VolumeReportInput) ([]string, error) {
	keys, err := k.reg.ActiveMetaNodeKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("active meta nodes: %w", err)
	}
	active := len(keys)
	if limit := MaxSignaturesPerMetaNode * active; len(in.Signatures) > limit {
		return nil, fmt.Errorf("%w: %d signatures, at most %d (%d per active meta node, %d active)",
			types.ErrTooManySignatures, len(in.Signatures), limit, MaxSignaturesPerMetaNode, active)
	}
	msg := types.VolumeReportSignBytes(chainID, in.Period, in.ReportVolumes)
	counted := make(map[string]bool, len(in.Signatures))
	var ignored []string
	for _, s := range in.Signatures {
		if counted[s.MetaNodeId] {
			continue // a signer counts once
		}
		if why := checkSignature(keys, msg, s); why != "" {
			ignored = append(ignored, fmt.Sprintf("%q %s", s.MetaNodeId, why))
			continue
		}
		counted[s.MetaNodeId] = true
	}
	if !registertypes.SuperMajority(len(counted), active) {
		err := fmt.Errorf("%w: have %d of %d active meta nodes, need more than 2/3 (%d)",
			types.ErrNotEnoughSignatures, len(counted), active, registertypes.SuperMajorityNeeded(active))
		if len(ignored) > 0 {
			err = fmt.Errorf("%w; ignored: %s", err, strings.Join(ignored, ", "))
		}
		return nil, err
	}
	signers := make([]string, 0, len(counted))
	for id := range counted {
		signers = append(signers, id)
	}
	sort.Strings(signers)
	return signers, nil
}

// checkSignature says why s does not count for msg ("" if it does): its
// signer must be an active meta node (in keys) and its signature verify.
func checkSignature(keys map[string][]byte, msg []byte, s types.MetaSignature) string {
	pub, ok := keys[s.MetaNodeId]
	switch {
	case !ok:
		return "is not an active meta node"
	case len(pub) != ed25519.PublicKeySize:
		return "has a malformed public key"
	case len(s.Signature) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(pub), msg, s.Signature):
		return "signature does not verify"
	}
	return ""
}
