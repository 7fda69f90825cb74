package keeper_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/stratos-net/stratos/x/sds/types"
)

func root(b byte) []byte { return bytes.Repeat([]byte{b}, types.RootSize) }

// DESIGN §4, §5.2: the meta cluster anchors its index root every period so a
// later tampering is visible (AMA A1: "auditing metadata is also stored in
// blockchain"). Only the operator of an active meta node may anchor, and an
// anchor, once written, never changes.
func TestAnchorIndex(t *testing.T) {
	type step struct {
		name    string
		sender  byte // account number; 1 operates meta-a
		node    string
		period  uint64
		root    []byte
		wantErr error
	}
	steps := []step{
		{"authorised", 1, "meta-a", 7, root(0xaa), nil},
		{"identical repeat is idempotent", 1, "meta-a", 7, root(0xaa), nil},
		{"different root conflicts", 1, "meta-a", 7, root(0xbb), types.ErrAnchorConflict},
		{"next period", 1, "meta-a", 8, root(0xbb), nil},
		{"not the operator", 2, "meta-a", 9, root(0xcc), types.ErrNotMetaOperator},
		{"inactive or unknown meta node", 1, "meta-z", 9, root(0xcc), types.ErrNotMetaOperator},
		{"root too short", 1, "meta-a", 10, root(0xcc)[:31], types.ErrInvalidAnchor},
		{"root too long", 1, "meta-a", 10, append(root(0xcc), 0), types.ErrInvalidAnchor},
		{"empty meta node id", 1, "", 10, root(0xcc), types.ErrInvalidAnchor},
		// Issue 8: the chain is in period 10 (fakePeriods); an anchor names
		// it or an ended period, never one that has not begun.
		{"the current period", 1, "meta-a", 10, root(0xdd), nil},
		{"a period that has not begun", 1, "meta-a", 11, root(0xdd), types.ErrFuturePeriod},
		{"far in the future", 1, "meta-a", 1 << 62, root(0xdd), types.ErrFuturePeriod},
	}
	f := newFixture(t)
	op, _ := f.account(t, 1, nil)
	f.reg.active["meta-a"] = string(op)
	senders := map[byte]string{}
	for _, n := range []byte{1, 2} {
		_, senders[n] = f.account(t, n, nil)
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res, err := f.msgs.AnchorIndex(f.ctx, &types.MsgAnchorIndex{
				Sender: senders[s.sender], MetaNodeId: s.node, Period: s.period, Root: s.root,
			})
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("err = %v, want %v", err, s.wantErr)
			}
			if err == nil && (!bytes.Equal(res.Anchor.Root, s.root) || res.Anchor.Height != 42) {
				t.Errorf("anchor = %+v", res.Anchor)
			}
		})
	}

	// The conflicting root did not replace the first one.
	q, err := f.query.Anchor(f.ctx, &types.QueryAnchorRequest{Period: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Anchors) != 1 || !bytes.Equal(q.Anchors[0].Root, root(0xaa)) || q.Anchors[0].MetaNodeId != "meta-a" {
		t.Errorf("period 7 anchors = %+v", q.Anchors)
	}
	if _, err := f.query.Anchor(f.ctx, &types.QueryAnchorRequest{Period: 9}); err == nil {
		t.Error("query of an unanchored period succeeded")
	}
}

func TestAnchorsPagination(t *testing.T) {
	f := newFixture(t)
	op, opStr := f.account(t, 1, nil)
	f.reg.active["meta-a"] = string(op)
	f.reg.active["meta-b"] = string(op)
	for period := uint64(1); period <= 3; period++ {
		for _, node := range []string{"meta-a", "meta-b"} {
			if _, err := f.msgs.AnchorIndex(f.ctx, &types.MsgAnchorIndex{Sender: opStr, MetaNodeId: node, Period: period, Root: root(byte(period))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	one, err := f.query.Anchor(f.ctx, &types.QueryAnchorRequest{Period: 2})
	if err != nil || len(one.Anchors) != 2 {
		t.Fatalf("period 2: %v, %v", one, err)
	}
	var all []types.Anchor
	var next []byte
	for {
		res, err := f.query.Anchors(f.ctx, &types.QueryAnchorsRequest{Pagination: &query.PageRequest{Key: next, Limit: 4}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Anchors...)
		if next = res.Pagination.NextKey; next == nil {
			break
		}
	}
	if len(all) != 6 {
		t.Fatalf("paged through %d anchors, want 6", len(all))
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Period > b.Period || (a.Period == b.Period && a.MetaNodeId >= b.MetaNodeId) {
			t.Errorf("anchors out of order at %d: %+v, %+v", i, a, b)
		}
	}
}
