package keeper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// Defaults for settings an app leaves at zero.
const (
	DefaultTimeout  = 10 // blocks, for commits and for reveals
	maxNameLen      = 64
	maxCodePathLen  = 1024
	maxCallHashSize = 64
	maxEndpointLen  = 256
)

// OfferCompute records (or, with capacity 0, withdraws) a resource node's
// offer of compute, reachable at endpoint.
func (k Keeper) OfferCompute(ctx context.Context, operator, node string, capacity uint32, endpoint, agent string) error {
	if err := k.operatorOf(ctx, operator, node); err != nil {
		return err
	}
	if capacity > 0 {
		if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(endpoint) > maxEndpointLen {
			return fmt.Errorf("%w: endpoint %q must be an http(s) URL of at most %d bytes", types.ErrInvalidOffer, endpoint, maxEndpointLen)
		}
	}
	if agent != "" {
		if _, err := k.addressCodec.StringToBytes(agent); err != nil {
			return fmt.Errorf("%w: agent %q: %w", types.ErrInvalidOffer, agent, err)
		}
	}
	o, err := k.Offers.Get(ctx, node)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	o.NodeId, o.Operator, o.Capacity, o.Endpoint, o.Agent = node, operator, capacity, endpoint, agent
	if capacity == 0 && o.AppsHosted == 0 {
		return k.Offers.Remove(ctx, node)
	}
	emit(ctx, "offer", "node_id", node, "capacity", strconv.FormatUint(uint64(capacity), 10))
	return k.Offers.Set(ctx, node, o)
}

// appID is bech32("app", SHA-256(owner ‖ sequence)[:20]).
func appID(owner sdk.AccAddress, seq uint64) (string, error) {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(bytes.Clone(owner), seq))
	return bech32.ConvertAndEncode(types.AppPrefix, h[:20])
}

func validEscrow(c sdk.Coins) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: escrow %s: %w", types.ErrInvalidApp, c, err)
	}
	for _, coin := range c {
		if coin.Denom != types.CostDenom && coin.Denom != types.ProfitDenom {
			return fmt.Errorf("%w: escrow holds %s; only %s and %s pay nodes",
				types.ErrInvalidApp, coin.Denom, types.CostDenom, types.ProfitDenom)
		}
	}
	return nil
}

// newApp checks a create message against the params and fills defaults.
func newApp(m *types.MsgCreateApp, p types.Params) (types.App, error) {
	bad := func(format string, args ...any) (types.App, error) {
		return types.App{}, fmt.Errorf("%w: "+format, append([]any{types.ErrInvalidApp}, args...)...)
	}
	if m.Name == "" || len(m.Name) > maxNameLen {
		return bad("name must be 1 to %d bytes", maxNameLen)
	}
	if h, err := hex.DecodeString(m.CodeHash); err != nil || len(h) != sha256.Size {
		return bad("code_hash must be a hex SHA-256")
	}
	if m.CodePath == "" || len(m.CodePath) > maxCodePathLen {
		return bad("code_path must be 1 to %d bytes", maxCodePathLen)
	}
	if m.Nodes < 1 || m.Nodes > p.MaxNodes {
		return bad("nodes must be 1 to %d", p.MaxNodes)
	}
	if m.RoundsEvery < 1 {
		return bad("rounds_every must be at least one block")
	}
	agreement := round.Agreement{Num: m.AgreementNum, Den: m.AgreementDen}
	if agreement == (round.Agreement{}) {
		agreement = round.Agreement{Num: 2, Den: 3}
	}
	if err := agreement.Validate(); err != nil {
		return bad("%v", err)
	}
	commitTimeout, revealTimeout := m.CommitTimeout, m.RevealTimeout
	if commitTimeout == 0 {
		commitTimeout = DefaultTimeout
	}
	if revealTimeout == 0 {
		revealTimeout = DefaultTimeout
	}
	if commitTimeout < p.MinTimeout || revealTimeout < p.MinTimeout {
		return bad("timeouts must be at least %d blocks", p.MinTimeout)
	}
	baseFee := m.BaseFee
	if baseFee.IsNil() {
		baseFee = math.ZeroInt()
	}
	if baseFee.IsNegative() {
		return bad("base_fee is negative")
	}
	if m.StrPrice.IsNil() || !m.StrPrice.IsPositive() {
		return bad("str_price (ustb per ustos) must be positive")
	}
	if err := validEscrow(m.Escrow); err != nil {
		return types.App{}, err
	}
	callFee := m.CallFee
	if callFee.Denom == "" {
		callFee = sdk.NewInt64Coin(types.ProfitDenom, 0)
	}
	if callFee.Denom != types.ProfitDenom || callFee.IsNegative() {
		return bad("call_fee must be %s", types.ProfitDenom)
	}
	if m.MinNodeScore > types.MaxScore {
		return bad("min_node_score is at most %d", types.MaxScore)
	}
	return types.App{
		Owner: m.Owner, Name: m.Name, CodeHash: m.CodeHash, CodePath: m.CodePath,
		NodesWanted: m.Nodes, RoundsEvery: m.RoundsEvery,
		AgreementNum: agreement.Num, AgreementDen: agreement.Den,
		CommitTimeout: commitTimeout, RevealTimeout: revealTimeout,
		BaseFee: baseFee, MaxUsage: m.MaxUsage, StrPrice: m.StrPrice, Escrow: m.Escrow,
		CallFee: callFee, MinNodeScore: m.MinNodeScore, OpenSource: m.OpenSource,
		Status: types.AppStatus_APP_STATUS_PENDING,
	}, nil
}

// CreateApp takes the escrow from the owner and records the app as pending:
// its nodes are drawn in a later block (DrawNodes).
func (k Keeper) CreateApp(ctx context.Context, m *types.MsgCreateApp) (string, error) {
	p, err := k.GetParams(ctx)
	if err != nil {
		return "", err
	}
	app, err := newApp(m, p)
	if err != nil {
		return "", err
	}
	owner, err := k.addressCodec.StringToBytes(m.Owner)
	if err != nil {
		return "", fmt.Errorf("owner: %w", err)
	}
	waiting := 0
	if err := k.Pending.Walk(ctx, nil, func(string) (bool, error) { waiting++; return waiting >= maxPending, nil }); err != nil {
		return "", err
	}
	if waiting >= maxPending {
		return "", fmt.Errorf("%w: %d apps are waiting for nodes already; try again later", types.ErrInvalidApp, waiting)
	}
	seq, err := k.NextApp.Next(ctx)
	if err != nil {
		return "", err
	}
	if app.Id, err = appID(owner, seq); err != nil {
		return "", err
	}
	if !app.Escrow.IsZero() {
		if err := k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, app.Escrow); err != nil {
			return "", fmt.Errorf("deposit escrow: %w", err)
		}
	}
	app.CreatedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.Apps.Set(ctx, app.Id, app); err != nil {
		return "", err
	}
	emit(ctx, "create_app", "app_id", app.Id, "owner", app.Owner, "escrow", app.Escrow.String())
	return app.Id, k.Pending.Set(ctx, app.Id)
}

func (k Keeper) ownedApp(ctx context.Context, owner, id string) (types.App, error) {
	a, err := k.GetApp(ctx, id)
	if err != nil {
		return a, err
	}
	if a.Owner != owner {
		return a, fmt.Errorf("%w: %s", types.ErrNotOwner, id)
	}
	return a, nil
}

// TopUp adds to an app's escrow.
func (k Keeper) TopUp(ctx context.Context, owner, id string, amount sdk.Coins) error {
	a, err := k.ownedApp(ctx, owner, id)
	if err != nil {
		return err
	}
	if a.Status == types.AppStatus_APP_STATUS_STOPPED {
		return fmt.Errorf("%w: %s is stopped", types.ErrAppNotActive, id)
	}
	if err := validEscrow(amount); err != nil {
		return err
	}
	ownerAddr, err := k.addressCodec.StringToBytes(owner)
	if err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, ownerAddr, types.ModuleName, amount); err != nil {
		return fmt.Errorf("top up: %w", err)
	}
	a.Escrow = a.Escrow.Add(amount...)
	emit(ctx, "top_up", "app_id", id, "amount", amount.String())
	return k.Apps.Set(ctx, id, a)
}

// StopApp ends an app with no round in progress and refunds its escrow.
func (k Keeper) StopApp(ctx context.Context, owner, id string) (sdk.Coins, error) {
	a, err := k.ownedApp(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if a.Status == types.AppStatus_APP_STATUS_STOPPED {
		return nil, fmt.Errorf("%w: %s is already stopped", types.ErrAppNotActive, id)
	}
	if a.OpenRound != 0 {
		return nil, fmt.Errorf("%w: round %d; stop it after that round ends", types.ErrRoundOpen, a.OpenRound)
	}
	ownerAddr, err := k.addressCodec.StringToBytes(owner)
	if err != nil {
		return nil, err
	}
	refund := a.Escrow
	if !refund.IsZero() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, ownerAddr, refund); err != nil {
			return nil, err
		}
	}
	for _, n := range a.Nodes {
		if err := k.release(ctx, n, id); err != nil {
			return nil, err
		}
	}
	if err := k.Pending.Remove(ctx, id); err != nil {
		return nil, err
	}
	a.Escrow, a.Status = nil, types.AppStatus_APP_STATUS_STOPPED
	emit(ctx, "stop_app", "app_id", id, "refunded", refund.String())
	return refund, k.Apps.Set(ctx, id, a)
}

// release frees the node's slot the app held.
func (k Keeper) release(ctx context.Context, node, app string) error {
	if err := k.NodeApps.Remove(ctx, collections.Join(node, app)); err != nil {
		return err
	}
	o, err := k.Offers.Get(ctx, node)
	if errors.Is(err, collections.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.AppsHosted > 0 {
		o.AppsHosted--
	}
	if o.Capacity == 0 && o.AppsHosted == 0 {
		return k.Offers.Remove(ctx, node)
	}
	return k.Offers.Set(ctx, node, o)
}

// DrawNodes gives each pending app created before this block its nodes,
// drawn from the offers with room, active in x/register and meeting the
// app's minimum score, in the order of SHA-256(block hash ‖ app ID ‖ node
// ID). Nobody knows the block hash when the app is submitted, so nobody can
// line up colluding nodes for it (DESIGN §8). An app with too few eligible
// nodes stays pending.
//
// The end blocker's work stays bounded however many apps wait: an app is
// tried in the block after its request and then every drawEvery blocks, at
// most maxDraws apps a block, and one still waiting after pendingTTL
// blocks is stopped and its escrow refunded; at most maxPending apps wait.
func (k Keeper) DrawNodes(ctx context.Context) error {
	sctx := sdk.UnwrapSDKContext(ctx)
	height := sctx.BlockHeight()
	var ready, expired []types.App
	err := k.Pending.Walk(ctx, nil, func(id string) (bool, error) {
		a, err := k.GetApp(ctx, id)
		if err != nil {
			return true, err
		}
		age := height - a.CreatedHeight
		switch {
		case age > pendingTTL:
			expired = append(expired, a)
		case age > 0 && (age-1)%drawEvery == 0:
			ready = append(ready, a)
		}
		return len(ready) >= maxDraws, nil
	})
	if err != nil {
		return err
	}
	for _, a := range ready {
		if err := k.draw(ctx, a, sctx.HeaderHash()); err != nil {
			return err
		}
	}
	for _, a := range expired {
		refund, err := k.StopApp(ctx, a.Owner, a.Id)
		if err != nil {
			return err
		}
		emit(ctx, "app_expired", "app_id", a.Id, "refunded", refund.String())
	}
	return nil
}

// Bounds on apps waiting for nodes (DrawNodes).
const (
	drawEvery  = 10
	maxDraws   = 16
	pendingTTL = 1000
	maxPending = 1000
)

func (k Keeper) draw(ctx context.Context, a types.App, blockHash []byte) error {
	type ticket struct {
		node string
		key  [32]byte
	}
	var tickets []ticket
	err := k.Offers.Walk(ctx, nil, func(node string, o types.Offer) (bool, error) {
		if o.AppsHosted >= o.Capacity || !k.reg.IsResourceNodeActive(ctx, node) {
			return false, nil
		}
		rec, err := k.record(ctx, node)
		if err != nil {
			return true, err
		}
		if rec.Score() < a.MinNodeScore {
			return false, nil
		}
		h := sha256.New()
		for _, f := range [][]byte{blockHash, []byte(a.Id), []byte(node)} {
			h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
			h.Write(f)
		}
		var t ticket
		t.node = node
		h.Sum(t.key[:0])
		tickets = append(tickets, t)
		return false, nil
	})
	if err != nil {
		return err
	}
	if len(tickets) < int(a.NodesWanted) {
		return nil // stays pending until enough nodes offer compute
	}
	slices.SortFunc(tickets, func(x, y ticket) int { return bytes.Compare(x.key[:], y.key[:]) })
	for _, t := range tickets[:a.NodesWanted] {
		a.Nodes = append(a.Nodes, t.node)
		o, err := k.Offers.Get(ctx, t.node)
		if err != nil {
			return err
		}
		o.AppsHosted++
		if err := k.Offers.Set(ctx, t.node, o); err != nil {
			return err
		}
		if err := k.NodeApps.Set(ctx, collections.Join(t.node, a.Id)); err != nil {
			return err
		}
	}
	a.Status = types.AppStatus_APP_STATUS_ACTIVE
	a.ActivatedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.Apps.Set(ctx, a.Id, a); err != nil {
		return err
	}
	emit(ctx, "app_active", "app_id", a.Id, "nodes", fmt.Sprint(a.Nodes))
	return k.Pending.Remove(ctx, a.Id)
}
