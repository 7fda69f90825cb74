package keeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/trustedfn/payout"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// nodePayment is the most one paid node of the app can be owed for a round:
// its base fee and max_usage gas at the network's gas price, split (§6.3).
func nodePayment(a types.App, p types.Params, usage uint64) (payout.Payment, error) {
	cost := a.BaseFee.Add(p.GasPrice.MulInt(math.NewIntFromUint64(usage)).TruncateInt())
	return p.Split().Pay(cost, a.StrPrice)
}

func withdrawn(pay payout.Payment) sdk.Coins {
	return sdk.NewCoins(sdk.NewCoin(types.CostDenom, pay.WithdrawnSTB()), sdk.NewCoin(types.ProfitDenom, pay.WithdrawnSTR()))
}

// OpenRound is Step 1: the app puts a salt hash per node on chain. The round
// reserves from the escrow the most it can owe (every node paid for
// max_usage) and pays the validators' fee for running it (§4.4).
func (k Keeper) OpenRound(ctx context.Context, m *types.MsgOpenRound) (uint64, error) {
	sctx := sdk.UnwrapSDKContext(ctx)
	height := sctx.BlockHeight()
	a, err := k.ownedApp(ctx, m.Owner, m.AppId)
	if err != nil {
		return 0, err
	}
	if a.Status != types.AppStatus_APP_STATUS_ACTIVE {
		return 0, fmt.Errorf("%w: %s is %s", types.ErrAppNotActive, a.Id, a.Status)
	}
	if a.OpenRound != 0 {
		return 0, fmt.Errorf("%w: round %d", types.ErrRoundOpen, a.OpenRound)
	}
	if a.LastRoundHeight > 0 && height < a.LastRoundHeight+a.RoundsEvery {
		return 0, fmt.Errorf("%w: next round from height %d", types.ErrTooSoon, a.LastRoundHeight+a.RoundsEvery)
	}
	if len(m.CallHash) > maxCallHashSize {
		return 0, fmt.Errorf("%w: call_hash over %d bytes", types.ErrRound, maxCallHashSize)
	}
	if len(m.SaltHashes) != len(a.Nodes) {
		return 0, fmt.Errorf("%w: %d salt hashes for %d nodes", types.ErrRound, len(m.SaltHashes), len(a.Nodes))
	}
	hashes := make([]round.Hash, len(m.SaltHashes))
	for i, b := range m.SaltHashes {
		if len(b) != len(round.Hash{}) {
			return 0, fmt.Errorf("%w: salt hash %d is %d bytes", types.ErrRound, i, len(b))
		}
		copy(hashes[i][:], b)
	}
	spot, err := optHash(m.Spot)
	if err != nil {
		return 0, err
	}
	p, err := k.GetParams(ctx)
	if err != nil {
		return 0, err
	}
	per, err := nodePayment(a, p, a.MaxUsage)
	if err != nil {
		return 0, err
	}
	reserve := sdk.NewCoins()
	for range a.Nodes {
		reserve = reserve.Add(withdrawn(per)...)
	}
	fee := sdk.NewCoins(p.ValidationFee)
	need := reserve.Add(fee...)
	if !a.Escrow.IsAllGTE(need) {
		return 0, fmt.Errorf("%w: the round needs %s, the escrow holds %s; top it up", types.ErrEscrow, need, a.Escrow)
	}
	id, err := k.nextRoundID(ctx)
	if err != nil {
		return 0, err
	}
	if m.RoundId != id {
		return 0, fmt.Errorf("%w: the next round is %d, the salt hashes are for round %d; hash them again", types.ErrRoundTaken, id, m.RoundId)
	}
	if err := k.NextRound.Set(ctx, id+1); err != nil {
		return 0, err
	}
	r, err := round.Open(round.ID{ChainID: sctx.ChainID(), Round: id}, a.Nodes, hashes, spot,
		round.Agreement{Num: a.AgreementNum, Den: a.AgreementDen}, a.CommitTimeout, a.RevealTimeout, height)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", types.ErrRound, err)
	}
	if !fee.IsZero() {
		if err := k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.feeCollector, fee); err != nil {
			return 0, fmt.Errorf("validation fee: %w", err)
		}
	}
	t := types.Round{
		Id: id, AppId: a.Id, CallHash: m.CallHash, AgreementNum: a.AgreementNum, AgreementDen: a.AgreementDen,
		CommitTimeout: a.CommitTimeout, RevealTimeout: a.RevealTimeout, OpenedHeight: height,
		Members: make([]types.Member, len(a.Nodes)), Reserved: reserve, ToValidators: fee,
	}
	fromRound(r, &t)
	a.Escrow = a.Escrow.Sub(need...)
	a.OpenRound, a.LastRoundHeight = id, height
	if err := k.Apps.Set(ctx, a.Id, a); err != nil {
		return 0, err
	}
	if err := k.saveRound(ctx, nil, t); err != nil {
		return 0, err
	}
	if err := k.AppRounds.Set(ctx, collections.Join(a.Id, id)); err != nil {
		return 0, err
	}
	emit(ctx, "open_round", "app_id", a.Id, "round_id", strconv.FormatUint(id, 10))
	return id, k.OpenRounds.Set(ctx, id)
}

// update loads an open round, applies f to the rules' view and stores the
// result; f's error refuses the message and changes nothing.
func (k Keeper) update(ctx context.Context, id uint64, f func(*round.Round, *types.Round) error) error {
	t, err := k.GetRound(ctx, id)
	if err != nil {
		return err
	}
	r, err := toRound(sdk.UnwrapSDKContext(ctx).ChainID(), t)
	if err != nil {
		return err
	}
	if err := f(r, &t); err != nil {
		if errors.Is(err, types.ErrRound) || errors.Is(err, types.ErrNotOwner) {
			return err
		}
		return fmt.Errorf("%w: %w", types.ErrRound, err)
	}
	before := cloneRound(t)
	fromRound(r, &t)
	return k.saveRound(ctx, before, t)
}

// Commit is Steps 3-4 for one node, sent by its operator.
func (k Keeper) Commit(ctx context.Context, m *types.MsgCommit) error {
	if err := k.actsFor(ctx, m.Operator, m.NodeId); err != nil {
		return err
	}
	saltHash, err := toHash(m.NodeSaltHash)
	if err != nil {
		return err
	}
	commit, err := toHash(m.Commit)
	if err != nil {
		return err
	}
	if len(m.NodeSaltHash) == 0 || len(m.Commit) == 0 {
		return fmt.Errorf("%w: empty commit", types.ErrRound)
	}
	return k.update(ctx, m.RoundId, func(r *round.Round, _ *types.Round) error {
		return r.Commit(m.NodeId, saltHash, commit)
	})
}

// Complain is a node leaving a round whose app salt did not match (§3.5.2);
// the app's record counts the complaint.
func (k Keeper) Complain(ctx context.Context, m *types.MsgComplain) error {
	if err := k.actsFor(ctx, m.Operator, m.NodeId); err != nil {
		return err
	}
	var appID string
	err := k.update(ctx, m.RoundId, func(r *round.Round, t *types.Round) error {
		appID = t.AppId
		var received []byte
		if len(m.Received) > 0 {
			received = m.Received
		}
		return r.Refuse(m.NodeId, received)
	})
	if err != nil {
		return err
	}
	a, err := k.GetApp(ctx, appID)
	if err != nil {
		return err
	}
	a.Stats.Complaints++
	emit(ctx, "complaint", "app_id", appID, "node_id", m.NodeId, "round_id", strconv.FormatUint(m.RoundId, 10))
	return k.Apps.Set(ctx, appID, a)
}

// RevealSalts is Step 6, by the app's owner.
func (k Keeper) RevealSalts(ctx context.Context, m *types.MsgRevealSalts) error {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	salts := make(map[string][]byte, len(m.Salts))
	for _, s := range m.Salts {
		salts[s.NodeId] = s.Salt
	}
	expected, err := optHash(m.SpotExpected)
	if err != nil {
		return err
	}
	return k.update(ctx, m.RoundId, func(r *round.Round, t *types.Round) error {
		a, err := k.GetApp(ctx, t.AppId)
		if err != nil {
			return err
		}
		if a.Owner != m.Owner {
			return fmt.Errorf("%w: %s", types.ErrNotOwner, a.Id)
		}
		return r.RevealApp(salts, expected, m.SpotSalt, height)
	})
}

// Reveal is Step 7 for one node, sent by its operator.
func (k Keeper) Reveal(ctx context.Context, m *types.MsgReveal) error {
	if err := k.actsFor(ctx, m.Operator, m.NodeId); err != nil {
		return err
	}
	out, err := toHash(m.OutputHash)
	if err != nil {
		return err
	}
	return k.update(ctx, m.RoundId, func(r *round.Round, _ *types.Round) error {
		return r.RevealNode(m.NodeId, m.NodeSalt, out, m.Usage)
	})
}

// EndBlocker moves every open round on (closing commits, timing out reveals,
// tallying) and settles those that are done in this same block (Step 12),
// then draws the nodes of pending apps.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sctx := sdk.UnwrapSDKContext(ctx)
	var open []uint64
	if err := k.OpenRounds.Walk(ctx, nil, func(id uint64) (bool, error) {
		open = append(open, id)
		return false, nil
	}); err != nil {
		return err
	}
	for _, id := range open {
		t, err := k.GetRound(ctx, id)
		if err != nil {
			return err
		}
		r, err := toRound(sctx.ChainID(), t)
		if err != nil {
			return err
		}
		done := r.Advance(sctx.BlockHeight())
		if t.SliceId != "" && r.Phase == round.AppRevealing {
			if err := revealChallenge(r, &t, sctx.BlockHeight()); err != nil {
				return fmt.Errorf("storage challenge %d: %w", id, err)
			}
		}
		before := cloneRound(t)
		fromRound(r, &t)
		if done {
			if err := k.settleOrRefund(sctx, &t); err != nil {
				return err
			}
			if err := k.OpenRounds.Remove(ctx, id); err != nil {
				return err
			}
		}
		if err := k.saveRound(ctx, before, t); err != nil {
			return err
		}
	}
	return k.DrawNodes(ctx)
}

// settleOrRefund settles the round in a cached context, so that a failure
// (a broken invariant) changes nothing and does not halt the chain: the
// round's reservation then goes back to the app's escrow unpaid.
func (k Keeper) settleOrRefund(sctx sdk.Context, t *types.Round) error {
	cache, write := sctx.CacheContext()
	settled := *t
	settled.Members = slices.Clone(t.Members)
	settle := k.settle
	if t.SliceId != "" {
		settle = k.settleStorage
	}
	err := settle(cache, &settled)
	if err == nil {
		write()
		*t = settled
		return nil
	}
	sctx.Logger().Error("trustedfn: settling a round failed; its reservation returns to the escrow",
		"round", t.Id, "app", t.AppId, "err", err)
	emit(sctx, "settle_failed", "round_id", strconv.FormatUint(t.Id, 10), "error", err.Error())
	t.ClosedHeight = sctx.BlockHeight()
	if t.AppId == "" {
		return nil // a storage challenge holds no money
	}
	a, err := k.GetApp(sctx, t.AppId)
	if err != nil {
		return err
	}
	a.Escrow = a.Escrow.Add(t.Reserved...)
	a.OpenRound = 0
	t.ClosedHeight = sctx.BlockHeight()
	return k.Apps.Set(sctx, a.Id, a)
}

// nextRoundID is the ID the next round gets (IDs start at 1).
func (k Keeper) nextRoundID(ctx context.Context) (uint64, error) {
	id, err := k.NextRound.Peek(ctx)
	return max(id, 1), err
}
