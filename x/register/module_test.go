package register_test

import (
	"testing"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	gogoproto "github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/stratos-net/stratos/x/register"
	"github.com/stratos-net/stratos/x/register/types"
)

// Every autocli command must name an existing RPC and existing request
// fields, or the CLI panics when it builds the command tree.
func TestAutoCLIOptionsMatchServices(t *testing.T) {
	opts := register.AppModule{}.AutoCLIOptions()
	for _, svc := range []*autocliv1.ServiceCommandDescriptor{opts.Query, opts.Tx} {
		d, err := gogoproto.HybridResolver.FindDescriptorByName(protoreflect.FullName(svc.Service))
		if err != nil {
			t.Fatalf("%s: %v", svc.Service, err)
		}
		sd := d.(protoreflect.ServiceDescriptor)
		for _, o := range svc.RpcCommandOptions {
			m := sd.Methods().ByName(protoreflect.Name(o.RpcMethod))
			if m == nil {
				t.Fatalf("%s has no method %s", svc.Service, o.RpcMethod)
			}
			for _, a := range o.PositionalArgs {
				if m.Input().Fields().ByName(protoreflect.Name(a.ProtoField)) == nil {
					t.Fatalf("%s: %s has no field %s", o.RpcMethod, m.Input().FullName(), a.ProtoField)
				}
			}
		}
		if len(svc.RpcCommandOptions) != sd.Methods().Len() {
			t.Fatalf("%s: %d commands for %d methods", svc.Service, len(svc.RpcCommandOptions), sd.Methods().Len())
		}
	}
}

// The module's JSON genesis hooks: the default genesis validates; a broken
// one does not.
func TestModuleGenesisJSON(t *testing.T) {
	ir := codectypes.NewInterfaceRegistry()
	types.RegisterInterfaces(ir)
	cdc := codec.NewProtoCodec(ir)
	am := register.AppModule{}
	bz := am.DefaultGenesis(cdc)
	if err := am.ValidateGenesis(cdc, nil, bz); err != nil {
		t.Fatalf("default genesis: %v", err)
	}
	bad := `{"params":{"min_resource_deposit":{"denom":"ustos","amount":"1"},"min_meta_deposit":{"denom":"ustos","amount":"1"}},` +
		`"resource_nodes":[{"node_id":"00","public_key":"AAAA","operator":"st1x","deposit":{"denom":"ustos","amount":"0"},"status":"NODE_STATUS_ACTIVE"}]}`
	if err := am.ValidateGenesis(cdc, nil, []byte(bad)); err == nil {
		t.Fatal("bad genesis accepted")
	}
}
