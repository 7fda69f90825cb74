package types_test

import (
	"bytes"
	"slices"
	"testing"

	"cosmossdk.io/math"

	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"

	"github.com/stratos-net/stratos/x/pot/types"
)

// DESIGN §7: what the meta nodes sign must not depend on list order, must
// bind the chain ID, the period, the traffic and the storage figures, and
// must be unambiguous.
func TestVolumeReportSignBytes(t *testing.T) {
	nodes := []types.NodeVolume{{NodeId: "b", Bytes: 2}, {NodeId: "a", Bytes: 1}}
	users := []types.UserVolume{{Address: "st1y", Bytes: 4}, {Address: "st1x", Bytes: 3}}
	stored := []types.NodeVolume{{NodeId: "c", Bytes: 20}, {NodeId: "b", Bytes: 10}}
	storedUsers := []types.UserVolume{{Address: "st1z", Bytes: 15}, {Address: "st1x", Bytes: 15}}
	v := types.ReportVolumes{Nodes: nodes, Users: users, StoredNodes: stored, StoredUsers: storedUsers}
	sb := func(chainID string, period uint64, v types.ReportVolumes) []byte {
		return types.VolumeReportSignBytes(chainID, period, v)
	}
	base := sb("c", 1, v)

	reordered := sb("c", 1, types.ReportVolumes{
		Nodes: []types.NodeVolume{nodes[1], nodes[0]}, Users: []types.UserVolume{users[1], users[0]},
		StoredNodes: []types.NodeVolume{stored[1], stored[0]}, StoredUsers: []types.UserVolume{storedUsers[1], storedUsers[0]},
	})
	if !bytes.Equal(base, reordered) {
		t.Fatal("sign bytes depend on list order")
	}
	if nodes[0].NodeId != "b" || users[0].Address != "st1y" || stored[0].NodeId != "c" || storedUsers[0].Address != "st1z" {
		t.Fatal("input slices were sorted in place")
	}
	with := func(mutate func(*types.ReportVolumes)) types.ReportVolumes {
		w := types.ReportVolumes{
			Nodes: slices.Clone(nodes), Users: slices.Clone(users),
			StoredNodes: slices.Clone(stored), StoredUsers: slices.Clone(storedUsers),
		}
		mutate(&w)
		return w
	}
	for name, other := range map[string][]byte{
		"chain ID":            sb("d", 1, v),
		"period":              sb("c", 2, v),
		"bytes":               sb("c", 1, with(func(w *types.ReportVolumes) { w.Nodes[0].Bytes++ })),
		"no users":            sb("c", 1, with(func(w *types.ReportVolumes) { w.Users = nil })),
		"stored bytes":        sb("c", 1, with(func(w *types.ReportVolumes) { w.StoredNodes[1].Bytes++ })),
		"stored user bytes":   sb("c", 1, with(func(w *types.ReportVolumes) { w.StoredUsers[0].Bytes-- })),
		"no stored nodes":     sb("c", 1, with(func(w *types.ReportVolumes) { w.StoredNodes = nil })),
		"no stored users":     sb("c", 1, with(func(w *types.ReportVolumes) { w.StoredUsers = nil })),
		"traffic only":        sb("c", 1, types.ReportVolumes{Nodes: nodes, Users: users}),
		"a node's list":       sb("c", 1, with(func(w *types.ReportVolumes) { w.Nodes, w.StoredNodes = w.StoredNodes, w.Nodes })),
		"a user's list":       sb("c", 1, with(func(w *types.ReportVolumes) { w.Users, w.StoredUsers = w.StoredUsers, w.Users })),
		"node moved to store": sb("c", 1, with(func(w *types.ReportVolumes) { w.StoredNodes = append(w.StoredNodes, w.Nodes[1]); w.Nodes = w.Nodes[:1] })),
		// length prefixes: moving a character between adjacent strings changes the bytes.
		"boundary": sb("c", 1, types.ReportVolumes{Nodes: []types.NodeVolume{{NodeId: "ab", Bytes: 1}}}),
	} {
		if bytes.Equal(base, other) {
			t.Errorf("sign bytes do not bind the %s", name)
		}
	}
	if bytes.Equal(sb("ab", 1, types.ReportVolumes{Nodes: []types.NodeVolume{{NodeId: "c", Bytes: 1}}}),
		sb("a", 1, types.ReportVolumes{Nodes: []types.NodeVolume{{NodeId: "bc", Bytes: 1}}})) {
		t.Error("chain ID and node ID are ambiguous")
	}
	// The same figures as traffic or as storage sign differently.
	if bytes.Equal(sb("c", 1, types.ReportVolumes{Nodes: nodes}), sb("c", 1, types.ReportVolumes{StoredNodes: nodes})) {
		t.Error("traffic nodes and stored nodes are ambiguous")
	}
	// The domain tag is versioned: v1 signed traffic only.
	if !bytes.Contains(base, []byte("stratos/pot/VolumeReport/v2")) {
		t.Error("sign bytes do not carry the v2 domain tag")
	}
	m := &types.MsgVolumeReport{Nodes: nodes, Users: users, StoredNodes: stored, StoredUsers: storedUsers}
	if !bytes.Equal(sb("c", 1, m.Volumes()), base) {
		t.Error("MsgVolumeReport.Volumes leaves out a list")
	}
}

func TestMaxStoredNodes(t *testing.T) {
	p := types.DefaultParams()
	if got := p.MaxStoredNodes(); got != uint64(types.DefaultTopN)*types.StoredNodesPerTopN || got != 1000 {
		t.Fatalf("MaxStoredNodes = %d", got)
	}
	p.TopN = ^uint32(0)
	if got := p.MaxStoredNodes(); got != uint64(^uint32(0))*10 {
		t.Fatalf("MaxStoredNodes overflowed: %d", got)
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

// issue 8, "cheating must not pay": a report mints the period's issuance,
// but never more than issuance_cap_percent of the traffic fees collected.
func TestIssuedFor(t *testing.T) {
	p := types.Params{Issuance: []types.IssuanceEntry{{FromPeriod: 10, Amount: math.NewInt(1000)}}}
	for _, tc := range []struct {
		cap              uint32
		period           uint64
		collected, issue int64
	}{
		{100, 10, 0, 0},       // no fees, no issuance
		{100, 10, 400, 400},   // capped at the fees
		{100, 10, 5000, 1000}, // the whole issuance
		{250, 10, 3, 7},       // rounded down
		{0, 10, 5000, 0},      // a cap of 0 mints nothing
		{100, 9, 5000, 0},     // before the schedule starts
		{4294967295, 12, 1, 1000},
	} {
		p.IssuanceCapPercent = tc.cap
		if got := p.IssuedFor(tc.period, math.NewInt(tc.collected)); !got.Equal(math.NewInt(tc.issue)) {
			t.Errorf("cap %d%%, period %d, fees %d: issued %s, want %d", tc.cap, tc.period, tc.collected, got, tc.issue)
		}
	}
	if got := types.DefaultParams().IssuanceCapPercent; got != 100 {
		t.Errorf("default cap %d%%, want 100", got)
	}
}
