package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name; its module account holds the node
	// deposits and needs the Burner permission for slashing resource nodes
	// (the deposit of a meta node voted out goes to the community pool).
	ModuleName = "register"
	// StoreKey is the module's KV store key.
	StoreKey = ModuleName
	// Denom is the native denom deposits are paid in (DESIGN §4).
	Denom = "ustos"
	// PublicKeySize is the length of an ed25519 node key (DESIGN §3).
	PublicKeySize = 32
	// MaxNetworkAddressLength and MaxRegionLength bound free-text fields.
	MaxNetworkAddressLength = 256
	MaxRegionLength         = 64
)

// Collection prefixes.
var (
	ParamsKey        = collections.NewPrefix(0)
	ResourceNodesKey = collections.NewPrefix(1)
	MetaNodesKey     = collections.NewPrefix(2)
	UnbondingKey     = collections.NewPrefix(3)
)
