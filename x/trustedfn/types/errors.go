package types

import errorsmod "cosmossdk.io/errors"

// x/trustedfn errors; codes start at 2 (1 is reserved by the SDK).
var (
	ErrInvalidApp       = errorsmod.Register(ModuleName, 2, "invalid app")
	ErrAppNotFound      = errorsmod.Register(ModuleName, 3, "app not found")
	ErrNotOwner         = errorsmod.Register(ModuleName, 4, "signer is not the app's owner")
	ErrAppNotActive     = errorsmod.Register(ModuleName, 5, "app is not active")
	ErrRoundOpen        = errorsmod.Register(ModuleName, 6, "the app has a round in progress")
	ErrTooSoon          = errorsmod.Register(ModuleName, 7, "too soon for the app's next round")
	ErrRoundNotFound    = errorsmod.Register(ModuleName, 8, "round not found")
	ErrRound            = errorsmod.Register(ModuleName, 9, "refused by the round")
	ErrNotOperator      = errorsmod.Register(ModuleName, 10, "signer is not the node's operator")
	ErrNodeNotActive    = errorsmod.Register(ModuleName, 11, "resource node not registered or not active")
	ErrEscrow           = errorsmod.Register(ModuleName, 12, "escrow does not cover the round")
	ErrInvalidAuthority = errorsmod.Register(ModuleName, 13, "invalid authority")
	ErrInvalidParams    = errorsmod.Register(ModuleName, 14, "invalid params")
	ErrInvalidGenesis   = errorsmod.Register(ModuleName, 15, "invalid genesis state")
	ErrRecordNotFound   = errorsmod.Register(ModuleName, 16, "no record of this node")
	ErrInvalidOffer     = errorsmod.Register(ModuleName, 17, "invalid compute offer")
	ErrRoundTaken       = errorsmod.Register(ModuleName, 18, "round ID taken")
)
