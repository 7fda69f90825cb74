package trust

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stratos-net/stratos/compute/service"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// Sampler keeps, per app, a bounded sample of the calls served since the
// app's last round: what the next round audits (Stratosphere §4.2: "each
// cloud service has a randomized frequency ... at which Trust Functions
// are performed").
type Sampler struct {
	mu    sync.Mutex
	calls map[string][]service.CallParams
	seen  map[string]int
	rand  *rand.Rand
	max   int
}

// NewSampler keeps at most max calls per app, by reservoir sampling, so
// every call served since the last round is equally likely to be audited.
func NewSampler(max int, r *rand.Rand) *Sampler {
	return &Sampler{calls: map[string][]service.CallParams{}, seen: map[string]int{}, rand: r, max: max}
}

// Add records a call.
func (s *Sampler) Add(p service.CallParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[p.App]++
	if len(s.calls[p.App]) < s.max {
		s.calls[p.App] = append(s.calls[p.App], p)
		return
	}
	if i := s.rand.IntN(s.seen[p.App]); i < s.max {
		s.calls[p.App][i] = p
	}
}

// Take returns one of the app's calls at random and forgets the rest.
func (s *Sampler) Take(app string) (service.CallParams, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.calls[app]
	if len(cs) == 0 {
		return service.CallParams{}, false
	}
	p := cs[s.rand.IntN(len(cs))]
	delete(s.calls, app)
	delete(s.seen, app)
	return p, true
}

// ScheduleChain is what the scheduler reads.
type ScheduleChain interface {
	FnApps(ctx context.Context, owner string) ([]trustedfntypes.App, error)
	Height(ctx context.Context) (int64, error)
}

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	Owner   string // whose apps
	Chain   ScheduleChain
	Driver  *Driver
	Sampler *Sampler
	// SpotEvery makes every SpotEvery-th round of an app a spot check; 0:
	// none.
	SpotEvery int
	Poll      time.Duration
	Logger    *slog.Logger
}

// Scheduler runs the owner's rounds at each app's frequency, each on a call
// sampled from those served since its last round.
type Scheduler struct {
	cfg     SchedulerConfig
	mu      sync.Mutex
	running map[string]bool
	rounds  map[string]int
}

// NewScheduler returns a Scheduler.
func NewScheduler(cfg SchedulerConfig) *Scheduler {
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, running: map[string]bool{}, rounds: map[string]int{}}
}

// Due reports whether an app may open its next round at height: active, no
// round in progress, and rounds_every blocks since its last round (or since
// it became active).
func Due(a trustedfntypes.App, height int64) bool {
	if a.Status != trustedfntypes.AppStatus_APP_STATUS_ACTIVE || a.OpenRound != 0 {
		return false
	}
	return height >= max(a.LastRoundHeight, a.ActivatedHeight)+a.RoundsEvery
}

// Run opens rounds until ctx ends.
func (s *Scheduler) Run(ctx context.Context) { every(ctx, s.cfg.Poll, s.tick) }

func (s *Scheduler) tick(ctx context.Context) {
	apps, err := s.cfg.Chain.FnApps(ctx, s.cfg.Owner)
	if err != nil {
		s.cfg.Logger.Warn("trust: list apps", "err", err)
		return
	}
	height, err := s.cfg.Chain.Height(ctx)
	if err != nil {
		s.cfg.Logger.Warn("trust: height", "err", err)
		return
	}
	for _, a := range apps {
		if !Due(a, height) || s.busy(a.Id) {
			continue
		}
		call, ok := s.cfg.Sampler.Take(a.Id)
		if !ok {
			continue // nothing served since the last round: nothing to audit
		}
		s.mu.Lock()
		s.running[a.Id] = true
		s.rounds[a.Id]++
		spot := s.cfg.SpotEvery > 0 && s.rounds[a.Id]%s.cfg.SpotEvery == 0
		s.mu.Unlock()
		go func() {
			defer func() {
				s.mu.Lock()
				delete(s.running, a.Id)
				s.mu.Unlock()
			}()
			r, _, err := s.cfg.Driver.Run(ctx, a.Id, call, spot)
			if err != nil {
				s.cfg.Logger.Warn("trust: round", "app", a.Id, "err", err)
				return
			}
			s.cfg.Logger.Info("trust: round settled", "app", a.Id, "round", r.Id, "result", r.Result, "spot", spot)
		}()
	}
}

func (s *Scheduler) busy(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[app]
}
