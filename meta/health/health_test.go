package health

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is the injected clock: time moves only when a test says so.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestTracker(t *testing.T) (*Tracker, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	return NewTracker(DefaultConfig(), clock.Now), clock
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{
		Unknown: "unknown", Alive: "alive", Suspect: "suspect", Dead: "dead", State(9): "State(9)",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	tests := []struct {
		name   string
		modify func(*Config)
		errHas string
	}{
		{"default", func(*Config) {}, ""},
		{"zero half-life means default", func(c *Config) { c.UptimeHalfLife = 0 }, ""},
		{"zero heartbeat", func(c *Config) { c.HeartbeatInterval = 0 }, "positive"},
		{"negative dead", func(c *Config) { c.DeadAfter = -time.Second }, "positive"},
		{"heartbeat == suspect", func(c *Config) { c.HeartbeatInterval = c.SuspectAfter }, "heartbeat"},
		{"suspect == dead", func(c *Config) { c.SuspectAfter = c.DeadAfter }, "suspect-after"},
		{"suspect > dead", func(c *Config) { c.SuspectAfter = 2 * c.DeadAfter }, "suspect-after"},
		{"negative half-life", func(c *Config) { c.UptimeHalfLife = -1 }, "half-life"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.modify(&c)
			err := c.Validate()
			if tt.errHas == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("Validate() = %v, want an error about %q", err, tt.errHas)
			}
		})
	}
}

func TestNewTrackerRejectsInvalidConfig(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewTracker accepted an invalid config")
		}
	}()
	NewTracker(Config{}, nil)
}

func TestUnknownNode(t *testing.T) {
	tr, _ := newTestTracker(t)
	tr.AddConnections("ghost", 5) // must not create the node
	tr.Forget("ghost")
	if s := tr.State("ghost"); s != Unknown {
		t.Errorf("State = %v, want unknown", s)
	}
	if _, ok := tr.Load("ghost"); ok {
		t.Error("Load found a node never seen")
	}
	if _, ok := tr.LastSeen("ghost"); ok {
		t.Error("LastSeen found a node never seen")
	}
	if u := tr.Uptime("ghost"); u != 0 {
		t.Errorf("Uptime = %v, want 0", u)
	}
	if all := tr.All(); len(all) != 0 {
		t.Errorf("All = %v, want empty", all)
	}
}

// DESIGN §5.4: the leader marks silent nodes suspect, then dead; a heartbeat
// makes a node alive again (whitepaper §4.2.4 step 6, heartbeat service).
func TestStateTransitionsAtBoundaries(t *testing.T) {
	cfg := DefaultConfig()
	tr, clock := newTestTracker(t)
	tr.Observe("n1", Load{})
	steps := []struct {
		at   time.Duration // since the heartbeat
		want State
	}{
		{0, Alive},
		{cfg.SuspectAfter - 1, Alive},
		{cfg.SuspectAfter, Suspect},
		{cfg.DeadAfter - 1, Suspect},
		{cfg.DeadAfter, Dead},
		{time.Hour, Dead},
	}
	var elapsed time.Duration
	for _, s := range steps {
		clock.Advance(s.at - elapsed)
		elapsed = s.at
		if got := tr.State("n1"); got != s.want {
			t.Fatalf("%v after heartbeat: state %v, want %v", s.at, got, s.want)
		}
	}
	tr.Observe("n1", Load{})
	if got := tr.State("n1"); got != Alive {
		t.Fatalf("after a new heartbeat: state %v, want alive", got)
	}
	if seen, _ := tr.LastSeen("n1"); !seen.Equal(clock.Now()) {
		t.Fatalf("LastSeen = %v, want %v", seen, clock.Now())
	}
}

func TestLastSeenNeverMovesBack(t *testing.T) {
	clock := newFakeClock()
	tr := NewTracker(DefaultConfig(), clock.Now)
	tr.Observe("n1", Load{})
	want := clock.Now()
	clock.Advance(-time.Second) // a heartbeat whose clock read lost a race
	tr.Observe("n1", Load{Slices: 7})
	if seen, _ := tr.LastSeen("n1"); !seen.Equal(want) {
		t.Fatalf("LastSeen = %v, want %v", seen, want)
	}
	if l, _ := tr.Load("n1"); l.Slices != 7 {
		t.Fatalf("load not updated: %+v", l)
	}
}

// heartbeat advances the clock by every and sends a heartbeat, n times.
func heartbeat(tr *Tracker, clock *fakeClock, id string, every time.Duration, n int) {
	for range n {
		clock.Advance(every)
		tr.Observe(id, Load{})
	}
}

// Whitepaper §2.4.3 "online time of resource nodes": uptime starts at 0
// for a new node and rises towards 1 while it stays alive: half-way after
// one half-life, three quarters after two.
func TestUptimeRises(t *testing.T) {
	cfg := DefaultConfig()
	tr, clock := newTestTracker(t)
	tr.Observe("n1", Load{})
	if u := tr.Uptime("n1"); u != 0 {
		t.Fatalf("uptime of a node just seen = %v, want 0", u)
	}
	beats := int(cfg.UptimeHalfLife / cfg.HeartbeatInterval)
	prev := 0.0
	for i := 1; i <= 2*beats; i++ {
		heartbeat(tr, clock, "n1", cfg.HeartbeatInterval, 1)
		u := tr.Uptime("n1")
		if u <= prev || u > 1 {
			t.Fatalf("heartbeat %d: uptime %v after %v, want rising within 0..1", i, u, prev)
		}
		prev = u
		switch i {
		case beats:
			assertNear(t, "after one half-life", u, 0.5)
		case 2 * beats:
			assertNear(t, "after two half-lives", u, 0.75)
		}
	}
}

// Heartbeats that arrive late but before SuspectAfter do not count against
// a node: the average matches a node that was never late.
func TestUptimeIgnoresJitter(t *testing.T) {
	cfg := DefaultConfig()
	steady, c1 := newTestTracker(t)
	jittery, c2 := newTestTracker(t)
	steady.Observe("n", Load{})
	jittery.Observe("n", Load{})
	heartbeat(steady, c1, "n", cfg.HeartbeatInterval, 600)
	heartbeat(jittery, c2, "n", 5*cfg.HeartbeatInterval/2, 240) // 2.5s apart, same 600s
	a, b := steady.Uptime("n"), jittery.Uptime("n")
	if math.Abs(a-b) > 1e-12 {
		t.Fatalf("steady uptime %v, jittery %v: late heartbeats were held against the node", a, b)
	}
}

// Uptime decays once a node stops heartbeating: intervals while it is
// still alive count as up, later ones as down, and it halves every
// half-life.
func TestUptimeDecays(t *testing.T) {
	cfg := DefaultConfig()
	tr, clock := newTestTracker(t)
	tr.Observe("n1", Load{})
	heartbeat(tr, clock, "n1", cfg.HeartbeatInterval, int(10*cfg.UptimeHalfLife/cfg.HeartbeatInterval))
	high := tr.Uptime("n1")
	if high < 0.99 {
		t.Fatalf("uptime after ten half-lives = %v, want > 0.99", high)
	}
	clock.Advance(cfg.SuspectAfter - 1) // the last moment the node is alive
	lastAlive := tr.Uptime("n1")
	if lastAlive < high {
		t.Fatalf("uptime fell from %v to %v while the node was still alive", high, lastAlive)
	}
	clock.Advance(cfg.UptimeHalfLife)
	assertNear(t, "one half-life after going suspect", tr.Uptime("n1")/lastAlive, 0.5)
	clock.Advance(9 * cfg.UptimeHalfLife)
	if u := tr.Uptime("n1"); u > 0.001 {
		t.Fatalf("uptime ten half-lives after going silent = %v, want about 0", u)
	}
	if s := tr.State("n1"); s != Dead {
		t.Fatalf("state %v, want dead", s)
	}
}

// A node that comes back is alive at once but has to earn its uptime again.
func TestUptimeAfterReturn(t *testing.T) {
	cfg := DefaultConfig()
	tr, clock := newTestTracker(t)
	tr.Observe("n1", Load{})
	heartbeat(tr, clock, "n1", cfg.HeartbeatInterval, int(5*cfg.UptimeHalfLife/cfg.HeartbeatInterval))
	clock.Advance(5 * cfg.UptimeHalfLife)
	before := tr.Uptime("n1")
	tr.Observe("n1", Load{})
	if s := tr.State("n1"); s != Alive {
		t.Fatalf("state %v after heartbeat, want alive", s)
	}
	if after := tr.Uptime("n1"); after != before || after > 0.1 {
		t.Fatalf("uptime jumped from %v to %v on return", before, after)
	}
	heartbeat(tr, clock, "n1", cfg.HeartbeatInterval, int(cfg.UptimeHalfLife/cfg.HeartbeatInterval))
	if u := tr.Uptime("n1"); u < 0.5 || u > 0.6 {
		t.Fatalf("uptime one half-life after return = %v, want a little over 0.5", u)
	}
}

func TestForgetStartsOver(t *testing.T) {
	cfg := DefaultConfig()
	tr, clock := newTestTracker(t)
	tr.Observe("n1", Load{})
	heartbeat(tr, clock, "n1", cfg.HeartbeatInterval, 100)
	tr.Forget("n1")
	if s := tr.State("n1"); s != Unknown {
		t.Fatalf("state after Forget = %v, want unknown", s)
	}
	tr.Observe("n1", Load{})
	if u := tr.Uptime("n1"); u != 0 {
		t.Fatalf("uptime after Forget and a heartbeat = %v, want 0", u)
	}
}

// The leader's estimate of transfers it assigned counts until the node's
// next report replaces it.
func TestAddConnections(t *testing.T) {
	tr, _ := newTestTracker(t)
	tr.Observe("n1", Load{Capacity: 100, Free: 40, Connections: 2, Slices: 9})
	steps := []struct {
		delta int
		want  uint32
	}{
		{+3, 5},
		{-1, 4},
		{-10, 0}, // clamped, not wrapped
		{+7, 1},  // the estimate is kept as a sum: 2+3-1-10+7
	}
	for _, s := range steps {
		tr.AddConnections("n1", s.delta)
		l, _ := tr.Load("n1")
		if l.Connections != s.want {
			t.Fatalf("after %+d: connections %d, want %d", s.delta, l.Connections, s.want)
		}
		if l.Capacity != 100 || l.Free != 40 || l.Slices != 9 {
			t.Fatalf("AddConnections changed other fields: %+v", l)
		}
	}
	tr.Observe("n1", Load{Connections: 6})
	if l, _ := tr.Load("n1"); l.Connections != 6 {
		t.Fatalf("after a heartbeat: connections %d, want the reported 6", l.Connections)
	}
	tr.AddConnections("n1", math.MaxInt32)
	tr.AddConnections("n1", math.MaxInt32)
	if l, _ := tr.Load("n1"); l.Connections != math.MaxUint32 {
		t.Fatalf("connections %d, want clamped to MaxUint32", l.Connections)
	}
}

func TestAll(t *testing.T) {
	cfg := DefaultConfig()
	tr, clock := newTestTracker(t)
	tr.Observe("c", Load{Free: 3})
	clock.Advance(cfg.DeadAfter - cfg.SuspectAfter)
	tr.Observe("a", Load{Free: 1})
	clock.Advance(cfg.SuspectAfter)
	tr.Observe("b", Load{Free: 2})
	tr.AddConnections("b", 4)
	all := tr.All()
	want := []struct {
		id    string
		state State
		free  uint64
	}{{"a", Suspect, 1}, {"b", Alive, 2}, {"c", Dead, 3}}
	if len(all) != len(want) {
		t.Fatalf("All = %+v, want %d nodes", all, len(want))
	}
	for i, w := range want {
		h := all[i]
		if h.ID != w.id || h.State != w.state || h.Load.Free != w.free {
			t.Errorf("All[%d] = %+v, want %s %v free=%d", i, h, w.id, w.state, w.free)
		}
		if u := tr.Uptime(h.ID); h.Uptime != u {
			t.Errorf("All[%d].Uptime = %v, Uptime = %v", i, h.Uptime, u)
		}
		if seen, _ := tr.LastSeen(h.ID); !h.LastSeen.Equal(seen) {
			t.Errorf("All[%d].LastSeen = %v, LastSeen = %v", i, h.LastSeen, seen)
		}
	}
	if all[1].Load.Connections != 4 {
		t.Errorf("All does not include the connection estimate: %+v", all[1])
	}
}

// Every method from many goroutines at once, for -race.
func TestConcurrentUse(t *testing.T) {
	tr, clock := newTestTracker(t)
	ids := []string{"a", "b", "c", "d"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := ids[(g+i)%len(ids)]
				switch i % 8 {
				case 0:
					clock.Advance(time.Second / 3)
				case 1, 2:
					tr.Observe(id, Load{Connections: uint32(i)})
				case 3:
					tr.AddConnections(id, 1)
				case 4:
					_ = tr.State(id)
					_, _ = tr.Load(id)
				case 5:
					if u := tr.Uptime(id); u < 0 || u > 1 {
						t.Errorf("uptime %v out of range", u)
					}
				case 6:
					_ = tr.All()
				case 7:
					if i%40 == 7 {
						tr.Forget(id)
					}
					_, _ = tr.LastSeen(id)
				}
			}
		})
	}
	wg.Wait()
}

func assertNear(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.005 {
		t.Fatalf("%s: %v, want %v ± 0.005", what, got, want)
	}
}
