package devnet

import (
	"encoding/json"
	"fmt"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/app"
	"github.com/stratos-net/stratos/identity"
	registertypes "github.com/stratos-net/stratos/x/register/types"
)

// operatorAccount is the funded test account that operates every devnet
// node in the chain's registry, and so may withdraw their rewards.
const operatorAccount = "operator"

// registry is what the devnet registers in x/register at genesis
// (DESIGN §3: "devnet registers its nodes at genesis").
type registry struct {
	meta      registryEntry
	resources []registryEntry
}

type registryEntry struct {
	key      *identity.Key
	addr     string
	region   string
	capacity uint64
}

// genesis adds the devnet's meta node and resource nodes, active, with no
// deposit (genesis moves no coins), to x/register's genesis state.
func (r registry) genesis(accounts map[string]sdk.AccAddress, state map[string]json.RawMessage, cdc codec.JSONCodec) error {
	op, ok := accounts[operatorAccount]
	if !ok {
		return fmt.Errorf("no %q account in the genesis", operatorAccount)
	}
	var gen registertypes.GenesisState
	if err := cdc.UnmarshalJSON(state[registertypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("register genesis: %w", err)
	}
	zero := sdk.NewInt64Coin(app.BondDenom, 0)
	gen.MetaNodes = append(gen.MetaNodes, registertypes.MetaNode{
		NodeId: r.meta.key.ID(), PublicKey: r.meta.key.Public(), Operator: op.String(),
		NetworkAddress: r.meta.addr, Deposit: zero, Status: registertypes.NodeStatus_NODE_STATUS_ACTIVE,
	})
	for _, e := range r.resources {
		gen.ResourceNodes = append(gen.ResourceNodes, registertypes.ResourceNode{
			NodeId: e.key.ID(), PublicKey: e.key.Public(), Operator: op.String(), NetworkAddress: e.addr,
			Capacity: e.capacity, Region: e.region, Deposit: zero, Status: registertypes.NodeStatus_NODE_STATUS_ACTIVE,
		})
	}
	if err := gen.Validate(address.NewBech32Codec(app.AccountAddressPrefix)); err != nil {
		return fmt.Errorf("register genesis: %w", err)
	}
	b, err := cdc.MarshalJSON(&gen)
	if err != nil {
		return err
	}
	state[registertypes.ModuleName] = b
	return nil
}
