package keeper_test

import (
	"testing"

	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/register/types"
)

// DESIGN §4 "Deposits can be slashed": SlashResourceNode burns a fraction of
// the deposit from the module account, rounded down; no ustos is created or
// lost (module balance + burned stays equal to what it was).
func TestSlashResourceNode(t *testing.T) {
	cases := []struct {
		name     string
		deposit  int64
		fraction math.LegacyDec
		burned   int64
		want     error
	}{
		{"tenth", 1_000_000, math.LegacyNewDecWithPrec(1, 1), 100_000, nil},
		{"half", 3_000_000, math.LegacyNewDecWithPrec(5, 1), 1_500_000, nil},
		{"all", 2_000_000, math.LegacyOneDec(), 2_000_000, nil},
		{"third rounds down", 1_000_001, math.LegacyOneDec().QuoInt64(3), 333_333, nil},
		{"dust rounds to nothing", 1_000_000, math.LegacyNewDecWithPrec(1, 18), 0, nil},
		{"zero", 1_000_000, math.LegacyZeroDec(), 0, types.ErrInvalidFraction},
		{"negative", 1_000_000, math.LegacyNewDecWithPrec(-1, 1), 0, types.ErrInvalidFraction},
		{"above one", 1_000_000, math.LegacyNewDecWithPrec(101, 2), 0, types.ErrInvalidFraction},
		{"nil", 1_000_000, math.LegacyDec{}, 0, types.ErrInvalidFraction},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			opAddr, op := f.account(t, 1)
			id := f.registerResource(t, op, 1, ustos(tc.deposit))
			moduleBefore, total := f.bank.module(), f.bank.total()

			got, err := f.k.SlashResourceNode(f.ctx, id, tc.fraction)
			wantErr(t, err, tc.want)
			burned := f.bank.burned.AmountOf(types.Denom)
			if !f.bank.module().Add(burned).Equal(moduleBefore) || !f.bank.total().Equal(total) {
				t.Fatalf("module %s + burned %s != %s", f.bank.module(), burned, moduleBefore)
			}
			if tc.want != nil {
				if !burned.IsZero() {
					t.Fatal("rejected slash burned coins")
				}
				return
			}
			if !got.Equal(ustos(tc.burned)) || !burned.Equal(math.NewInt(tc.burned)) {
				t.Fatalf("burned %s (bank %s), want %d", got, burned, tc.burned)
			}
			n, _ := f.k.ResourceNodes.Get(f.ctx, id)
			if !n.Deposit.Equal(ustos(tc.deposit - tc.burned)) {
				t.Fatalf("stored deposit %s, want %d", n.Deposit, tc.deposit-tc.burned)
			}
			// The remainder, and only it, goes back when the unbonding ends.
			res, err := f.ms.DeactivateResourceNode(f.ctx, &types.MsgDeactivateResourceNode{Operator: op, NodeId: id})
			if err != nil || !res.Unbonding.Equal(ustos(tc.deposit-tc.burned)) {
				t.Fatalf("unbonding %v, %v", res, err)
			}
			f.endBlockAt(t, *res.UnbondingEnds)
			if !f.bank.balance(opAddr).Equal(math.NewInt(startBalance-tc.burned)) || !f.bank.module().IsZero() {
				t.Fatalf("operator %s module %s", f.bank.balance(opAddr), f.bank.module())
			}
		})
	}
	t.Run("unknown node", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.k.SlashResourceNode(f.ctx, "00112233445566778899aabbccddeeff00112233", math.LegacyOneDec())
		wantErr(t, err, types.ErrNodeNotFound)
	})
	t.Run("twice compounds on the lowered deposit", func(t *testing.T) {
		f := newFixture(t)
		_, op := f.account(t, 1)
		id := f.registerResource(t, op, 1, ustos(1_000_000))
		half := math.LegacyNewDecWithPrec(5, 1)
		a, _ := f.k.SlashResourceNode(f.ctx, id, half)
		b, _ := f.k.SlashResourceNode(f.ctx, id, half)
		if !a.Equal(ustos(500_000)) || !b.Equal(ustos(250_000)) || !f.bank.module().Equal(math.NewInt(250_000)) {
			t.Fatalf("slashes %s, %s; module %s", a, b, f.bank.module())
		}
	})
}

// DESIGN §4: parameters change only through governance (the authority).
func TestUpdateParams(t *testing.T) {
	f := newFixture(t)
	_, op := f.account(t, 1)
	p := types.Params{MinResourceDeposit: ustos(5_000_000), MinMetaDeposit: ustos(7_000_000), UnbondingSeconds: 60}
	cases := []struct {
		name string
		msg  types.MsgUpdateParams
		want error
	}{
		{"not the authority", types.MsgUpdateParams{Authority: op, Params: p}, types.ErrUnauthorized},
		{"bad authority address", types.MsgUpdateParams{Authority: "gov", Params: p}, types.ErrInvalidAddress},
		{"wrong denom", types.MsgUpdateParams{Authority: f.authority, Params: types.Params{MinResourceDeposit: ustos(1), MinMetaDeposit: ustosB(1)}}, types.ErrInvalidParams},
		{"unbonding over a year", types.MsgUpdateParams{Authority: f.authority, Params: types.Params{MinResourceDeposit: ustos(1), MinMetaDeposit: ustos(1),
			UnbondingSeconds: types.MaxUnbondingSeconds + 1}}, types.ErrInvalidParams},
		{"ok", types.MsgUpdateParams{Authority: f.authority, Params: p}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			_, err := f.ms.UpdateParams(f.ctx, &msg)
			wantErr(t, err, tc.want)
		})
	}
	res, err := f.qs.Params(f.ctx, &types.QueryParamsRequest{})
	if err != nil || !res.Params.MinResourceDeposit.Equal(p.MinResourceDeposit) || !res.Params.MinMetaDeposit.Equal(p.MinMetaDeposit) ||
		res.Params.UnbondingSeconds != 60 {
		t.Fatalf("params %v, %v", res, err)
	}
	// The new minimum applies at once.
	pub, _ := nodeKey(1)
	_, err = f.ms.RegisterResourceNode(f.ctx, &types.MsgRegisterResourceNode{Operator: op, PublicKey: pub,
		NetworkAddress: "a:1", Capacity: 1, Deposit: ustos(4_999_999)})
	wantErr(t, err, types.ErrInvalidDeposit)
}

func ustosB(n int64) sdk.Coin { return sdk.NewCoin("ustb", math.NewInt(n)) }
