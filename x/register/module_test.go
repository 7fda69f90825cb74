package register_test

import (
	"reflect"
	"strings"
	"testing"

	"cosmossdk.io/api/amino"
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	gogoproto "github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/proto"
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

// Every Msg is registered with the legacy amino codec under the amino.name
// its .proto declares (LEGACY_AMINO_JSON signing, e.g. with a Ledger), and
// as an sdk.Msg implementation in the interface registry.
func TestMsgAminoNames(t *testing.T) {
	d, err := gogoproto.HybridResolver.FindDescriptorByName("stratos.register.v1.Msg")
	if err != nil {
		t.Fatal(err)
	}
	lcdc := codec.NewLegacyAmino()
	types.RegisterLegacyAminoCodec(lcdc)
	ir := codectypes.NewInterfaceRegistry()
	types.RegisterInterfaces(ir)
	methods := d.(protoreflect.ServiceDescriptor).Methods()
	for i := 0; i < methods.Len(); i++ {
		in := methods.Get(i).Input()
		name, _ := proto.GetExtension(in.Options(), amino.E_Name).(string)
		if name == "" {
			t.Fatalf("%s has no amino.name", in.FullName())
		}
		typ := gogoproto.MessageType(string(in.FullName()))
		if typ == nil {
			t.Fatalf("%s: no Go type", in.FullName())
		}
		msg := reflect.New(typ.Elem()).Interface()
		bz, err := lcdc.MarshalJSON(msg)
		if err != nil {
			t.Fatalf("%s: %v", in.FullName(), err)
		}
		if !strings.Contains(string(bz), `"type":"`+name+`"`) {
			t.Fatalf("%s: amino JSON %s, want type %s", in.FullName(), bz, name)
		}
		if _, err := ir.Resolve("/" + string(in.FullName())); err != nil {
			t.Fatalf("%s not registered as sdk.Msg: %v", in.FullName(), err)
		}
	}
}
