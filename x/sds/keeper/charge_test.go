package keeper_test

import (
	"fmt"
	"math"
	"math/big"
	"testing"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/keeper"
	"github.com/stratos-net/stratos/x/sds/types"
)

const gib = 1 << 30

// DESIGN §7: the client's prepay is charged for the traffic it used, at
// traffic_price ustos per GiB, rounded up so no traffic is free.
func TestTrafficFeeRounding(t *testing.T) {
	huge := new(big.Int).Mul(new(big.Int).SetUint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64))
	huge.Add(huge, big.NewInt(gib-1)).Quo(huge, big.NewInt(gib))
	tests := []struct {
		name         string
		bytes, price uint64
		want         sdkmath.Int
	}{
		{"no traffic", 0, 1000, sdkmath.ZeroInt()},
		{"one byte rounds up", 1, 1000, sdkmath.OneInt()},
		{"exactly 1 GiB", gib, 1000, sdkmath.NewInt(1000)},
		{"1 GiB + 1 byte", gib + 1, 1000, sdkmath.NewInt(1001)},
		{"free traffic", gib, 0, sdkmath.ZeroInt()},
		{"max uint64 bytes", math.MaxUint64, 1000, sdkmath.NewIntFromUint64(17179869184000)},
		{"max bytes at max price", math.MaxUint64, math.MaxUint64, sdkmath.NewIntFromBigInt(huge)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keeper.TrafficFee(tt.bytes, tt.price); !got.Equal(tt.want) {
				t.Errorf("TrafficFee(%d, %d) = %s, want %s", tt.bytes, tt.price, got, tt.want)
			}
		})
	}
}

func TestChargeTraffic(t *testing.T) {
	tests := []struct {
		name        string
		prepay      int64 // 0: nothing prepaid
		bytes       uint64
		wantCharged int64
	}{
		{"one byte", 5000, 1, 1},
		{"exactly 1 GiB", 5000, gib, 1000},
		{"more than prepaid charges only the balance", 5000, 100 * gib, 5000},
		{"huge byte count", 7, math.MaxUint64, 7},
		{"nothing prepaid", 0, gib, 0},
		{"no traffic", 5000, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			user, userStr := f.account(t, 1, ustos(10_000))
			if tt.prepay > 0 {
				if _, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: userStr, Amount: ustos(tt.prepay)}); err != nil {
					t.Fatal(err)
				}
			}
			prepaidBefore, moduleBefore := f.prepaid(t, user), f.bank.ustos(f.module)
			pot := moduleAddr("pot")
			potBefore := f.bank.ustos(pot)

			got, err := f.k.ChargeTraffic(f.ctx, user, tt.bytes)
			if err != nil {
				t.Fatal(err)
			}
			want := sdk.NewInt64Coin(types.Denom, tt.wantCharged)
			if !got.Equal(want) {
				t.Fatalf("charged %s, want %s", got, want)
			}
			// No ustos is created or lost: what leaves the prepay and the sds
			// module account is exactly what reaches the pot module account,
			// which pays the nodes that served the traffic (whitepaper §3.2.2:
			// "the traffic fee ... will be settled to all nodes").
			prepaidDrop := prepaidBefore.Sub(f.prepaid(t, user))
			moduleDrop := moduleBefore.Sub(f.bank.ustos(f.module))
			potRise := f.bank.ustos(pot).Sub(potBefore)
			for what, d := range map[string]sdkmath.Int{"prepaid decrease": prepaidDrop, "module decrease": moduleDrop, "pot module increase": potRise} {
				if !d.Equal(got.Amount) {
					t.Errorf("%s = %s, want %s", what, d, got.Amount)
				}
			}
		})
	}
}

func TestChargeTrafficDrainsThenStops(t *testing.T) {
	f := newFixture(t)
	user, userStr := f.account(t, 1, ustos(1500))
	if _, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: userStr, Amount: ustos(1500)}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{1000, 500, 0} {
		got, err := f.k.ChargeTraffic(f.ctx, user, gib)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Amount.Equal(sdkmath.NewInt(want)) {
			t.Errorf("charge %d = %s, want %d", i, got, want)
		}
	}
	// A drained prepayment leaves no entry behind (nothing to export).
	if has, _ := f.k.Prepaid.Has(f.ctx, user); has {
		t.Error("zero prepaid balance still stored")
	}
}

// A volume report charges thousands of users (issue 8: under 1 s for the
// chain): ChargeTrafficAll and ChargeStorageAll debit each prepay as the
// single charges do, emit one event per non-zero charge, and move the
// total to the pot module in one transfer; if that transfer fails, no
// prepay is touched.
func TestChargeAll(t *testing.T) {
	f := newFixture(t)
	var users []sdk.AccAddress
	for i := range 3 {
		u, s := f.account(t, byte(i+1), ustos(10_000))
		if _, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: s, Amount: ustos(5000)}); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	pot := moduleAddr("pot")
	potBefore, movesBefore, events := f.bank.ustos(pot), f.bank.moves, len(f.ctx.EventManager().Events())
	got, err := f.k.ChargeTrafficAll(f.ctx, users, []uint64{gib, 0, 100 * gib})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1000 0 5000]" {
		t.Fatalf("charged %v, want [1000 0 5000]", got)
	}
	if rise := f.bank.ustos(pot).Sub(potBefore); !rise.Equal(sdkmath.NewInt(6000)) || f.bank.moves-movesBefore != 1 {
		t.Fatalf("pot module rose by %s in %d transfers, want 6000 in 1", rise, f.bank.moves-movesBefore)
	}
	if n := len(f.ctx.EventManager().Events()) - events; n != 2 {
		t.Fatalf("%d events, want one per non-zero charge (2)", n)
	}
	for i, want := range []int64{4000, 5000, 0} {
		if p := f.prepaid(t, users[i]); !p.Equal(sdkmath.NewInt(want)) {
			t.Errorf("user %d has %s prepaid, want %d", i, p, want)
		}
	}

	f.bank.balances[string(f.module)] = ustos(10) // the backing went missing
	if _, err := f.k.ChargeStorageAll(f.ctx, users[:2], []uint64{gib, gib}, month); err == nil {
		t.Fatal("a batch charged without the coins to move")
	}
	if p := f.prepaid(t, users[0]); !p.Equal(sdkmath.NewInt(4000)) {
		t.Fatalf("prepaid %s after a failed batch, want 4000", p)
	}
	if _, err := f.k.ChargeTrafficAll(f.ctx, users, []uint64{1}); err == nil {
		t.Fatal("a batch of 3 users and 1 byte count was taken")
	}
}
