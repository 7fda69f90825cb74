package resource

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/stratos-net/stratos/wire"
)

// Config configures a Node. Zero durations mean their defaults.
type Config struct {
	// DataDir is the node's data directory; its filesystem's free space is
	// the capacity offered when Capacity is 0.
	DataDir string
	// Listen is the address to serve on, e.g. "127.0.0.1:0".
	Listen string
	// AdvertiseAddr is the address peers dial; empty means the listener's.
	AdvertiseAddr string
	// MetaAddr and MetaID name a meta node, Metas the others of its
	// cluster: the node heartbeats to whichever leads, and stores only with
	// a ticket one of them signed. TLS accepts only these IDs.
	MetaAddr, MetaID string
	Metas            []wire.Member
	Region           string
	// Capacity is the bytes offered to the network; 0 means what the data
	// directory's filesystem has free at start plus what the store holds.
	Capacity uint64
	// HeartbeatInterval is how often the node heartbeats (default 1s).
	HeartbeatInterval time.Duration
	// ReportInterval is how often the node reports every slice it holds
	// (default 1m); it also reports once after each registration.
	ReportInterval time.Duration
	// OrphanGrace protects slices younger than this from deletion as
	// unreferenced: an upload in flight is not in the index yet (default 2h).
	OrphanGrace time.Duration
	// Registry, if set, is the chain's node registry: stores forwarded by,
	// or to be forwarded to, nodes not active there are refused.
	Registry Registry
	// RegistryRefresh is how often the registry is read again (default 5s).
	RegistryRefresh time.Duration
	// StoreIdleTimeout aborts a Store stream that delivers no frame for
	// this long, so a silent client holds no capacity or temporary file
	// (default 30s).
	StoreIdleTimeout time.Duration
	// MaxStores bounds the Store streams served at once, counted from the
	// moment their header and ticket are verified; more are refused with
	// ResourceExhausted (default 64).
	MaxStores int
	// HeaderTimeout is how long a new Store or Fetch stream may take to
	// send its header or ticket, and MaxPendingHeaders how many may wait
	// for theirs at once: a stream takes a slot, capacity or a temporary
	// file only once its ticket is verified (issue 8), so forged or silent
	// streams cost a node nothing more than this (defaults 5s, 256). When
	// the line is full, a new stream pushes out the one that has waited
	// longest, so silent streams cannot keep honest ones out.
	HeaderTimeout     time.Duration
	MaxPendingHeaders int
	// MinRate is the slowest transfer a node waits for: a Store or Fetch
	// stream must end within TransferGrace plus its size at MinRate, even
	// if every frame comes within StoreIdleTimeout (defaults 1 MiB/s and
	// 30s: a 16 MiB slice has 46 s).
	MinRate       uint64
	TransferGrace time.Duration
	// MaxFetches bounds the Fetch streams served at once; more are refused
	// with ResourceExhausted, and the client reads from another holder
	// (default 128).
	MaxFetches int
	// MaxFetchesPerUser bounds the Fetch streams of one user (the owner
	// its tickets name) served at once, so one downloader cannot take every
	// fetch slot of a node from the others (default 32; a client fetches 4
	// slices at a time per transfer).
	MaxFetchesPerUser int
	// Repairs bounds how many repair copies run at once (default 2).
	Repairs int
	// ScrubRate is how many bytes per second the scrubber re-reads to find
	// slices that rotted on disk (scrub.go); DefaultConfig sets 32 MiB/s,
	// low enough not to compete seriously with traffic. 0 turns scrubbing
	// off: unlike the settings above, zero is not replaced by the default.
	ScrubRate uint64
	// ScrubInterval is the pause between the end of one scrub pass over
	// every slice and the start of the next (default 24h).
	ScrubInterval time.Duration
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock for the orphan grace; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with every default filled in; the caller
// sets DataDir, the meta node and Region.
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:0",
		HeartbeatInterval: time.Second,
		ReportInterval:    time.Minute,
		OrphanGrace:       2 * time.Hour,
		StoreIdleTimeout:  30 * time.Second,
		RegistryRefresh:   5 * time.Second,
		MaxStores:         64,
		HeaderTimeout:     5 * time.Second,
		MaxPendingHeaders: 256,
		MinRate:           1 << 20,
		TransferGrace:     30 * time.Second,
		MaxFetches:        128,
		MaxFetchesPerUser: 32,
		Repairs:           2,
		ScrubRate:         32 << 20,
		ScrubInterval:     24 * time.Hour,
	}
}

// ErrConfig is wrapped by every error of Config.Validate.
var ErrConfig = errors.New("invalid resource node config")

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Listen == "":
		return bad("no listen address")
	case c.MetaAddr == "" || c.MetaID == "":
		return bad("meta node address and ID are both required")
	case slices.ContainsFunc(c.Metas, func(m wire.Member) bool { return m.ID == "" || m.Addr == "" }):
		return bad("every meta node needs an address and an ID")
	case c.Capacity == 0 && c.DataDir == "":
		return bad("capacity 0 means the data directory's free space, but there is no data directory")
	case c.HeartbeatInterval < 0, c.ReportInterval < 0, c.OrphanGrace < 0, c.StoreIdleTimeout < 0, c.RegistryRefresh < 0, c.ScrubInterval < 0:
		return bad("negative interval")
	case c.Repairs < 0:
		return bad("negative repair concurrency %d", c.Repairs)
	case c.MaxStores < 0, c.MaxPendingHeaders < 0, c.MaxFetches < 0, c.MaxFetchesPerUser < 0:
		return bad("negative store, header or fetch concurrency")
	case c.HeaderTimeout < 0, c.TransferGrace < 0:
		return bad("negative header timeout or transfer grace")
	}
	return nil
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = d.HeartbeatInterval
	}
	if c.ReportInterval == 0 {
		c.ReportInterval = d.ReportInterval
	}
	if c.OrphanGrace == 0 {
		c.OrphanGrace = d.OrphanGrace
	}
	if c.RegistryRefresh == 0 {
		c.RegistryRefresh = d.RegistryRefresh
	}
	if c.StoreIdleTimeout == 0 {
		c.StoreIdleTimeout = d.StoreIdleTimeout
	}
	if c.MaxStores == 0 {
		c.MaxStores = d.MaxStores
	}
	if c.HeaderTimeout == 0 {
		c.HeaderTimeout = d.HeaderTimeout
	}
	if c.MaxPendingHeaders == 0 {
		c.MaxPendingHeaders = d.MaxPendingHeaders
	}
	if c.MinRate == 0 {
		c.MinRate = d.MinRate
	}
	if c.TransferGrace == 0 {
		c.TransferGrace = d.TransferGrace
	}
	if c.MaxFetches == 0 {
		c.MaxFetches = d.MaxFetches
	}
	if c.MaxFetchesPerUser == 0 {
		c.MaxFetchesPerUser = d.MaxFetchesPerUser
	}
	if c.Repairs == 0 {
		c.Repairs = d.Repairs
	}
	if c.ScrubInterval == 0 {
		c.ScrubInterval = d.ScrubInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// metaMembers is every configured meta node, MetaID first.
func (c Config) metaMembers() []wire.Member {
	out := []wire.Member{{ID: c.MetaID, Addr: c.MetaAddr}}
	for _, m := range c.Metas {
		if m.ID != c.MetaID {
			out = append(out, m)
		}
	}
	return out
}

// isMeta reports whether id is one of the configured meta nodes.
func (c Config) isMeta(id string) bool {
	return id == c.MetaID || slices.ContainsFunc(c.Metas, func(m wire.Member) bool { return m.ID == id })
}

// transferDeadline is how long a stream moving size bytes may take in all.
func (c Config) transferDeadline(size uint64) time.Duration {
	return c.TransferGrace + time.Duration(size/c.MinRate)*time.Second + time.Duration(size%c.MinRate)*time.Second/time.Duration(c.MinRate)
}
