package types

import errorsmod "cosmossdk.io/errors"

// x/sds errors. Codes start at 2 (1 is reserved by the SDK for internal errors).
var (
	ErrInvalidPrepay   = errorsmod.Register(ModuleName, 2, "invalid prepay amount")
	ErrPrepayFailed    = errorsmod.Register(ModuleName, 3, "prepay transfer failed")
	ErrInvalidAnchor   = errorsmod.Register(ModuleName, 4, "invalid index anchor")
	ErrNotMetaOperator = errorsmod.Register(ModuleName, 5, "sender is not the operator of an active meta node")
	ErrAnchorConflict  = errorsmod.Register(ModuleName, 6, "a different root is already anchored for this period and meta node")
	ErrInvalidParams   = errorsmod.Register(ModuleName, 7, "invalid params")
	ErrInvalidGenesis  = errorsmod.Register(ModuleName, 8, "invalid genesis state")
	ErrInvalidSigner   = errorsmod.Register(ModuleName, 9, "expected the module authority as signer")
	ErrInvalidAddress  = errorsmod.Register(ModuleName, 10, "invalid address")
	ErrFuturePeriod    = errorsmod.Register(ModuleName, 11, "anchor for a ledger period that has not begun")
)
