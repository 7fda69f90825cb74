package meta

import (
	"bytes"
	"context"
	"testing"
)

type fakeAnchors struct {
	periods []uint64
	roots   [][]byte
	node    string
}

func (f *fakeAnchors) AnchorIndex(_ context.Context, node string, period uint64, root []byte) error {
	f.node = node
	f.periods = append(f.periods, period)
	f.roots = append(f.roots, root)
	return nil
}

// DESIGN §5.2: the index root anchored on chain every period; the root is
// the index's, and it moves when the index does.
func TestAnchorPostsIndexRoot(t *testing.T) {
	h := newHarness(t, 3)
	fa := &fakeAnchors{}
	h.s.cfg.Anchors = fa
	if err := h.s.anchor(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	want, _ := h.s.ix.Root()
	if fa.node != h.s.ID() || len(fa.roots) != 1 || fa.periods[0] != 7 || !bytes.Equal(fa.roots[0], want) {
		t.Fatalf("anchored %v for node %s, want period 7 root %x of %s", fa, fa.node, want, h.s.ID())
	}
	h.upload("/f", newFile("f"), h.nodes...)
	if err := h.s.anchor(context.Background(), 8); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fa.roots[0], fa.roots[1]) {
		t.Fatal("the anchored root did not change after a file was committed")
	}
}
