package health

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// State is a node's liveness as the leader sees it.
type State int

const (
	Unknown State = iota // never heard from, or forgotten
	Alive                // heard from within SuspectAfter
	Suspect              // silent for SuspectAfter, not yet DeadAfter
	Dead                 // silent for DeadAfter or longer
)

func (s State) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Alive:
		return "alive"
	case Suspect:
		return "suspect"
	case Dead:
		return "dead"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Load is what a resource node reports in its heartbeat.
type Load struct {
	Capacity, Free uint64 // bytes
	Connections    uint32 // transfers in flight
	Slices         uint64 // slices held
}

// DefaultUptimeHalfLife is the uptime half-life used when
// Config.UptimeHalfLife is zero.
const DefaultUptimeHalfLife = 10 * time.Minute

// Config sets the heartbeat timing.
type Config struct {
	HeartbeatInterval time.Duration // how often nodes are asked to heartbeat
	SuspectAfter      time.Duration // silence after which a node is Suspect
	DeadAfter         time.Duration // silence after which a node is Dead

	// UptimeHalfLife is how long it takes the uptime average to move half
	// way to a new steady state: a new node reaches 0.5 after this long
	// alive, and a dead node halves every this long. Zero means
	// DefaultUptimeHalfLife.
	UptimeHalfLife time.Duration
}

// DefaultConfig suits a local network: a node is suspect after missing two
// heartbeats and dead after ten seconds of silence.
func DefaultConfig() Config {
	return Config{
		HeartbeatInterval: time.Second,
		SuspectAfter:      3 * time.Second,
		DeadAfter:         10 * time.Second,
		UptimeHalfLife:    DefaultUptimeHalfLife,
	}
}

// Validate reports whether the durations are positive and ordered
// HeartbeatInterval < SuspectAfter < DeadAfter, so that a node heartbeating
// on time is never suspected.
func (c Config) Validate() error {
	if c.HeartbeatInterval <= 0 || c.SuspectAfter <= 0 || c.DeadAfter <= 0 {
		return fmt.Errorf("health: durations must be positive: heartbeat %v, suspect %v, dead %v",
			c.HeartbeatInterval, c.SuspectAfter, c.DeadAfter)
	}
	if c.HeartbeatInterval >= c.SuspectAfter {
		return fmt.Errorf("health: heartbeat interval %v must be shorter than suspect-after %v",
			c.HeartbeatInterval, c.SuspectAfter)
	}
	if c.SuspectAfter >= c.DeadAfter {
		return fmt.Errorf("health: suspect-after %v must be shorter than dead-after %v",
			c.SuspectAfter, c.DeadAfter)
	}
	if c.UptimeHalfLife < 0 {
		return errors.New("health: uptime half-life must not be negative")
	}
	return nil
}

func (c Config) halfLife() time.Duration {
	if c.UptimeHalfLife == 0 {
		return DefaultUptimeHalfLife
	}
	return c.UptimeHalfLife
}
