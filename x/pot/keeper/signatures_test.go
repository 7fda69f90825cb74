package keeper_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stratos-net/stratos/x/pot/keeper"
	"github.com/stratos-net/stratos/x/pot/types"
)

// strangerSig is a well-formed signature over msg by a key no meta node
// registered, under the meta node ID id.
func strangerSig(id string, msg []byte) types.MetaSignature {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "stranger-"+id)
	return types.MetaSignature{MetaNodeId: id, Signature: ed25519.Sign(ed25519.NewKeyFromSeed(seed), msg)}
}

// DESIGN §7: a report is "accepted with distinct active signers numbering
// more than 2/3 of the active set, computed exactly (3 of 4, never 2 of
// 4)". Only those signers count: a signature by an unknown or inactive
// node, one that does not verify over this report's bytes, or a second one
// by the same signer is ignored, and the report fails only if the ones
// that count are too few. The list is bounded (2 per active meta node).
func TestSignaturesThatCount(t *testing.T) {
	nodes := []types.NodeVolume{{NodeId: "n1", Bytes: 300}}
	other := types.ReportVolumes{Nodes: []types.NodeVolume{{NodeId: "n1", Bytes: 301}}}
	for _, tc := range []struct {
		name   string
		metas  int
		sigs   func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature
		want   error
		naming []string // in the error
		// signers are the meta nodes the accepted report records.
		signers []string
	}{
		{name: "too few: 2 of 4", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			return f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1")
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 2 of 4", "more than 2/3 (3)"}},
		{name: "no signatures", metas: 3, sigs: func(*fixture, *types.MsgVolumeReport) []types.MetaSignature { return nil },
			want: types.ErrNotEnoughSignatures, naming: []string{"have 0 of 3"}},
		{name: "unknown key ignored, 3 of 4 still sign", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1", "meta2")
			return append(s, strangerSig("meta9", types.VolumeReportSignBytes(testChainID, m.Period, m.Volumes())))
		}, signers: []string{"meta0", "meta1", "meta2"}},
		{name: "unknown keys do not make up the count", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			msg := types.VolumeReportSignBytes(testChainID, m.Period, m.Volumes())
			s := f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1")
			return append(s, strangerSig("meta8", msg), strangerSig("meta9", msg))
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 2 of 4", `"meta8" is not an active meta node`, `"meta9"`}},
		{name: "an active node's ID with another key", metas: 3, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1")
			return append(s, strangerSig("meta2", types.VolumeReportSignBytes(testChainID, m.Period, m.Volumes())))
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 2 of 3", `"meta2" signature does not verify`}},
		{name: "inactive meta node not counted", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			f.reg.inactive["meta3"] = true // 3 active: meta0..meta2
			return f.sign(testChainID, m.Period, m.Volumes(), "meta1", "meta2", "meta3")
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 2 of 3", `"meta3" is not an active meta node`}},
		{name: "inactive meta node ignored, all active sign", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			f.reg.inactive["meta3"] = true
			return f.sign(testChainID, m.Period, m.Volumes(), "meta3", "meta0", "meta1", "meta2")
		}, signers: []string{"meta0", "meta1", "meta2"}},
		{name: "same key twice counted once: 2 sigs of one key among 3", metas: 3, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			return f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1", "meta1")
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 2 of 3"}},
		{name: "same key four times among 4", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			return f.sign(testChainID, m.Period, m.Volumes(), "meta2", "meta2", "meta2", "meta2")
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 1 of 4"}},
		{name: "a repeated signer's valid signature after an invalid one counts", metas: 3, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1", "meta2", "meta2")
			s[2].Signature = []byte("short")
			return s
		}, signers: []string{"meta0", "meta1", "meta2"}},
		{name: "signature over different report bytes not counted, 3 of 4 remain", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1", "meta2")
			return append(s, f.sign(testChainID, m.Period, other, "meta3")...)
		}, signers: []string{"meta0", "meta1", "meta2"}},
		{name: "signatures over different report bytes not counted, 2 of 4 remain", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), "meta0", "meta1")
			return append(s, f.sign(testChainID, m.Period, other, "meta2", "meta3")...)
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 2 of 4", `"meta2" signature does not verify`}},
		{name: "over another period", metas: 3, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			return f.sign(testChainID, m.Period+1, m.Volumes(), f.allMetas()...)
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 0 of 3"}},
		{name: "for another chain ID", metas: 3, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			return f.sign("other-chain", m.Period, m.Volumes(), f.allMetas()...)
		}, want: types.ErrNotEnoughSignatures, naming: []string{"have 0 of 3"}},
		{name: "garbage signature ignored, 3 of 4 remain", metas: 4, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), f.allMetas()...)
			s[0].Signature = []byte("short")
			return s
		}, signers: []string{"meta1", "meta2", "meta3"}},
		{name: "list at the bound: 2 per active meta node", metas: 3, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), f.allMetas()...)
			return append(s, s...)
		}, signers: []string{"meta0", "meta1", "meta2"}},
		{name: "list over the bound refused", metas: 3, sigs: func(f *fixture, m *types.MsgVolumeReport) []types.MetaSignature {
			s := f.sign(testChainID, m.Period, m.Volumes(), f.allMetas()...)
			return append(append(s, s...), s[0])
		}, want: types.ErrTooManySignatures, naming: []string{"7 signatures, at most 6"}},
		{name: "no active meta node", metas: 0, sigs: func(*fixture, *types.MsgVolumeReport) []types.MetaSignature { return nil },
			want: types.ErrNotEnoughSignatures, naming: []string{"have 0 of 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			f.reg.addMeta(tc.metas)
			f.addNode("n1", accAddr("op1"))
			m := f.report(5, nodes, nil)
			m.Signatures = tc.sigs(f, m)
			_, err := f.msg.VolumeReport(f.ctx, m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range tc.naming {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("err %q does not say %q", err, s)
				}
			}
			rep, getErr := f.k.Reports.Get(f.ctx, 5)
			if tc.want != nil {
				if getErr == nil || !f.bank.supply.IsZero() {
					t.Fatalf("refused report stored or minted %s", f.bank.supply)
				}
				return
			}
			if getErr != nil || !reflect.DeepEqual(rep.Signers, tc.signers) {
				t.Fatalf("report signers %v (%v), want %v", rep.Signers, getErr, tc.signers)
			}
		})
	}
}

// DESIGN §7: whatever the signatures, a period is reported once, after it
// ended ("a traffic period ... closes"): a report signed by every
// authority is refused for the current period and for one already
// reported.
func TestFullySignedReportPeriodRules(t *testing.T) {
	f := setup(t)
	f.reg.addMeta(4)
	f.addNode("n1", accAddr("op1"))
	nodes := []types.NodeVolume{{NodeId: "n1", Bytes: 10}}
	users := f.payer(t, "users", 2*types.DefaultIssuance.Int64())
	f.at(20)
	if _, err := f.msg.VolumeReport(f.ctx, f.report(20, nodes, users)); !errors.Is(err, types.ErrPeriodNotEnded) {
		t.Fatalf("period 20 during period 20: err = %v, want ErrPeriodNotEnded", err)
	}
	if _, err := f.msg.VolumeReport(f.ctx, f.report(19, nodes, users)); err != nil {
		t.Fatalf("period 19 after it ended: %v", err)
	}
	again := f.report(19, []types.NodeVolume{{NodeId: "n1", Bytes: 11}}, users)
	if _, err := f.msg.VolumeReport(f.ctx, again); !errors.Is(err, types.ErrPeriodReported) {
		t.Fatalf("period 19 again, other figures: err = %v, want ErrPeriodReported", err)
	}
	if !f.bank.supply.Equal(types.DefaultIssuance) {
		t.Fatalf("supply %s, want one period's issuance", f.bank.supply)
	}
}

// The bound on the signature list scales with the active set.
func TestSignatureBound(t *testing.T) {
	for active := 1; active <= 5; active++ {
		t.Run(fmt.Sprint(active), func(t *testing.T) {
			f := setup(t)
			f.reg.addMeta(active)
			f.addNode("n1", accAddr("op1"))
			m := f.report(5, []types.NodeVolume{{NodeId: "n1", Bytes: 1}}, nil)
			for len(m.Signatures) <= keeper.MaxSignaturesPerMetaNode*active {
				m.Signatures = append(m.Signatures, m.Signatures[0])
			}
			if _, err := f.msg.VolumeReport(f.ctx, m); !errors.Is(err, types.ErrTooManySignatures) {
				t.Fatalf("%d signatures for %d active: err = %v, want ErrTooManySignatures", len(m.Signatures), active, err)
			}
		})
	}
}
