package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, also the name of its module account
	// (Minter: it mints each period's issuance and holds the rewards until
	// they are withdrawn).
	ModuleName = "pot"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
	// Denom is the native denom rewards are paid in.
	Denom = "ustos"
)

// Collection prefixes.
var (
	ParamsKey        = collections.NewPrefix(0)
	ReportsKey       = collections.NewPrefix(1)
	RewardsKey       = collections.NewPrefix(2)
	NodeOperatorKey  = collections.NewPrefix(3)
	OperatorNodesKey = collections.NewPrefix(4)
	ClockKey         = collections.NewPrefix(5)
)
