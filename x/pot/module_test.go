package pot_test

import (
	"testing"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/stratos-net/stratos/x/pot"
	"github.com/stratos-net/stratos/x/pot/keeper"
)

func TestModuleGenesisJSON(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	am := pot.NewAppModule(cdc, keeper.Keeper{})
	bz := am.DefaultGenesis(cdc)
	if err := am.ValidateGenesis(cdc, nil, bz); err != nil {
		t.Fatalf("default genesis %s: %v", bz, err)
	}
	for _, bad := range []string{
		`{"params":{"issuance":[],"top_n":100}}`,
		`{"params":{"issuance":[{"from_period":"0","amount":"100"}],"top_n":0}}`,
		`{"params":{"issuance":[{"from_period":"0","amount":"100"}],"top_n":1},"rewards":[{"node_id":"","amount":"1"}]}`,
		`{"params":`,
	} {
		if err := am.ValidateGenesis(cdc, nil, []byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if opts := am.AutoCLIOptions(); opts.Query.Service != "stratos.pot.v1.Query" || opts.Tx.Service != "stratos.pot.v1.Msg" {
		t.Fatalf("autocli services %q %q", opts.Query.Service, opts.Tx.Service)
	}
}
