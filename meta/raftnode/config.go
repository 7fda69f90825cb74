package raftnode

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Peer is a member of the cluster at its start.
type Peer struct {
	ID   string // node ID
	Addr string // log transport host:port
}

// Config configures a Node.
type Config struct {
	ID        string // this meta node's node ID: its key's
	Dir       string // raft.db (log and stable store) and snapshots/
	Listen    string // log transport bind address, e.g. "127.0.0.1:7200"
	Advertise string // host:port others dial; empty: the bound address
	// Bootstrap, on a node with no log yet, starts a cluster whose voters
	// are these peers (this node among them). Every first member is given
	// the same list. Empty: the node waits to be added by a leader.
	Bootstrap []Peer

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	SnapshotInterval   time.Duration
	SnapshotThreshold  uint64 // entries between snapshots
	TrailingLogs       uint64 // entries kept after a snapshot, for slow followers
	// MaxBatch bounds the commands in one log entry, and MaxInflight the
	// entries proposed and not yet applied.
	MaxBatch    int
	MaxInflight int
	// ApplyTimeout bounds how long a command waits to be enqueued by Raft.
	ApplyTimeout time.Duration

	Logger *slog.Logger
	Now    func() time.Time // stamps commands; the leader's clock is the log's
}

// DefaultConfig is a LAN cluster's timing: a dead leader is replaced in
// about a second.
func DefaultConfig() Config {
	return Config{
		Listen:             "127.0.0.1:0",
		HeartbeatTimeout:   500 * time.Millisecond,
		ElectionTimeout:    500 * time.Millisecond,
		LeaderLeaseTimeout: 250 * time.Millisecond,
		CommitTimeout:      10 * time.Millisecond,
		SnapshotInterval:   2 * time.Minute,
		SnapshotThreshold:  8192,
		TrailingLogs:       10240,
		MaxBatch:           512,
		MaxInflight:        4,
		ApplyTimeout:       10 * time.Second,
	}
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("invalid raft configuration")

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" || c.Dir == "" || c.Listen == "" {
		errs = append(errs, errors.New("node ID, directory and listen address are required"))
	}
	if c.HeartbeatTimeout <= 0 || c.ElectionTimeout <= 0 || c.LeaderLeaseTimeout <= 0 || c.CommitTimeout <= 0 || c.SnapshotInterval <= 0 || c.ApplyTimeout <= 0 {
		errs = append(errs, errors.New("timeouts and intervals must be positive"))
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("leader lease %v longer than the heartbeat timeout %v", c.LeaderLeaseTimeout, c.HeartbeatTimeout))
	}
	if c.MaxBatch < 1 || c.MaxInflight < 1 || c.SnapshotThreshold < 1 {
		errs = append(errs, errors.New("batch size, in-flight entries and snapshot threshold must be at least 1"))
	}
	seen := map[string]bool{}
	self := len(c.Bootstrap) == 0
	for _, p := range c.Bootstrap {
		if p.ID == "" || p.Addr == "" || seen[p.ID] {
			errs = append(errs, fmt.Errorf("bootstrap peer %q at %q: empty or repeated", p.ID, p.Addr))
		}
		seen[p.ID] = true
		self = self || p.ID == c.ID
	}
	if !self {
		errs = append(errs, fmt.Errorf("bootstrap peers do not include this node %s", c.ID))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}
