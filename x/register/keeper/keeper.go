// Package keeper holds the register module's state: resource nodes, meta
// nodes (the PoA authorities) and their deposits (DESIGN §4, §5.2).
package keeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"
	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/x/register/types"
)

// Keeper stores nodes in collections keyed by node ID.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	bank         types.BankKeeper
	distr        types.DistrKeeper
	authority    string
	moduleAddr   sdk.AccAddress

	Schema        collections.Schema
	Params        collections.Item[types.Params]
	ResourceNodes collections.Map[string, types.ResourceNode]
	MetaNodes     collections.Map[string, types.MetaNode]
	// Unbonding: (unbonding ends, node ID) of every UNBONDING resource node,
	// so EndBlocker reads only the deposits that are due.
	Unbonding collections.KeySet[collections.Pair[time.Time, string]]
}

// NewKeeper builds the keeper. distr funds the community pool with the
// deposit of a meta node voted out; authority is the account allowed to
// change the parameters (the gov module account).
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec,
	bank types.BankKeeper, distr types.DistrKeeper, authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Sprintf("register: invalid authority %q: %v", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:           cdc,
		addressCodec:  addressCodec,
		bank:          bank,
		distr:         distr,
		authority:     authority,
		moduleAddr:    authtypes.NewModuleAddress(types.ModuleName),
		Params:        collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		ResourceNodes: collections.NewMap(sb, types.ResourceNodesKey, "resource_nodes", collections.StringKey, codec.CollValue[types.ResourceNode](cdc)),
		MetaNodes:     collections.NewMap(sb, types.MetaNodesKey, "meta_nodes", collections.StringKey, codec.CollValue[types.MetaNode](cdc)),
		Unbonding: collections.NewKeySet(sb, types.UnbondingKey, "unbonding",
			collections.PairKeyCodec(sdk.TimeKey, collections.StringKey)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the address allowed to update the parameters.
func (k Keeper) Authority() string { return k.authority }

// AddressCodec returns the account address codec ("st" prefix).
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }

// GetParams returns the parameters (defaults if none were stored).
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	p, err := k.Params.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.DefaultParams(), nil
	}
	return p, err
}

// UpdateParams replaces the parameters; only the authority may.
func (k Keeper) UpdateParams(ctx context.Context, authority string, p types.Params) error {
	if authority != k.authority {
		return errorsmod.Wrapf(types.ErrUnauthorized, "expected %s, got %s", k.authority, authority)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return k.Params.Set(ctx, p)
}

func (k Keeper) resourceNode(ctx context.Context, id string) (types.ResourceNode, error) {
	n, err := k.ResourceNodes.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return n, errorsmod.Wrapf(types.ErrNodeNotFound, "resource node %s", id)
	}
	return n, err
}

func (k Keeper) metaNode(ctx context.Context, id string) (types.MetaNode, error) {
	n, err := k.MetaNodes.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return n, errorsmod.Wrapf(types.ErrNodeNotFound, "meta node %s", id)
	}
	return n, err
}

// registered reports whether id is a resource or a meta node: a node key has
// one role in the network.
func (k Keeper) registered(ctx context.Context, id string) (bool, error) {
	if ok, err := k.ResourceNodes.Has(ctx, id); err != nil || ok {
		return ok, err
	}
	return k.MetaNodes.Has(ctx, id)
}

// operatorIs reports whether the stored bech32 operator is addr.
func (k Keeper) operatorIs(stored string, addr sdk.AccAddress) bool {
	bz, err := k.addressCodec.StringToBytes(stored)
	return err == nil && sdk.AccAddress(bz).Equals(addr)
}

func emit(ctx context.Context, typ string, attrs ...string) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	ev := sdk.NewEvent(typ, sdk.NewAttribute(sdk.AttributeKeyModule, types.ModuleName))
	for i := 0; i+1 < len(attrs); i += 2 {
		ev = ev.AppendAttributes(sdk.NewAttribute(attrs[i], attrs[i+1]))
	}
	sdkCtx.EventManager().EmitEvent(ev)
}

// lockDeposit moves a deposit from operator to the module account.
func (k Keeper) lockDeposit(ctx context.Context, operator sdk.AccAddress, c sdk.Coin) error {
	if c.IsZero() {
		return nil
	}
	return k.bank.SendCoinsFromAccountToModule(ctx, operator, types.ModuleName, sdk.NewCoins(c))
}

// RegisterResourceNode registers the node whose key is pub, locks its
// deposit and makes it ACTIVE (DESIGN §4). It returns the derived node ID.
// A key that is already registered is rejected, except an INACTIVE resource
// node re-registered by its own operator, which becomes ACTIVE again.
func (k Keeper) RegisterResourceNode(ctx context.Context, operator sdk.AccAddress, pub []byte,
	networkAddress string, capacity uint64, region string, deposit sdk.Coin,
) (string, error) {
	id, err := types.NodeIDFromPublicKey(pub)
	if err != nil {
		return "", err
	}
	params, err := k.GetParams(ctx)
	if err != nil {
		return "", err
	}
	if err := types.ValidateDeposit(deposit, params.MinResourceDeposit); err != nil {
		return "", err
	}
	operatorStr, err := k.addressCodec.BytesToString(operator)
	if err != nil {
		return "", errorsmod.Wrap(types.ErrInvalidAddress, err.Error())
	}
	old, err := k.ResourceNodes.Get(ctx, id)
	switch {
	case err == nil:
		if old.Status == types.NodeStatus_NODE_STATUS_UNBONDING && old.Operator == operatorStr {
			return "", errorsmod.Wrapf(types.ErrNodeExists, "resource node %s is unbonding until %s; register it again after that",
				id, old.UnbondingEnds.UTC().Format(time.RFC3339))
		}
		if old.Status != types.NodeStatus_NODE_STATUS_INACTIVE || old.Operator != operatorStr {
			return "", errorsmod.Wrapf(types.ErrNodeExists, "resource node %s", id)
		}
	case errors.Is(err, collections.ErrNotFound):
		if ok, err := k.MetaNodes.Has(ctx, id); err != nil {
			return "", err
		} else if ok {
			return "", errorsmod.Wrapf(types.ErrNodeExists, "%s is a meta node", id)
		}
	default:
		return "", err
	}
	if err := k.lockDeposit(ctx, operator, deposit); err != nil {
		return "", err
	}
	node := types.ResourceNode{
		NodeId:           id,
		PublicKey:        append([]byte(nil), pub...),
		Operator:         operatorStr,
		NetworkAddress:   networkAddress,
		Capacity:         capacity,
		Region:           region,
		Deposit:          deposit,
		Status:           types.NodeStatus_NODE_STATUS_ACTIVE,
		RegisteredHeight: sdk.UnwrapSDKContext(ctx).BlockHeight(),
	}
	if err := k.ResourceNodes.Set(ctx, id, node); err != nil {
		return "", err
	}
	emit(ctx, "register_resource_node", "node_id", id, "operator", operatorStr, "deposit", deposit.String())
	return id, nil
}

// UpdateResourceNode changes a node's network address, capacity or region;
// empty values (capacity 0) leave a field unchanged. Only the operator may.
func (k Keeper) UpdateResourceNode(ctx context.Context, operator sdk.AccAddress, nodeID, networkAddress string,
	capacity uint64, region string,
) error {
	n, err := k.resourceNode(ctx, nodeID)
	if err != nil {
		return err
	}
	if !k.operatorIs(n.Operator, operator) {
		return errorsmod.Wrapf(types.ErrUnauthorized, "%s does not operate resource node %s", operator, nodeID)
	}
	if networkAddress != "" {
		n.NetworkAddress = networkAddress
	}
	if capacity != 0 {
		n.Capacity = capacity
	}
	if region != "" {
		n.Region = region
	}
	if err := k.ResourceNodes.Set(ctx, nodeID, n); err != nil {
		return err
	}
	emit(ctx, "update_resource_node", "node_id", nodeID)
	return nil
}

// activeMetaNodes returns the IDs of the ACTIVE meta nodes.
func (k Keeper) activeMetaNodes(ctx context.Context) (map[string]bool, error) {
	active := make(map[string]bool)
	err := k.MetaNodes.Walk(ctx, nil, func(id string, n types.MetaNode) (bool, error) {
		if n.Status == types.NodeStatus_NODE_STATUS_ACTIVE {
			active[id] = true
		}
		return false, nil
	})
	return active, err
}

// RegisterMetaNode applies for admission as a meta node: the deposit is
// locked and the node is PENDING until more than 2/3 of the active meta
// nodes (MsgApproveMetaNode) or governance (MsgSetMetaNodeStatus) admit it
// (DESIGN §4, §5.2). A registration never makes an authority by itself,
// except the bootstrap of a test network: with allow_meta_bootstrap set
// and no meta node ever known to the chain (none in its genesis, none
// registered since), the first registrant is ACTIVE at once.
func (k Keeper) RegisterMetaNode(ctx context.Context, operator sdk.AccAddress, pub []byte, networkAddress string,
	deposit sdk.Coin,
) (string, types.NodeStatus, error) {
	id, err := types.NodeIDFromPublicKey(pub)
	if err != nil {
		return "", 0, err
	}
	params, err := k.GetParams(ctx)
	if err != nil {
		return "", 0, err
	}
	if err := types.ValidateDeposit(deposit, params.MinMetaDeposit); err != nil {
		return "", 0, err
	}
	operatorStr, err := k.addressCodec.BytesToString(operator)
	if err != nil {
		return "", 0, errorsmod.Wrap(types.ErrInvalidAddress, err.Error())
	}
	if ok, err := k.registered(ctx, id); err != nil {
		return "", 0, err
	} else if ok {
		return "", 0, errorsmod.Wrapf(types.ErrNodeExists, "node %s", id)
	}
	status := types.NodeStatus_NODE_STATUS_PENDING
	if boot, err := k.bootstrapping(ctx, params); err != nil {
		return "", 0, err
	} else if boot {
		status = types.NodeStatus_NODE_STATUS_ACTIVE
	}
	if err := k.lockDeposit(ctx, operator, deposit); err != nil {
		return "", 0, err
	}
	node := types.MetaNode{
		NodeId:         id,
		PublicKey:      append([]byte(nil), pub...),
		Operator:       operatorStr,
		NetworkAddress: networkAddress,
		Deposit:        deposit,
		Status:         status,
	}
	if err := k.MetaNodes.Set(ctx, id, node); err != nil {
		return "", 0, err
	}
	emit(ctx, "register_meta_node", "node_id", id, "operator", operatorStr, "status", status.String())
	return id, status, nil
}

// bootstrapping reports whether the next meta node registered becomes the
// first authority: only if the params allow it and the chain has never had
// a meta node. A genesis that names meta nodes therefore closes the
// bootstrap for good, and so does the first registration; meta nodes are
// never deleted (a removed one stays REMOVED), so it cannot reopen.
func (k Keeper) bootstrapping(ctx context.Context, p types.Params) (bool, error) {
	if !p.AllowMetaBootstrap {
		return false, nil
	}
	it, err := k.MetaNodes.Iterate(ctx, nil)
	if err != nil {
		return false, err
	}
	defer it.Close()
	return !it.Valid(), nil
}

// ApproveMetaNode records the vote of the active meta node voterNodeID,
// operated by voter, to admit the PENDING candidate. Each active meta node
// votes once; the candidate becomes ACTIVE when the approvals of currently
// active meta nodes are more than 2/3 of them, 3·approvals > 2·active
// (DESIGN §4: "admitted by a vote of existing meta nodes"; the authorities
// decide by more than 2/3, as for volume reports, DESIGN §7): 3 of 4,
// never 2 of 4. It returns the candidate's status.
func (k Keeper) ApproveMetaNode(ctx context.Context, voter sdk.AccAddress, voterNodeID, candidateID string) (types.NodeStatus, error) {
	if !k.IsActiveMetaNodeOperator(ctx, voter, voterNodeID) {
		return 0, errorsmod.Wrapf(types.ErrUnauthorized, "%s does not operate an active meta node %s", voter, voterNodeID)
	}
	c, err := k.metaNode(ctx, candidateID)
	if err != nil {
		return 0, err
	}
	if c.Status != types.NodeStatus_NODE_STATUS_PENDING {
		return 0, errorsmod.Wrapf(types.ErrInvalidStatus, "meta node %s is %s, not pending", candidateID, c.Status)
	}
	for _, a := range c.Approvals {
		if a == voterNodeID {
			return 0, errorsmod.Wrapf(types.ErrAlreadyApproved, "%s already approved %s", voterNodeID, candidateID)
		}
	}
	c.Approvals = append(c.Approvals, voterNodeID)
	active, err := k.activeMetaNodes(ctx)
	if err != nil {
		return 0, err
	}
	if HasSuperMajority(c.Approvals, active) {
		c.Status = types.NodeStatus_NODE_STATUS_ACTIVE
	}
	if err := k.MetaNodes.Set(ctx, candidateID, c); err != nil {
		return 0, err
	}
	emit(ctx, "approve_meta_node", "voter_node_id", voterNodeID, "candidate_node_id", candidateID, "status", c.Status.String())
	return c.Status, nil
}

// HasSuperMajority reports whether the votes that come from nodes in
// active are more than 2/3 of active (types.SuperMajority); a vote by a
// node no longer active does not count.
func HasSuperMajority(votes []string, active map[string]bool) bool {
	return types.SuperMajority(countIn(votes, active), len(active))
}

// VoteRemoveMetaNode records the vote of the active meta node voterNodeID,
// operated by voter, to remove the ACTIVE meta node targetID (DESIGN §5.2:
// "the authorities can vote a misbehaving meta node out on chain"). Each
// active meta node other than the target votes once. Votes are counted
// against the active set as it is when each vote arrives: only the votes of
// nodes that are still active count, and the target is removed when they are
// more than 2/3 of the active meta nodes other than the target (3 of 3, 3
// of 4, 4 of 5; with 2 active the other one alone). A removed
// target becomes REMOVED (it leaves ActiveMetaNodeKeys and
// IsActiveMetaNodeOperator), its whole deposit goes to the community pool
// and its pending removal votes are deleted. The last active meta node
// cannot be voted out: nobody would be left to run the index.
func (k Keeper) VoteRemoveMetaNode(ctx context.Context, voter sdk.AccAddress, voterNodeID, targetID string,
) (*types.MsgVoteRemoveMetaNodeResponse, error) {
	if voterNodeID == targetID {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "meta node %s cannot vote on its own removal", voterNodeID)
	}
	t, err := k.metaNode(ctx, targetID)
	if err != nil {
		return nil, err
	}
	if t.Status != types.NodeStatus_NODE_STATUS_ACTIVE {
		return nil, errorsmod.Wrapf(types.ErrInvalidStatus, "meta node %s is %s; only an active meta node can be voted out", targetID, t.Status)
	}
	others, err := k.activeMetaNodes(ctx)
	if err != nil {
		return nil, err
	}
	delete(others, targetID)
	if len(others) == 0 {
		return nil, errorsmod.Wrapf(types.ErrLastMetaNode, "meta node %s is the only active meta node", targetID)
	}
	if !k.IsActiveMetaNodeOperator(ctx, voter, voterNodeID) {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "%s does not operate an active meta node %s", voter, voterNodeID)
	}
	for _, v := range t.RemovalVotes {
		if v == voterNodeID {
			return nil, errorsmod.Wrapf(types.ErrAlreadyVoted, "%s already voted to remove %s", voterNodeID, targetID)
		}
	}
	t.RemovalVotes = append(t.RemovalVotes, voterNodeID)
	res := &types.MsgVoteRemoveMetaNodeResponse{
		Votes:   uint32(countIn(t.RemovalVotes, others)),
		Needed:  uint32(types.SuperMajorityNeeded(len(others))),
		Slashed: sdk.NewCoin(types.Denom, math.ZeroInt()),
	}
	if HasSuperMajority(t.RemovalVotes, others) {
		if res.Slashed, err = k.removeMetaNode(ctx, &t); err != nil {
			return nil, err
		}
	}
	res.Status = t.Status
	if err := k.MetaNodes.Set(ctx, targetID, t); err != nil {
		return nil, err
	}
	votes, needed := fmt.Sprint(res.Votes), fmt.Sprint(res.Needed)
	emit(ctx, "vote_remove_meta_node", "voter_node_id", voterNodeID, "target_node_id", targetID,
		"votes", votes, "needed", needed, "status", t.Status.String())
	if t.Status == types.NodeStatus_NODE_STATUS_REMOVED {
		emit(ctx, "remove_meta_node", "node_id", targetID, "operator", t.Operator,
			"slashed", res.Slashed.String(), "votes", votes, "needed", needed)
		if err := k.settleMetaVotes(ctx); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// removeMetaNode makes t REMOVED and sends its whole deposit to the
// community pool; the caller stores t.
func (k Keeper) removeMetaNode(ctx context.Context, t *types.MetaNode) (sdk.Coin, error) {
	slashed := t.Deposit
	if slashed.Denom == "" {
		slashed.Denom = types.Denom
	}
	if slashed.IsPositive() {
		if err := k.distr.FundCommunityPool(ctx, sdk.NewCoins(slashed), k.moduleAddr); err != nil {
			return sdk.Coin{}, err
		}
	}
	t.Status = types.NodeStatus_NODE_STATUS_REMOVED
	t.Deposit = sdk.NewCoin(slashed.Denom, math.ZeroInt())
	t.RemovalVotes = nil
	return slashed, nil
}

// SetMetaNodeStatus is governance's say over the meta nodes (DESIGN §4:
// "admitted by a vote of existing meta nodes or by governance"): ACTIVE
// admits a PENDING node; REMOVED removes an ACTIVE one as a vote of the
// others would, its deposit to the community pool. The last active meta
// node cannot be removed: nobody would be left to run the index.
func (k Keeper) SetMetaNodeStatus(ctx context.Context, authority, nodeID string, status types.NodeStatus) (sdk.Coin, error) {
	zero := sdk.NewCoin(types.Denom, math.ZeroInt())
	if authority != k.authority {
		return zero, errorsmod.Wrapf(types.ErrUnauthorized, "expected the governance authority %s, got %s", k.authority, authority)
	}
	n, err := k.metaNode(ctx, nodeID)
	if err != nil {
		return zero, err
	}
	slashed := zero
	switch {
	case status == types.NodeStatus_NODE_STATUS_ACTIVE && n.Status == types.NodeStatus_NODE_STATUS_PENDING:
		n.Status = types.NodeStatus_NODE_STATUS_ACTIVE
	case status == types.NodeStatus_NODE_STATUS_REMOVED && n.Status == types.NodeStatus_NODE_STATUS_ACTIVE:
		active, err := k.activeMetaNodes(ctx)
		if err != nil {
			return zero, err
		}
		if len(active) <= 1 {
			return zero, errorsmod.Wrapf(types.ErrLastMetaNode, "meta node %s is the only active meta node", nodeID)
		}
		if slashed, err = k.removeMetaNode(ctx, &n); err != nil {
			return zero, err
		}
	default:
		return zero, errorsmod.Wrapf(types.ErrInvalidStatus, "meta node %s is %s; governance admits a pending node (ACTIVE) or removes an active one (REMOVED), not %s",
			nodeID, n.Status, status)
	}
	if err := k.MetaNodes.Set(ctx, nodeID, n); err != nil {
		return zero, err
	}
	emit(ctx, "set_meta_node_status", "node_id", nodeID, "status", n.Status.String(), "slashed", slashed.String())
	if n.Status == types.NodeStatus_NODE_STATUS_REMOVED {
		if err := k.settleMetaVotes(ctx); err != nil {
			return zero, err
		}
	}
	return slashed, nil
}

// settleMetaVotes applies what the votes already cast decide once the
// active set has shrunk: approvals and removal votes count only the nodes
// active now, so after a removal an earlier vote may be more than 2/3, though
// its voters cannot vote again. Each round changes one node, so there are
// at most as many rounds as meta nodes.
func (k Keeper) settleMetaVotes(ctx context.Context) error {
	for {
		active, err := k.activeMetaNodes(ctx)
		if err != nil {
			return err
		}
		var next *types.MetaNode
		err = k.MetaNodes.Walk(ctx, nil, func(id string, n types.MetaNode) (bool, error) {
			switch n.Status {
			case types.NodeStatus_NODE_STATUS_PENDING:
				if HasSuperMajority(n.Approvals, active) {
					next = &n
				}
			case types.NodeStatus_NODE_STATUS_ACTIVE:
				others := make(map[string]bool, len(active))
				for a := range active {
					if a != id {
						others[a] = true
					}
				}
				if HasSuperMajority(n.RemovalVotes, others) {
					next = &n
				}
			}
			return next != nil, nil
		})
		if err != nil || next == nil {
			return err
		}
		if next.Status == types.NodeStatus_NODE_STATUS_PENDING {
			next.Status = types.NodeStatus_NODE_STATUS_ACTIVE
			emit(ctx, "approve_meta_node", "candidate_node_id", next.NodeId, "status", next.Status.String())
		} else {
			slashed, err := k.removeMetaNode(ctx, next)
			if err != nil {
				return err
			}
			emit(ctx, "remove_meta_node", "node_id", next.NodeId, "operator", next.Operator, "slashed", slashed.String())
		}
		if err := k.MetaNodes.Set(ctx, next.NodeId, *next); err != nil {
			return err
		}
	}
}

// countIn counts the node IDs in votes that are in active.
func countIn(votes []string, active map[string]bool) int {
	n := 0
	for _, v := range votes {
		if active[v] {
			n++
		}
	}
	return n
}

// IsResourceNodeActive reports whether nodeID is a registered ACTIVE
// resource node.
func (k Keeper) IsResourceNodeActive(ctx context.Context, nodeID string) bool {
	n, err := k.ResourceNodes.Get(ctx, nodeID)
	return err == nil && n.Status == types.NodeStatus_NODE_STATUS_ACTIVE
}

// ResourceNodeOperator returns the operator account of a resource node
// (ErrNodeNotFound if there is none).
func (k Keeper) ResourceNodeOperator(ctx context.Context, nodeID string) (sdk.AccAddress, error) {
	n, err := k.resourceNode(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	bz, err := k.addressCodec.StringToBytes(n.Operator)
	if err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidAddress, err.Error())
	}
	return bz, nil
}

// ActiveMetaNodeKeys maps the ID of every ACTIVE meta node to its ed25519
// public key: the PoA authorities (DESIGN §5.2).
func (k Keeper) ActiveMetaNodeKeys(ctx context.Context) (map[string][]byte, error) {
	keys := make(map[string][]byte)
	err := k.MetaNodes.Walk(ctx, nil, func(id string, n types.MetaNode) (bool, error) {
		if n.Status == types.NodeStatus_NODE_STATUS_ACTIVE {
			keys[id] = append([]byte(nil), n.PublicKey...)
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// IsActiveMetaNodeOperator reports whether operator operates the ACTIVE meta
// node metaNodeID.
func (k Keeper) IsActiveMetaNodeOperator(ctx context.Context, operator sdk.AccAddress, metaNodeID string) bool {
	n, err := k.MetaNodes.Get(ctx, metaNodeID)
	return err == nil && n.Status == types.NodeStatus_NODE_STATUS_ACTIVE && k.operatorIs(n.Operator, operator)
}

// ResourceNodeDeposit is a resource node's bonded deposit (its stake).
func (k Keeper) ResourceNodeDeposit(ctx context.Context, nodeID string) (sdk.Coin, error) {
	n, err := k.resourceNode(ctx, nodeID)
	if err != nil {
		return sdk.Coin{}, err
	}
	return n.Deposit, nil
}

// SlashResourceNode burns fraction (in (0,1]) of a resource node's deposit
// from the module account, lowers the stored deposit by as much and returns
// the burned amount (rounded down, so never more than the deposit).
func (k Keeper) SlashResourceNode(ctx context.Context, nodeID string, fraction math.LegacyDec) (sdk.Coin, error) {
	if fraction.IsNil() || !fraction.IsPositive() || fraction.GT(math.LegacyOneDec()) {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidFraction, "%v is not in (0,1]", fraction)
	}
	n, err := k.resourceNode(ctx, nodeID)
	if err != nil {
		return sdk.Coin{}, err
	}
	burn := sdk.NewCoin(n.Deposit.Denom, fraction.MulInt(n.Deposit.Amount).TruncateInt())
	if burn.Denom == "" {
		burn.Denom = types.Denom
	}
	if !burn.IsPositive() {
		return burn, nil
	}
	if err := k.bank.BurnCoins(ctx, types.ModuleName, sdk.NewCoins(burn)); err != nil {
		return sdk.Coin{}, err
	}
	n.Deposit = n.Deposit.Sub(burn)
	if err := k.ResourceNodes.Set(ctx, nodeID, n); err != nil {
		return sdk.Coin{}, err
	}
	emit(ctx, "slash_resource_node", "node_id", nodeID, "burned", burn.String(), "fraction", fraction.String())
	return burn, nil
}
