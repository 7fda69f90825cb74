package repair

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is returned by Config.Validate.
var ErrInvalidConfig = errors.New("invalid repair config")

// Config is the repair policy.
type Config struct {
	// Replicas is R, the replica target (DESIGN §6.2): a slice with fewer
	// live replicas is repaired, one with R forgets its dead ones.
	Replicas int
	// MinReplicas is the fewest listed replicas a confirmed repair leaves
	// when it forgets dead ones.
	MinReplicas int
	// Timeout is how long a job may wait after it was planned, or handed
	// to its source, before it is planned again.
	Timeout time.Duration
	// MaxPlanned bounds the slices one pass plans.
	MaxPlanned int
	// SweepEvery is how often Tick reads the whole index for slices short
	// of R replicas, besides at its first pass.
	SweepEvery time.Duration
}

// DefaultConfig is the meta node's: R = 3, at least 2, a one-minute job
// timeout, 512 slices a pass and a sweep every ten minutes.
func DefaultConfig() Config {
	return Config{Replicas: 3, MinReplicas: 2, Timeout: time.Minute, MaxPlanned: 512, SweepEvery: 10 * time.Minute}
}

// Validate reports a config repair cannot run with.
func (c Config) Validate() error {
	if c.MinReplicas < 1 || c.Replicas < c.MinReplicas {
		return fmt.Errorf("%w: replicas %d, min replicas %d: want 1 <= min <= replicas", ErrInvalidConfig, c.Replicas, c.MinReplicas)
	}
	if c.Timeout <= 0 || c.SweepEvery <= 0 {
		return fmt.Errorf("%w: timeout %v and sweep interval %v must be positive", ErrInvalidConfig, c.Timeout, c.SweepEvery)
	}
	if c.MaxPlanned < 1 {
		return fmt.Errorf("%w: max planned %d, want >= 1", ErrInvalidConfig, c.MaxPlanned)
	}
	return nil
}
