package keeper_test

import (
	"testing"

	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/stratos-net/stratos/x/register/types"
)

// DESIGN §3/§4: a resource node is registered with its ed25519 key; the
// chain derives the node ID from the key and locks a deposit of at least
// min_resource_deposit ustos in the module account.
func TestRegisterResourceNode(t *testing.T) {
	pub, id := nodeKey(1)
	metaPub, _ := nodeKey(9)
	cases := []struct {
		name string
		edit func(*types.MsgRegisterResourceNode)
		want error
	}{
		{"ok", func(*types.MsgRegisterResourceNode) {}, nil},
		{"deposit above min", func(m *types.MsgRegisterResourceNode) { m.Deposit = ustos(5_000_000) }, nil},
		{"key 31 bytes", func(m *types.MsgRegisterResourceNode) { m.PublicKey = pub[:31] }, types.ErrInvalidPublicKey},
		{"key 33 bytes", func(m *types.MsgRegisterResourceNode) { m.PublicKey = append(append([]byte{}, pub...), 0) }, types.ErrInvalidPublicKey},
		{"no key", func(m *types.MsgRegisterResourceNode) { m.PublicKey = nil }, types.ErrInvalidPublicKey},
		{"deposit below min", func(m *types.MsgRegisterResourceNode) { m.Deposit = ustos(999_999) }, types.ErrInvalidDeposit},
		{"wrong denom", func(m *types.MsgRegisterResourceNode) { m.Deposit = sdk.NewCoin("ustb", math.NewInt(1_000_000)) }, types.ErrInvalidDeposit},
		{"invalid coin", func(m *types.MsgRegisterResourceNode) { m.Deposit = sdk.Coin{Denom: "ustos", Amount: math.NewInt(-1)} }, types.ErrInvalidDeposit},
		{"operator not st1", func(m *types.MsgRegisterResourceNode) {
			m.Operator = "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"
		}, types.ErrInvalidAddress},
		{"no network address", func(m *types.MsgRegisterResourceNode) { m.NetworkAddress = "" }, types.ErrInvalidNode},
		{"zero capacity", func(m *types.MsgRegisterResourceNode) { m.Capacity = 0 }, types.ErrInvalidNode},
		{"key of a meta node", func(m *types.MsgRegisterResourceNode) { m.PublicKey = metaPub }, types.ErrNodeExists},
		{"insufficient funds", func(m *types.MsgRegisterResourceNode) { m.Deposit = ustos(startBalance + 1) }, sdkerrors.ErrInsufficientFunds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			opAddr, op := f.account(t, 1)
			_, metaOp := f.account(t, 9)
			f.registerMeta(t, metaOp, 9)
			msg := &types.MsgRegisterResourceNode{Operator: op, PublicKey: pub, NetworkAddress: "10.0.0.1:7000",
				Capacity: 1 << 40, Region: "eu", Deposit: ustos(1_000_000)}
			tc.edit(msg)
			before := f.bank.total()
			res, err := f.ms.RegisterResourceNode(f.ctx, msg)
			wantErr(t, err, tc.want)
			if !f.bank.total().Equal(before) {
				t.Fatalf("ustos total changed: %s -> %s", before, f.bank.total())
			}
			if tc.want != nil {
				if f.k.IsResourceNodeActive(f.ctx, id) {
					t.Fatal("rejected registration left a node")
				}
				if !f.bank.balance(opAddr).Equal(math.NewInt(startBalance)) {
					t.Fatal("rejected registration moved coins")
				}
				return
			}
			if res.NodeId != id {
				t.Fatalf("node id %s, want identity.NodeID(pub) = %s", res.NodeId, id)
			}
			n, err := f.k.ResourceNodes.Get(f.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n.Status != types.NodeStatus_NODE_STATUS_ACTIVE || n.Operator != op || n.RegisteredHeight != 7 ||
				!n.Deposit.Equal(msg.Deposit) || n.Capacity != 1<<40 || n.Region != "eu" {
				t.Fatalf("stored node %+v", n)
			}
			if !f.bank.balance(opAddr).Equal(math.NewInt(startBalance).Sub(msg.Deposit.Amount)) {
				t.Fatalf("operator balance %s", f.bank.balance(opAddr))
			}
			if !f.bank.module().Equal(msg.Deposit.Amount.AddRaw(1_000_000)) { // + the meta node's deposit
				t.Fatalf("module balance %s", f.bank.module())
			}
			if !f.k.IsResourceNodeActive(f.ctx, id) {
				t.Fatal("node not active")
			}
			got, err := f.k.ResourceNodeOperator(f.ctx, id)
			if err != nil || !got.Equals(opAddr) {
				t.Fatalf("ResourceNodeOperator = %v, %v", got, err)
			}
			// DESIGN §4: the same key cannot be registered twice.
			_, other := f.account(t, 2)
			msg.Operator = other
			if _, err := f.ms.RegisterResourceNode(f.ctx, msg); !errorsIs(err, types.ErrNodeExists) {
				t.Fatalf("duplicate by another operator: %v", err)
			}
			msg.Operator = op
			if _, err := f.ms.RegisterResourceNode(f.ctx, msg); !errorsIs(err, types.ErrNodeExists) {
				t.Fatalf("duplicate by the same operator: %v", err)
			}
		})
	}
}

// DESIGN §4: only the node's operator changes its record; empty fields keep
// their value. The message names the node by ID; an ID that is not derived
// from a registered key names no node.
func TestUpdateResourceNode(t *testing.T) {
	f := newFixture(t)
	_, op := f.account(t, 1)
	_, other := f.account(t, 2)
	id := f.registerResource(t, op, 1, ustos(1_000_000))

	cases := []struct {
		name string
		msg  types.MsgUpdateResourceNode
		want error
	}{
		{"not the operator", types.MsgUpdateResourceNode{Operator: other, NodeId: id, Region: "us"}, types.ErrUnauthorized},
		{"unknown id", types.MsgUpdateResourceNode{Operator: op, NodeId: "00112233445566778899aabbccddeeff00112233"}, types.ErrNodeNotFound},
		{"malformed id", types.MsgUpdateResourceNode{Operator: op, NodeId: "xyz"}, types.ErrInvalidNode},
		{"upper-case id", types.MsgUpdateResourceNode{Operator: op, NodeId: upper(id)}, types.ErrInvalidNode},
		{"bad operator", types.MsgUpdateResourceNode{Operator: "st1bad", NodeId: id}, types.ErrInvalidAddress},
		{"region only", types.MsgUpdateResourceNode{Operator: op, NodeId: id, Region: "us"}, nil},
		{"address and capacity", types.MsgUpdateResourceNode{Operator: op, NodeId: id, NetworkAddress: "10.9.9.9:7000", Capacity: 42}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			_, err := f.ms.UpdateResourceNode(f.ctx, &msg)
			wantErr(t, err, tc.want)
		})
	}
	n, _ := f.k.ResourceNodes.Get(f.ctx, id)
	if n.Region != "us" || n.NetworkAddress != "10.9.9.9:7000" || n.Capacity != 42 || n.Operator != op {
		t.Fatalf("after updates: %+v", n)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
