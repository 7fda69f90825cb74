package keeper_test

import (
	"errors"
	"math"
	"math/big"
	"testing"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/sds/keeper"
	"github.com/stratos-net/stratos/x/sds/types"
)

const (
	month = types.StoragePeriodSeconds // 30 days, the unit of storage_price
	day   = 24 * 3600
)

// DESIGN §7: storage is charged at storage_price ustos per GiB (every
// replica counted) per 30 days, pro rata for a ledger period, rounded up so
// no storage is free.
func TestStorageFeeRounding(t *testing.T) {
	ceilDiv := func(bytes, price, seconds uint64) sdkmath.Int {
		num := new(big.Int).SetUint64(bytes)
		num.Mul(num, new(big.Int).SetUint64(price)).Mul(num, new(big.Int).SetUint64(seconds))
		den := new(big.Int).Mul(big.NewInt(gib), new(big.Int).SetUint64(month))
		num.Add(num, den).Sub(num, big.NewInt(1))
		return sdkmath.NewIntFromBigInt(num.Quo(num, den))
	}
	tests := []struct {
		name                  string
		bytes, price, seconds uint64
		want                  sdkmath.Int
	}{
		{"nothing stored", 0, 4000, month, sdkmath.ZeroInt()},
		{"no time", gib, 4000, 0, sdkmath.ZeroInt()},
		{"free storage", gib, 0, month, sdkmath.ZeroInt()},
		{"one byte for one second rounds up", 1, 4000, 1, sdkmath.OneInt()},
		{"1 GiB for 30 days", gib, 4000, month, sdkmath.NewInt(4000)},
		{"1 GiB for 15 days", gib, 4000, 15 * day, sdkmath.NewInt(2000)},
		{"1 GiB for 30 days and a second", gib, 4000, month + 1, sdkmath.NewInt(4001)},
		// A 10-minute ledger period: 4000 × 600 / 2,592,000 = 0.93 → 1.
		{"1 GiB for 10 minutes", gib, 4000, 600, sdkmath.OneInt()},
		{"100 GiB for 10 minutes", 100 * gib, 4000, 600, sdkmath.NewInt(93)}, // 92.59 → 93
		{"3 replicas of 1 TiB for 30 days", 3 << 40, 4000, month, sdkmath.NewInt(12_288_000)},
		{"max bytes", math.MaxUint64, 4000, 600, ceilDiv(math.MaxUint64, 4000, 600)},
		{"max everything", math.MaxUint64, math.MaxUint64, math.MaxUint64, ceilDiv(math.MaxUint64, math.MaxUint64, math.MaxUint64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keeper.StorageFee(tt.bytes, tt.price, tt.seconds)
			if !got.Equal(tt.want) {
				t.Errorf("StorageFee(%d, %d, %d) = %s, want %s", tt.bytes, tt.price, tt.seconds, got, tt.want)
			}
			if want := ceilDiv(tt.bytes, tt.price, tt.seconds); !got.Equal(want) {
				t.Errorf("StorageFee(%d, %d, %d) = %s, exact ceiling %s", tt.bytes, tt.price, tt.seconds, got, want)
			}
		})
	}
}

// DESIGN §7: "storage fees are settled to the nodes that hold replicas":
// the charge moves from the user's prepay, held by the sds module account,
// to the pot module account, which credits the holders.
func TestChargeStorage(t *testing.T) {
	tests := []struct {
		name           string
		prepay         int64 // 0: nothing prepaid
		bytes, seconds uint64
		wantCharged    int64
	}{
		{"one byte for a period", 5000, 1, 600, 1},
		{"3 GiB for 30 days", 50_000, 3 * gib, month, 12_000},
		{"more than prepaid charges only the balance", 5000, 3 * gib, month, 5000},
		{"overflow-size inputs charge the balance", 7, math.MaxUint64, math.MaxUint64, 7},
		{"nothing prepaid", 0, gib, month, 0},
		{"zero bytes", 5000, 0, month, 0},
		{"zero seconds", 5000, gib, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			user, userStr := f.account(t, 1, ustos(100_000))
			if tt.prepay > 0 {
				if _, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: userStr, Amount: ustos(tt.prepay)}); err != nil {
					t.Fatal(err)
				}
			}
			pot := moduleAddr("pot")
			prepaidBefore, moduleBefore, potBefore := f.prepaid(t, user), f.bank.ustos(f.module), f.bank.ustos(pot)
			events := len(f.ctx.EventManager().Events())

			got, err := f.k.ChargeStorage(f.ctx, user, tt.bytes, tt.seconds)
			if err != nil {
				t.Fatal(err)
			}
			if want := sdk.NewInt64Coin(types.Denom, tt.wantCharged); !got.Equal(want) {
				t.Fatalf("charged %s, want %s", got, want)
			}
			// No ustos is created or lost on the way.
			prepaidDrop := prepaidBefore.Sub(f.prepaid(t, user))
			moduleDrop := moduleBefore.Sub(f.bank.ustos(f.module))
			potRise := f.bank.ustos(pot).Sub(potBefore)
			for what, d := range map[string]sdkmath.Int{"prepaid decrease": prepaidDrop, "sds module decrease": moduleDrop, "pot module increase": potRise} {
				if !d.Equal(got.Amount) {
					t.Errorf("%s = %s, want %s", what, d, got.Amount)
				}
			}
			evs := f.ctx.EventManager().Events()[events:]
			if tt.wantCharged == 0 {
				if len(evs) != 0 {
					t.Errorf("events for a zero charge: %v", evs)
				}
				return
			}
			if len(evs) != 1 || evs[0].Type != keeper.EventTypeChargeStorage {
				t.Fatalf("events %v, want one %s", evs, keeper.EventTypeChargeStorage)
			}
			attrs := map[string]string{}
			for _, a := range evs[0].Attributes {
				attrs[a.Key] = a.Value
			}
			if attrs[keeper.AttributeKeyAmount] != got.String() || attrs[keeper.AttributeKeyUser] != user.String() ||
				attrs[keeper.AttributeKeySeconds] == "" || attrs[keeper.AttributeKeyBytes] == "" {
				t.Errorf("event attributes %v", attrs)
			}
		})
	}
}

func TestChargeStorageUsesStoragePrice(t *testing.T) {
	f := newFixture(t)
	user, userStr := f.account(t, 1, ustos(100_000))
	if _, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: userStr, Amount: ustos(100_000)}); err != nil {
		t.Fatal(err)
	}
	p := types.DefaultParams()
	p.StoragePrice = 250
	if err := f.k.SetParams(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := f.k.ChargeStorage(f.ctx, user, 4*gib, month)
	if err != nil || !got.Amount.Equal(sdkmath.NewInt(1000)) {
		t.Fatalf("charged %s, %v; want 1000 at 250 ustos per GiB-month", got, err)
	}
	// Traffic keeps its own price.
	if got, err := f.k.ChargeTraffic(f.ctx, user, gib); err != nil || !got.Amount.Equal(sdkmath.NewInt(int64(types.DefaultTrafficPrice))) {
		t.Fatalf("traffic charged %s, %v", got, err)
	}
}

func TestChargeStorageDrainsThenStops(t *testing.T) {
	f := newFixture(t)
	user, userStr := f.account(t, 1, ustos(6000))
	if _, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: userStr, Amount: ustos(6000)}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{4000, 2000, 0} {
		got, err := f.k.ChargeStorage(f.ctx, user, gib, month)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Amount.Equal(sdkmath.NewInt(want)) {
			t.Errorf("charge %d = %s, want %d", i, got, want)
		}
	}
	if has, _ := f.k.Prepaid.Has(f.ctx, user); has {
		t.Error("zero prepaid balance still stored")
	}
}

func TestChargeStorageRejectsEmptyUser(t *testing.T) {
	f := newFixture(t)
	if _, err := f.k.ChargeStorage(f.ctx, nil, gib, month); !errors.Is(err, types.ErrInvalidAddress) {
		t.Fatalf("err = %v, want ErrInvalidAddress", err)
	}
}

// A failed transfer to the pot module leaves the prepaid balance as it was.
func TestChargeStorageFailedTransfer(t *testing.T) {
	f := newFixture(t)
	user, userStr := f.account(t, 1, ustos(5000))
	if _, err := f.msgs.Prepay(f.ctx, &types.MsgPrepay{Sender: userStr, Amount: ustos(5000)}); err != nil {
		t.Fatal(err)
	}
	f.bank.balances[string(f.module)] = ustos(10) // the backing went missing
	if _, err := f.k.ChargeStorage(f.ctx, user, gib, month); err == nil {
		t.Fatal("charge succeeded without the coins to move")
	}
	if got := f.prepaid(t, user); !got.Equal(sdkmath.NewInt(5000)) {
		t.Fatalf("prepaid %s after a failed charge, want 5000", got)
	}
}
