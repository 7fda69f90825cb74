package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BankKeeper is the part of x/bank the register module uses: deposits move
// between operators and the module account, slashed resource node deposits
// are burned.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	BurnCoins(ctx context.Context, moduleName string, amt sdk.Coins) error
}

// DistrKeeper is the part of x/distribution the register module uses: the
// deposit of a meta node voted out goes to the community pool, the "network
// support" fund (DESIGN §4, §5.2).
type DistrKeeper interface {
	FundCommunityPool(ctx context.Context, amount sdk.Coins, depositor sdk.AccAddress) error
}
