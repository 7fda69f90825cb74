package types

import errorsmod "cosmossdk.io/errors"

// Module errors; codes start at 2 (1 is reserved by the SDK).
var (
	ErrInvalidPublicKey = errorsmod.Register(ModuleName, 2, "invalid node public key")
	ErrNodeExists       = errorsmod.Register(ModuleName, 3, "node already registered")
	ErrNodeNotFound     = errorsmod.Register(ModuleName, 4, "node not found")
	ErrUnauthorized     = errorsmod.Register(ModuleName, 5, "unauthorized")
	ErrInvalidDeposit   = errorsmod.Register(ModuleName, 6, "invalid deposit")
	ErrInvalidStatus    = errorsmod.Register(ModuleName, 7, "invalid node status")
	ErrAlreadyApproved  = errorsmod.Register(ModuleName, 8, "meta node already approved by this voter")
	ErrInvalidAddress   = errorsmod.Register(ModuleName, 9, "invalid address")
	ErrInvalidNode      = errorsmod.Register(ModuleName, 10, "invalid node")
	ErrInvalidParams    = errorsmod.Register(ModuleName, 11, "invalid params")
	ErrInvalidFraction  = errorsmod.Register(ModuleName, 12, "invalid slash fraction")
	ErrInvalidGenesis   = errorsmod.Register(ModuleName, 13, "invalid genesis")
	ErrAlreadyVoted     = errorsmod.Register(ModuleName, 14, "this meta node already voted to remove the target meta node")
	ErrLastMetaNode     = errorsmod.Register(ModuleName, 15, "the last active meta node cannot be voted out")
)
