package devnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/stratos-net/stratos/app"
	"github.com/stratos-net/stratos/identity"
	pottypes "github.com/stratos-net/stratos/x/pot/types"
	registertypes "github.com/stratos-net/stratos/x/register/types"
	sdstypes "github.com/stratos-net/stratos/x/sds/types"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// operatorAccount is the funded test account that operates every devnet
// resource node in the chain's registry, and so may withdraw their rewards.
// The meta node has its own operator, metaOperatorAccount, whose key signs
// its anchors and volume reports: two signers sharing one account race for
// its sequence number and drop each other's transactions.
const (
	operatorAccount     = "operator"
	metaOperatorAccount = "meta-operator"
)

// computeAccount is the account resource node i signs its rounds with, the
// agent of its compute offer (x/trustedfn).
func computeAccount(i int) string { return fmt.Sprintf("compute-%d", i) }

// registry is what the devnet registers in x/register at genesis
// (DESIGN §3: "devnet registers its nodes at genesis"), and the prepay it
// gives the user account so the first upload works.
type registry struct {
	metas     []registryEntry
	resources []registryEntry
	user      sdk.AccAddress // set by genesis: the owner of the devnet's files
}

// devnetPrepay is what the user account has prepaid at genesis: 1,000 STOS.
var devnetPrepay = sdk.NewInt64Coin(app.BondDenom, 1_000_000_000)

type registryEntry struct {
	key      *identity.Key
	addr     string
	region   string
	capacity uint64
	compute  string // resource nodes: the compute JSON-RPC URL offered at genesis
}

// computeCapacity is how many apps each devnet resource node offers to serve.
const computeCapacity = 8

// genesis adds the devnet's meta nodes and resource nodes, active, with no
// deposit (genesis moves no coins), to x/register's genesis state.
func (r *registry) genesis(accounts map[string]sdk.AccAddress, state map[string]json.RawMessage, cdc codec.JSONCodec) error {
	op, ok := accounts[operatorAccount]
	metaOp, ok2 := accounts[metaOperatorAccount]
	if !ok || !ok2 {
		return fmt.Errorf("no %q or %q account in the genesis", operatorAccount, metaOperatorAccount)
	}
	if r.user, ok = accounts["user"]; !ok {
		return errors.New("no user account in the genesis")
	}
	if err := prepayAtGenesis(state, cdc, r.user); err != nil {
		return err
	}
	if err := scaleIssuance(state, cdc); err != nil {
		return err
	}
	var gen registertypes.GenesisState
	if err := cdc.UnmarshalJSON(state[registertypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("register genesis: %w", err)
	}
	zero := sdk.NewInt64Coin(app.BondDenom, 0)
	for _, m := range r.metas { // the first authorities (DESIGN §5.2)
		gen.MetaNodes = append(gen.MetaNodes, registertypes.MetaNode{
			NodeId: m.key.ID(), PublicKey: m.key.Public(), Operator: metaOp.String(),
			NetworkAddress: m.addr, Deposit: zero, Status: registertypes.NodeStatus_NODE_STATUS_ACTIVE,
		})
	}
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
	return r.offerCompute(state, cdc, op, accounts)
}

// offerCompute puts every resource node's compute offer in x/trustedfn's
// genesis, as the operator would with `tx trustedfn offer-compute`.
func (r *registry) offerCompute(state map[string]json.RawMessage, cdc codec.JSONCodec, op sdk.AccAddress, accounts map[string]sdk.AccAddress) error {
	var gen trustedfntypes.GenesisState
	if err := cdc.UnmarshalJSON(state[trustedfntypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("trustedfn genesis: %w", err)
	}
	for i, e := range r.resources {
		if e.compute == "" {
			continue
		}
		o := trustedfntypes.Offer{NodeId: e.key.ID(), Operator: op.String(), Capacity: computeCapacity, Endpoint: e.compute}
		if agent, ok := accounts[computeAccount(i)]; ok {
			o.Agent = agent.String()
		}
		gen.Offers = append(gen.Offers, o)
	}
	b, err := cdc.MarshalJSON(&gen)
	if err != nil {
		return err
	}
	state[trustedfntypes.ModuleName] = b
	return nil
}

// prepayAtGenesis gives user devnetPrepay in x/sds, backed by the same
// amount in the sds module account (its genesis checks the backing).
func prepayAtGenesis(state map[string]json.RawMessage, cdc codec.JSONCodec, user sdk.AccAddress) error {
	var sds sdstypes.GenesisState
	if err := cdc.UnmarshalJSON(state[sdstypes.ModuleName], &sds); err != nil {
		return fmt.Errorf("sds genesis: %w", err)
	}
	sds.Prepaid = append(sds.Prepaid, sdstypes.Prepayment{Address: user.String(), Amount: devnetPrepay})
	var bank banktypes.GenesisState
	if err := cdc.UnmarshalJSON(state[banktypes.ModuleName], &bank); err != nil {
		return fmt.Errorf("bank genesis: %w", err)
	}
	bank.Balances = append(bank.Balances, banktypes.Balance{
		Address: authtypes.NewModuleAddress(sdstypes.ModuleName).String(), Coins: sdk.NewCoins(devnetPrepay),
	})
	var err error
	if state[sdstypes.ModuleName], err = cdc.MarshalJSON(&sds); err != nil {
		return err
	}
	state[banktypes.ModuleName], err = cdc.MarshalJSON(&bank)
	return err
}

// scaleIssuance gives the devnet's short ledger period the share of the
// whitepaper's issuance (100,000 STOS per 10-minute period) its length
// deserves, so a devnet left running does not mint a real period's
// issuance every few seconds.
func scaleIssuance(state map[string]json.RawMessage, cdc codec.JSONCodec) error {
	var pot pottypes.GenesisState
	if err := cdc.UnmarshalJSON(state[pottypes.ModuleName], &pot); err != nil {
		return fmt.Errorf("pot genesis: %w", err)
	}
	for i, e := range pot.Params.Issuance {
		pot.Params.Issuance[i].Amount = e.Amount.MulRaw(int64(devnetLedgerPeriod)).QuoRaw(int64(10 * time.Minute))
	}
	pot.Params.PeriodSeconds = uint64(devnetLedgerPeriod / time.Second)
	b, err := cdc.MarshalJSON(&pot)
	if err != nil {
		return err
	}
	state[pottypes.ModuleName] = b
	return nil
}
