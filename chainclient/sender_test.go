package chainclient

import (
	"crypto/ed25519"
	"reflect"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/traffic"
	pottypes "github.com/stratos-net/stratos/x/pot/types"
)

// DESIGN §7: the volume report carries the period's traffic and the storage
// at its end, and a meta authority's signature over SignBytes covers all of it as x/pot
// verifies it.
func TestVolumeReportMsg(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	r := traffic.Report{
		Nodes:       []traffic.Volume{{ID: "n1", Bytes: 30}, {ID: "n2", Bytes: 10}},
		Users:       []traffic.Volume{{ID: "st1alice", Bytes: 40}},
		StoredNodes: []traffic.Volume{{ID: "n2", Bytes: 300}, {ID: "n3", Bytes: 200}},
		StoredUsers: []traffic.Volume{{ID: "st1alice", Bytes: 250}, {ID: "st1bob", Bytes: 250}},
	}
	sender := &Sender{chainID: "chain-1"}
	sig := ed25519.Sign(priv, sender.SignBytes(7, r))
	msg := volumeReportMsg("st1reporter", 7, r, []traffic.Signature{{Signer: "meta0", Sig: sig}})

	want := &pottypes.MsgVolumeReport{
		Reporter: "st1reporter", Period: 7,
		Nodes:       []pottypes.NodeVolume{{NodeId: "n1", Bytes: 30}, {NodeId: "n2", Bytes: 10}},
		Users:       []pottypes.UserVolume{{Address: "st1alice", Bytes: 40}},
		StoredNodes: []pottypes.NodeVolume{{NodeId: "n2", Bytes: 300}, {NodeId: "n3", Bytes: 200}},
		StoredUsers: []pottypes.UserVolume{{Address: "st1alice", Bytes: 250}, {Address: "st1bob", Bytes: 250}},
	}
	sigs := msg.Signatures
	msg.Signatures = nil
	if !reflect.DeepEqual(msg, want) {
		t.Fatalf("message\n%v\nwant\n%v", msg, want)
	}
	if len(sigs) != 1 || sigs[0].MetaNodeId != "meta0" {
		t.Fatalf("signatures %v", sigs)
	}
	signed := pottypes.VolumeReportSignBytes("chain-1", 7, want.Volumes())
	if !ed25519.Verify(priv.Public().(ed25519.PublicKey), signed, sigs[0].Signature) {
		t.Fatal("the signature does not verify over the chain's sign bytes")
	}
	traffOnly := pottypes.VolumeReportSignBytes("chain-1", 7, pottypes.ReportVolumes{Nodes: want.Nodes, Users: want.Users})
	if ed25519.Verify(priv.Public().(ed25519.PublicKey), traffOnly, sigs[0].Signature) {
		t.Fatal("the signature does not cover the storage figures")
	}

	// A report with storage alone still maps (DESIGN §7: holders are paid in
	// a period without traffic).
	only := volumeReportMsg("st1reporter", 8, traffic.Report{StoredNodes: r.StoredNodes}, nil)
	if len(only.Nodes) != 0 || len(only.Users) != 0 || len(only.StoredNodes) != 2 {
		t.Fatalf("storage-only message %v", only)
	}
}

// The meta node and x/pot agree on how many stored nodes a report may name.
func TestStoredNodesBoundAgrees(t *testing.T) {
	if traffic.StoredNodesPerTopN != pottypes.StoredNodesPerTopN {
		t.Fatalf("traffic.StoredNodesPerTopN = %d, x/pot's is %d", traffic.StoredNodesPerTopN, pottypes.StoredNodesPerTopN)
	}
}

func TestReportGasAndFees(t *testing.T) {
	small := &pottypes.MsgVolumeReport{Nodes: make([]pottypes.NodeVolume, 1)}
	big := &pottypes.MsgVolumeReport{Nodes: make([]pottypes.NodeVolume, 100), StoredNodes: make([]pottypes.NodeVolume, 1000),
		Users: make([]pottypes.UserVolume, 50), StoredUsers: make([]pottypes.UserVolume, 50)}
	if g := reportGas(small); g != baseGas+entryGas {
		t.Fatalf("gas of one entry %d", g)
	}
	if g := reportGas(big); g != baseGas+1200*entryGas {
		t.Fatalf("gas of 1200 entries %d", g)
	}
	fees := sdk.NewCoins(sdk.NewInt64Coin("ustos", 3000))
	for gas, want := range map[uint64]string{baseGas: "3000ustos", 2 * baseGas: "6000ustos", baseGas + 1: "3001ustos"} {
		if got := scaleFees(fees, gas); got != want {
			t.Errorf("scaleFees(3000ustos, %d) = %s, want %s", gas, got, want)
		}
	}
}
