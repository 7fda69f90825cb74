package trustedfn_test

import (
	"testing"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/x/trustedfn"
	"github.com/stratos-net/stratos/x/trustedfn/keeper"
)

func TestModuleGenesisJSON(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	ac := addresscodec.NewBech32Codec("st")
	gov, _ := ac.BytesToString(authtypes.NewModuleAddress("gov"))
	k := keeper.NewKeeper(cdc, runtime.NewKVStoreService(storetypes.NewKVStoreKey("trustedfn")), ac,
		nil, nil, nil, gov, authtypes.FeeCollectorName)
	am := trustedfn.NewAppModule(cdc, k)
	bz := am.DefaultGenesis(cdc)
	if err := am.ValidateGenesis(cdc, nil, bz); err != nil {
		t.Fatalf("default genesis %s: %v", bz, err)
	}
	def := string(bz)
	for _, bad := range []string{
		`{"params":{"payment_multiple":"1.0"}}`,
		`{"params":`,
		def[:len(def)-1] + `,"apps":[{"id":"app1x","owner":"not an address"}]}`,
	} {
		if err := am.ValidateGenesis(cdc, nil, []byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if opts := am.AutoCLIOptions(); opts.Query.Service != "stratos.trustedfn.v1.Query" || opts.Tx.Service != "stratos.trustedfn.v1.Msg" {
		t.Fatalf("autocli services %q %q", opts.Query.Service, opts.Tx.Service)
	}
}
