package keeper

import (
	"context"
	"fmt"
	"strconv"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/trustedfn/payout"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// settle is Steps 11 and 12 for a round that is done: it pays the paid
// nodes from the round's reservation, split as §6.3 says; slashes the nodes
// that lied or stalled at §6.10's rate; updates every node's record and the
// app's; and returns what is left of the reservation to the escrow.
func (k Keeper) settle(ctx context.Context, t *types.Round) error {
	sctx := sdk.UnwrapSDKContext(ctx)
	p, err := k.GetParams(ctx)
	if err != nil {
		return err
	}
	a, err := k.GetApp(ctx, t.AppId)
	if err != nil {
		return err
	}
	reserved := t.Reserved
	var toReserve, toSupport, burned sdk.Coins
	err = k.eachMember(ctx, t, p.Slashing(), func(m *types.Member, st round.Status, _ *types.NodeRecord) error {
		if !st.Paid() {
			return nil
		}
		pay, err := nodePayment(a, p, m.PaidUsage)
		if err != nil {
			return err
		}
		if !reserved.IsAllGTE(withdrawn(pay)) { // cannot happen: OpenRound reserved the most
			return fmt.Errorf("%w: round %d reserved %s, owes %s", types.ErrEscrow, t.Id, reserved, withdrawn(pay))
		}
		if m.Paid, err = k.payNode(ctx, m.NodeId, pay); err != nil {
			// The node left x/register since the round began: its share
			// stays in the escrow.
			emit(ctx, "unpaid", "node_id", m.NodeId, "round_id", strconv.FormatUint(t.Id, 10), "error", err.Error())
			return nil
		}
		reserved = reserved.Sub(withdrawn(pay)...)
		toReserve = toReserve.Add(sdk.NewCoin(types.CostDenom, pay.ReserveSTB))
		toSupport = toSupport.Add(sdk.NewCoin(types.ProfitDenom, pay.SupportSTR))
		burned = burned.Add(sdk.NewCoin(types.ProfitDenom, pay.BurnSTR))
		return nil
	})
	if err != nil {
		return err
	}
	if err := k.distribute(ctx, toReserve, toSupport, burned); err != nil {
		return err
	}
	t.ToReserve, t.ToSupport, t.Burned = toReserve, toSupport, burned
	t.ClosedHeight = sctx.BlockHeight()
	a.Escrow = a.Escrow.Add(reserved...)
	a.OpenRound = 0
	a.Stats.Rounds++
	if t.Result {
		a.Stats.TrueRounds++
	}
	if t.AppDefaulted {
		a.Stats.Defaults++
	}
	if t.SpotDisputed {
		a.Stats.SpotDisputes++
	}
	emit(ctx, "round", "round_id", strconv.FormatUint(t.Id, 10), "app_id", a.Id,
		"result", strconv.FormatBool(t.Result), "returned", reserved.String())
	return k.Apps.Set(ctx, a.Id, a)
}

// eachMember updates every member's record: the round counted (§4.5), f's
// part (payments, storage failures), and the slash of a node that lied or
// stalled (§6.10).
func (k Keeper) eachMember(ctx context.Context, t *types.Round, s payout.Slashing,
	f func(m *types.Member, st round.Status, rec *types.NodeRecord) error,
) error {
	for i := range t.Members {
		m := &t.Members[i]
		st, _ := round.ParseStatus(m.Status)
		rec, err := k.record(ctx, m.NodeId)
		if err != nil {
			return err
		}
		count(&rec, st, t, m)
		if err := f(m, st, &rec); err != nil {
			return err
		}
		if st.Slashed() {
			k.slash(ctx, &rec, m, s)
		}
		if err := k.Records.Set(ctx, m.NodeId, rec); err != nil {
			return err
		}
	}
	return nil
}

// count adds the round to the node's record (§4.5).
func count(rec *types.NodeRecord, st round.Status, t *types.Round, m *types.Member) {
	rec.Rounds++
	switch st {
	case round.Majority:
		rec.Majority++
	case round.Minority:
		rec.Minority++
	case round.Missed:
		rec.Missed++
	case round.Refused:
		rec.Refused++
	case round.Stalled:
		rec.Stalled++
	case round.Lied:
		rec.Lied++
	case round.Excused:
		rec.Excused++
	}
	revealed := st == round.Majority || st == round.Minority
	if revealed && len(t.SpotExpected) > 0 && string(m.OutputHash) != string(t.SpotExpected) {
		rec.SpotFailures++
	}
}

// payNode sends the node's share to its operator.
func (k Keeper) payNode(ctx context.Context, node string, pay payout.Payment) (sdk.Coins, error) {
	coins := sdk.NewCoins(sdk.NewCoin(types.CostDenom, pay.NodeSTB), sdk.NewCoin(types.ProfitDenom, pay.NodeSTR))
	if coins.IsZero() {
		return coins, nil
	}
	op, err := k.reg.ResourceNodeOperator(ctx, node)
	if err != nil {
		return nil, err
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, op, coins); err != nil {
		return nil, fmt.Errorf("pay %s: %w", node, err)
	}
	return coins, nil
}

// distribute sends the swap reserve's, network support's and the burn's
// shares of a round's payments (§6.3, §6.4, §6.5).
func (k Keeper) distribute(ctx context.Context, toReserve, toSupport, burned sdk.Coins) error {
	if !toReserve.IsZero() {
		if err := k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, types.SwapReserveName, toReserve); err != nil {
			return fmt.Errorf("swap reserve: %w", err)
		}
	}
	if !toSupport.IsZero() {
		if err := k.distr.FundCommunityPool(ctx, toSupport, k.moduleAddr); err != nil {
			return fmt.Errorf("network support: %w", err)
		}
	}
	if !burned.IsZero() {
		if err := k.bank.BurnCoins(ctx, types.ModuleName, burned); err != nil {
			return fmt.Errorf("burn: %w", err)
		}
	}
	return nil
}

// slash takes §6.10's time-weighted share of the node's deposit. A node
// whose deposit cannot be slashed (it left x/register) keeps the mark on its
// record.
func (k Keeper) slash(ctx context.Context, rec *types.NodeRecord, m *types.Member, s payout.Slashing) {
	var last payout.Record
	last.Level = rec.SlashLevel
	if rec.LastSlash != nil {
		last.Last = *rec.LastSlash
	}
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	rate, next := s.Slash(last, now)
	rec.Slashes++
	rec.SlashLevel = next.Level
	rec.LastSlash = &now
	burned, err := k.reg.SlashResourceNode(ctx, m.NodeId, rate)
	if err != nil {
		emit(ctx, "slash_failed", "node_id", m.NodeId, "rate", rate.String(), "error", err.Error())
		return
	}
	m.Slashed = burned
	emit(ctx, "slash", "node_id", m.NodeId, "rate", rate.String(), "burned", burned.String())
}
