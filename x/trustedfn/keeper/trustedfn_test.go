package keeper_test

import (
	"errors"
	"slices"
	"testing"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// DESIGN §8: nodes are drawn after the request, from a block hash nobody
// knew when the app was submitted; the same hash draws the same nodes.
func TestNodesAreDrawnInALaterBlock(t *testing.T) {
	draw := func(hashSeed string) []string {
		f := setup(t)
		f.offer(8)
		id := f.createApp(5, plenty())
		if err := f.k.EndBlocker(f.ctx); err != nil {
			t.Fatal(err)
		}
		if a := f.app(id); a.Status != types.AppStatus_APP_STATUS_PENDING || len(a.Nodes) != 0 {
			t.Fatalf("drawn in the block of the request: %+v", a)
		}
		f.next()
		f.ctx = f.ctx.WithHeaderHash([]byte(hashSeed))
		if err := f.k.EndBlocker(f.ctx); err != nil {
			t.Fatal(err)
		}
		a := f.app(id)
		if a.Status != types.AppStatus_APP_STATUS_ACTIVE || len(a.Nodes) != 5 {
			t.Fatalf("after the next block: %s with %d nodes", a.Status, len(a.Nodes))
		}
		return a.Nodes
	}
	a, b := draw("block hash one"), draw("block hash one")
	if !slices.Equal(a, b) {
		t.Fatalf("the same block hash drew %v and %v", a, b)
	}
	differs := false
	for _, h := range []string{"two", "three", "four"} {
		differs = differs || !slices.Equal(a, draw(h))
	}
	if !differs {
		t.Fatal("four block hashes drew the same nodes")
	}
}

func TestAppWaitsForEnoughNodes(t *testing.T) {
	f := setup(t)
	f.offer(3)
	id := f.createApp(5, plenty())
	f.endBlock()
	f.endBlock()
	if a := f.app(id); a.Status != types.AppStatus_APP_STATUS_PENDING {
		t.Fatalf("5 nodes wanted, 3 offer: %s", a.Status)
	}
	f.offer(5)
	for range 10 { // a waiting app is tried again every 10 blocks
		f.endBlock()
	}
	if a := f.app(id); a.Status != types.AppStatus_APP_STATUS_ACTIVE {
		t.Fatalf("after more offers: %s", a.Status)
	}
}

// An app that never gets its nodes does not wait, and cost the end blocker,
// forever: after 1000 blocks it is stopped and its escrow refunded.
func TestWaitingAppExpires(t *testing.T) {
	f := setup(t)
	f.offer(2)
	before := f.bank.balance(accAddr("owner"))
	id := f.createApp(5, plenty())
	for range 1002 {
		f.endBlock()
	}
	if a := f.app(id); a.Status != types.AppStatus_APP_STATUS_STOPPED {
		t.Fatalf("after 1002 blocks: %s", a.Status)
	}
	if !f.bank.balance(accAddr("owner")).Equal(before) {
		t.Fatalf("escrow not refunded: %s, was %s", f.bank.balance(accAddr("owner")), before)
	}
}

// §4.5: reputation is built over time; an app that asks for a minimum score
// is not served by fresh nodes.
func TestMinimumNodeScoreExcludesFreshNodes(t *testing.T) {
	f := setup(t)
	f.offer(5)
	m := f.appMsg(3, plenty())
	m.MinNodeScore = 500
	res, err := f.msg.CreateApp(f.ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	f.endBlock()
	f.endBlock()
	if a := f.app(res.AppId); a.Status != types.AppStatus_APP_STATUS_PENDING {
		t.Fatalf("fresh nodes (score 0) drawn for min score 500: %s", a.Status)
	}
}

// Stratosphere §3.2-§3.3 and §6.3.3, through the module: five nodes, one
// answers differently. The round is TRUE (4 > 2/3·5); each of the four is
// paid §6.3.3's split of its 100 STB cost; the fifth is not paid; the swap
// reserve, network support and the burn get their shares; the validators get
// the validation fee; the escrow pays exactly that.
func TestRoundPaysTheMajorityAsSection633Splits(t *testing.T) {
	f := setup(t)
	f.offer(5)
	id := f.activeApp(5)
	before := f.app(id).Escrow
	players := honest(5)
	players[4].output = "a different answer"
	r := f.play(id, players, true)
	if !r.Result {
		t.Fatalf("round FALSE: %+v", r)
	}
	str := func(dollars int64) int64 { return dollars * stb * 2 } // STR at 0.5 STB
	nodePay := sdk.NewCoins(sdk.NewInt64Coin("ustb", 110*stb), sdk.NewInt64Coin("ustos", str(40)))
	a := f.app(id)
	for i, n := range a.Nodes {
		m := r.Members[i]
		got := f.bank.balance(operator(n))
		if players[i].output == "a different answer" {
			if m.Status != "minority" || !got.IsZero() {
				t.Errorf("%s: %s, paid %s", n, m.Status, got)
			}
			continue
		}
		if m.Status != "majority" || !got.Equal(nodePay) || !m.Paid.Equal(nodePay) {
			t.Errorf("%s: %s, balance %s, round says %s; want %s", n, m.Status, got, m.Paid, nodePay)
		}
	}
	want := map[string]sdk.Coins{
		"swap reserve":    sdk.NewCoins(sdk.NewInt64Coin("ustb", 4*10*stb)),
		"network support": sdk.NewCoins(sdk.NewInt64Coin("ustos", 4*str(20))),
		"burned":          sdk.NewCoins(sdk.NewInt64Coin("ustos", 4*str(20))),
		"validators":      sdk.NewCoins(types.DefaultParams().ValidationFee),
	}
	for name, got := range map[string]sdk.Coins{
		"swap reserve": f.bank.balance(swapAddr), "network support": f.bank.balance(poolAddr),
		"burned": f.bank.burned, "validators": f.bank.balance(feeAddr),
	} {
		if !got.Equal(want[name]) {
			t.Errorf("%s got %s, want %s", name, got, want[name])
		}
	}
	spent := before.Sub(a.Escrow...)
	perNode := sdk.NewCoins(sdk.NewInt64Coin("ustb", 120*stb), sdk.NewInt64Coin("ustos", str(80)))
	wantSpent := sdk.NewCoins(types.DefaultParams().ValidationFee)
	for range 4 {
		wantSpent = wantSpent.Add(perNode...)
	}
	if !spent.Equal(wantSpent) {
		t.Errorf("escrow spent %s, want %s (4 × §6.3.3's withdrawal + the validation fee)", spent, wantSpent)
	}
	if a.OpenRound != 0 || a.Stats.Rounds != 1 || a.Stats.TrueRounds != 1 {
		t.Errorf("app after the round: open %d stats %+v", a.OpenRound, a.Stats)
	}
	rep, err := f.query.Reputation(f.ctx, &types.QueryReputationRequest{NodeId: a.Nodes[4]})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Record.Minority != 1 || rep.Score != 0 || rep.MinorityRate != math.LegacyOneDec().String() {
		t.Errorf("minority node's reputation: %+v", rep)
	}
	rep, _ = f.query.Reputation(f.ctx, &types.QueryReputationRequest{NodeId: a.Nodes[0]})
	if rep.Score != types.MaxScore || rep.AppsHosted != 1 || rep.Stake != "1000000ustos" {
		t.Errorf("majority node's reputation: %+v", rep)
	}
}

// §3.5.4 and §3.5.5 through the module, with §6.10's rate: a node that
// stalls its reveal and one whose reveal does not open its commit lose 5%
// of their deposit; the same node slashed again within the window loses 10%.
func TestLiarsAndStallersAreSlashedAtTheTimeWeightedRate(t *testing.T) {
	f := setup(t)
	f.offer(7)
	id := f.activeApp(7)
	nodes := f.app(id).Nodes
	players := honest(7)
	players[5].noReveal = true
	players[6].revealOut = "not what it committed"
	r := f.play(id, players, true)
	if !r.Result {
		t.Fatal("5 of 7 honest is TRUE")
	}
	for i, want := range map[int]string{5: "stalled", 6: "lied"} {
		m := r.Members[i]
		if m.Status != want || m.Slashed.Amount.Int64() != 50_000 || !m.Paid.IsZero() {
			t.Errorf("%s: %s, slashed %s, paid %s; want %s, 50000ustos, nothing", nodes[i], m.Status, m.Slashed, m.Paid, want)
		}
	}
	for range 5 {
		f.endBlock()
	}
	players = honest(7)
	players[6].noReveal = true
	r = f.play(id, players, true)
	if got := r.Members[6].Slashed.Amount.Int64(); got != 95_000 { // 10% of 950,000
		t.Errorf("second slash in the window took %d, want 95000", got)
	}
	rep, _ := f.query.Reputation(f.ctx, &types.QueryReputationRequest{NodeId: nodes[6]})
	if rep.Record.Slashes != 2 || rep.Record.Lied != 1 || rep.Record.Stalled != 1 {
		t.Errorf("record %+v", rep.Record)
	}
}

// §3.5.2: a node that got a false salt complains and leaves the round
// unpaid and unslashed; the app's record counts the complaint.
func TestComplaintAboutAFalseSalt(t *testing.T) {
	f := setup(t)
	f.offer(3)
	id := f.activeApp(3)
	p := &roundPlay{f: f, app: f.app(id), players: honest(3), appReveals: true}
	p.open()
	n := p.app.Nodes[0]
	if _, err := f.msg.Complain(f.ctx, &types.MsgComplain{
		Operator: addr(t, operator(n)), RoundId: p.id, NodeId: n, Received: p.appSalts[0],
	}); !errors.Is(err, types.ErrRound) {
		t.Fatalf("complaint with the right salt: %v, want ErrRound", err)
	}
	if _, err := f.msg.Complain(f.ctx, &types.MsgComplain{
		Operator: addr(t, operator(n)), RoundId: p.id, NodeId: n, Received: []byte("forged"),
	}); err != nil {
		t.Fatal(err)
	}
	if got := f.app(id).Stats.Complaints; got != 1 {
		t.Fatalf("complaints %d", got)
	}
	p.players[0].noCommit = true
	p.commit()
	f.endBlock()
	p.revealSalts()
	p.reveal()
	f.endBlock()
	r := f.getRound(p.id)
	if r.Members[0].Status != "refused" || !r.Members[0].Paid.IsZero() || r.Members[0].Slashed.IsPositive() {
		t.Fatalf("complaining node: %+v", r.Members[0])
	}
}

// §3.5.1: an app that stalls its salts after reading the commits still pays
// the nodes that committed (their base fee), and is marked for it.
func TestAppThatStallsStillPays(t *testing.T) {
	f := setup(t)
	f.offer(3)
	id := f.activeApp(3)
	r := f.play(id, honest(3), false)
	if !r.AppDefaulted {
		t.Fatal("not marked as defaulted")
	}
	for i, n := range f.app(id).Nodes {
		if r.Members[i].Status != "excused" || f.bank.balance(operator(n)).AmountOf("ustb").Int64() != 110*stb {
			t.Errorf("%s: %s, balance %s", n, r.Members[i].Status, f.bank.balance(operator(n)))
		}
	}
	if f.app(id).Stats.Defaults != 1 {
		t.Error("app's defaults not counted")
	}
}

// §4.3.1: usage is paid at the network's gas price, capped at the median.
func TestUsageIsBilledAtTheGasPrice(t *testing.T) {
	f := setup(t)
	f.offer(3)
	m := f.appMsg(3, plenty())
	m.BaseFee = math.ZeroInt()
	m.MaxUsage = 10_000_000
	res, err := f.msg.CreateApp(f.ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	f.endBlock()
	f.endBlock()
	players := honest(3)
	for i := range players {
		players[i].usage = 1_000_000 // × 0.0001 ustb = 100 ustb of cost
	}
	players[2].usage = 9_000_000 // inflated: paid the median
	r := f.play(res.AppId, players, true)
	for i, mb := range r.Members {
		// 100 ustb cost → 110 ustb to the node, $40 of STR at 0.5 = 80 ustos.
		if mb.PaidUsage != 1_000_000 || mb.Paid.AmountOf("ustb").Int64() != 110 || mb.Paid.AmountOf("ustos").Int64() != 80 {
			t.Errorf("node %d: paid usage %d, paid %s", i, mb.PaidUsage, mb.Paid)
		}
	}
}

func TestOpenRoundRules(t *testing.T) {
	f := setup(t)
	f.offer(3)
	id := f.activeApp(3)
	a := f.app(id)
	hashes := make([][]byte, 3)
	for i := range hashes {
		hashes[i] = make([]byte, 32)
	}
	open := func(owner string, h [][]byte) error {
		next, _ := f.query.NextRound(f.ctx, &types.QueryNextRoundRequest{})
		_, err := f.msg.OpenRound(f.ctx, &types.MsgOpenRound{Owner: owner, AppId: id, SaltHashes: h, RoundId: next.RoundId})
		return err
	}
	if _, err := f.msg.OpenRound(f.ctx, &types.MsgOpenRound{Owner: f.owner, AppId: id, SaltHashes: hashes, RoundId: 7}); !errors.Is(err, types.ErrRoundTaken) {
		t.Errorf("salt hashes made for round 7 while the next is 1: %v", err)
	}
	if err := open(addr(t, accAddr("mallory")), hashes); !errors.Is(err, types.ErrNotOwner) {
		t.Errorf("stranger opens: %v", err)
	}
	if err := open(f.owner, hashes[:2]); !errors.Is(err, types.ErrRound) {
		t.Errorf("two hashes for three nodes: %v", err)
	}
	if err := open(f.owner, hashes); err != nil {
		t.Fatal(err)
	}
	if err := open(f.owner, hashes); !errors.Is(err, types.ErrRoundOpen) {
		t.Errorf("second open round: %v", err)
	}
	n := a.Nodes[0]
	if _, err := f.msg.Commit(f.ctx, &types.MsgCommit{
		Operator: addr(t, operator(a.Nodes[1])), RoundId: 1, NodeId: n, NodeSaltHash: hashes[0], Commit: hashes[0],
	}); !errors.Is(err, types.ErrNotOperator) {
		t.Errorf("commit by another node's operator: %v", err)
	}
	if _, err := f.msg.StopApp(f.ctx, &types.MsgStopApp{Owner: f.owner, AppId: id}); !errors.Is(err, types.ErrRoundOpen) {
		t.Errorf("stop during a round: %v", err)
	}
	for f.getRound(1).Phase != round.Done.String() {
		f.endBlock()
	}
	if err := open(f.owner, hashes); err != nil && !errors.Is(err, types.ErrTooSoon) {
		t.Errorf("open right after: %v", err)
	}
}

func TestEscrowMustCoverTheRound(t *testing.T) {
	f := setup(t)
	f.offer(3)
	small := sdk.NewCoins(sdk.NewInt64Coin("ustb", 200*stb), sdk.NewInt64Coin("ustos", 1000*stb))
	id := f.createApp(3, small)
	f.endBlock()
	f.endBlock()
	hashes := [][]byte{make([]byte, 32), make([]byte, 32), make([]byte, 32)}
	_, err := f.msg.OpenRound(f.ctx, &types.MsgOpenRound{Owner: f.owner, AppId: id, SaltHashes: hashes, RoundId: 1})
	if !errors.Is(err, types.ErrEscrow) {
		t.Fatalf("3 × 120 STB against 200 STB: %v", err)
	}
	if _, err := f.msg.TopUp(f.ctx, &types.MsgTopUp{Owner: f.owner, AppId: id,
		Amount: sdk.NewCoins(sdk.NewInt64Coin("ustb", 200*stb))}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.msg.OpenRound(f.ctx, &types.MsgOpenRound{Owner: f.owner, AppId: id, SaltHashes: hashes, RoundId: 1}); err != nil {
		t.Fatalf("after the top-up: %v", err)
	}
}

func TestStopAppRefundsTheEscrow(t *testing.T) {
	f := setup(t)
	f.offer(3)
	before := f.bank.balance(accAddr("owner"))
	id := f.activeApp(3)
	res, err := f.msg.StopApp(f.ctx, &types.MsgStopApp{Owner: f.owner, AppId: id})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Refunded.Equal(plenty()) || !f.bank.balance(accAddr("owner")).Equal(before) {
		t.Fatalf("refunded %s; balance %s, was %s", res.Refunded, f.bank.balance(accAddr("owner")), before)
	}
	offers, _ := f.query.Offers(f.ctx, &types.QueryOffersRequest{})
	for _, o := range offers.Offers {
		if o.AppsHosted != 0 {
			t.Errorf("%s still hosts %d apps", o.NodeId, o.AppsHosted)
		}
	}
}

func TestCreateAppRefusesBadSettings(t *testing.T) {
	f := setup(t)
	for name, mut := range map[string]func(*types.MsgCreateApp){
		"no name":        func(m *types.MsgCreateApp) { m.Name = "" },
		"bad code hash":  func(m *types.MsgCreateApp) { m.CodeHash = "abc" },
		"zero nodes":     func(m *types.MsgCreateApp) { m.Nodes = 0 },
		"too many nodes": func(m *types.MsgCreateApp) { m.Nodes = 1000 },
		"agreement > 1":  func(m *types.MsgCreateApp) { m.AgreementNum, m.AgreementDen = 4, 3 },
		"short timeout":  func(m *types.MsgCreateApp) { m.CommitTimeout = 1 },
		"no price":       func(m *types.MsgCreateApp) { m.StrPrice = math.LegacyZeroDec() },
		"odd denom":      func(m *types.MsgCreateApp) { m.Escrow = sdk.NewCoins(sdk.NewInt64Coin("uatom", 1)) },
	} {
		m := f.appMsg(3, plenty())
		mut(m)
		if _, err := f.msg.CreateApp(f.ctx, m); !errors.Is(err, types.ErrInvalidApp) {
			t.Errorf("%s: %v, want ErrInvalidApp", name, err)
		}
	}
	m := f.appMsg(3, sdk.NewCoins(sdk.NewInt64Coin("ustb", 2_000_000_000_000)))
	if _, err := f.msg.CreateApp(f.ctx, m); err == nil {
		t.Error("an escrow larger than the balance was accepted")
	}
}

func TestGenesisRoundTrip(t *testing.T) {
	f := setup(t)
	f.offer(3)
	id := f.activeApp(3)
	f.play(id, honest(3), true)
	gs, err := f.k.ExportGenesis(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Validate(addrCodec); err != nil {
		t.Fatal(err)
	}
	g := setup(t)
	if err := g.k.InitGenesis(g.ctx, *gs); err != nil {
		t.Fatal(err)
	}
	again, err := g.k.ExportGenesis(g.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.String() != gs.String() {
		t.Fatalf("export after import differs:\n%s\n%s", gs, again)
	}
	rounds, err := g.query.Rounds(g.ctx, &types.QueryRoundsRequest{AppId: id})
	if err != nil || len(rounds.Rounds) != 1 {
		t.Fatalf("rounds after import: %v %v", rounds, err)
	}
}

// An offer may name an agent, a hot key that acts for the node in rounds
// so the operator's key stays offline; nobody else may.
func TestAgentActsForTheNode(t *testing.T) {
	f := setup(t)
	f.offer(3)
	agent := addr(t, accAddr("agent-node0"))
	if _, err := f.msg.OfferCompute(f.ctx, &types.MsgOfferCompute{Operator: addr(t, operator("node0")), NodeId: "node0",
		Capacity: 2, Endpoint: "http://node0.test:8080", Agent: agent}); err != nil {
		t.Fatal(err)
	}
	id := f.activeApp(3)
	p := &roundPlay{f: f, app: f.app(id), players: honest(3), appReveals: true}
	p.open()
	i := slices.Index(p.app.Nodes, "node0")
	sh := round.SaltHash(p.rid(), "node0", p.nodeSalts[i])
	c := round.CommitHash(p.rid(), "node0", p.appSalts[i], p.nodeSalts[i], round.OutputHash([]byte("x")), 0)
	commit := &types.MsgCommit{Operator: addr(t, accAddr("mallory")), RoundId: p.id, NodeId: "node0", NodeSaltHash: sh[:], Commit: c[:]}
	if _, err := f.msg.Commit(f.ctx, commit); !errors.Is(err, types.ErrNotOperator) {
		t.Fatalf("a stranger commits for node0: %v", err)
	}
	commit.Operator = agent
	if _, err := f.msg.Commit(f.ctx, commit); err != nil {
		t.Fatalf("the agent commits for node0: %v", err)
	}
	if _, err := f.msg.OfferCompute(f.ctx, &types.MsgOfferCompute{Operator: addr(t, operator("node1")), NodeId: "node1",
		Capacity: 2, Endpoint: "ftp://x", Agent: agent}); !errors.Is(err, types.ErrInvalidOffer) {
		t.Fatalf("an ftp endpoint: %v", err)
	}
}

// A node that left x/register before its round settled is not paid (its
// share stays in the escrow), but the round still counts on its record.
func TestNodeGoneBeforeSettlementKeepsItsRecord(t *testing.T) {
	f := setup(t)
	f.offer(3)
	id := f.activeApp(3)
	p := &roundPlay{f: f, app: f.app(id), players: honest(3), appReveals: true}
	p.open()
	p.commit()
	f.endBlock()
	p.revealSalts()
	p.reveal()
	gone := p.app.Nodes[0]
	delete(f.reg.nodes, gone)
	f.endBlock()
	r := f.getRound(p.id)
	if r.Members[0].Status != "majority" || !r.Members[0].Paid.IsZero() {
		t.Fatalf("gone node: %s paid %s", r.Members[0].Status, r.Members[0].Paid)
	}
	rec, err := f.k.Records.Get(f.ctx, gone)
	if err != nil || rec.Majority != 1 {
		t.Fatalf("gone node's record %+v, %v", rec, err)
	}
}
