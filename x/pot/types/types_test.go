package types_test

import (
	"bytes"
	"testing"

	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"

	"github.com/stratos-net/stratos/x/pot/types"
)

// DESIGN §7: what the meta nodes sign must not depend on list order, must
// bind the chain ID and period, and must be unambiguous.
func TestVolumeReportSignBytes(t *testing.T) {
	nodes := []types.NodeVolume{{NodeId: "b", Bytes: 2}, {NodeId: "a", Bytes: 1}}
	users := []types.UserVolume{{Address: "st1y", Bytes: 4}, {Address: "st1x", Bytes: 3}}
	base := types.VolumeReportSignBytes("c", 1, nodes, users)

	reordered := types.VolumeReportSignBytes("c", 1,
		[]types.NodeVolume{nodes[1], nodes[0]}, []types.UserVolume{users[1], users[0]})
	if !bytes.Equal(base, reordered) {
		t.Fatal("sign bytes depend on list order")
	}
	if nodes[0].NodeId != "b" || users[0].Address != "st1y" {
		t.Fatal("input slices were sorted in place")
	}
	for name, other := range map[string][]byte{
		"chain ID": types.VolumeReportSignBytes("d", 1, nodes, users),
		"period":   types.VolumeReportSignBytes("c", 2, nodes, users),
		"bytes":    types.VolumeReportSignBytes("c", 1, []types.NodeVolume{{NodeId: "b", Bytes: 3}, nodes[1]}, users),
		"no users": types.VolumeReportSignBytes("c", 1, nodes, nil),
		// length prefixes: moving a character between adjacent strings changes the bytes.
		"boundary": types.VolumeReportSignBytes("c", 1, []types.NodeVolume{{NodeId: "ab", Bytes: 1}}, nil),
	} {
		if bytes.Equal(base, other) {
			t.Errorf("sign bytes do not bind the %s", name)
		}
	}
	if bytes.Equal(types.VolumeReportSignBytes("ab", 1, []types.NodeVolume{{NodeId: "c", Bytes: 1}}, nil),
		types.VolumeReportSignBytes("a", 1, []types.NodeVolume{{NodeId: "bc", Bytes: 1}}, nil)) {
		t.Error("chain ID and node ID are ambiguous")
	}
}

// The messages' cosmos.msg.v1.signer fields resolve, as the app's signing
// context requires at start.
func TestMsgSigners(t *testing.T) {
	ir, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          address.NewBech32Codec("st"),
			ValidatorAddressCodec: address.NewBech32Codec("stvaloper"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	types.RegisterInterfaces(ir)
	if err := ir.SigningContext().Validate(); err != nil {
		t.Fatal(err)
	}
	op := []byte("operator-address-20b")
	opStr, err := address.NewBech32Codec("st").BytesToString(op)
	if err != nil {
		t.Fatal(err)
	}
	cdc := codec.NewProtoCodec(ir)
	for _, msg := range []proto.Message{
		&types.MsgVolumeReport{Reporter: opStr},
		&types.MsgWithdrawRewards{Operator: opStr, NodeId: "n"},
		&types.MsgUpdateParams{Authority: opStr},
	} {
		signers, _, err := cdc.GetMsgV1Signers(msg)
		if err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
		if len(signers) != 1 || !bytes.Equal(signers[0], op) {
			t.Fatalf("%T: signers %x", msg, signers)
		}
	}
}
