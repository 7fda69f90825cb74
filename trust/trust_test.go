package trust

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

const chainID = "stratos-test"

type fakeChain struct {
	round trustedfntypes.Round
	owner string
}

func (c *fakeChain) FnRound(_ context.Context, id uint64) (trustedfntypes.Round, error) {
	if id != c.round.Id {
		return trustedfntypes.Round{}, errors.New("no such round")
	}
	return c.round, nil
}

func (c *fakeChain) FnApp(_ context.Context, id string) (trustedfntypes.App, error) {
	return trustedfntypes.App{Id: id, Owner: c.owner}, nil
}

type sent struct {
	kind             string
	saltHash, commit []byte
	salt, output     []byte
	usage            uint64
	received         []byte
}

type fakeSender struct{ sent []sent }

func (s *fakeSender) CommitRound(_ context.Context, _ uint64, _ string, saltHash, commit []byte) error {
	s.sent = append(s.sent, sent{kind: "commit", saltHash: saltHash, commit: commit})
	return nil
}

func (s *fakeSender) RevealRound(_ context.Context, _ uint64, _ string, salt, output []byte, usage uint64) error {
	s.sent = append(s.sent, sent{kind: "reveal", salt: salt, output: output, usage: usage})
	return nil
}

func (s *fakeSender) Complain(_ context.Context, _ uint64, _ string, received []byte) error {
	s.sent = append(s.sent, sent{kind: "complain", received: received})
	return nil
}

type fakeCompute struct{ usage uint64 }

func (c *fakeCompute) Call(_ context.Context, p service.CallParams) (service.CallResult, *service.Error) {
	h := round.OutputHash(service.Outcome([]byte("out:"+string(p.Input)), ""))
	c.usage += 700
	return service.CallResult{Output: []byte("out:" + string(p.Input)), OutputHash: h[:], GasUsed: 700}, nil
}

func (c *fakeCompute) Usage(string) uint64 { return c.usage }

type fixture struct {
	owner  account.Signer
	chain  *fakeChain
	sender *fakeSender
	node   *Node
	salt   []byte
	call   service.CallParams
}

// setup: node "n1" is in round 5 of app1x, whose app salt for it is salt.
func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{salt: []byte("the app's salt for n1"), sender: &fakeSender{}}
	f.call = service.CallParams{App: "app1x", Function: "greet", Input: []byte("Ada"), Seed: make([]byte, 32), TimeUnixNano: 1}
	id := round.ID{ChainID: chainID, Round: 5}
	ash := round.SaltHash(id, "n1", f.salt)
	ch := service.CallHash(f.call)
	owner, addr, err := account.FromSecret([]byte("the app owner's secret key, 32b"))
	if err != nil {
		t.Fatal(err)
	}
	f.owner = owner
	f.chain = &fakeChain{owner: addr, round: trustedfntypes.Round{Id: 5, AppId: "app1x", CallHash: ch[:], Phase: round.Committing.String(),
		Members: []trustedfntypes.Member{{NodeId: "n1", AppSaltHash: ash[:], Status: round.Assigned.String()}}}}
	n, err := NewNode(NodeConfig{ChainID: chainID, NodeID: "n1", Chain: f.chain, Sender: f.sender,
		Compute: &fakeCompute{}, Dir: t.TempDir(), Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 1024))})
	if err != nil {
		t.Fatal(err)
	}
	f.node = n
	return f
}

// Steps 4 and 7: the node commits what package round says, and once the
// app's salts are on chain reveals what opens it.
func TestNodeCommitsAndRevealsWhatOpensTheCommit(t *testing.T) {
	f := setup(t)
	if err := f.node.Join(context.Background(), f.join(f.salt, f.call)); err != nil {
		t.Fatal(err)
	}
	if len(f.sender.sent) != 1 || f.sender.sent[0].kind != "commit" {
		t.Fatalf("sent %+v", f.sender.sent)
	}
	f.chain.round.Phase = round.Revealing.String()
	f.node.tick(context.Background())
	if len(f.sender.sent) != 2 || f.sender.sent[1].kind != "reveal" {
		t.Fatalf("sent %+v", f.sender.sent)
	}
	c, rv := f.sender.sent[0], f.sender.sent[1]
	id := round.ID{ChainID: chainID, Round: 5}
	out, _ := toHash(rv.output)
	want := round.CommitHash(id, "n1", f.salt, rv.salt, out, rv.usage)
	sh := round.SaltHash(id, "n1", rv.salt)
	if !bytes.Equal(c.commit, want[:]) || !bytes.Equal(c.saltHash, sh[:]) || rv.usage != 700 {
		t.Fatalf("the reveal does not open the commit: %+v", f.sender.sent)
	}
	f.node.tick(context.Background())
	if len(f.sender.sent) != 2 {
		t.Fatal("revealed twice")
	}
	f.chain.round.Phase = round.Done.String()
	f.node.tick(context.Background())
	if f.node.Pending() != 0 {
		t.Fatal("a settled round is still pending")
	}
}

// §3.5.4: a node that restarts between its commit and the reveal still
// reveals: its salt was on disk before the commit was sent.
func TestNodeRevealsAfterARestart(t *testing.T) {
	f := setup(t)
	if err := f.node.Join(context.Background(), f.join(f.salt, f.call)); err != nil {
		t.Fatal(err)
	}
	again, err := NewNode(f.node.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.chain.round.Phase = round.Revealing.String()
	again.tick(context.Background())
	if len(f.sender.sent) != 2 || f.sender.sent[1].kind != "reveal" {
		t.Fatalf("after a restart: sent %+v", f.sender.sent)
	}
}

// §3.5.2: a false salt gets a complaint with the salt received and no
// commit; a call that is not the round's is refused; so is a round the
// node is not in.
func TestNodeRefusesFalseSaltsAndForeignCalls(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	err := f.node.Join(ctx, f.join([]byte("forged"), f.call))
	if !errors.Is(err, ErrBadSalt) || len(f.sender.sent) != 1 || f.sender.sent[0].kind != "complain" ||
		string(f.sender.sent[0].received) != "forged" {
		t.Fatalf("forged salt: %v, sent %+v", err, f.sender.sent)
	}
	other := f.call
	other.Input = []byte("Bob")
	if err := f.node.Join(ctx, f.join(f.salt, other)); !errors.Is(err, ErrBadCall) {
		t.Fatalf("another call: %v", err)
	}
	f.chain.round.Members[0].NodeId = "n2"
	if err := f.node.Join(ctx, f.join(f.salt, f.call)); !errors.Is(err, ErrNotMember) {
		t.Fatalf("not a member: %v", err)
	}
	if len(f.sender.sent) != 1 {
		t.Fatalf("sent %+v", f.sender.sent)
	}
}

// The scheduler audits calls served since the last round, each equally
// likely, and only apps whose frequency says a round is due.
func TestSamplerAndDue(t *testing.T) {
	s := NewSampler(4, rand.New(rand.NewPCG(1, 2)))
	counts := map[string]int{}
	for range 2000 {
		for _, in := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
			s.Add(service.CallParams{App: "app1x", Input: []byte(in)})
		}
		p, ok := s.Take("app1x")
		if !ok {
			t.Fatal("nothing taken")
		}
		counts[string(p.Input)]++
	}
	for _, in := range []string{"a", "h"} {
		if counts[in] < 150 || counts[in] > 350 { // 2000/8 = 250 expected
			t.Errorf("call %s audited %d times of 2000; want about 250", in, counts[in])
		}
	}
	if _, ok := s.Take("app1x"); ok {
		t.Fatal("Take forgets the calls it did not pick")
	}
	a := trustedfntypes.App{Status: trustedfntypes.AppStatus_APP_STATUS_ACTIVE, ActivatedHeight: 10, RoundsEvery: 5}
	if Due(a, 14) || !Due(a, 15) {
		t.Error("first round due 5 blocks after activation")
	}
	a.LastRoundHeight, a.OpenRound = 20, 3
	if Due(a, 30) {
		t.Error("due with a round open")
	}
	a.OpenRound = 0
	if Due(a, 24) || !Due(a, 25) {
		t.Error("next round due 5 blocks after the last")
	}
}

type fakeOpen struct{ rounds []trustedfntypes.Round }

func (o *fakeOpen) FnOpenRounds(context.Context, string) ([]trustedfntypes.Round, error) {
	return o.rounds, nil
}

type fakeSlices map[string][]byte

func (s fakeSlices) OpenSlice(id string) (uint64, io.ReadCloser, error) {
	b, ok := s[id]
	if !ok {
		return 0, nil, errors.New("not found")
	}
	return uint64(len(b)), io.NopCloser(bytes.NewReader(b)), nil
}

// §4.1.6: a holder answers a storage challenge with a commit that opens to
// StorageProof(challenge, its bytes), once; a slice it lacks gets no answer.
func TestNodeAnswersStorageChallenges(t *testing.T) {
	f := setup(t)
	challenge := []byte("drawn from the block hash")
	f.chain.round = trustedfntypes.Round{Id: 9, SliceId: "s1", Challenge: challenge, Phase: round.Committing.String(),
		Members: []trustedfntypes.Member{{NodeId: "n1", Status: round.Assigned.String()}}}
	open := &fakeOpen{rounds: []trustedfntypes.Round{f.chain.round}}
	f.node.cfg.Open, f.node.cfg.Slices = open, fakeSlices{"s1": []byte("the slice's bytes")}
	f.node.tick(context.Background())
	f.node.tick(context.Background()) // answered once, not twice
	if len(f.sender.sent) != 1 || f.sender.sent[0].kind != "commit" {
		t.Fatalf("sent %+v", f.sender.sent)
	}
	f.chain.round.Phase = round.Revealing.String()
	open.rounds = nil
	f.node.tick(context.Background())
	rv := f.sender.sent[len(f.sender.sent)-1]
	want := round.StorageProof(challenge, []byte("the slice's bytes"))
	id := round.ID{ChainID: chainID, Round: 9}
	c := round.CommitHash(id, "n1", challenge, rv.salt, want, 0)
	if rv.kind != "reveal" || !bytes.Equal(rv.output, want[:]) || !bytes.Equal(f.sender.sent[0].commit, c[:]) {
		t.Fatalf("reveal %+v does not open the commit to the proof", rv)
	}
	if n, b := f.node.StorageStats(); n != 1 || b != uint64(len("the slice's bytes")) {
		t.Fatalf("stats %d challenges %d bytes", n, b)
	}
	g := setup(t)
	g.node.cfg.Open = &fakeOpen{rounds: []trustedfntypes.Round{{Id: 9, SliceId: "gone", Challenge: challenge,
		Phase: round.Committing.String(), Members: []trustedfntypes.Member{{NodeId: "n1", Status: round.Assigned.String()}}}}}
	g.node.cfg.Slices = fakeSlices{}
	g.node.tick(context.Background())
	if len(g.sender.sent) != 0 {
		t.Fatalf("answered for a slice it lacks: %+v", g.sender.sent)
	}
}

// join is what the app's owner hands the node: signed.
func (f *fixture) join(salt []byte, call service.CallParams) service.JoinParams {
	p := service.JoinParams{Round: 5, AppSalt: salt, Call: call, OwnerKey: f.owner.PubKey()}
	sig, err := f.owner.Sign(service.JoinBytes(chainID, p))
	if err != nil {
		panic(err)
	}
	p.Signature = sig
	return p
}

// §3.5.2's complaint is the app's fault only if the app sent the salt: a
// salt not signed by the app's owner is refused without a complaint, so a
// stranger cannot make nodes leave a round and blame the app.
func TestNodeIgnoresSaltsNotFromTheOwner(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	unsigned := service.JoinParams{Round: 5, AppSalt: []byte("forged"), Call: f.call}
	if err := f.node.Join(ctx, unsigned); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("unsigned: %v", err)
	}
	mallory, _, _ := account.FromSecret([]byte("mallory's secret key, 32 bytes.."))
	p := service.JoinParams{Round: 5, AppSalt: []byte("forged"), Call: f.call, OwnerKey: mallory.PubKey()}
	p.Signature, _ = mallory.Sign(service.JoinBytes(chainID, p))
	if err := f.node.Join(ctx, p); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("signed by another account: %v", err)
	}
	p = f.join([]byte("forged"), f.call)
	p.AppSalt = []byte("changed after signing")
	if err := f.node.Join(ctx, p); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("altered after signing: %v", err)
	}
	if len(f.sender.sent) != 0 {
		t.Fatalf("sent %+v", f.sender.sent)
	}
}
