package payout

import (
	"errors"
	"testing"
	"time"

	"cosmossdk.io/math"
)

const stb = 1_000_000 // ustb per STB; $1 = 1 STB (§6.1)

// §6.3.3: "a node that entails a cost worth $100 USD. At the payment rate of
// 2x costs, 120 STB and $80 USD worth of STR ... would be withdrawn ... The
// node would receive 100 STB to cover costs, as well as 10 STB and $40 USD
// worth of STR as profit. The remaining 10 STB would be sent to the Swap
// Reserve, while $20 USD worth of STR would be sent to Network Support and
// $20 USD worth of STR would be burned." With STR at 0.5 STB, $80 of STR is
// 160 STR.
func TestPaymentExampleOfSection633(t *testing.T) {
	price := math.LegacyNewDecWithPrec(5, 1) // 1 ustos = 0.5 ustb
	p, err := DefaultSplit().Pay(math.NewInt(100*stb), price)
	if err != nil {
		t.Fatal(err)
	}
	str := func(dollars int64) math.Int { return math.NewInt(dollars * stb * 2) }
	for name, c := range map[string][2]math.Int{
		"withdrawn STB": {p.WithdrawnSTB(), math.NewInt(120 * stb)},
		"withdrawn STR": {p.WithdrawnSTR(), str(80)},
		"node STB":      {p.NodeSTB, math.NewInt(110 * stb)},
		"swap reserve":  {p.ReserveSTB, math.NewInt(10 * stb)},
		"node STR":      {p.NodeSTR, str(40)},
		"support":       {p.SupportSTR, str(20)},
		"burned":        {p.BurnSTR, str(20)},
	} {
		if !c[0].Equal(c[1]) {
			t.Errorf("%s: %v, want %v", name, c[0], c[1])
		}
	}
}

// The price of STR is an input: at twice the price the same $80 is half the
// STR.
func TestPaymentFollowsTheStrPrice(t *testing.T) {
	p, err := DefaultSplit().Pay(math.NewInt(100*stb), math.OneInt().ToLegacyDec())
	if err != nil {
		t.Fatal(err)
	}
	if !p.WithdrawnSTR().Equal(math.NewInt(80 * stb)) {
		t.Fatalf("withdrawn STR %v at 1 STB", p.WithdrawnSTR())
	}
}

// Rounding never pays anyone more than the split, and what is withdrawn is
// exactly what is paid out.
func TestPaymentRoundsDownAndAddsUp(t *testing.T) {
	price := math.LegacyMustNewDecFromStr("0.37")
	for _, cost := range []int64{0, 1, 3, 7, 999, 123457} {
		p, err := DefaultSplit().Pay(math.NewInt(cost), price)
		if err != nil {
			t.Fatal(err)
		}
		c := math.LegacyNewDec(cost)
		if p.WithdrawnSTB().ToLegacyDec().GT(c.Mul(math.LegacyMustNewDecFromStr("1.2"))) {
			t.Errorf("cost %d: withdrawn %v STB", cost, p.WithdrawnSTB())
		}
		if p.NodeSTB.LT(math.NewInt(cost)) {
			t.Errorf("cost %d: node gets %v STB, less than its cost", cost, p.NodeSTB)
		}
		for _, v := range []math.Int{p.NodeSTB, p.ReserveSTB, p.NodeSTR, p.SupportSTR, p.BurnSTR} {
			if v.IsNegative() {
				t.Errorf("cost %d: negative share %v", cost, p)
			}
		}
	}
}

// §6.8: the percentages are governance parameters; ones that do not add up
// are refused.
func TestSplitValidation(t *testing.T) {
	bad := []func(*Split){
		func(s *Split) { s.Multiple = math.LegacyMustNewDecFromStr("1.1") },
		func(s *Split) { s.ProfitToNode = math.LegacyMustNewDecFromStr("0.8") },
		func(s *Split) { s.Markup = math.LegacyMustNewDecFromStr("-0.1") },
		func(s *Split) { s.MarkupToNode = math.LegacyNewDec(2) },
	}
	for i, f := range bad {
		s := DefaultSplit()
		f(&s)
		if _, err := s.Pay(math.NewInt(1), math.OneInt().ToLegacyDec()); !errors.Is(err, ErrParams) {
			t.Errorf("case %d: %v, want ErrParams", i, err)
		}
	}
	if _, err := DefaultSplit().Pay(math.NewInt(1), math.LegacyZeroDec()); !errors.Is(err, ErrParams) {
		t.Errorf("zero price: %v", err)
	}
}

// §6.10: 5% for a first slash, doubling for each later slash inside the
// window, halving for each window that passes.
func TestSlashRateOfSection610(t *testing.T) {
	s := DefaultSlashing()
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var r Record
	pct := func(d math.LegacyDec) string { return d.MulInt64(100).String() }
	steps := []struct {
		at   time.Time
		want string
	}{
		{t0, "5"},
		{t0.Add(24 * time.Hour), "10"},
		{t0.Add(48 * time.Hour), "20"},
		{t0.Add(48*time.Hour + s.Window), "20"},   // one window passed: 40% halves to 20%
		{t0.Add(48*time.Hour + 4*s.Window), "5"},  // the history has worn off
		{t0.Add(48*time.Hour + 4*s.Window), "10"}, // and builds again
	}
	for i, st := range steps {
		var rate math.LegacyDec
		rate, r = s.Slash(r, st.at)
		want := math.LegacyMustNewDecFromStr(st.want)
		if got := rate.MulInt64(100); !got.Equal(want) {
			t.Errorf("slash %d: %s%%, want %s%%", i, pct(rate), st.want)
		}
	}
}

func TestSlashRateIsCappedAtTheWholeStake(t *testing.T) {
	s := DefaultSlashing()
	now := time.Unix(1e9, 0)
	var r Record
	var rate math.LegacyDec
	for range 100 {
		rate, r = s.Slash(r, now)
	}
	if !rate.Equal(math.LegacyOneDec()) {
		t.Fatalf("rate %v after 100 slashes", rate)
	}
	if err := (Slashing{First: math.LegacyNewDec(2), Window: time.Hour}).Validate(); !errors.Is(err, ErrParams) {
		t.Fatalf("200%% first slash: %v", err)
	}
}
