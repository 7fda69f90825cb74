package types

import (
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/identity"
)

// NodeIDFromPublicKey checks that pub is a 32-byte ed25519 key and returns
// the node ID the storage network uses for it: hex(SHA-256(pub)[:20])
// (DESIGN §3). The chain always derives IDs; it never trusts a given one.
func NodeIDFromPublicKey(pub []byte) (string, error) {
	id, err := identity.CheckPublic(pub)
	if err != nil {
		return "", errorsmod.Wrapf(ErrInvalidPublicKey, "public key is %d bytes, want %d", len(pub), PublicKeySize)
	}
	return id, nil
}

// ValidateNodeID checks the shape of a node ID: 40 lower-case hex digits.
func ValidateNodeID(id string) error {
	if len(id) != 40 {
		return errorsmod.Wrapf(ErrInvalidNode, "node id %q is not 40 hex digits", id)
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return errorsmod.Wrapf(ErrInvalidNode, "node id %q is not lower-case hex", id)
		}
	}
	return nil
}

// ValidateRemovalVote checks the node IDs of a vote to remove a meta node:
// both well formed, and a meta node never votes on its own removal
// (DESIGN §5.2).
func ValidateRemovalVote(voterNodeID, targetNodeID string) error {
	if err := ValidateNodeID(voterNodeID); err != nil {
		return errorsmod.Wrap(err, "voter node")
	}
	if err := ValidateNodeID(targetNodeID); err != nil {
		return errorsmod.Wrap(err, "target node")
	}
	if voterNodeID == targetNodeID {
		return errorsmod.Wrapf(ErrUnauthorized, "meta node %s cannot vote on its own removal", voterNodeID)
	}
	return nil
}

// ValidateNetworkAddress checks a node's network address; required is false
// for updates, where empty means unchanged.
func ValidateNetworkAddress(addr string, required bool) error {
	if addr == "" && required {
		return errorsmod.Wrap(ErrInvalidNode, "network address is empty")
	}
	if len(addr) > MaxNetworkAddressLength {
		return errorsmod.Wrapf(ErrInvalidNode, "network address longer than %d bytes", MaxNetworkAddressLength)
	}
	return nil
}

// ValidateRegion checks a region label.
func ValidateRegion(region string) error {
	if len(region) > MaxRegionLength {
		return errorsmod.Wrapf(ErrInvalidNode, "region longer than %d bytes", MaxRegionLength)
	}
	return nil
}

// ValidateDeposit checks that c is a valid coin of min's denom and at least min.
func ValidateDeposit(c, min sdk.Coin) error {
	if err := c.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidDeposit, err.Error())
	}
	if c.Denom != min.Denom {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit denom %q, want %q", c.Denom, min.Denom)
	}
	if c.Amount.LT(min.Amount) {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit %s is below the minimum %s", c, min)
	}
	return nil
}

// DefaultUnbondingSeconds is how long a deactivated resource node's
// deposit stays bonded on a real network: 7 days, which leaves time for a
// governance proposal (2 days' deposit and 2 days' voting by default) to
// slash a node for what it did just before it left.
const DefaultUnbondingSeconds = 7 * 24 * 3600

// MaxUnbondingSeconds bounds unbonding_seconds to a year, so the end of an
// unbonding never overflows a time.Time.
const MaxUnbondingSeconds = 366 * 24 * 3600

// DefaultParams returns 1_000_000ustos as both minimum deposits, no meta
// node bootstrap (the genesis names the first authorities, DESIGN §5.2)
// and a 7-day unbonding.
func DefaultParams() Params {
	return Params{
		MinResourceDeposit: sdk.NewCoin(Denom, math.NewInt(1_000_000)),
		MinMetaDeposit:     sdk.NewCoin(Denom, math.NewInt(1_000_000)),
		UnbondingSeconds:   DefaultUnbondingSeconds,
	}
}

// Validate checks that both minimums are valid ustos coins and that
// unbonding_seconds is at most MaxUnbondingSeconds.
func (p Params) Validate() error {
	if p.UnbondingSeconds > MaxUnbondingSeconds {
		return errorsmod.Wrapf(ErrInvalidParams, "unbonding_seconds %d is more than %d (a year)", p.UnbondingSeconds, MaxUnbondingSeconds)
	}
	for name, c := range map[string]sdk.Coin{"min_resource_deposit": p.MinResourceDeposit, "min_meta_deposit": p.MinMetaDeposit} {
		if err := c.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidParams, "%s: %v", name, err)
		}
		if c.Denom != Denom {
			return errorsmod.Wrapf(ErrInvalidParams, "%s denom %q, want %q", name, c.Denom, Denom)
		}
	}
	return nil
}

// DefaultGenesis returns default params and no nodes.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// AddressValidator checks a bech32 account address (the SDK's address.Codec
// satisfies it through StringToBytes).
type AddressValidator interface {
	StringToBytes(text string) ([]byte, error)
}

// Validate checks the genesis state: params, 32-byte keys, node IDs derived
// from the keys, no ID twice (across resource and meta nodes), operator
// addresses, deposits, statuses, approvals and removal votes. Deposits may
// be zero: devnet registers its nodes at genesis without deposits (DESIGN §3).
func (gs GenesisState) Validate(ac AddressValidator) error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	seen := make(map[string]bool)
	check := func(kind, id string, pub []byte, operator, netAddr string, deposit sdk.Coin) error {
		derived, err := NodeIDFromPublicKey(pub)
		if err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "%s %s: %v", kind, id, err)
		}
		if id != derived {
			return errorsmod.Wrapf(ErrInvalidGenesis, "%s %s: node id is not derived from its public key (want %s)", kind, id, derived)
		}
		if seen[id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "%s %s: duplicate node id", kind, id)
		}
		seen[id] = true
		if _, err := ac.StringToBytes(operator); err != nil || operator == "" {
			return errorsmod.Wrapf(ErrInvalidGenesis, "%s %s: invalid operator %q", kind, id, operator)
		}
		if err := ValidateNetworkAddress(netAddr, false); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "%s %s: %v", kind, id, err)
		}
		if err := deposit.Validate(); err != nil || deposit.Denom != Denom {
			return errorsmod.Wrapf(ErrInvalidGenesis, "%s %s: invalid deposit %s", kind, id, deposit)
		}
		return nil
	}
	for _, n := range gs.ResourceNodes {
		if err := check("resource node", n.NodeId, n.PublicKey, n.Operator, n.NetworkAddress, n.Deposit); err != nil {
			return err
		}
		if err := ValidateRegion(n.Region); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "resource node %s: %v", n.NodeId, err)
		}
		if err := validateResourceStatus(n); err != nil {
			return err
		}
	}
	metaIDs := make(map[string]bool)
	for _, n := range gs.MetaNodes {
		if err := check("meta node", n.NodeId, n.PublicKey, n.Operator, n.NetworkAddress, n.Deposit); err != nil {
			return err
		}
		metaIDs[n.NodeId] = true
		switch n.Status {
		case NodeStatus_NODE_STATUS_ACTIVE, NodeStatus_NODE_STATUS_PENDING, NodeStatus_NODE_STATUS_INACTIVE,
			NodeStatus_NODE_STATUS_REMOVED:
		default:
			return errorsmod.Wrapf(ErrInvalidGenesis, "meta node %s: status %s", n.NodeId, n.Status)
		}
		if len(n.RemovalVotes) > 0 && n.Status != NodeStatus_NODE_STATUS_ACTIVE {
			return errorsmod.Wrapf(ErrInvalidGenesis, "meta node %s is %s but has removal votes", n.NodeId, n.Status)
		}
	}
	for _, n := range gs.MetaNodes {
		voted := make(map[string]bool)
		for _, a := range n.Approvals {
			if voted[a] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "meta node %s: approval by %s twice", n.NodeId, a)
			}
			voted[a] = true
			if !metaIDs[a] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "meta node %s: approval by %s, which is not a meta node", n.NodeId, a)
			}
		}
		// Pending removal votes (DESIGN §5.2). A voter may since have left the
		// active set: its vote stays stored but no longer counts.
		removers := make(map[string]bool)
		for _, v := range n.RemovalVotes {
			if removers[v] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "meta node %s: removal vote by %s twice", n.NodeId, v)
			}
			removers[v] = true
			if v == n.NodeId {
				return errorsmod.Wrapf(ErrInvalidGenesis, "meta node %s: removal vote by itself", n.NodeId)
			}
			if !metaIDs[v] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "meta node %s: removal vote by %s, which is not a meta node", n.NodeId, v)
			}
		}
	}
	return nil
}

// validateResourceStatus checks a genesis resource node's status: ACTIVE,
// INACTIVE or UNBONDING, with unbonding_ends set exactly when UNBONDING.
func validateResourceStatus(n ResourceNode) error {
	switch n.Status {
	case NodeStatus_NODE_STATUS_ACTIVE, NodeStatus_NODE_STATUS_INACTIVE:
		if n.UnbondingEnds != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "resource node %s is %s but has unbonding_ends", n.NodeId, n.Status)
		}
	case NodeStatus_NODE_STATUS_UNBONDING:
		if n.UnbondingEnds == nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "resource node %s is unbonding without unbonding_ends", n.NodeId)
		}
	default:
		return errorsmod.Wrapf(ErrInvalidGenesis, "resource node %s: status %s", n.NodeId, n.Status)
	}
	return nil
}
