package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BankKeeper is the part of x/bank that x/sds uses.
type BankKeeper interface {
	// SendCoinsFromAccountToModule locks a user's prepay in the sds module account.
	SendCoinsFromAccountToModule(ctx context.Context, sender sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	// GetBalance lets InitGenesis check that the module account covers every prepayment.
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
	// SendCoinsFromModuleToModule pays charged fees to the pot module account,
	// which credits storage fees to the nodes holding replicas and traffic
	// fees to the nodes that served it (DESIGN §7, whitepaper §3.2.2).
	SendCoinsFromModuleToModule(ctx context.Context, senderModule, recipientModule string, amt sdk.Coins) error
}

// RegisterKeeper is the part of x/register that x/sds uses to authorise
// index anchors (DESIGN §5.2).
type RegisterKeeper interface {
	IsActiveMetaNodeOperator(ctx context.Context, operator sdk.AccAddress, metaNodeID string) bool
}

// PeriodKeeper is the part of x/pot that x/sds uses: the ledger period the
// chain is in, so an index anchor names the current period or an ended one
// (issue 8).
type PeriodKeeper interface {
	CurrentLedgerPeriod(ctx context.Context) (uint64, error)
}
