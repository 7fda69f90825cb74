package repair_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/placement"
	"github.com/stratos-net/stratos/meta/repair"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/slice"
)

// The repair simulation: the meta leader's placement and repair (DESIGN
// §5.3, §5.4; whitepaper §4.2.3, §4.2.4 step 6) over a simulated network of
// resource nodes that die, come back, lose their disks and lose or delay
// their messages, and a meta leadership that moves. It runs the real code
// on the meta side of every decision: repair.Planner over a repair.Queue,
// the index (meta/index on the in-memory kv store, changed only by the
// commands meta.Server applies), the health tracker (meta/health,
// heartbeated on a fake clock) and the placer (meta/placement). The
// resource nodes, their disks and the messages between them and the leader
// are simulated, each as the resource and meta packages do it.
//
// It is one goroutine on a fake clock, and every random choice comes from
// PCG generators seeded by the run's seed, so a run is a function of its
// seed and a failure names it:
//
//	go test ./meta/repair -run 'TestRepairSimulation$' -v -sim.seed=N [-short] [-sim.trace=TEXT]
//
// replays it; -sim.trace logs the events that mention TEXT (a slice, node
// or task ID) and the Planner's warnings.

// Flags to replay one run.
var (
	simSeed  = flag.Uint64("sim.seed", 0, "run the repair simulation with this seed only (0: the default seeds)")
	simTrace = flag.String("sim.trace", "", "log the simulation's events that contain this text")
)

// simScale sizes a run.
type simScale struct {
	nodes, slices, waves int
}

var (
	fullScale  = simScale{nodes: 200, slices: 5000, waves: 5}
	shortScale = simScale{nodes: 40, slices: 600, waves: 4}
)

func simScaleFor() simScale {
	if testing.Short() {
		return shortScale
	}
	return fullScale
}

// simHealth is the heartbeat timing: a node heartbeats every 5 s, is
// suspect after 15 s of silence and dead after 30 s. The loop steps one
// heartbeat interval at a time.
var simHealth = health.Config{
	HeartbeatInterval: 5 * time.Second,
	SuspectAfter:      15 * time.Second,
	DeadAfter:         30 * time.Second,
	UptimeHalfLife:    10 * time.Minute,
}

// The network's timing, on the fake clock.
const (
	simStep        = 5 * time.Second  // simHealth.HeartbeatInterval: the loop's step
	reportEvery    = time.Minute      // each node's full slice report (resource.Config.ReportInterval)
	orphanGrace    = time.Minute      // unlisted slices younger than this are kept (resource.Config.OrphanGrace)
	warmUp         = time.Minute      // before the first wave
	faultWindow    = time.Minute      // a wave's faults all happen within this
	catchUpLimit   = 20 * time.Minute // a wave's damage must be repaired within this of its start
	quietMin       = 3 * time.Minute  // the last phase, with no faults, lasts at least this: past the restarts, and the reports after them
	quietMax       = 15 * time.Minute // and repair must have caught up by this
	fullCheckEvery = 120              // steps between checks of every slice
	simReplicas    = 3                // R
	maxFaults      = simReplicas - 1  // faults per wave: the bound that keeps data loss from being inevitable
	sliceSizeMax   = 16 << 20         // bytes
	copyLateMax    = time.Minute      // the latest a late confirmation comes
	nodeCapUnit    = uint64(1) << 30  // node capacities are 1..4 of these
	lastBlip       = 25 * time.Second // the longest restart that comes before the node is found dead
	longestDown    = 90 * time.Second // the longest a node that comes back stays down
	waveGapMax     = time.Minute      // between a repaired wave and the next
	simStart       = 1_900_000_000    // unix seconds of the fake clock's start
)

// Odds of the network's misbehaviour.
const (
	pCopyFails    = 0.10 // a pipeline member fails to store: it and those after it get nothing
	pMidCopyDeath = 0.02 // a source dies while copying (within the wave's fault budget)
	pConfirmNever = 0.08 // a confirmation is lost
	pConfirmLate  = 0.12 // a confirmation arrives up to copyLateMax late
	pBlip         = 0.30 // a killed node is back before it is found dead
	pPermanent    = 0.20 // a killed node never comes back
	pWipe         = 0.35 // a node that comes back has lost its disk
	pNewLeader    = 0.40 // a wave also moves the meta leadership
)

// simRepairConfig is the repair policy under test: the default, with a job
// timeout short enough for lost confirmations to be re-planned often and a
// pass bound small enough for a dead node's slices to take several passes.
func simRepairConfig() repair.Config {
	c := repair.DefaultConfig()
	c.Replicas = simReplicas
	c.Timeout = 30 * time.Second
	c.MaxPlanned = 64
	return c
}

// TestRepairSimulation runs the simulation for several seeds: 200 nodes
// and 5,000 slices on R = 3 nodes each (40 and 600 with -short), then waves
// of faults, each killing one or two nodes (R-1 at most: some die while
// copying, some are back before they are found dead, some come back with
// their disks lost, some never come back) and sometimes moving the meta
// leadership, the next wave only once repair has caught up; then a quiet
// phase. Every step, live nodes heartbeat, the Planner ticks, sources
// carry out their orders (copies fail at random; confirmations come at
// once, late or never), and nodes send their slice reports every minute.
//
// After every step it checks, for every slice whose index entry, holders'
// disks or holders' liveness changed in the step (and for every slice
// every fullCheckEvery steps):
//
//  1. the index lists no node twice among the slice's replicas;
//  2. if any node, up or down, still has the slice's bytes on disk, at least
//     one node the index lists for it has them: the index never forgets
//     its last real replica while bytes survive (DESIGN §5.4: a dead
//     replica is forgotten only once others exist, a lost one only once
//     two reports lack it);
//  3. some node's disk still holds the slice: under at most R-1 faults per
//     wave, with each wave repaired before the next, no slice is lost; and
//     stronger, some node that is up and listed holds it, so every slice
//     stays readable throughout.
//
// Before the next wave starts (within catchUpLimit) and to end the quiet
// phase (within quietMax), repair must have caught up (whitepaper §4.2.4
// step 6):
//
//  4. every slice has at least R listed replicas, every one of them on a
//     live node that really holds the bytes, and the repair queue has no
//     open job and no queued slice; at every full check and at the end,
//     the index's per-node holder lists agree with its slice entries;
//  5. at the end, no up node keeps a slice the index does not list on it
//     longer than the orphan grace and two reports: slice reports find
//     unknown replicas and have them deleted (DESIGN §5.4);
//
// and at every slice report:
//
//  6. a replica is dropped as lost only if its node really lacks the slice,
//     though the report was listed before the step's copies were confirmed;
//
// and at every other removal of replicas from the index:
//
//  7. only replicas on dead nodes are forgotten, and at least MinReplicas
//     live ones remain listed (DESIGN §5.4: dead replicas are forgotten once
//     the slice is repaired).
func TestRepairSimulation(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if *simSeed != 0 {
		seeds = []uint64{*simSeed}
	}
	sc := simScaleFor()
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel() // each run is single-threaded and shares nothing
			s := newSim(t, seed, sc)
			s.run()
			t.Log(s.summary())
		})
	}
}

// TestRepairSimulationDeterministic runs one seed twice and compares the
// hashes of their event traces (every fault, order, copy, confirmation,
// report and index command, and the final index root): a failing seed
// replays exactly. A second seed must give another trace.
func TestRepairSimulationDeterministic(t *testing.T) {
	t.Parallel()
	sc := shortScale
	const seed = 7
	a, b := newSim(t, seed, sc), newSim(t, seed, sc)
	a.run()
	b.run()
	if ha, hb := a.traceHash(), b.traceHash(); ha != hb {
		t.Fatalf("seed=%d: two runs gave traces %s and %s (%d and %d events)", seed, ha, hb, a.events, b.events)
	}
	c := newSim(t, seed+1, sc)
	c.run()
	if a.traceHash() == c.traceHash() {
		t.Fatalf("seeds %d and %d gave the same trace %s", seed, seed+1, a.traceHash())
	}
}

// simNode is a resource node: what it really holds, and whether it runs.
type simNode struct {
	id, region string
	capacity   uint64
	up         bool
	life       int                  // bumped at each restart: what the node had in memory is gone
	disk       map[string]time.Time // slice ID → when it was last stored
	used       uint64
	reportAt   time.Time
	sent       map[string]bool // a report's listing, in flight until the next step; nil: none
	restartAt  time.Time       // zero: stays down
	wipe       bool            // loses its disk when it restarts
}

func (n *simNode) load() health.Load {
	return health.Load{Capacity: n.capacity, Free: n.capacity - min(n.used, n.capacity), Slices: uint64(len(n.disk))}
}

// pendingConfirm is a source's confirmation of a copy, on its way.
type pendingConfirm struct {
	at     time.Time
	task   string
	slice  string
	source *simNode
	life   int // the source's life when it copied: a restart loses the confirmation
	stored []string
}

// wave is one burst of at most maxFaults faults.
type wave struct {
	start     time.Time
	newLeader time.Time // zero: none in this wave
	faults    int
	pending   []plannedKill // by time
	victims   []*simNode
}

type plannedKill struct {
	node *simNode
	at   time.Time
}

type simStats struct {
	kills, midCopy, blips, permanent, wipes, restarts, leaders int
	orders, noSource, copyFailed, copied                       int
	confirmed, confirmLost, confirmLate, refused               int
	lost, garbage, deadNodes, released, maxJobs, maxQueued     int
}

type sim struct {
	t     testing.TB
	seed  uint64
	scale simScale
	now   time.Time
	rng   *rand.Rand // faults, copy outcomes and delays

	ix      *index.Index
	health  *health.Tracker
	placer  *placement.Placer
	queue   *repair.Queue
	planner repair.Planner

	nodes   []*simNode // by ID
	byID    map[string]*simNode
	slices  []string          // every slice ID, sorted
	size    map[string]uint64 // by slice ID
	listed  map[string][]string
	copies  map[string]int             // by slice ID: how many disks hold it
	dirty   map[string]bool            // slices to read back from the index and check after this step
	missing map[string]map[string]bool // node → Reconcile's Missing, as meta.Server keeps it

	dropping bool // a report's lost replicas are being dropped: removals are not forgetting

	confirms []*pendingConfirm
	wave     *wave
	waves    int // started
	nextWave time.Time
	quiet    time.Time // when the quiet phase began; zero before
	step     int

	trace  hash.Hash
	events int
	stats  simStats
}

func newSim(t testing.TB, seed uint64, sc simScale) *sim {
	t.Helper()
	s := &sim{
		t: t, seed: seed, scale: sc, now: time.Unix(simStart, 0).UTC(),
		rng:  rand.New(rand.NewPCG(seed, 1)),
		byID: map[string]*simNode{}, size: map[string]uint64{}, listed: map[string][]string{}, copies: map[string]int{},
		dirty: map[string]bool{}, missing: map[string]map[string]bool{}, trace: sha256.New(),
	}
	ix, err := index.Open(kv.NewMem(), index.Options{BloomItems: 1 << 14, BloomFalsePositive: 0.01})
	if err != nil {
		s.fatalf("open index: %v", err)
	}
	s.ix = ix
	s.health = health.NewTracker(simHealth, func() time.Time { return s.now })
	if s.placer, err = placement.New(placement.DefaultConfig(), rand.New(rand.NewPCG(seed, 2))); err != nil {
		s.fatalf("placer: %v", err)
	}
	s.queue = repair.NewQueue()
	s.planner = s.newPlanner(rand.New(rand.NewPCG(seed, 3)))
	if *simTrace != "" {
		s.planner.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if err := s.planner.Config.Validate(); err != nil {
		s.fatalf("repair config: %v", err)
	}
	s.addNodes()
	s.heartbeats()
	s.upload()
	s.nextWave = s.now.Add(warmUp)
	s.check(true)
	return s
}

// newPlanner wires the Planner as meta.Server.repairer does.
func (s *sim) newPlanner(pick *rand.Rand) repair.Planner {
	return repair.Planner{
		Config: simRepairConfig(),
		Queue:  s.queue,
		Index:  s.ix,
		Health: s.health,
		Place:  s.place,
		Apply:  s.apply,
		Release: func(task string) {
			s.stats.released++
			s.event("release %s", task)
		},
		NodeDead: func(id string) {
			s.stats.deadNodes++
			s.event("found dead %s", id)
		},
		Now:  func() time.Time { return s.now },
		Pick: pick.IntN,
	}
}

// fatalf fails the run, naming its seed and the simulated time.
func (s *sim) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("seed=%d step=%d t=+%v: %s", s.seed, s.step, s.now.Sub(time.Unix(simStart, 0)), fmt.Sprintf(format, args...))
}

// event adds a line to the trace whose hash proves determinism.
func (s *sim) event(format string, args ...any) {
	s.events++
	line := fmt.Sprintf(format, args...)
	fmt.Fprintf(s.trace, "%d %s\n", s.step, line)
	if *simTrace != "" && strings.Contains(line, *simTrace) {
		s.t.Logf("step %d +%v: %s", s.step, s.now.Sub(time.Unix(simStart, 0)), line)
	}
}

// testWriter writes the Planner's log to the test's.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (s *sim) traceHash() string { return hex.EncodeToString(s.trace.Sum(nil)) }

// apply applies an index command stamped with the fake clock, as the
// leader's log does, and marks the slice it changes for checking.
func (s *sim) apply(cmd *metav1.Command) error {
	cmd.UnixNano = s.now.UnixNano()
	_, err := s.ix.Apply(cmd)
	switch op := cmd.GetOp().(type) {
	case *metav1.Command_AddReplicas:
		s.dirty[op.AddReplicas.GetSliceId()] = true
		s.event("add %s %v err=%t", op.AddReplicas.GetSliceId(), op.AddReplicas.GetNodeIds(), err != nil)
	case *metav1.Command_RemoveReplicas:
		s.dirty[op.RemoveReplicas.GetSliceId()] = true
		s.event("remove %s %v err=%t", op.RemoveReplicas.GetSliceId(), op.RemoveReplicas.GetNodeIds(), err != nil)
		if !s.dropping && err == nil {
			s.checkForget(op.RemoveReplicas.GetSliceId(), op.RemoveReplicas.GetNodeIds())
		}
	default:
		s.event("apply %T err=%t", op, err != nil)
	}
	return err
}

// checkForget checks invariant 7 on a removal that is not a lost replica's.
func (s *sim) checkForget(sliceID string, removed []string) {
	for _, n := range removed {
		if st := s.health.State(n); st != health.Dead {
			s.fatalf("invariant 7: replica of %s on %s forgotten while %v", sliceID, n, st)
		}
	}
	e, err := s.ix.Slice(sliceID)
	if err != nil {
		s.fatalf("slice %s: %v", sliceID, err)
	}
	live, _ := repair.Holders(e.GetReplicas(), s.health)
	if want := s.planner.Config.MinReplicas; len(live) < want {
		s.fatalf("invariant 7: dead replicas %v of %s forgotten, leaving %s: fewer than %d live", removed, sliceID, s.describe(sliceID, e.GetReplicas()), want)
	}
}

// addNodes registers the resource nodes in the index.
func (s *sim) addNodes() {
	regions := []string{"eu", "us", "asia", "africa"}
	for i := range s.scale.nodes {
		n := &simNode{
			id: fmt.Sprintf("node-%03d", i), region: regions[s.rng.IntN(len(regions))],
			capacity: (1 + s.rng.Uint64N(4)) * nodeCapUnit, up: true, disk: map[string]time.Time{},
			reportAt: s.now.Add(time.Duration(s.rng.Int64N(int64(reportEvery)))),
		}
		s.nodes = append(s.nodes, n)
		s.byID[n.id] = n
		pub := make([]byte, ed25519.PublicKeySize)
		copy(pub, n.id)
		rec := &metav1.NodeRecord{NodeId: n.id, PublicKey: pub, Addr: n.id + ".sim:7000", Region: n.region, Capacity: n.capacity}
		if err := s.apply(&metav1.Command{Op: &metav1.Command_RegisterNode{RegisterNode: &metav1.RegisterNodeCmd{Node: rec}}}); err != nil {
			s.fatalf("register %s: %v", n.id, err)
		}
	}
}

// upload commits the files, 250 slices each, every slice on R distinct
// nodes drawn uniformly, stored long ago: the starting state, not the
// upload path (DESIGN §6.2), which this simulation does not exercise.
// Repair targets come from the placer.
func (s *sim) upload() {
	const perFile = 250
	for f := 0; f*perFile < s.scale.slices; f++ {
		file := &metav1.FileEntry{Owner: "sim", Path: fmt.Sprintf("/files/%05d", f)}
		var ids []slice.ID
		var reps []*metav1.ReplicaSet
		for i := f * perFile; i < min((f+1)*perFile, s.scale.slices); i++ {
			id := slice.Sum(fmt.Appendf(nil, "seed %d slice %d", s.seed, i))
			ref := &metav1.SliceRef{Id: id.String(), Size: 1 + s.rng.Uint64N(sliceSizeMax)}
			ids = append(ids, id)
			file.Slices = append(file.Slices, ref)
			file.Size += ref.Size
			reps = append(reps, &metav1.ReplicaSet{NodeIds: s.placeUpload(ref)})
		}
		file.FileId = slice.Root(ids).String()
		s.commit(file, reps)
	}
	slices.Sort(s.slices)
}

func (s *sim) placeUpload(ref *metav1.SliceRef) []string {
	var ids []string
	for _, i := range s.rng.Perm(len(s.nodes))[:simReplicas] {
		s.store(s.nodes[i], ref.Id, s.now.Add(-24*time.Hour))
		ids = append(ids, s.nodes[i].id)
	}
	s.slices = append(s.slices, ref.Id)
	s.size[ref.Id] = ref.Size
	return ids
}

func (s *sim) commit(file *metav1.FileEntry, reps []*metav1.ReplicaSet) {
	task := &metav1.Command{Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
		Kind: metav1.TaskKind_TASK_KIND_UPLOAD, Owner: file.Owner, Path: file.Path, Size: file.Size, TtlNanos: int64(time.Hour),
	}}}
	task.UnixNano = s.now.UnixNano()
	res, err := s.ix.Apply(task)
	if err != nil {
		s.fatalf("create upload task: %v", err)
	}
	cmd := &metav1.Command{Op: &metav1.Command_CommitFile{CommitFile: &metav1.CommitFileCmd{TaskId: res.GetTask().GetId(), File: file, Replicas: reps}}}
	if err := s.apply(cmd); err != nil {
		s.fatalf("commit %s: %v", file.Path, err)
	}
	for _, sl := range file.Slices {
		s.dirty[sl.Id] = true
	}
}

// candidates are the live nodes with their soft state, as meta.Server's
// candidates() builds them.
func (s *sim) candidates() []placement.Node {
	var out []placement.Node
	for _, n := range s.nodes {
		if s.health.State(n.id) != health.Alive {
			continue
		}
		l, _ := s.health.Load(n.id)
		out = append(out, placement.Node{
			ID: n.id, Region: n.region, Capacity: l.Capacity, Free: l.Free,
			Uptime: s.health.Uptime(n.id), Connections: int(l.Connections),
		})
	}
	return out
}

// place is the Planner's PlaceFunc, meta.Server.place simplified: up to
// count live nodes outside exclude, fewer when fewer are eligible.
func (s *sim) place(taskID string, ref *metav1.SliceRef, exclude []string, count int) (*metav1.Pipeline, error) {
	ex := make(map[string]bool, len(exclude))
	for _, id := range exclude {
		ex[id] = true
	}
	cands := s.candidates()
	var chosen []placement.Node
	var err error
	for n := max(1, min(count, len(cands))); n >= 1; n-- {
		chosen, err = s.placer.Place(cands, placement.Request{Count: n, Size: ref.GetSize(), Exclude: ex})
		if !errors.Is(err, placement.ErrNotEnoughNodes) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	p := &metav1.Pipeline{SliceId: ref.GetId()}
	for _, c := range chosen {
		p.Nodes = append(p.Nodes, &storagev1.Peer{NodeId: c.ID, Addr: c.ID + ".sim:7000"})
		s.health.AddConnections(c.ID, 1)
	}
	return p, nil
}

// run steps the simulation through its waves and into the quiet phase
// until repair has caught up, then checks the end state.
func (s *sim) run() {
	for {
		s.stepOnce()
		if s.quiet.IsZero() || s.now.Sub(s.quiet) < quietMin {
			continue
		}
		if s.caughtUp() {
			break
		}
		if s.now.Sub(s.quiet) >= quietMax {
			s.fatalf("after %v without faults, repair has not caught up: %s", quietMax, s.unhealthy())
		}
	}
	s.check(true)
	s.checkGarbage()
	root, err := s.ix.Root()
	if err != nil {
		s.fatalf("index root: %v", err)
	}
	s.event("end root=%x", root)
}

// stepOnce is one heartbeat interval of the whole network. A report's
// listing is taken before the step's copies and handled in the next step,
// so a replica confirmed in between is missing from it, as in the race
// Reconcile's two-report rule is for.
func (s *sim) stepOnce() {
	s.step++
	s.now = s.now.Add(simStep)
	s.faults()
	s.heartbeats()
	s.deliverReports()
	s.takeReports()
	s.planner.Tick()
	s.runOrders()
	s.deliverConfirms()
	s.check(s.step%fullCheckEvery == 0)
	q, j := s.queue.Counts()
	s.stats.maxQueued, s.stats.maxJobs = max(s.stats.maxQueued, q), max(s.stats.maxJobs, j)
}

func (s *sim) heartbeats() {
	for _, n := range s.nodes {
		if n.up {
			s.health.Observe(n.id, n.load())
		}
	}
}

// store puts a slice on a node's disk at time at.
func (s *sim) store(n *simNode, sliceID string, at time.Time) {
	if _, ok := n.disk[sliceID]; !ok {
		n.used += s.size[sliceID]
		s.copies[sliceID]++
	}
	n.disk[sliceID] = at
	s.dirty[sliceID] = true
}

func (s *sim) delete(n *simNode, sliceID string) {
	if _, ok := n.disk[sliceID]; ok {
		n.used -= s.size[sliceID]
		s.copies[sliceID]--
		delete(n.disk, sliceID)
		s.dirty[sliceID] = true
	}
}

// faults restarts the nodes due back, and runs the waves of faults: at most
// maxFaults kills in a wave, and the next wave only once repair has caught
// up with the last (or, for the last wave, the quiet phase).
func (s *sim) faults() {
	s.restarts()
	switch {
	case s.wave != nil:
		s.waveKills()
		s.endWave()
	case s.waves < s.scale.waves && !s.now.Before(s.nextWave):
		s.startWave()
	}
}

func (s *sim) startWave() {
	s.waves++
	w := &wave{start: s.now}
	var up []*simNode
	for _, n := range s.nodes {
		if n.up {
			up = append(up, n)
		}
	}
	k := 1 + s.rng.IntN(maxFaults)
	for _, i := range s.rng.Perm(len(up))[:k] {
		at := s.now.Add(time.Duration(s.rng.Int64N(int64(faultWindow))))
		w.pending = append(w.pending, plannedKill{node: up[i], at: at})
	}
	slices.SortStableFunc(w.pending, func(a, b plannedKill) int { return a.at.Compare(b.at) })
	if s.rng.Float64() < pNewLeader {
		w.newLeader = s.now.Add(time.Duration(s.rng.Int64N(int64(faultWindow))))
	}
	s.wave = w
	s.event("wave %d: %d kills, new leader: %t", s.waves, k, !w.newLeader.IsZero())
}

func (s *sim) waveKills() {
	w := s.wave
	if !w.newLeader.IsZero() && !w.newLeader.After(s.now) {
		w.newLeader = time.Time{}
		s.newLeader()
	}
	for len(w.pending) > 0 && !w.pending[0].at.After(s.now) {
		if n := w.pending[0].node; n.up { // not if it died mid-copy already
			s.kill(n, "killed")
		}
		w.pending = w.pending[1:]
	}
}

// endWave closes the wave once its faults are over and, but for the last
// wave, once every victim is back or gone for good and repair has caught
// up.
func (s *sim) endWave() {
	w := s.wave
	if len(w.pending) > 0 || !w.newLeader.IsZero() || s.now.Before(w.start.Add(faultWindow)) {
		return
	}
	if s.waves == s.scale.waves {
		s.wave, s.quiet = nil, s.now
		s.event("quiet")
		return
	}
	settled := !slices.ContainsFunc(w.victims, func(n *simNode) bool { return !n.up && !n.restartAt.IsZero() })
	if !settled || !s.caughtUp() {
		if s.now.Sub(w.start) > catchUpLimit {
			s.fatalf("wave %d: repair has not caught up after %v: %s", s.waves, catchUpLimit, s.unhealthy())
		}
		return
	}
	s.wave = nil
	s.nextWave = s.now.Add(time.Duration(1 + s.rng.Int64N(int64(waveGapMax))))
	s.event("wave %d repaired", s.waves)
}

// newLeader moves the meta leadership to another meta node, as
// meta.Server does on a leadership change: the new leader's repair queue
// and Reconcile's missing sets start empty (dropLeaderState), and its
// health tracker, which no node heartbeated to while it followed, starts
// with every registered node just observed (seedLiveness), so a node that
// is down is found dead only DeadAfter later. Confirmations on their way
// reach the new leader, which knows none of the old jobs.
func (s *sim) newLeader() {
	s.stats.leaders++
	s.queue = repair.NewQueue()
	s.health = health.NewTracker(simHealth, func() time.Time { return s.now })
	for _, n := range s.nodes {
		s.health.Observe(n.id, health.Load{Capacity: n.capacity})
	}
	s.planner.Queue, s.planner.Health = s.queue, s.health
	s.missing = map[string]map[string]bool{}
	s.event("new leader")
}

// kill stops a node: it heartbeats and reports no more, and keeps its disk.
// It comes back after a while (sometimes before it is found dead, sometimes
// with its disk lost), or never, while enough nodes remain for every slice
// to find R live ones however the wave's faults fall.
func (s *sim) kill(n *simNode, why string) {
	n.up = false
	s.wave.faults++
	s.wave.victims = append(s.wave.victims, n)
	s.stats.kills++
	n.restartAt, n.wipe = time.Time{}, s.rng.Float64() < pWipe
	switch r := s.rng.Float64(); {
	case r < pBlip:
		s.stats.blips++
		n.restartAt = s.now.Add(simStep + time.Duration(s.rng.Int64N(int64(lastBlip-simStep))))
	case r < 1-pPermanent || s.stats.permanent >= s.scale.nodes-simReplicas-2*maxFaults:
		found := simHealth.DeadAfter + simStep
		n.restartAt = s.now.Add(found + time.Duration(s.rng.Int64N(int64(longestDown-found))))
	default:
		s.stats.permanent++
	}
	for sl := range n.disk {
		s.dirty[sl] = true
	}
	back := "never"
	if !n.restartAt.IsZero() {
		back = n.restartAt.Sub(s.now).String()
	}
	s.event("%s %s back in %s, disk lost: %t", why, n.id, back, n.wipe)
}

func (s *sim) restarts() {
	for _, n := range s.nodes {
		if n.up || n.restartAt.IsZero() || s.now.Before(n.restartAt) {
			continue
		}
		n.up, n.restartAt, n.life, n.reportAt = true, time.Time{}, n.life+1, s.now
		s.stats.restarts++
		if n.wipe {
			s.stats.wipes++
			for sl := range n.disk {
				s.dirty[sl] = true
				s.copies[sl]--
			}
			n.disk, n.used = map[string]time.Time{}, 0
		}
		s.event("restart %s wiped=%t", n.id, n.wipe)
	}
}

// takeReports has the nodes whose report is due list their disks; a node
// also reports at once after a restart, as it does after registering.
func (s *sim) takeReports() {
	for _, n := range s.nodes {
		if n.up && !s.now.Before(n.reportAt) {
			n.sent = make(map[string]bool, len(n.disk))
			for sl := range n.disk {
				n.sent[sl] = true
			}
			n.reportAt = s.now.Add(reportEvery)
		}
	}
}

// deliverReports handles the reports sent in the last step as
// meta.Server.ReportSlices does: Reconcile against the index, DropLost
// for lost replicas, and the garbage back to the node, which deletes what
// is older than its orphan grace (resource.Node.report). A node that went
// down since gets no answer.
func (s *sim) deliverReports() {
	for _, n := range s.nodes {
		if n.sent == nil {
			continue
		}
		has := n.sent
		n.sent = nil
		expected := map[string]bool{}
		if err := s.ix.SlicesOn(n.id, func(sl string) error { expected[sl] = true; return nil }); err != nil {
			s.fatalf("slices on %s: %v", n.id, err)
		}
		rep := repair.Reconcile(expected, has, s.missing[n.id])
		s.missing[n.id] = rep.Missing
		for _, sl := range rep.Lost {
			if s.holds(n.id, sl) {
				s.fatalf("invariant 6: %s's report drops its replica of %s as lost, but it holds the slice", n.id, sl)
			}
		}
		s.dropping = true
		s.planner.DropLost(n.id, rep.Lost)
		s.dropping = false
		s.stats.lost += len(rep.Lost)
		s.event("report %s has=%d lost=%d missing=%d garbage=%d", n.id, len(has), len(rep.Lost), len(rep.Missing), len(rep.Garbage))
		if !n.up {
			continue
		}
		for _, sl := range rep.Garbage {
			if at, ok := n.disk[sl]; ok && at.Before(s.now.Add(-orphanGrace)) {
				s.delete(n, sl)
				s.stats.garbage++
				s.event("delete garbage %s %s", n.id, sl)
			}
		}
	}
}

// runOrders gives every up node its repair orders, as its heartbeat's
// answer does, and has it carry them out.
func (s *sim) runOrders() {
	for _, n := range s.nodes {
		if !n.up {
			continue
		}
		for _, o := range s.queue.Issue(n.id, s.now) {
			s.stats.orders++
			s.event("order %s %s from %s to %v", o.GetTaskId(), o.GetSliceId(), n.id, peerIDs(o.GetTargets()))
			if !s.copySlice(n, o) {
				break // it died
			}
		}
	}
}

// copySlice carries out one repair order as resource.Node.repair does: the
// source streams the slice down the targets' pipeline, a member that fails
// cuts off those after it, and the source confirms the copies that were
// stored, if any. It reports whether the source is still up.
func (s *sim) copySlice(src *simNode, o *metav1.RepairOrder) bool {
	if _, ok := src.disk[o.GetSliceId()]; !ok {
		s.stats.noSource++
		s.event("copy %s: source %s lacks the slice", o.GetTaskId(), src.id)
		return true
	}
	targets := o.GetTargets()
	reach, dies := len(targets), s.midCopyDeath()
	if dies {
		reach = s.rng.IntN(len(targets) + 1)
	}
	var stored []string
	for _, p := range targets[:reach] {
		t := s.byID[p.GetNodeId()]
		if t == nil || !t.up || s.rng.Float64() < pCopyFails {
			break
		}
		s.store(t, o.GetSliceId(), s.now)
		stored = append(stored, t.id)
	}
	s.event("copy %s stored on %v", o.GetTaskId(), stored)
	if dies {
		s.stats.midCopy++
		s.kill(src, "died mid-copy")
		return false
	}
	if len(stored) == 0 {
		s.stats.copyFailed++
		return true
	}
	s.stats.copied++
	s.sendConfirm(src, o, stored)
	return true
}

// midCopyDeath decides whether a source dies while copying: only within a
// wave's fault window and budget.
func (s *sim) midCopyDeath() bool {
	w := s.wave
	if w == nil || s.now.Sub(w.start) >= faultWindow || w.faults+len(w.pending) >= maxFaults {
		return false
	}
	return s.rng.Float64() < pMidCopyDeath
}

// sendConfirm sends the source's confirmation now, late, or never.
func (s *sim) sendConfirm(src *simNode, o *metav1.RepairOrder, stored []string) {
	task := o.GetTaskId()
	c := &pendingConfirm{at: s.now, task: task, slice: o.GetSliceId(), source: src, life: src.life, stored: stored}
	switch r := s.rng.Float64(); {
	case r < pConfirmNever:
		s.stats.confirmLost++
		s.event("confirm %s lost", task)
		return
	case r < pConfirmNever+pConfirmLate:
		s.stats.confirmLate++
		c.at = s.now.Add(time.Duration(1 + s.rng.Int64N(int64(copyLateMax))))
	}
	s.confirms = append(s.confirms, c)
}

// deliverConfirms hands the Planner the confirmations due, as
// meta.Server.ConfirmRepair does: one for a job no longer open (replaced
// after its timeout, dropped, or planned by an earlier leader) is refused,
// and one from a source that restarted since was never sent.
func (s *sim) deliverConfirms() {
	kept := s.confirms[:0]
	for _, c := range s.confirms {
		if c.at.After(s.now) {
			kept = append(kept, c)
			continue
		}
		s.deliverConfirm(c)
	}
	clear(s.confirms[len(kept):])
	s.confirms = kept
}

func (s *sim) deliverConfirm(c *pendingConfirm) {
	if !c.source.up || c.source.life != c.life {
		s.stats.confirmLost++
		s.event("confirm %s lost with its source", c.task)
		return
	}
	// A new leader names its tasks afresh, so an old confirmation may name
	// a new job: ConfirmRepair refuses it unless it comes from the job's
	// source (callerIs) with receipts for the job's slice (verifyReceipt).
	job, ok := s.queue.JobByTask(c.task)
	if !ok || job.Source != c.source.id || job.Slice.GetId() != c.slice {
		s.stats.refused++
		s.event("confirm %s refused", c.task)
		return
	}
	added, err := s.planner.Confirm(job, c.stored)
	if err != nil {
		s.fatalf("confirm %s: %v", c.task, err)
	}
	s.stats.confirmed++
	s.event("confirm %s added %v", c.task, added)
}

func peerIDs(ps []*storagev1.Peer) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.GetNodeId()
	}
	return out
}

// check reads back from the index the slices changed in this step (every
// slice when all is set) and checks invariants 1-3 on them.
func (s *sim) check(all bool) {
	ids := slices.Sorted(maps.Keys(s.dirty))
	if all {
		ids = s.slices
	}
	dirty := s.dirty
	s.dirty = map[string]bool{}
	for _, id := range ids {
		e, err := s.ix.Slice(id)
		if err != nil {
			s.fatalf("slice %s: %v", id, err)
		}
		if !dirty[id] && !slices.Equal(e.GetReplicas(), s.listed[id]) {
			s.fatalf("slice %s lists %v in the index, but the simulation last read %v: a change escaped the checks", id, e.GetReplicas(), s.listed[id])
		}
		s.listed[id] = slices.Clone(e.GetReplicas())
		s.checkSlice(id)
	}
	if all {
		s.checkHolderIndex()
	}
}

// checkSlice checks invariants 1-3 on one slice.
func (s *sim) checkSlice(id string) {
	listed := s.listed[id]
	seen := map[string]bool{}
	for _, n := range listed {
		if seen[n] {
			s.fatalf("invariant 1: slice %s lists node %s twice: %v", id, n, listed)
		}
		seen[n] = true
	}
	if s.copies[id] == 0 {
		s.fatalf("invariant 3: slice %s is lost: no node holds it (index lists %s)", id, s.describe(id, listed))
	}
	if !slices.ContainsFunc(listed, func(n string) bool { return s.holds(n, id) }) {
		s.fatalf("invariant 2: the index lists %s for slice %s, none of which holds it, while %v do", s.describe(id, listed), id, s.holders(id))
	}
	if !slices.ContainsFunc(listed, func(n string) bool { return s.isUp(n) && s.holds(n, id) }) {
		s.fatalf("invariant 3: no up node that the index lists holds slice %s (lists %s; held by %v)", id, s.describe(id, listed), s.holders(id))
	}
}

// isUp reports whether node runs.
func (s *sim) isUp(node string) bool {
	n := s.byID[node]
	return n != nil && n.up
}

func (s *sim) holds(node, sliceID string) bool {
	n := s.byID[node]
	if n == nil {
		return false
	}
	_, ok := n.disk[sliceID]
	return ok
}

// holders are the nodes, up or down, whose disk holds the slice.
func (s *sim) holders(sliceID string) []string {
	var out []string
	for _, n := range s.nodes {
		if _, ok := n.disk[sliceID]; ok {
			out = append(out, n.id)
		}
	}
	return out
}

// checkHolderIndex checks the index's per-node holder lists against its
// slice entries.
func (s *sim) checkHolderIndex() {
	want := map[string][]string{}
	for _, id := range s.slices {
		for _, n := range s.listed[id] {
			want[n] = append(want[n], id)
		}
	}
	for _, n := range s.nodes {
		var got []string
		if err := s.ix.SlicesOn(n.id, func(sl string) error { got = append(got, sl); return nil }); err != nil {
			s.fatalf("slices on %s: %v", n.id, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want[n.id]) {
			s.fatalf("the index's holder list of %s has %d slices, its slice entries place %d there", n.id, len(got), len(want[n.id]))
		}
	}
}

// caughtUp reports whether repair has caught up (invariant 4).
func (s *sim) caughtUp() bool {
	if q, j := s.queue.Counts(); q > 0 || j > 0 {
		return false
	}
	return s.badSlice() == ""
}

// badSlice returns the first slice without R listed replicas that are all
// live and hold it, or "".
func (s *sim) badSlice() string {
	for _, id := range s.slices {
		listed := s.listed[id]
		ok := len(listed) >= simReplicas && !slices.ContainsFunc(listed, func(n string) bool {
			return !s.isUp(n) || s.health.State(n) != health.Alive || !s.holds(n, id)
		})
		if !ok {
			return id
		}
	}
	return ""
}

// unhealthy describes how repair has not caught up.
func (s *sim) unhealthy() string {
	q, _ := s.queue.Counts()
	msg := fmt.Sprintf("%d slices queued, open jobs %s", q, s.jobs())
	if id := s.badSlice(); id != "" {
		msg = fmt.Sprintf("slice %s lists %s, held by %v; %s", id, s.describe(id, s.listed[id]), s.holders(id), msg)
	}
	return msg
}

// jobs describes the open repair jobs.
func (s *sim) jobs() string {
	var open []string
	for _, j := range s.queue.Jobs() {
		issued := "not issued"
		if !j.Issued.IsZero() {
			issued = fmt.Sprintf("issued %v ago", s.now.Sub(j.Issued))
		}
		open = append(open, fmt.Sprintf("%s of %.16s from %s to %v %s", j.TaskID, j.Slice.GetId(), j.Source, peerIDs(j.Targets), issued))
	}
	return fmt.Sprint(open)
}

// describe tells, for each of nodes, how the leader sees it, whether it
// runs and whether it holds the slice.
func (s *sim) describe(sliceID string, nodes []string) string {
	var b strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&b, "%s(%v,up=%t,holds=%t) ", n, s.health.State(n), s.isUp(n), s.holds(n, sliceID))
	}
	return strings.TrimSpace(b.String())
}

// checkGarbage checks invariant 5.
func (s *sim) checkGarbage() {
	cutoff := s.now.Add(-orphanGrace - 2*reportEvery - simStep)
	for _, n := range s.nodes {
		if !n.up {
			continue
		}
		for _, sl := range slices.Sorted(maps.Keys(n.disk)) {
			if !slices.Contains(s.listed[sl], n.id) && n.disk[sl].Before(cutoff) {
				s.fatalf("invariant 5: %s keeps slice %s, stored at +%v, which the index does not list on it", n.id, sl, n.disk[sl].Sub(time.Unix(simStart, 0)))
			}
		}
	}
}

// summary is what a run did, for the test log.
func (s *sim) summary() string {
	st := s.stats
	return fmt.Sprintf("%d nodes, %d slices, %d waves, %d steps (%v simulated), trace %.16s (%d events)\n"+
		"faults: %d kills (%d mid-copy, %d back before found dead, %d for good), %d restarts, %d disks lost, %d leader changes; %d nodes found dead\n"+
		"repair: %d orders, %d copied, %d failed, %d sources lacking the slice; confirmations: %d accepted, %d refused, %d late, %d lost; %d tasks released\n"+
		"reports: %d lost replicas dropped, %d garbage slices deleted; queue peak %d slices, %d jobs",
		s.scale.nodes, s.scale.slices, s.waves, s.step, time.Duration(s.step)*simStep, s.traceHash(), s.events,
		st.kills, st.midCopy, st.blips, st.permanent, st.restarts, st.wipes, st.leaders, st.deadNodes,
		st.orders, st.copied, st.copyFailed, st.noSource, st.confirmed, st.refused, st.confirmLate, st.confirmLost, st.released,
		st.lost, st.garbage, st.maxQueued, st.maxJobs)
}
