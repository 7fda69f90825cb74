package types

import (
	"context"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// RegisterKeeper is what x/trustedfn needs from x/register.
type RegisterKeeper interface {
	IsResourceNodeActive(ctx context.Context, nodeID string) bool
	ResourceNodeOperator(ctx context.Context, nodeID string) (sdk.AccAddress, error)
	ResourceNodeDeposit(ctx context.Context, nodeID string) (sdk.Coin, error)
	SlashResourceNode(ctx context.Context, nodeID string, fraction math.LegacyDec) (sdk.Coin, error)
	IsActiveMetaNodeOperator(ctx context.Context, operator sdk.AccAddress, metaNodeID string) bool
}

// BankKeeper is what x/trustedfn needs from x/bank.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, from sdk.AccAddress, module string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, module string, to sdk.AccAddress, amt sdk.Coins) error
	SendCoinsFromModuleToModule(ctx context.Context, from, to string, amt sdk.Coins) error
	BurnCoins(ctx context.Context, module string, amt sdk.Coins) error
}

// DistrKeeper is what x/trustedfn needs from x/distribution: its community
// pool is the network support fund (§6.5, DESIGN §4).
type DistrKeeper interface {
	FundCommunityPool(ctx context.Context, amount sdk.Coins, depositor sdk.AccAddress) error
}
