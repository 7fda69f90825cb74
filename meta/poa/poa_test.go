package poa_test

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stratos-net/stratos/meta/poa"
)

var testHash = []byte("hash of the block that ended the term")

// ranks is a NumberOf giving voter vN the number N, so vN is the top-ranked
// of v1..vN.
func ranks(a string) uint64 {
	var n uint64
	fmt.Sscanf(a, "v%d", &n)
	return n
}

func voters(n int) []string {
	var vs []string
	for i := 1; i <= n; i++ {
		vs = append(vs, fmt.Sprintf("v%d", i))
	}
	return vs
}

func newRound(t *testing.T, cfg poa.Config) *poa.Round {
	t.Helper()
	r, err := poa.NewRound(cfg, testTerm, testHash)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// vote is from's vote for candidate with the number numberOf gives it.
func vote(numberOf func(string) uint64, from, candidate string) poa.Vote {
	return poa.Vote{Term: testTerm, BlockHash: testHash, From: from, Candidate: candidate, Number: numberOf(candidate)}
}

func receive(t *testing.T, r *poa.Round, v poa.Vote) []poa.Vote {
	t.Helper()
	out, err := r.Receive(v)
	if err != nil {
		t.Fatalf("Receive(%+v): %v", v, err)
	}
	return out
}

func TestStateString(t *testing.T) {
	for s, want := range map[poa.State]string{
		poa.Voting: "Voting", poa.Following: "Following", poa.Observing: "Observing",
		poa.Leading: "Leading", 0: "State(0)",
	} {
		if s.String() != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), s.String(), want)
		}
	}
}

// whitepaper §3.3 step 1, as changed by DESIGN §5.2: the number is a hash
// of the block, the term and the address, laid out as documented.
func TestNumber(t *testing.T) {
	var b []byte
	for _, f := range []string{"stratos/poa/number/v1", string(testHash)} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.BigEndian.AppendUint64(b, testTerm)
	b = binary.BigEndian.AppendUint64(b, 2)
	b = append(b, "v1"...)
	sum := sha256.Sum256(b)
	want := binary.BigEndian.Uint64(sum[:8])
	if got := poa.Number(testHash, testTerm, "v1"); got != want {
		t.Fatalf("Number = %#x, want %#x", got, want)
	}
	if got := poa.Number([]byte{1, 2, 3}, 1, "a"); got != 0xd752aaa7219fb110 {
		t.Errorf("Number changed: %#x; a changed layout must change the domain tag", got)
	}
	others := map[string]uint64{
		"other block": poa.Number([]byte("another block"), testTerm, "v1"),
		"other term":  poa.Number(testHash, testTerm+1, "v1"),
		"other addr":  poa.Number(testHash, testTerm, "v2"),
	}
	for name, n := range others {
		if n == want {
			t.Errorf("%s: same number %#x", name, n)
		}
	}
}

func TestNewRoundValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  poa.Config
		hash []byte
	}{
		{"no voters", poa.Config{Self: "o1", Observers: []string{"o1"}}, testHash},
		{"empty voter", poa.Config{Self: "v1", Voters: []string{"v1", ""}}, testHash},
		{"empty observer", poa.Config{Self: "v1", Voters: []string{"v1"}, Observers: []string{""}}, testHash},
		{"voter twice", poa.Config{Self: "v1", Voters: []string{"v1", "v2", "v1"}}, testHash},
		{"voter and observer", poa.Config{Self: "v1", Voters: []string{"v1", "v2"}, Observers: []string{"v2"}}, testHash},
		{"self unlisted", poa.Config{Self: "x", Voters: []string{"v1", "v2"}}, testHash},
		{"no self", poa.Config{Voters: []string{"v1"}}, testHash},
		{"no block hash", poa.Config{Self: "v1", Voters: []string{"v1"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := poa.NewRound(tt.cfg, testTerm, tt.hash); !errors.Is(err, poa.ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
		})
	}
}

// whitepaper §3.3 step 2: "Each server updates its status to Voting"; a
// meta node that does not vote is Observing.
func TestNewRoundEntersVoting(t *testing.T) {
	cfg := poa.Config{Voters: voters(3), Observers: []string{"o1"}}
	for self, want := range map[string]poa.State{"v1": poa.Voting, "o1": poa.Observing} {
		cfg.Self = self
		if got := newRound(t, cfg).State(); got != want {
			t.Errorf("%s: state %v, want %v", self, got, want)
		}
	}
}

// whitepaper §3.3 step 3: "each server will vote itself, generate a vote,
// and then send the vote to all other servers".
func TestStartVotesForItself(t *testing.T) {
	r := newRound(t, poa.Config{Self: "v2", Voters: voters(3)})
	out := r.Start()
	want := vote(derived(testHash), "v2", "v2")
	if len(out) != 1 || !equalVotes(out[0], want) {
		t.Fatalf("Start() = %+v, want [%+v]", out, want)
	}
	if again := r.Start(); again != nil {
		t.Errorf("second Start() = %+v, want nothing", again)
	}
	obs := newRound(t, poa.Config{Self: "o1", Voters: voters(3), Observers: []string{"o1"}})
	if out := obs.Start(); out != nil {
		t.Errorf("observer's Start() = %+v, want nothing", out)
	}
}

// whitepaper §3.3 step 4: "it first judges the validity of the vote, such
// as checking whether it is legal vote for the current round of voting or
// whether it is from a server in the voting state"; with DESIGN §5.2, a
// vote must carry its candidate's derived number.
func TestReceiveChecksVotes(t *testing.T) {
	num := derived(testHash)
	valid := vote(num, "v1", "v3")
	tests := []struct {
		name   string
		change func(*poa.Vote)
		want   error
	}{
		{"valid", func(*poa.Vote) {}, nil},
		{"other term", func(v *poa.Vote) { v.Term++ }, poa.ErrOtherRound},
		{"other block hash", func(v *poa.Vote) { v.BlockHash = []byte("another block") }, poa.ErrOtherRound},
		{"no block hash", func(v *poa.Vote) { v.BlockHash = nil }, poa.ErrOtherRound},
		{"from an observer", func(v *poa.Vote) { v.From = "o1" }, poa.ErrNotVoter},
		{"from a stranger", func(v *poa.Vote) { v.From = "x" }, poa.ErrNotVoter},
		{"from nobody", func(v *poa.Vote) { v.From = "" }, poa.ErrNotVoter},
		{"for an observer", func(v *poa.Vote) { v.Candidate, v.Number = "o1", num("o1") }, poa.ErrNotVoter},
		{"for a stranger", func(v *poa.Vote) { v.Candidate, v.Number = "x", num("x") }, poa.ErrNotVoter},
		{"for nobody", func(v *poa.Vote) { v.Candidate = "" }, poa.ErrNotVoter},
		{"from this node", func(v *poa.Vote) { v.From = "v2" }, poa.ErrOwnVote},
		{"forged number", func(v *poa.Vote) { v.Number = math.MaxUint64 }, poa.ErrBadNumber},
		{"another voter's number", func(v *poa.Vote) { v.Number = num("v1") }, poa.ErrBadNumber},
		{"number of another round", func(v *poa.Vote) { v.Number = poa.Number(testHash, testTerm+1, "v3") }, poa.ErrBadNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRound(t, poa.Config{Self: "v2", Voters: voters(3), Observers: []string{"o1"}})
			r.Start()
			before := r.Tally()
			v := valid
			tt.change(&v)
			out, err := r.Receive(v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Receive: err = %v, want %v", err, tt.want)
			}
			if err != nil && (out != nil || !slices.Equal(r.Tally(), before) || r.State() != poa.Voting) {
				t.Errorf("a rejected vote changed the round: out %+v, tally %+v", out, r.Tally())
			}
		})
	}
}

// Config.NumberOf replaces the derivation for checking as well: a vote with
// the derived number is then a forgery.
func TestReceiveChecksInjectedNumbers(t *testing.T) {
	r := newRound(t, poa.Config{Self: "v1", Voters: voters(3), NumberOf: ranks})
	if _, err := r.Receive(vote(derived(testHash), "v2", "v2")); !errors.Is(err, poa.ErrBadNumber) {
		t.Fatalf("err = %v, want ErrBadNumber", err)
	}
	receive(t, r, vote(ranks, "v2", "v2"))
}

// whitepaper §3.3 step 5: "Check the random number of each server first,
// the server who has a larger random number will be the leader. If the
// random numbers are the same, then compares the machine AddressID, and the
// larger one is selected".
func TestBetter(t *testing.T) {
	tests := []struct {
		name string
		a, b poa.Vote
		want bool
	}{
		{"larger number", poa.Vote{Candidate: "a", Number: 10879}, poa.Vote{Candidate: "b", Number: 1052}, true},
		{"smaller number", poa.Vote{Candidate: "b", Number: 1052}, poa.Vote{Candidate: "a", Number: 10879}, false},
		{"tie, larger address", poa.Vote{Candidate: "b", Number: 5}, poa.Vote{Candidate: "a", Number: 5}, true},
		{"tie, smaller address", poa.Vote{Candidate: "a", Number: 5}, poa.Vote{Candidate: "b", Number: 5}, false},
		{"tie, bytewise", poa.Vote{Candidate: "server10", Number: 5}, poa.Vote{Candidate: "server1", Number: 5}, true},
		{"same vote", poa.Vote{Candidate: "a", Number: 5}, poa.Vote{Candidate: "a", Number: 5}, false},
		{"From does not count", poa.Vote{From: "a", Candidate: "c", Number: 5}, poa.Vote{From: "z", Candidate: "c", Number: 5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := poa.Better(tt.a, tt.b); got != tt.want {
				t.Fatalf("Better(%+v, %+v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// whitepaper §3.3 step 5: "the server must PK other votes with their own
// votes": a better vote becomes this server's vote and is sent on; a worse
// or equal one changes nothing.
func TestReceiveAdoptsBetterVote(t *testing.T) {
	r := newRound(t, poa.Config{Self: "v2", Voters: voters(3), NumberOf: ranks})
	r.Start()
	if out := receive(t, r, vote(ranks, "v1", "v1")); out != nil {
		t.Fatalf("worse vote: sent %+v, want nothing", out)
	}
	out := receive(t, r, vote(ranks, "v3", "v3"))
	if want := vote(ranks, "v2", "v3"); len(out) != 1 || !equalVotes(out[0], want) {
		t.Fatalf("better vote: sent %+v, want [%+v]", out, want)
	}
	if out := receive(t, r, vote(ranks, "v1", "v3")); out != nil {
		t.Fatalf("vote equal to its own: sent %+v, want nothing", out)
	}
}

// A vote can arrive before the round is started (the sender saw the block
// first); the round then joins, and sends only its resulting vote.
func TestReceiveBeforeStart(t *testing.T) {
	tests := []struct {
		name          string
		first         poa.Vote
		wantCandidate string
	}{
		{"worse vote: self-vote", vote(ranks, "v1", "v1"), "v2"},
		{"better vote: adopted vote", vote(ranks, "v3", "v3"), "v3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRound(t, poa.Config{Self: "v2", Voters: voters(3), NumberOf: ranks})
			out := receive(t, r, tt.first)
			if want := vote(ranks, "v2", tt.wantCandidate); len(out) != 1 || !equalVotes(out[0], want) {
				t.Fatalf("sent %+v, want [%+v]", out, want)
			}
			if out := r.Start(); out != nil {
				t.Errorf("Start after joining sent %+v, want nothing", out)
			}
		})
	}
}

// Each voter counts once, with its latest vote; since a voter's votes only
// get better, a worse one is an old vote delivered late.
func TestLaterVoteReplacesEarlier(t *testing.T) {
	r := newRound(t, poa.Config{Self: "o1", Voters: voters(5), Observers: []string{"o1"}, NumberOf: ranks})
	receive(t, r, vote(ranks, "v1", "v1"))
	receive(t, r, vote(ranks, "v1", "v4"))
	receive(t, r, vote(ranks, "v1", "v3")) // stale
	want := []poa.Count{{Candidate: "v4", Number: 4, Votes: 1}}
	if got := r.Tally(); !slices.Equal(got, want) {
		t.Fatalf("tally %+v, want %+v", got, want)
	}
}

// whitepaper §3.3 step 6: "determine whether more than half of the server
// have received the same voting information". More than half of all
// voters, whether they speak or not: 3 of 5 decides, 2 of 4 does not.
func TestMoreThanHalf(t *testing.T) {
	tests := []struct {
		voters, holders int
		decided         bool
	}{
		{1, 1, true}, {2, 1, false}, {2, 2, true}, {3, 1, false}, {3, 2, true},
		{4, 2, false}, {4, 3, true}, {5, 2, false}, {5, 3, true}, {6, 3, false},
		{6, 4, true}, {7, 3, false}, {7, 4, true},
	}
	for _, tt := range tests {
		vs := voters(tt.voters)
		top := vs[len(vs)-1]
		t.Run(fmt.Sprintf("%d of %d voting: a voter counts", tt.holders, tt.voters), func(t *testing.T) {
			r := newRound(t, poa.Config{Self: top, Voters: vs, NumberOf: ranks})
			r.Start()
			for _, from := range vs[:tt.holders-1] {
				receive(t, r, vote(ranks, from, top))
			}
			checkDecided(t, r, tt.decided, top, poa.Leading)
		})
		t.Run(fmt.Sprintf("%d of %d voting: an observer counts", tt.holders, tt.voters), func(t *testing.T) {
			r := newRound(t, poa.Config{Self: "o1", Voters: vs, Observers: []string{"o1"}, NumberOf: ranks})
			for _, from := range slices.Concat([]string{top}, vs[:tt.holders-1]) {
				receive(t, r, vote(ranks, from, top))
			}
			checkDecided(t, r, tt.decided, top, poa.Observing)
		})
	}
}

func checkDecided(t *testing.T, r *poa.Round, decided bool, winner string, state poa.State) {
	t.Helper()
	w, ok := r.Winner()
	if ok != decided || (ok && w != winner) {
		t.Fatalf("Winner() = %q, %v; want %q, %v; tally %+v", w, ok, winner, decided, r.Tally())
	}
	if !decided && state != poa.Observing {
		state = poa.Voting
	}
	if r.State() != state {
		t.Fatalf("state %v, want %v", r.State(), state)
	}
}

// whitepaper §3.3 step 6 with DESIGN §5.2's public numbers: a majority for
// a voter below the top one is a majority that has not heard the top one
// yet, so it decides only once the caller's deadline has passed; and then
// the decision stands against later votes.
func TestLowerRankedMajorityWaitsForTimeout(t *testing.T) {
	r := newRound(t, poa.Config{Self: "v1", Voters: voters(5), NumberOf: ranks})
	r.Start()
	receive(t, r, vote(ranks, "v4", "v4"))
	receive(t, r, vote(ranks, "v3", "v4"))
	checkDecided(t, r, false, "", poa.Voting)
	r.Timeout()
	checkDecided(t, r, true, "v4", poa.Following)
	if out := receive(t, r, vote(ranks, "v5", "v5")); out != nil {
		t.Fatalf("decided round sent %+v, want nothing", out)
	}
	checkDecided(t, r, true, "v4", poa.Following)
}

// A deadline without a majority decides nothing; the majority that arrives
// after it does.
func TestTimeoutNeedsMajority(t *testing.T) {
	r := newRound(t, poa.Config{Self: "v1", Voters: voters(5), NumberOf: ranks})
	r.Start()
	receive(t, r, vote(ranks, "v4", "v4"))
	r.Timeout()
	checkDecided(t, r, false, "", poa.Voting)
	receive(t, r, vote(ranks, "v2", "v4"))
	checkDecided(t, r, true, "v4", poa.Following)
}

// whitepaper §3.3 step 7: "If it is a follower, the status will be changed
// to Following, if it is a Leader, it will be changed to Leading."
func TestDecidedStates(t *testing.T) {
	nc := netConfig{voters: voters(3), observers: []string{"o1", "o2"}, numberOf: ranks, fifo: true}
	n := newNetwork(t, nc, testHash)
	n.run()
	n.checkElected("v3", nc.observers)
}

// whitepaper §3.3 step 6: only voters count. Observers' votes are refused,
// votes for them too, and they are not in the denominator: 2 of 4 voters do
// not decide however many observers there are.
func TestObserversNeverCount(t *testing.T) {
	obs := []string{"o1", "o2", "o3"}
	r := newRound(t, poa.Config{Self: "v4", Voters: voters(4), Observers: obs, NumberOf: ranks})
	r.Start()
	for _, o := range obs {
		if _, err := r.Receive(vote(ranks, o, "v4")); !errors.Is(err, poa.ErrNotVoter) {
			t.Fatalf("vote from observer %s: err = %v, want ErrNotVoter", o, err)
		}
		if _, err := r.Receive(vote(ranks, "v1", o)); !errors.Is(err, poa.ErrNotVoter) {
			t.Fatalf("vote for observer %s: err = %v, want ErrNotVoter", o, err)
		}
	}
	receive(t, r, vote(ranks, "v1", "v4"))
	checkDecided(t, r, false, "", poa.Voting)
	receive(t, r, vote(ranks, "v2", "v4"))
	checkDecided(t, r, true, "v4", poa.Leading)
}

// whitepaper §3.3 step 5b: equal numbers go to the larger address.
func TestTieGoesToLargerAddress(t *testing.T) {
	same := func(string) uint64 { return 1052 }
	vs := []string{"aa", "b", "a", "ab"}
	for seed := range uint64(20) {
		n := newNetwork(t, netConfig{voters: vs, numberOf: same, seed: seed}, testHash)
		n.run()
		n.checkElected("b", nil)
	}
}

// The whitepaper's example: "Suppose there are 5 nodes are running POA
// consensus, from server1 to server5 ... Server1 generates 1052, Server2
// generates 10879". The paper gives no numbers for server3 to server5, so
// each case picks some; every case runs in the paper's order (each server
// starts and votes in turn, votes arrive as sent) and in shuffled orders.
func TestPaperExample(t *testing.T) {
	servers := []string{"server1", "server2", "server3", "server4", "server5"}
	tests := []struct {
		name   string
		others [3]uint64 // server3, server4, server5
		want   string
	}{
		{"server2 has the largest number", [3]uint64{17, 4096, 10878}, "server2"},
		{"server5 ties server2, larger address", [3]uint64{17, 4096, 10879}, "server5"},
		{"server4 has a larger one", [3]uint64{17, 20000, 10878}, "server4"},
		{"server3 ties server1, server2 still larger", [3]uint64{1052, 1, 2}, "server2"},
	}
	for _, tt := range tests {
		nums := map[string]uint64{"server1": 1052, "server2": 10879,
			"server3": tt.others[0], "server4": tt.others[1], "server5": tt.others[2]}
		numberOf := func(a string) uint64 { return nums[a] }
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(50) {
				n := newNetwork(t, netConfig{voters: servers, numberOf: numberOf, seed: seed, fifo: seed == 0}, testHash)
				n.run()
				n.checkElected(tt.want, nil)
			}
		})
	}
}

// The example's first exchange, step by step: server1 (1052) and server2
// (10879) each vote for themselves; server1 then sees a better vote and
// sends it on, server2 sees a worse one and keeps its own.
func TestPaperExampleFirstExchange(t *testing.T) {
	nums := map[string]uint64{"server1": 1052, "server2": 10879, "server3": 1, "server4": 2, "server5": 3}
	numberOf := func(a string) uint64 { return nums[a] }
	servers := []string{"server1", "server2", "server3", "server4", "server5"}
	s1 := newRound(t, poa.Config{Self: "server1", Voters: servers, NumberOf: numberOf})
	s2 := newRound(t, poa.Config{Self: "server2", Voters: servers, NumberOf: numberOf})
	v1, v2 := s1.Start(), s2.Start()
	if v1[0].Number != 1052 || v2[0].Number != 10879 {
		t.Fatalf("self-votes %+v, %+v; want numbers 1052, 10879", v1, v2)
	}
	out := receive(t, s1, v2[0])
	if want := vote(numberOf, "server1", "server2"); len(out) != 1 || !equalVotes(out[0], want) {
		t.Fatalf("server1 sends %+v, want [%+v]", out, want)
	}
	if out := receive(t, s2, v1[0]); out != nil {
		t.Fatalf("server2 sends %+v, want nothing", out)
	}
	receive(t, s2, out[0])
	want := []poa.Count{{Candidate: "server2", Number: 10879, Votes: 2}}
	if got := s2.Tally(); !slices.Equal(got, want) {
		t.Fatalf("server2's tally %+v, want %+v", got, want)
	}
	checkDecided(t, s2, false, "", poa.Voting) // 2 of 5
}

func equalVotes(a, b poa.Vote) bool {
	return a.Term == b.Term && string(a.BlockHash) == string(b.BlockHash) &&
		a.From == b.From && a.Candidate == b.Candidate && a.Number == b.Number
}
