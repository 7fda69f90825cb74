package types

import errorsmod "cosmossdk.io/errors"

// x/pot errors; codes start at 2 (1 is reserved by the SDK).
//
// ErrBadSignature is no longer returned: a signature that does not count
// (unknown or inactive signer, not verifying, signer repeated) is ignored,
// and a report with too few that count fails with ErrNotEnoughSignatures
// (DESIGN §7). Its code stays registered so no code is ever reused.
var (
	ErrPeriodReported      = errorsmod.Register(ModuleName, 2, "period already reported")
	ErrNodeNotRegistered   = errorsmod.Register(ModuleName, 3, "resource node not registered or not active")
	ErrNotEnoughSignatures = errorsmod.Register(ModuleName, 4, "not enough meta node signatures")
	ErrBadSignature        = errorsmod.Register(ModuleName, 5, "bad meta node signature")
	ErrNoRewards           = errorsmod.Register(ModuleName, 6, "no rewards to withdraw")
	ErrInvalidReport       = errorsmod.Register(ModuleName, 7, "invalid volume report")
	ErrTooManyNodes        = errorsmod.Register(ModuleName, 8, "too many nodes in volume report")
	ErrZeroBytes           = errorsmod.Register(ModuleName, 9, "zero traffic in volume report")
	ErrDuplicateNode       = errorsmod.Register(ModuleName, 10, "duplicate node in volume report")
	ErrNotOperator         = errorsmod.Register(ModuleName, 11, "signer is not the node's operator")
	ErrInvalidAuthority    = errorsmod.Register(ModuleName, 12, "invalid authority")
	ErrInvalidParams       = errorsmod.Register(ModuleName, 13, "invalid params")
	ErrInvalidGenesis      = errorsmod.Register(ModuleName, 14, "invalid genesis state")
	ErrPeriodNotEnded      = errorsmod.Register(ModuleName, 15, "ledger period has not ended")
	ErrStalePeriod         = errorsmod.Register(ModuleName, 16, "ledger period older than the last reported one")
	ErrTooManySignatures   = errorsmod.Register(ModuleName, 17, "too many signatures in volume report")
)
