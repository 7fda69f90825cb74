package round

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// node plays one resource node honestly unless told otherwise.
type node struct {
	id      string
	appSalt []byte
	salt    []byte
	output  []byte
	usage   uint64
}

func (n node) commit(id ID) (Hash, Hash) {
	return SaltHash(id, n.id, n.salt),
		CommitHash(id, n.id, n.appSalt, n.salt, OutputHash(n.output), n.usage)
}

type fixture struct {
	t     *testing.T
	id    ID
	nodes []node
	r     *Round
}

// open starts a round on n nodes that all compute output "42" with usage
// 100, agreement 2/3, timeouts of 3 blocks, at height 10.
func open(t *testing.T, n int, spot *Hash) *fixture {
	t.Helper()
	f := &fixture{t: t, id: ID{ChainID: "stratos-devnet", Round: 7}}
	var ids []string
	var hashes []Hash
	for i := range n {
		nd := node{
			id: fmt.Sprintf("node%d", i), appSalt: []byte(fmt.Sprintf("app-salt-%d", i)),
			salt: []byte(fmt.Sprintf("node-salt-%d", i)), output: []byte("42"), usage: 100,
		}
		f.nodes = append(f.nodes, nd)
		ids = append(ids, nd.id)
		hashes = append(hashes, SaltHash(f.id, nd.id, nd.appSalt))
	}
	r, err := Open(f.id, ids, hashes, spot, Agreement{2, 3}, 3, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	f.r = r
	return f
}

func (f *fixture) commitAll(skip ...int) {
	f.t.Helper()
	for i, n := range f.nodes {
		if contains(skip, i) {
			continue
		}
		sh, c := n.commit(f.id)
		if err := f.r.Commit(n.id, sh, c); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) appSalts() map[string][]byte {
	s := map[string][]byte{}
	for _, n := range f.nodes {
		s[n.id] = n.appSalt
	}
	return s
}

func (f *fixture) revealApp(height int64) {
	f.t.Helper()
	if err := f.r.RevealApp(f.appSalts(), nil, nil, height); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) revealAll(skip ...int) {
	f.t.Helper()
	for i, n := range f.nodes {
		if contains(skip, i) || f.r.Members[i].Status != Committed {
			continue
		}
		if err := f.r.RevealNode(n.id, n.salt, OutputHash(n.output), n.usage); err != nil {
			f.t.Fatal(err)
		}
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (f *fixture) wantStatuses(want ...Status) {
	f.t.Helper()
	for i, m := range f.r.Members {
		if m.Status != want[i] {
			f.t.Errorf("%s: status %s, want %s", m.Node, m.Status, want[i])
		}
	}
}

// Steps 1-11 with five honest nodes: the commits close as soon as all five
// are in (Step 5), the round is TRUE and every node is paid.
func TestHonestRoundIsTrueAndPaysEveryNode(t *testing.T) {
	f := open(t, 5, nil)
	f.commitAll()
	if f.r.Advance(11); f.r.Phase != AppRevealing {
		t.Fatalf("phase %s after all committed, want app-revealing", f.r.Phase)
	}
	f.revealApp(11)
	f.revealAll()
	if !f.r.Advance(12) {
		t.Fatal("round not done after every reveal")
	}
	if !f.r.Result || f.r.Winner != OutputHash([]byte("42")) {
		t.Fatalf("result %v winner %x", f.r.Result, f.r.Winner)
	}
	f.wantStatuses(Majority, Majority, Majority, Majority, Majority)
	for _, m := range f.r.Members {
		if m.PaidUsage != 100 {
			t.Errorf("%s paid usage %d, want 100", m.Node, m.PaidUsage)
		}
	}
}

// Step 10/11: with 2/3 agreement on five nodes, four agreeing are enough
// (4 > 10/3) and the fifth is not paid; three are not (3 < 10/3) and the
// round is FALSE with nobody paid.
func TestAgreementThreshold(t *testing.T) {
	for _, tc := range []struct {
		wrong  []int
		result bool
	}{
		{[]int{4}, true},
		{[]int{3, 4}, false},
	} {
		f := open(t, 5, nil)
		for _, i := range tc.wrong {
			f.nodes[i].output = []byte("41")
		}
		f.commitAll()
		f.r.Advance(11)
		f.revealApp(11)
		f.revealAll()
		f.r.Advance(12)
		if f.r.Result != tc.result {
			t.Errorf("%d wrong of 5: result %v, want %v", len(tc.wrong), f.r.Result, tc.result)
		}
		for i, m := range f.r.Members {
			paid := tc.result && !contains(tc.wrong, i)
			if m.Status.Paid() != paid || m.Status.Slashed() {
				t.Errorf("%d wrong: %s is %s", len(tc.wrong), m.Node, m.Status)
			}
		}
	}
}

func TestQuorum(t *testing.T) {
	for _, tc := range []struct {
		a    Agreement
		n    int
		want int
	}{
		{Agreement{2, 3}, 3, 3}, {Agreement{2, 3}, 4, 3}, {Agreement{2, 3}, 5, 4},
		{Agreement{2, 3}, 6, 5}, {Agreement{2, 3}, 20, 14}, {Agreement{1, 2}, 4, 3},
		{Agreement{1, 1}, 5, 5}, {Agreement{1, 1}, 1, 1},
	} {
		if got := tc.a.Quorum(tc.n); got != tc.want {
			t.Errorf("%d/%d of %d: quorum %d, want %d", tc.a.Num, tc.a.Den, tc.n, got, tc.want)
		}
	}
	for _, bad := range []Agreement{{0, 3}, {3, 2}, {1, 0}} {
		if err := bad.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%v: %v, want ErrConfig", bad, err)
		}
	}
}

// Step 5: after the commit timeout the round goes on with the nodes that
// committed; the late node is left out, and the bar stays at 4 of all 5.
func TestCommitTimeoutGoesOnWithCommittedNodes(t *testing.T) {
	f := open(t, 5, nil)
	f.commitAll(2)
	if f.r.Advance(12); f.r.Phase != Committing {
		t.Fatal("commits closed before the timeout")
	}
	f.r.Advance(13)
	if f.r.Phase != AppRevealing {
		t.Fatalf("phase %s at the timeout", f.r.Phase)
	}
	sh, c := f.nodes[2].commit(f.id)
	if err := f.r.Commit("node2", sh, c); !errors.Is(err, ErrPhase) {
		t.Fatalf("late commit: %v, want ErrPhase", err)
	}
	f.revealApp(13)
	f.revealAll()
	f.r.Advance(14)
	if !f.r.Result {
		t.Fatal("4 of 5 agreeing is TRUE")
	}
	f.wantStatuses(Majority, Majority, Missed, Majority, Majority)
}

// §3.5.1: the app, having read the commits, would rather not pay; it stalls
// its reveal. The nodes that committed are excused (paid), the app marked.
func TestAppThatStallsItsRevealStillPays(t *testing.T) {
	f := open(t, 3, nil)
	f.commitAll()
	f.r.Advance(11)
	if f.r.Advance(13) {
		t.Fatal("done before the reveal timeout")
	}
	if !f.r.Advance(14) || !f.r.AppDefaulted {
		t.Fatalf("done %v defaulted %v at the reveal timeout", f.r.Phase == Done, f.r.AppDefaulted)
	}
	f.wantStatuses(Excused, Excused, Excused)
	for _, m := range f.r.Members {
		if !m.Status.Paid() {
			t.Errorf("%s not paid", m.Node)
		}
	}
}

// §3.5.1 also: the node's own salt means the commit does not give away the
// output, so the app cannot pre-compute it from the chain: two commits of
// the same output under different node salts differ.
func TestCommitHidesTheOutput(t *testing.T) {
	id := ID{"c", 1}
	out := OutputHash([]byte("yes"))
	a := CommitHash(id, "n", []byte("app"), []byte("salt-a"), out, 1)
	b := CommitHash(id, "n", []byte("app"), []byte("salt-b"), out, 1)
	if a == b {
		t.Fatal("the node salt does not change the commit")
	}
}

// §3.5.2: an app that sends a node a false salt gets a complaint, and the
// node leaves the round without pay or slash; a complaint with the right
// salt is refused, so it cannot be used to skip work.
func TestFalseSaltComplaint(t *testing.T) {
	f := open(t, 3, nil)
	if err := f.r.Refuse("node1", f.nodes[1].appSalt); !errors.Is(err, ErrSaltOK) {
		t.Fatalf("complaint with the right salt: %v, want ErrSaltOK", err)
	}
	if err := f.r.Refuse("node1", []byte("what the app really sent")); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Refuse("node0", nil); err != nil { // sent nothing at all
		t.Fatal(err)
	}
	if err := f.r.Refuse("node9", nil); !errors.Is(err, ErrNotMember) {
		t.Fatalf("stranger: %v", err)
	}
	f.commitAll(0, 1)
	f.r.Advance(11)
	if f.r.Phase != AppRevealing {
		t.Fatalf("phase %s: refusals count as done", f.r.Phase)
	}
	if err := f.r.RevealApp(map[string][]byte{"node2": f.nodes[2].appSalt}, nil, nil, 11); err != nil {
		t.Fatalf("the app reveals only the salts of nodes that committed: %v", err)
	}
	f.revealAll()
	f.r.Advance(12)
	f.wantStatuses(Refused, Refused, Minority) // one of three is not a quorum
	for _, m := range f.r.Members[:2] {
		if m.Status.Paid() || m.Status.Slashed() {
			t.Errorf("%s is %s", m.Node, m.Status)
		}
	}
}

// §3.5.3: a node that copies another's commit cannot open it, because the
// commit binds the other node's ID and the other node's app salt.
func TestCopiedCommitCannotBeOpened(t *testing.T) {
	f := open(t, 4, nil)
	f.commitAll(3)
	_, victim := f.nodes[0].commit(f.id)
	lazy := f.nodes[3]
	if err := f.r.Commit(lazy.id, SaltHash(f.id, lazy.id, f.nodes[0].salt), victim); err != nil {
		t.Fatal(err)
	}
	f.r.Advance(11)
	f.revealApp(11)
	f.revealAll(3)
	// The copier saw node0's reveal and replays it.
	if err := f.r.RevealNode(lazy.id, f.nodes[0].salt, OutputHash([]byte("42")), 100); err != nil {
		t.Fatal(err)
	}
	f.r.Advance(12)
	f.wantStatuses(Majority, Majority, Majority, Lied)
}

// §3.5.4: a node that committed and does not reveal by the timeout is
// slashed; the round is tallied without it.
func TestStalledRevealIsSlashed(t *testing.T) {
	f := open(t, 4, nil)
	f.commitAll()
	f.r.Advance(11)
	f.revealApp(11)
	f.revealAll(1)
	if f.r.Advance(13) {
		t.Fatal("tallied before the reveal timeout")
	}
	f.r.Advance(14)
	f.wantStatuses(Majority, Stalled, Majority, Majority) // 3 of 4 > 8/3
	if !f.r.Members[1].Status.Slashed() || !f.r.Result {
		t.Fatalf("stalled node slashed %v, result %v", f.r.Members[1].Status.Slashed(), f.r.Result)
	}
}

// §3.5.5: a reveal that does not compute into the commit (here, a node that
// committed one output and reveals the majority's) is slashed, and so is
// one whose usage differs from the committed usage (Billing, §4.3.1).
func TestRevealThatDoesNotOpenTheCommitIsSlashed(t *testing.T) {
	f := open(t, 7, nil) // a quorum of 2/3 is 5: the five honest nodes
	f.nodes[0].output = []byte("41")
	f.commitAll()
	f.r.Advance(11)
	f.revealApp(11)
	f.revealAll(0, 1)
	if err := f.r.RevealNode("node0", f.nodes[0].salt, OutputHash([]byte("42")), 100); err != nil {
		t.Fatal(err)
	}
	if err := f.r.RevealNode("node1", f.nodes[1].salt, OutputHash([]byte("42")), 1000); err != nil {
		t.Fatal(err)
	}
	if err := f.r.RevealNode("node1", f.nodes[1].salt, OutputHash([]byte("42")), 100); !errors.Is(err, ErrDone) {
		t.Fatalf("second reveal: %v, want ErrDone", err)
	}
	f.r.Advance(12)
	f.wantStatuses(Lied, Lied, Majority, Majority, Majority, Majority, Majority)
}

// DESIGN §8: a commit is bound to its chain and round; replayed in the next
// round it does not open.
func TestCommitCannotBeReplayedInAnotherRound(t *testing.T) {
	f := open(t, 3, nil)
	old := ID{ChainID: f.id.ChainID, Round: f.id.Round - 1}
	for _, n := range f.nodes {
		sh, c := n.commit(old)
		if err := f.r.Commit(n.id, sh, c); err != nil {
			t.Fatal(err)
		}
	}
	f.r.Advance(11)
	f.revealApp(11)
	f.revealAll()
	f.r.Advance(12)
	f.wantStatuses(Lied, Lied, Lied)
}

// The app must reveal the salt of every node that committed, each opening
// its hash; otherwise nothing changes.
func TestAppRevealMustOpenEverySalt(t *testing.T) {
	f := open(t, 3, nil)
	f.commitAll()
	f.r.Advance(11)
	salts := f.appSalts()
	salts["node1"] = []byte("forged")
	if err := f.r.RevealApp(salts, nil, nil, 11); !errors.Is(err, ErrBadSalt) {
		t.Fatalf("forged salt: %v", err)
	}
	delete(salts, "node1")
	if err := f.r.RevealApp(salts, nil, nil, 11); !errors.Is(err, ErrBadSalt) {
		t.Fatalf("missing salt: %v", err)
	}
	if f.r.Phase != AppRevealing || f.r.Members[0].AppSalt != nil {
		t.Fatal("a refused reveal changed the round")
	}
	f.revealApp(11)
}

// DESIGN §8: a spot check catches nodes that agree, off chain, on a wrong
// answer. Commit-reveal alone would make them the majority; the app's
// sealed expectation makes the round FALSE and pays none of them.
func TestSpotCheckCatchesColludingNodes(t *testing.T) {
	want := OutputHash([]byte("42"))
	id := ID{ChainID: "stratos-devnet", Round: 7}
	spot := SpotHash(id, want, []byte("spot-salt"))
	f := open(t, 5, &spot)
	for i := range 4 {
		f.nodes[i].output = []byte("colluders' answer")
	}
	f.commitAll()
	f.r.Advance(11)
	if err := f.r.RevealApp(f.appSalts(), &want, []byte("wrong spot salt"), 11); !errors.Is(err, ErrBadSalt) {
		t.Fatalf("spot reveal with a wrong salt: %v", err)
	}
	other := OutputHash([]byte("something else"))
	if err := f.r.RevealApp(f.appSalts(), &other, []byte("spot-salt"), 11); !errors.Is(err, ErrBadSalt) {
		t.Fatalf("spot reveal of another output: %v", err)
	}
	if err := f.r.RevealApp(f.appSalts(), &want, []byte("spot-salt"), 11); err != nil {
		t.Fatal(err)
	}
	f.revealAll()
	f.r.Advance(12)
	if f.r.Result || !f.r.SpotDisputed {
		t.Fatalf("result %v disputed %v", f.r.Result, f.r.SpotDisputed)
	}
	f.wantStatuses(Minority, Minority, Minority, Minority, Minority)
}

func TestSpotCheckPassesHonestNodes(t *testing.T) {
	want := OutputHash([]byte("42"))
	id := ID{ChainID: "stratos-devnet", Round: 7}
	spot := SpotHash(id, want, []byte("s"))
	f := open(t, 3, &spot)
	f.commitAll()
	f.r.Advance(11)
	if err := f.r.RevealApp(f.appSalts(), &want, []byte("s"), 11); err != nil {
		t.Fatal(err)
	}
	f.revealAll()
	f.r.Advance(12)
	if !f.r.Result || f.r.SpotDisputed {
		t.Fatalf("result %v disputed %v", f.r.Result, f.r.SpotDisputed)
	}
	f.wantStatuses(Majority, Majority, Majority)
}

// §4.3.1: each paid node bills at most the (lower) median usage of the paid
// nodes, so one node that committed an inflated usage is not paid for it.
func TestUsageIsCappedAtTheMedian(t *testing.T) {
	f := open(t, 4, nil)
	f.nodes[0].usage = 90
	f.nodes[3].usage = 1_000_000
	f.commitAll()
	f.r.Advance(11)
	f.revealApp(11)
	f.revealAll()
	f.r.Advance(12)
	for i, want := range []uint64{90, 100, 100, 100} {
		if got := f.r.Members[i].PaidUsage; got != want {
			t.Errorf("node%d paid usage %d, want %d", i, got, want)
		}
	}
}

func TestNobodyCommitsEndsTheRound(t *testing.T) {
	f := open(t, 3, nil)
	if !f.r.Advance(13) || f.r.Result {
		t.Fatalf("phase %s result %v", f.r.Phase, f.r.Result)
	}
	f.wantStatuses(Missed, Missed, Missed)
}

func TestOpenRefusesBadRounds(t *testing.T) {
	id := ID{"c", 1}
	h := []Hash{{1}, {2}}
	for name, err := range map[string]error{
		"no nodes":      second(Open(id, nil, nil, nil, Agreement{2, 3}, 1, 1, 0)),
		"hash count":    second(Open(id, []string{"a", "b"}, h[:1], nil, Agreement{2, 3}, 1, 1, 0)),
		"duplicate":     second(Open(id, []string{"a", "a"}, h, nil, Agreement{2, 3}, 1, 1, 0)),
		"zero timeout":  second(Open(id, []string{"a", "b"}, h, nil, Agreement{2, 3}, 0, 1, 0)),
		"bad agreement": second(Open(id, []string{"a", "b"}, h, nil, Agreement{4, 3}, 1, 1, 0)),
	} {
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestHashesAreLengthPrefixed(t *testing.T) {
	id := ID{"c", 1}
	if SaltHash(id, "ab", []byte("c")) == SaltHash(id, "a", []byte("bc")) {
		t.Fatal("moving a byte between fields gives the same hash")
	}
	if SaltHash(ID{"c", 1}, "n", nil) == SaltHash(ID{"d", 1}, "n", nil) {
		t.Fatal("chain ID not bound")
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for st := range statusNames {
		if got, ok := ParseStatus(st.String()); !ok || got != st {
			t.Errorf("status %s: %v %v", st, got, ok)
		}
	}
	for p := Committing; p <= Done; p++ {
		if got, ok := ParsePhase(p.String()); !ok || got != p {
			t.Errorf("phase %s: %v %v", p, got, ok)
		}
	}
	if _, ok := ParseStatus("bogus"); ok {
		t.Error("bogus status parsed")
	}
}

func TestStorageProofStreamsTheSameHash(t *testing.T) {
	data := []byte(strings.Repeat("slice bytes ", 10000))
	got, err := StorageProofOf([]byte("challenge"), uint64(len(data)), bytes.NewReader(data))
	if err != nil || got != StorageProof([]byte("challenge"), data) {
		t.Fatalf("streamed %x, whole %x, %v", got, StorageProof([]byte("challenge"), data), err)
	}
	if _, err := StorageProofOf(nil, uint64(len(data))+1, bytes.NewReader(data)); err == nil {
		t.Fatal("a short slice gave a proof")
	}
	if StorageProof([]byte("c1"), data) == StorageProof([]byte("c2"), data) {
		t.Fatal("the challenge does not change the proof")
	}
}
