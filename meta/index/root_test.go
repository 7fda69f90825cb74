package index

import (
	"bytes"
	"testing"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// DESIGN §4: the index root anchored on chain must be the same on every
// replica with the same state, and change with the state.
func TestRootFollowsState(t *testing.T) {
	open := func() *Index {
		ix, err := Open(kv.NewMem(), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	a, b := open(), open()
	ra, _ := a.Root()
	rb, _ := b.Root()
	if len(ra) != 32 || !bytes.Equal(ra, rb) {
		t.Fatalf("empty indexes: roots %x and %x", ra, rb)
	}
	cmd := &metav1.Command{UnixNano: 1, Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_UPLOAD, Owner: "alice", Path: "/a", Size: 1, TtlNanos: 10}}}
	if _, err := a.Apply(cmd); err != nil {
		t.Fatal(err)
	}
	ra2, _ := a.Root()
	if bytes.Equal(ra, ra2) {
		t.Fatal("the root did not change with the state")
	}
	if _, err := b.Apply(cmd); err != nil {
		t.Fatal(err)
	}
	if rb2, _ := b.Root(); !bytes.Equal(ra2, rb2) {
		t.Fatal("two replicas with the same commands have different roots")
	}
}
