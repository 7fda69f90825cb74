package types

import (
	"context"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// RegisterKeeper is what x/pot needs from x/register.
type RegisterKeeper interface {
	IsResourceNodeActive(ctx context.Context, nodeID string) bool
	ResourceNodeOperator(ctx context.Context, nodeID string) (sdk.AccAddress, error)
	ActiveMetaNodeKeys(ctx context.Context) (map[string][]byte, error) // meta node ID -> ed25519 public key
}

// SdsKeeper is what x/pot needs from x/sds: charging users' prepay,
// users[i] for bytes[i], a report's users at once. Both charges are paid
// into the pot module account, which credits a traffic charge to the nodes
// that served the traffic and a storage charge (bytes kept for seconds) to
// the nodes holding replicas (whitepaper §3.2.2, DESIGN §7). Each returns
// what it charged each user; if it fails, it charged nobody.
type SdsKeeper interface {
	ChargeTrafficAll(ctx context.Context, users []sdk.AccAddress, bytes []uint64) ([]math.Int, error)
	ChargeStorageAll(ctx context.Context, users []sdk.AccAddress, bytes []uint64, seconds uint64) ([]math.Int, error)
}

// BankKeeper is what x/pot needs from x/bank.
type BankKeeper interface {
	MintCoins(ctx context.Context, moduleName string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
}

// DistrKeeper is what x/pot needs from x/distribution (the community pool is
// the network support fund, DESIGN §4).
type DistrKeeper interface {
	FundCommunityPool(ctx context.Context, amount sdk.Coins, depositor sdk.AccAddress) error
}
