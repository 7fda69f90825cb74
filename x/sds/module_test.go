package sds_test

import (
	"testing"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/stratos-net/stratos/x/sds"
	"github.com/stratos-net/stratos/x/sds/types"
)

// Every autocli command names a real RPC and real request fields, so
// `stratos tx sds prepay 10000000ustos` and friends cannot silently vanish.
func TestAutoCLIOptionsMatchServices(t *testing.T) {
	opts := sds.AppModule{}.AutoCLIOptions()
	for _, svc := range []*autocliv1.ServiceCommandDescriptor{opts.Query, opts.Tx} {
		d, err := gogoproto.HybridResolver.FindDescriptorByName(protoreflect.FullName(svc.Service))
		if err != nil {
			t.Fatalf("service %s: %v", svc.Service, err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		if len(svc.RpcCommandOptions) != methods.Len() {
			t.Errorf("%s: %d commands for %d RPCs", svc.Service, len(svc.RpcCommandOptions), methods.Len())
		}
		for _, o := range svc.RpcCommandOptions {
			m := methods.ByName(protoreflect.Name(o.RpcMethod))
			if m == nil {
				t.Errorf("%s has no RPC %s", svc.Service, o.RpcMethod)
				continue
			}
			for _, a := range o.PositionalArgs {
				if m.Input().Fields().ByName(protoreflect.Name(a.ProtoField)) == nil {
					t.Errorf("%s: %s has no field %s", o.RpcMethod, m.Input().FullName(), a.ProtoField)
				}
			}
		}
	}
}

func TestDefaultGenesisValidates(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	ac := addresscodec.NewBech32Codec("st")
	gs := types.DefaultGenesis()
	if err := gs.Validate(ac); err != nil {
		t.Fatal(err)
	}
	var back types.GenesisState
	if err := cdc.UnmarshalJSON(sds.AppModule{}.DefaultGenesis(cdc), &back); err != nil {
		t.Fatal(err)
	}
	if back.Params.TrafficPrice != types.DefaultTrafficPrice || !back.Params.MinPrepay.Equal(types.DefaultParams().MinPrepay) ||
		back.Params.StoragePrice != types.DefaultStoragePrice {
		t.Errorf("default genesis params = %+v", back.Params)
	}
}
