package app

import (
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	AppName = "stratos"

	// Bech32 prefixes (DESIGN §3): st, stvaloper, stvalcons, stpub, ...
	AccountAddressPrefix   = "st"
	AccountPubKeyPrefix    = AccountAddressPrefix + "pub"
	ValidatorAddressPrefix = AccountAddressPrefix + "valoper"
	ValidatorPubKeyPrefix  = AccountAddressPrefix + "valoperpub"
	ConsNodeAddressPrefix  = AccountAddressPrefix + "valcons"
	ConsNodePubKeyPrefix   = AccountAddressPrefix + "valconspub"

	// BondDenom is the native staking/fee denom (1 STOS = 10^6 ustos).
	BondDenom = "ustos"
	// StableDenom is the stable denom used as trusted-function cost basis.
	StableDenom = "ustb"
)

var configOnce sync.Once

// SetSDKConfig sets the process-global bech32 prefixes and bond denom and
// seals the config. It must run before any address is encoded (keyring, genesis,
// app construction). Safe to call many times.
func SetSDKConfig() {
	configOnce.Do(func() {
		cfg := sdk.GetConfig()
		cfg.SetBech32PrefixForAccount(AccountAddressPrefix, AccountPubKeyPrefix)
		cfg.SetBech32PrefixForValidator(ValidatorAddressPrefix, ValidatorPubKeyPrefix)
		cfg.SetBech32PrefixForConsensusNode(ConsNodeAddressPrefix, ConsNodePubKeyPrefix)
		cfg.Seal()
		// Used by DefaultParams() of staking (bond_denom and key_rotation_fee),
		// mint (mint_denom) and gov (min_deposit).
		sdk.DefaultBondDenom = BondDenom
	})
}
