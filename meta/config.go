package meta

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stratos-net/stratos/meta/health"
	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/placement"
	"github.com/stratos-net/stratos/meta/raftnode"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/wire"
)

// Config configures a meta node.
type Config struct {
	DataDir     string // index state (Pebble) lives in DataDir/index
	Listen      string // e.g. "127.0.0.1:7100"
	SliceSize   int    // the network's slice size (DESIGN §6.1)
	Replicas    int    // replica target R (DESIGN §6.2: default 3)
	MinReplicas int    // an upload never succeeds below this (default 2)
	// TaskTTL bounds how long an upload may take before its task expires.
	TaskTTL time.Duration
	// FetchWindow is the most bytes a holder sends a downloader ahead of
	// the downloader's latest signed receipt (DESIGN §7): what a user can
	// take without signing for it, and a node serve without proof.
	FetchWindow uint64
	// RepairInterval is how often under-replicated slices are looked for.
	RepairInterval time.Duration
	// RepairTimeout re-issues a repair order that has not been confirmed.
	RepairTimeout time.Duration
	Health        health.Config
	Placement     placement.Config
	Index         index.Options
	// Seed makes placement and holder order reproducible; 0 picks one at
	// random.
	Seed uint64
	// Chain, if set, is the value layer: only nodes registered and active
	// there are admitted and placed on, and uploads need a prepaid balance.
	Chain Chain
	// Admit lists, with no chain, the resource nodes (node IDs) that may
	// register; AdmitAny admits, with no chain, any node that holds its
	// key, for test networks only. Without a chain one of them is needed.
	Admit    []string
	AdmitAny bool
	// unsigned lets through requests no account signed. Only this
	// package's unit tests set it, calling the service directly with a
	// fake clock: a meta node checks users' signatures whether or not it
	// is connected to a chain (issue 7), since an address is the hash of
	// the key that signs for it and needs no registry.
	unsigned bool
	// Authorities, if set, is the chain's meta registry: registered meta
	// nodes may join (as observers until voted in), and the leader makes
	// the log's voters follow it.
	Authorities  Authorities
	ChainRefresh time.Duration // how often the node registry is read again
	// Rates are the leader's token buckets per account and per node.
	Rates Rates
	// Anchors, if set, receives the index root once per LedgerPeriod, and
	// Reporter the period's volume report of its TopN nodes. Periods, if
	// set, is the chain's period clock; it replaces LedgerPeriod's.
	Anchors      Anchorer
	Reporter     Reporter
	Periods      PeriodSource
	TopN         int
	LedgerPeriod time.Duration // the whitepaper's ledger period: 10 minutes
	// Challenges, if set with ChallengeEvery, lets the leader open a proof
	// of storage on one random slice's holders every ChallengeEvery.
	Challenges     StorageChallenges
	ChallengeEvery time.Duration
	// Raft replicates the index (DESIGN §5.1). New fills in its ID, Dir
	// (DataDir/raft), Logger and Now; Listen is the log transport's
	// address.
	Raft raftnode.Config
	// Peers are the meta nodes this one knows at start, itself included:
	// their meta service and log transport addresses. With Bootstrap set,
	// a node with no log starts the cluster with Peers as its voters;
	// without, it waits for the leader to add it (see Join).
	Peers     []Peer
	Bootstrap bool
	// MasterTerm is the PoA master term (DESIGN §5.2): at each term's end
	// the authorities vote and the leader hands over to the winner. 0 turns
	// the vote off. Blocks gives the chain block hash its numbers come
	// from; without, a hash of the term.
	MasterTerm time.Duration
	Blocks     BlockHasher
	Logger     *slog.Logger
	Now        func() time.Time
}

// DefaultConfig returns the configuration of a devnet meta node.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:7100",
		SliceSize:      slice.DefaultSize,
		Replicas:       3,
		MinReplicas:    2,
		TaskTTL:        time.Hour,
		FetchWindow:    DefaultFetchWindow,
		RepairInterval: time.Second,
		RepairTimeout:  time.Minute,
		Health:         health.DefaultConfig(),
		Placement:      placement.DefaultConfig(),
		Index:          index.DefaultOptions(),
		ChainRefresh:   5 * time.Second,
		Rates:          DefaultRates(),
		LedgerPeriod:   10 * time.Minute,
		TopN:           100,
		Raft:           raftnode.DefaultConfig(),
		Bootstrap:      true,
	}
}

// Fetch windows: the default lets a download run at full speed over a
// link with a few milliseconds of round trip; a window is never smaller
// than one data frame.
const (
	DefaultFetchWindow = 8 << 20
	MinFetchWindow     = wire.FrameSize
)

// Peer is a meta node of the cluster.
type Peer struct {
	ID       string // node ID
	Addr     string // meta service (gRPC) host:port
	RaftAddr string // log transport host:port
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid meta node configuration")

// Validate reports the first problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir is empty"))
	}
	if err := slice.CheckSize(c.SliceSize); err != nil {
		errs = append(errs, err)
	}
	if c.MinReplicas < 1 || c.Replicas < c.MinReplicas {
		errs = append(errs, fmt.Errorf("replicas %d, min replicas %d: want 1 <= min <= replicas", c.Replicas, c.MinReplicas))
	}
	if c.TaskTTL <= 0 || c.RepairInterval <= 0 || c.RepairTimeout <= 0 || c.ChainRefresh <= 0 || c.LedgerPeriod <= 0 || c.TopN < 1 {
		errs = append(errs, errors.New("task TTL, repair interval, repair timeout and chain refresh must be positive"))
	}
	if c.FetchWindow < MinFetchWindow {
		errs = append(errs, fmt.Errorf("fetch window %d bytes: want at least %d (a data frame)", c.FetchWindow, MinFetchWindow))
	}
	if c.Chain == nil && len(c.Admit) == 0 && !c.AdmitAny {
		errs = append(errs, errors.New("no chain to admit resource nodes: list the node IDs to admit (admit), or connect a chain (chain_grpc); admit_any admits any node, for test networks only"))
	}
	for _, p := range c.Peers {
		if p.ID == "" || p.Addr == "" || p.RaftAddr == "" {
			errs = append(errs, fmt.Errorf("meta peer %q: node ID, address and raft address are all required", p.ID))
		}
	}
	errs = append(errs, c.Health.Validate(), c.Placement.Validate(), c.Index.Validate(), c.Rates.Validate())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}
