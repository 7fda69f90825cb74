package keeper_test

import (
	"strings"
	"testing"
	"time"

	"cosmossdk.io/math"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/register/types"
)

func (f *fixture) deactivate(t *testing.T, op, id string) *types.MsgDeactivateResourceNodeResponse {
	t.Helper()
	res, err := f.ms.DeactivateResourceNode(f.ctx, &types.MsgDeactivateResourceNode{Operator: op, NodeId: id})
	if err != nil {
		t.Fatalf("deactivate %s: %v", id, err)
	}
	return res
}

func (f *fixture) resourceNode(t *testing.T, id string) types.ResourceNode {
	t.Helper()
	n, err := f.k.ResourceNodes.Get(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// unbondingEntries counts the entries of the unbonding index.
func (f *fixture) unbondingEntries(t *testing.T) int {
	t.Helper()
	n := 0
	it, err := f.k.Unbonding.Iterate(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		n++
	}
	return n
}

// DESIGN §4: "Deposits can be slashed", so a deactivated resource node's
// deposit is not returned at once: the node is UNBONDING, no longer active,
// for params.unbonding_seconds (7 days by default), and only then does its
// deposit return to the operator, at the first block at or after the end.
func TestDeactivateResourceNode(t *testing.T) {
	f := newFixture(t)
	opAddr, op := f.account(t, 1)
	_, other := f.account(t, 2)
	id := f.registerResource(t, op, 1, ustos(3_000_000))
	total := f.bank.total()

	_, err := f.ms.DeactivateResourceNode(f.ctx, &types.MsgDeactivateResourceNode{Operator: other, NodeId: id})
	wantErr(t, err, types.ErrUnauthorized)
	_, err = f.ms.DeactivateResourceNode(f.ctx, &types.MsgDeactivateResourceNode{Operator: op, NodeId: "00112233445566778899aabbccddeeff00112233"})
	wantErr(t, err, types.ErrNodeNotFound)

	res := f.deactivate(t, op, id)
	ends := genesisTime.Add(types.DefaultUnbondingSeconds * time.Second)
	if !res.Refunded.IsZero() || !res.Unbonding.Equal(ustos(3_000_000)) || res.UnbondingEnds == nil || !res.UnbondingEnds.Equal(ends) {
		t.Fatalf("response %+v, want 3000000ustos unbonding until %s", res, ends)
	}
	n := f.resourceNode(t, id)
	if n.Status != types.NodeStatus_NODE_STATUS_UNBONDING || !n.Deposit.Equal(ustos(3_000_000)) || n.UnbondingEnds == nil || !n.UnbondingEnds.Equal(ends) {
		t.Fatalf("unbonding node stored as %+v", n)
	}
	if f.k.IsResourceNodeActive(f.ctx, id) {
		t.Fatal("an unbonding node is active")
	}
	if !f.bank.module().Equal(math.NewInt(3_000_000)) || !f.bank.balance(opAddr).Equal(math.NewInt(startBalance-3_000_000)) {
		t.Fatalf("deposit moved at deactivation: module %s, operator %s", f.bank.module(), f.bank.balance(opAddr))
	}
	// The query shows the state and its end.
	q, err := f.qs.ResourceNode(f.ctx, &types.QueryResourceNodeRequest{NodeId: id})
	if err != nil || q.Node.Status != types.NodeStatus_NODE_STATUS_UNBONDING || !q.Node.UnbondingEnds.Equal(ends) {
		t.Fatalf("query: %+v, %v", q, err)
	}
	_, err = f.ms.DeactivateResourceNode(f.ctx, &types.MsgDeactivateResourceNode{Operator: op, NodeId: id})
	wantErr(t, err, types.ErrInvalidStatus)
	// Not back before the unbonding ends.
	pub, _ := nodeKey(1)
	msg := &types.MsgRegisterResourceNode{Operator: op, PublicKey: pub, NetworkAddress: "a:1", Capacity: 1, Deposit: ustos(1_000_000)}
	_, err = f.ms.RegisterResourceNode(f.ctx, msg)
	wantErr(t, err, types.ErrNodeExists)
	if !strings.Contains(err.Error(), "unbonding until "+ends.Format(time.RFC3339)) {
		t.Fatalf("error %q does not say until when the node unbonds", err)
	}

	f.endBlockAt(t, ends.Add(-time.Second))
	if n := f.resourceNode(t, id); n.Status != types.NodeStatus_NODE_STATUS_UNBONDING || !f.bank.module().Equal(math.NewInt(3_000_000)) {
		t.Fatalf("a second before the end: %s, module %s", n.Status, f.bank.module())
	}
	f.endBlockAt(t, ends)
	n = f.resourceNode(t, id)
	if n.Status != types.NodeStatus_NODE_STATUS_INACTIVE || !n.Deposit.IsZero() || n.UnbondingEnds != nil {
		t.Fatalf("after the unbonding: %+v", n)
	}
	if !f.bank.balance(opAddr).Equal(math.NewInt(startBalance)) || !f.bank.module().IsZero() || !f.bank.total().Equal(total) {
		t.Fatalf("after the unbonding: operator %s module %s", f.bank.balance(opAddr), f.bank.module())
	}
	if f.unbondingEntries(t) != 0 {
		t.Fatal("unbonding index not emptied")
	}
	if !hasEvent(f.ctx, "unbond_resource_node", map[string]string{"node_id": id, "refund": "3000000ustos"}) {
		t.Fatalf("no unbond_resource_node event in %v", f.ctx.EventManager().Events())
	}
	// A later block returns nothing more.
	f.endBlockAt(t, ends.Add(time.Hour))
	if !f.bank.balance(opAddr).Equal(math.NewInt(startBalance)) {
		t.Fatal("deposit returned twice")
	}

	// The key stays bound to its operator: another account cannot take it
	// over, the operator can bring the node back with a new deposit.
	msg.Operator = other
	_, err = f.ms.RegisterResourceNode(f.ctx, msg)
	wantErr(t, err, types.ErrNodeExists)
	msg.Operator = op
	_, err = f.ms.RegisterResourceNode(f.ctx, msg)
	wantErr(t, err, nil)
	if !f.k.IsResourceNodeActive(f.ctx, id) || !f.bank.module().Equal(math.NewInt(1_000_000)) {
		t.Fatal("re-registration by the operator did not reactivate the node")
	}
}

// DESIGN §4: an unbonding deposit can still be slashed; only what is left
// returns to the operator, and nothing is created or lost.
func TestSlashUnbondingResourceNode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fraction math.LegacyDec
		back     int64
	}{
		{"half", math.LegacyNewDecWithPrec(5, 1), 1_000_000},
		{"all", math.LegacyOneDec(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			opAddr, op := f.account(t, 1)
			id := f.registerResource(t, op, 1, ustos(2_000_000))
			total := f.bank.total()
			res := f.deactivate(t, op, id)
			f.endBlockAt(t, genesisTime.Add(time.Hour)) // well inside the unbonding
			burned, err := f.k.SlashResourceNode(f.ctx, id, tc.fraction)
			if err != nil || !burned.Equal(ustos(2_000_000-tc.back)) {
				t.Fatalf("slash of an unbonding node: %s, %v", burned, err)
			}
			if n := f.resourceNode(t, id); n.Status != types.NodeStatus_NODE_STATUS_UNBONDING || !n.Deposit.Equal(ustos(tc.back)) {
				t.Fatalf("after the slash: %+v", n)
			}
			f.endBlockAt(t, *res.UnbondingEnds)
			if !f.bank.balance(opAddr).Equal(math.NewInt(startBalance - 2_000_000 + tc.back)) {
				t.Fatalf("operator got back %s, want %d", f.bank.balance(opAddr).Sub(math.NewInt(startBalance-2_000_000)), tc.back)
			}
			burnedTotal := f.bank.burned.AmountOf(types.Denom)
			if !f.bank.module().IsZero() || !f.bank.total().Equal(total) || !burnedTotal.Equal(math.NewInt(2_000_000-tc.back)) {
				t.Fatalf("module %s, burned %s, total %s (was %s)", f.bank.module(), burnedTotal, f.bank.total(), total)
			}
			if n := f.resourceNode(t, id); n.Status != types.NodeStatus_NODE_STATUS_INACTIVE {
				t.Fatalf("after the unbonding: %s", n.Status)
			}
		})
	}
}

// With unbonding_seconds 0 the deposit returns at deactivation.
func TestDeactivateWithoutUnbonding(t *testing.T) {
	f := newFixture(t)
	p := types.DefaultParams()
	p.UnbondingSeconds = 0
	if err := f.k.UpdateParams(f.ctx, f.authority, p); err != nil {
		t.Fatal(err)
	}
	opAddr, op := f.account(t, 1)
	id := f.registerResource(t, op, 1, ustos(3_000_000))
	res := f.deactivate(t, op, id)
	if !res.Refunded.Equal(ustos(3_000_000)) || !res.Unbonding.IsZero() || res.UnbondingEnds != nil {
		t.Fatalf("response %+v, want the whole deposit refunded", res)
	}
	if n := f.resourceNode(t, id); n.Status != types.NodeStatus_NODE_STATUS_INACTIVE || !n.Deposit.IsZero() {
		t.Fatalf("stored %+v", n)
	}
	if !f.bank.balance(opAddr).Equal(math.NewInt(startBalance)) || !f.bank.module().IsZero() || f.unbondingEntries(t) != 0 {
		t.Fatalf("operator %s, module %s", f.bank.balance(opAddr), f.bank.module())
	}
}

// EndBlocker returns exactly the deposits whose unbonding has ended, in
// the order they end, and leaves the others in the index; a node that
// deactivates later in the same second as another is not mixed up with it.
func TestEndBlockerReturnsOnlyDueDeposits(t *testing.T) {
	f := newFixture(t)
	p := types.DefaultParams()
	p.UnbondingSeconds = 100
	if err := f.k.UpdateParams(f.ctx, f.authority, p); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var ops []sdk.AccAddress
	for i := byte(1); i <= 4; i++ {
		a, op := f.account(t, i)
		ids, ops = append(ids, f.registerResource(t, op, i, ustos(int64(i)*1_000_000))), append(ops, a)
	}
	// Deactivate at t0, t0+10s, t0+10s, t0+50s: ends at 100, 110, 110, 150.
	for i, at := range []time.Duration{0, 10 * time.Second, 10 * time.Second, 50 * time.Second} {
		f.ctx = f.ctx.WithBlockTime(genesisTime.Add(at))
		_, op := f.account(t, byte(i+1))
		f.deactivate(t, op, ids[i])
	}
	status := func() []types.NodeStatus {
		var out []types.NodeStatus
		for _, id := range ids {
			out = append(out, f.resourceNode(t, id).Status)
		}
		return out
	}
	U, I := types.NodeStatus_NODE_STATUS_UNBONDING, types.NodeStatus_NODE_STATUS_INACTIVE
	for _, step := range []struct {
		at      time.Duration
		want    []types.NodeStatus
		entries int
	}{
		{99 * time.Second, []types.NodeStatus{U, U, U, U}, 4},
		{100 * time.Second, []types.NodeStatus{I, U, U, U}, 3},
		{149 * time.Second, []types.NodeStatus{I, I, I, U}, 1},
		{time.Hour, []types.NodeStatus{I, I, I, I}, 0},
	} {
		f.endBlockAt(t, genesisTime.Add(step.at))
		got := status()
		for i := range got {
			if got[i] != step.want[i] {
				t.Fatalf("at +%s: statuses %v, want %v", step.at, got, step.want)
			}
		}
		if n := f.unbondingEntries(t); n != step.entries {
			t.Fatalf("at +%s: %d unbonding entries, want %d", step.at, n, step.entries)
		}
	}
	for i, a := range ops {
		if !f.bank.balance(a).Equal(math.NewInt(startBalance)) {
			t.Fatalf("operator %d has %s, want its deposit back", i+1, f.bank.balance(a))
		}
	}
}

// DESIGN §4 with a genesis export: an unbonding node keeps its state and
// its end through export and import, and its deposit returns at the end
// on the new chain.
func TestGenesisRoundTripUnbonding(t *testing.T) {
	f := newFixture(t)
	_, op := f.account(t, 1)
	id := f.registerResource(t, op, 1, ustos(2_000_000))
	res := f.deactivate(t, op, id)
	gs, err := f.k.ExportGenesis(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Validate(f.ac); err != nil {
		t.Fatalf("exported genesis invalid: %v", err)
	}
	if len(gs.ResourceNodes) != 1 || gs.ResourceNodes[0].Status != types.NodeStatus_NODE_STATUS_UNBONDING ||
		!gs.ResourceNodes[0].UnbondingEnds.Equal(*res.UnbondingEnds) || gs.Params.UnbondingSeconds != types.DefaultUnbondingSeconds {
		t.Fatalf("exported %+v", gs)
	}

	f2 := newFixture(t)
	opAddr, _ := f2.account(t, 1)
	f2.bank.modules[types.ModuleName] = sdk.NewCoins(ustos(2_000_000)) // x/bank's genesis
	if err := f2.k.InitGenesis(f2.ctx, *gs); err != nil {
		t.Fatal(err)
	}
	if f2.unbondingEntries(t) != 1 {
		t.Fatal("InitGenesis did not index the unbonding node")
	}
	f2.endBlockAt(t, *res.UnbondingEnds)
	if n := f2.resourceNode(t, id); n.Status != types.NodeStatus_NODE_STATUS_INACTIVE || !f2.bank.balance(opAddr).Equal(math.NewInt(startBalance+2_000_000)) {
		t.Fatalf("after the imported unbonding: %s, operator %s", n.Status, f2.bank.balance(opAddr))
	}
}

// EndBlocker runs every block, so it reads only the entries that are due:
// its cost does not grow with the number of deposits still unbonding.
func TestEndBlockerCostIndependentOfPending(t *testing.T) {
	gasWith := func(pending int) uint64 {
		f := newFixture(t)
		// One deposit due at +1 day, pending more due at +7 days.
		p := types.DefaultParams()
		p.UnbondingSeconds = 24 * 3600
		if err := f.k.UpdateParams(f.ctx, f.authority, p); err != nil {
			t.Fatal(err)
		}
		_, op := f.account(t, 1)
		f.deactivate(t, op, f.registerResource(t, op, 1, ustos(1_000_000)))
		p.UnbondingSeconds = 7 * 24 * 3600
		if err := f.k.UpdateParams(f.ctx, f.authority, p); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < pending; i++ {
			_, op := f.account(t, byte(10+i))
			f.deactivate(t, op, f.registerResource(t, op, byte(10+i), ustos(1_000_000)))
		}
		ctx := f.ctx.WithBlockTime(genesisTime.Add(24 * time.Hour)).WithGasMeter(storetypes.NewInfiniteGasMeter())
		if err := f.k.EndBlocker(ctx); err != nil {
			t.Fatal(err)
		}
		if f.unbondingEntries(t) != pending {
			t.Fatalf("%d entries left, want %d", f.unbondingEntries(t), pending)
		}
		return ctx.GasMeter().GasConsumed()
	}
	one, many := gasWith(1), gasWith(100)
	if one == 0 || one != many {
		t.Fatalf("EndBlocker used %d gas with 1 deposit pending and %d with 100; want the same, non-zero", one, many)
	}
}
