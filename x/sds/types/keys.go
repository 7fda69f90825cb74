// Package types holds the x/sds messages, state types, errors and the
// interfaces x/sds expects from other modules (DESIGN §4, §7).
package types

import "cosmossdk.io/collections"

const (
	// ModuleName is also the name of the module account that holds prepaid STOS.
	ModuleName = "sds"
	// StoreKey is the KV store key of x/sds.
	StoreKey = ModuleName
	// Denom is the only denom users may prepay in (DESIGN §4).
	Denom = "ustos"
	// RootSize is the length of an index root hash (SHA-256).
	RootSize = 32
	// BytesPerGiB is the unit of Params.TrafficPrice.
	BytesPerGiB = 1 << 30
)

// Store prefixes of the collections schema.
var (
	ParamsKey     = collections.NewPrefix(0)
	PrepaidPrefix = collections.NewPrefix(1)
	AnchorsPrefix = collections.NewPrefix(2)
)
