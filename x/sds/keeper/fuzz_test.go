package keeper_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"reflect"
	"testing"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/types"
)

// fuzzMsg is a message of the module, as the fuzzer sends it.
type fuzzMsg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// msgKinds are the module's messages; the fuzzer's kind byte picks one
// (kind % len(msgKinds)).
var msgKinds = []func() fuzzMsg{
	func() fuzzMsg { return &types.MsgPrepay{} },
	func() fuzzMsg { return &types.MsgAnchorIndex{} },
	func() fuzzMsg { return &types.MsgUpdateParams{} },
}

func kindOf(m fuzzMsg) byte {
	for i, k := range msgKinds {
		if reflect.TypeOf(k()) == reflect.TypeOf(m) {
			return byte(i)
		}
	}
	panic(fmt.Sprintf("no kind for %T", m))
}

// deliver hands m to the msg server, as the chain's router would.
func deliver(ctx context.Context, ms types.MsgServer, m fuzzMsg) error {
	var err error
	switch m := m.(type) {
	case *types.MsgPrepay:
		_, err = ms.Prepay(ctx, m)
	case *types.MsgAnchorIndex:
		_, err = ms.AnchorIndex(ctx, m)
	case *types.MsgUpdateParams:
		_, err = ms.UpdateParams(ctx, m)
	default:
		panic(fmt.Sprintf("no handler for %T", m))
	}
	return err
}

// fuzzChain is the sds state a fuzzed message meets, in ledger period 10:
// meta-a and meta-b active, operated by accounts 3 and 4; meta-a's anchor
// of period 3; alice (account 1) with 10_000_000ustos of which 1_000_000
// prepaid, bob (account 2) with 5ustos and nothing prepaid.
type fuzzChain struct {
	*fixture
	alice, bob, opA, opB string
}

func newFuzzChain(t *testing.T) *fuzzChain {
	t.Helper()
	c := &fuzzChain{fixture: newFixture(t)}
	_, c.alice = c.account(t, 1, ustos(11_000_000))
	_, c.bob = c.account(t, 2, ustos(5))
	a, opA := c.account(t, 3, nil)
	b, opB := c.account(t, 4, nil)
	c.opA, c.opB = opA, opB
	c.reg.active["meta-a"], c.reg.active["meta-b"] = string(a), string(b)
	if _, err := c.msgs.Prepay(c.ctx, &types.MsgPrepay{Sender: c.alice, Amount: ustos(1_000_000)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.msgs.AnchorIndex(c.ctx, &types.MsgAnchorIndex{Sender: opA, MetaNodeId: "meta-a", Period: 3, Root: root(1)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// seeds reach each outcome of each message from the fuzz chain.
func (c *fuzzChain) seeds() []fuzzMsg {
	maxInt := math.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)))
	return []fuzzMsg{
		&types.MsgPrepay{Sender: c.alice, Amount: ustos(500)},
		&types.MsgPrepay{Sender: c.bob, Amount: ustos(5)},
		&types.MsgPrepay{Sender: c.bob, Amount: ustos(6)}, // more than bob has
		&types.MsgPrepay{Sender: c.alice, Amount: sdk.NewCoins(sdk.NewCoin(types.Denom, maxInt))},
		&types.MsgPrepay{Sender: c.alice, Amount: sdk.NewCoins(sdk.NewInt64Coin("ustb", 5))},
		&types.MsgPrepay{Sender: c.alice, Amount: sdk.NewCoins(sdk.NewInt64Coin("ustb", 5), sdk.NewInt64Coin(types.Denom, 5))},
		&types.MsgAnchorIndex{Sender: c.opA, MetaNodeId: "meta-a", Period: 3, Root: root(1)}, // the same again
		&types.MsgAnchorIndex{Sender: c.opA, MetaNodeId: "meta-a", Period: 3, Root: root(2)}, // a different root
		&types.MsgAnchorIndex{Sender: c.opB, MetaNodeId: "meta-b", Period: 3, Root: root(2)},
		&types.MsgAnchorIndex{Sender: c.opA, MetaNodeId: "meta-a", Period: 10, Root: root(3)},
		&types.MsgAnchorIndex{Sender: c.opA, MetaNodeId: "meta-a", Period: 11, Root: root(3)}, // not begun
		&types.MsgAnchorIndex{Sender: c.opB, MetaNodeId: "meta-a", Period: 4, Root: root(3)},  // not its node
		&types.MsgUpdateParams{Authority: c.gov, Params: types.Params{TrafficPrice: 1, MinPrepay: sdk.NewInt64Coin(types.Denom, 1000), StoragePrice: 2}},
		&types.MsgUpdateParams{Authority: c.alice, Params: types.DefaultParams()},
	}
}

// FuzzMsgs: every message of x/sds is untrusted bytes from any account
// (issue 8). kind picks the message, data is its wire encoding, delivered
// to the msg server of the fuzz chain. Whatever the bytes, nothing panics,
// an anchor once written never changes (DESIGN §4: the anchored root makes
// a later tampering with the index detectable), and a message the server
// accepts
//   - creates or destroys no ustos, and leaves the sds module account
//     holding exactly the users' prepaid balances (DESIGN §4: the module
//     account holds the prepaid STOS, the balance records each user's
//     share), none of them zero;
//   - adds at most the anchor it names: for a current or ended period, by
//     the operator of an active meta node, with the root it sent.
func FuzzMsgs(f *testing.F) {
	for _, m := range newFuzzChain(&testing.T{}).seeds() {
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kindOf(m), b)
	}
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		msg := msgKinds[int(kind)%len(msgKinds)]()
		if err := msg.Unmarshal(data); err != nil {
			return
		}
		c := newFuzzChain(t)
		before := c.snapshot(t)
		err := deliver(c.ctx, c.msgs, msg)
		after := c.snapshot(t)
		for k, a := range before.anchors {
			if !reflect.DeepEqual(after.anchors[k], a) {
				t.Fatalf("%T %+v (err %v): anchor %v changed: %+v -> %+v", msg, msg, err, k, a, after.anchors[k])
			}
		}
		if err != nil {
			return
		}
		if !after.total.Equal(before.total) {
			t.Fatalf("%T %+v: ustos total %s -> %s", msg, msg, before.total, after.total)
		}
		if !after.module.Equal(after.prepaid) {
			t.Fatalf("%T %+v: the module account holds %s, the prepaid balances are %s", msg, msg, after.module, after.prepaid)
		}
		c.checkNewAnchors(t, msg, before.anchors, after.anchors)
	})
}

// anchorKey is an anchor's (period, meta node); collections.Pair holds
// pointers, so it cannot key a map.
type anchorKey struct {
	period uint64
	node   string
}

type chainState struct {
	anchors map[anchorKey]types.Anchor
	total   math.Int // every ustos in the fake bank
	module  math.Int
	prepaid math.Int // the sum of the prepaid balances
}

func (c *fuzzChain) snapshot(t *testing.T) chainState {
	t.Helper()
	s := chainState{anchors: map[anchorKey]types.Anchor{}, total: math.ZeroInt(),
		module: c.bank.ustos(c.module), prepaid: math.ZeroInt()}
	for _, coins := range c.bank.balances {
		s.total = s.total.Add(coins.AmountOf(types.Denom))
	}
	if err := c.k.Prepaid.Walk(c.ctx, nil, func(user sdk.AccAddress, amt math.Int) (bool, error) {
		if !amt.IsPositive() {
			t.Fatalf("prepaid balance of %s is %s", user, amt)
		}
		s.prepaid = s.prepaid.Add(amt)
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.k.Anchors.Walk(c.ctx, nil, func(k collections.Pair[uint64, string], a types.Anchor) (bool, error) {
		s.anchors[anchorKey{k.K1(), k.K2()}] = a
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (c *fuzzChain) checkNewAnchors(t *testing.T, msg fuzzMsg, before, after map[anchorKey]types.Anchor) {
	t.Helper()
	m, anchor := msg.(*types.MsgAnchorIndex)
	for k, a := range after {
		if _, old := before[k]; old {
			continue
		}
		if !anchor || k != (anchorKey{m.Period, m.MetaNodeId}) || !bytes.Equal(a.Root, m.Root) {
			t.Fatalf("%T %+v: new anchor %v: %+v", msg, msg, k, a)
		}
		sender, err := c.ac.StringToBytes(m.Sender)
		if err != nil || c.reg.active[m.MetaNodeId] != string(sender) || m.Period > c.periods.current {
			t.Fatalf("%+v: anchored by %s, who does not operate active meta node %q, or for a period after %d",
				m, m.Sender, m.MetaNodeId, c.periods.current)
		}
	}
}
