package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name, also the name of its module account,
	// which holds every app's escrow (Burner: §6.4's burn of the STR profit).
	ModuleName = "trustedfn"
	// StoreKey is the KV store key.
	StoreKey = ModuleName
	// SwapReserveName is the module account of §6.3.1's swap reserve.
	SwapReserveName = "trustedfn_swap_reserve"
	// CostDenom is the stable denom nodes' cost basis is paid in (DESIGN
	// §4); ProfitDenom the native denom of the profit.
	CostDenom   = "ustb"
	ProfitDenom = "ustos"
	// AppPrefix is the bech32 prefix of app IDs (§4.5: "app0x...").
	AppPrefix = "app"
)

// Collection prefixes.
var (
	ParamsKey     = collections.NewPrefix(0)
	AppsKey       = collections.NewPrefix(1)
	OffersKey     = collections.NewPrefix(2)
	RoundsKey     = collections.NewPrefix(3)
	OpenRoundsKey = collections.NewPrefix(4)
	AppRoundsKey  = collections.NewPrefix(5)
	RecordsKey    = collections.NewPrefix(6)
	PendingKey    = collections.NewPrefix(7)
	NextRoundKey  = collections.NewPrefix(8)
	NextAppKey    = collections.NewPrefix(9)
	NodeAppsKey   = collections.NewPrefix(10)
	MembersKey    = collections.NewPrefix(11)
)
