package keeper_test

import (
	"errors"
	"math/big"
	"testing"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/stratos-net/stratos/x/sds/types"
)

// DESIGN §4: users lock STOS (ustos) in x/sds for traffic; the module
// account holds it and the prepaid balance records the user's share.
func TestPrepayAccumulates(t *testing.T) {
	f := newFixture(t)
	user, userStr := f.account(t, 1, ustos(30_000_000))

	for i, want := range []int64{10_000_000, 20_000_000} {
		res, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: userStr, Amount: ustos(10_000_000)})
		if err != nil {
			t.Fatalf("prepay %d: %v", i, err)
		}
		if !res.Prepaid.Equal(sdk.NewInt64Coin(types.Denom, want)) {
			t.Errorf("prepay %d: response %s, want %dustos", i, res.Prepaid, want)
		}
	}
	if got := f.prepaid(t, user); !got.Equal(math.NewInt(20_000_000)) {
		t.Errorf("prepaid = %s, want 20000000", got)
	}
	if got := f.bank.ustos(user); !got.Equal(math.NewInt(10_000_000)) {
		t.Errorf("user balance = %s, want 10000000", got)
	}
	if got := f.bank.ustos(f.module); !got.Equal(math.NewInt(20_000_000)) {
		t.Errorf("module balance = %s, want 20000000", got)
	}
	q, err := f.query.Prepaid(f.ctx, &types.QueryPrepaidRequest{Address: userStr})
	if err != nil || !q.Prepaid.Equal(sdk.NewInt64Coin(types.Denom, 20_000_000)) {
		t.Errorf("query prepaid = %v, %v", q, err)
	}
}

func TestPrepayRejects(t *testing.T) {
	maxInt := math.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)))
	tests := []struct {
		name    string
		amount  sdk.Coins
		sender  string // empty: the funded user
		setup   func(f *fixture, user sdk.AccAddress)
		wantErr error
	}{
		{name: "beyond balance", amount: ustos(1_000_001), wantErr: sdkerrors.ErrInsufficientFunds},
		{name: "wrong denom", amount: sdk.NewCoins(sdk.NewInt64Coin("ustb", 5)), wantErr: types.ErrInvalidPrepay},
		{name: "zero", amount: sdk.Coins{sdk.NewInt64Coin(types.Denom, 0)}, wantErr: types.ErrInvalidPrepay},
		{name: "negative", amount: sdk.Coins{{Denom: types.Denom, Amount: math.NewInt(-5)}}, wantErr: types.ErrInvalidPrepay},
		{name: "nil amount", amount: sdk.Coins{{Denom: types.Denom}}, wantErr: types.ErrInvalidPrepay},
		{name: "no coins", amount: nil, wantErr: types.ErrInvalidPrepay},
		{name: "two denoms", amount: sdk.NewCoins(sdk.NewInt64Coin("ustb", 5), sdk.NewInt64Coin(types.Denom, 5)), wantErr: types.ErrInvalidPrepay},
		{name: "duplicate ustos", amount: sdk.Coins{sdk.NewInt64Coin(types.Denom, 5), sdk.NewInt64Coin(types.Denom, 5)}, wantErr: types.ErrInvalidPrepay},
		{name: "bad sender", amount: ustos(5), sender: "cosmos1xyz", wantErr: types.ErrInvalidAddress},
		{
			name: "below min_prepay", amount: ustos(99), wantErr: types.ErrInvalidPrepay,
			setup: func(f *fixture, _ sdk.AccAddress) {
				p := types.DefaultParams()
				p.MinPrepay = sdk.NewInt64Coin(types.Denom, 100)
				if err := f.k.SetParams(f.ctx, p); err != nil {
					panic(err)
				}
			},
		},
		{
			// math.Int holds 256 bits; the sum is checked before coins move.
			name: "overflowing prepaid balance", amount: ustos(1), wantErr: types.ErrInvalidPrepay,
			setup: func(f *fixture, user sdk.AccAddress) {
				if err := f.k.Prepaid.Set(f.ctx, user, maxInt); err != nil {
					panic(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			user, userStr := f.account(t, 1, ustos(1_000_000).Add(sdk.NewInt64Coin("ustb", 100)))
			if tt.setup != nil {
				tt.setup(f, user)
			}
			before := f.prepaid(t, user)
			sender := userStr
			if tt.sender != "" {
				sender = tt.sender
			}
			_, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: sender, Amount: tt.amount})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := f.bank.ustos(user); !got.Equal(math.NewInt(1_000_000)) {
				t.Errorf("user balance changed to %s", got)
			}
			if got := f.bank.ustos(f.module); !got.IsZero() {
				t.Errorf("module account received %s", got)
			}
			if got := f.prepaid(t, user); !got.Equal(before) {
				t.Errorf("prepaid changed from %s to %s", before, got)
			}
		})
	}
}
