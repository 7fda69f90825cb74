// Package home is the layout of a Stratos home directory: a node's
// config.toml and key, and the client.toml that tells client commands where
// the network is (DESIGN §2: configuration is TOML under --home).
package home

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/stratos-net/stratos/durable"
	"github.com/stratos-net/stratos/wire"
)

// File names inside a home.
const (
	NodeConfigFile   = "config.toml"
	NodeKeyFile      = "node_key.pem"
	ClientConfigFile = "client.toml"
	DataDir          = "data"
)

// Roles a node can have.
const (
	RoleMeta     = "meta"
	RoleResource = "resource"
)

// ErrNoNetwork is returned when a home has no client configuration.
var ErrNoNetwork = errors.New("no network configured")

// Default is STRATOS_HOME, else ~/.stratos.
func Default() string {
	if h := os.Getenv("STRATOS_HOME"); h != "" {
		return h
	}
	if u, err := os.UserHomeDir(); err == nil {
		return filepath.Join(u, ".stratos")
	}
	return ".stratos"
}

// Duration is a time.Duration written as "1s" in TOML.
type Duration time.Duration

// MarshalText writes d as Go duration text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses Go duration text.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Node is a node's config.toml. Zero fields take the role's defaults.
type Node struct {
	Role     string    `toml:"role"`
	Meta     *Meta     `toml:"meta,omitempty"`
	Resource *Resource `toml:"resource,omitempty"`
}

// Meta configures a meta node.
type Meta struct {
	Listen        string   `toml:"listen"`
	MetricsListen string   `toml:"metrics_listen,omitempty"` // serves Prometheus /metrics, if set
	SliceSize     int      `toml:"slice_size,omitempty"`
	Replicas      int      `toml:"replicas,omitempty"`
	MinReplicas   int      `toml:"min_replicas,omitempty"`
	TaskTTL       Duration `toml:"task_ttl,omitempty"`
	Heartbeat     Duration `toml:"heartbeat_interval,omitempty"`
	SuspectAfter  Duration `toml:"suspect_after,omitempty"`
	DeadAfter     Duration `toml:"dead_after,omitempty"`
	RepairTimeout Duration `toml:"repair_timeout,omitempty"`
	// ChainGRPC is a validator's gRPC endpoint (app.toml [grpc]): with it
	// the meta node admits only nodes registered on chain and uploads need
	// a prepaid balance.
	ChainGRPC string `toml:"chain_grpc,omitempty"`
	// Admit lists the resource nodes (node IDs) a meta node with no chain
	// admits; AdmitAny admits any node holding its key (test networks
	// only). A meta node with no chain needs one of them.
	Admit    []string `toml:"admit,omitempty"`
	AdmitAny bool     `toml:"admit_any,omitempty"`
	// With AnchorKey set, the meta node anchors its index root on chain
	// every LedgerPeriod, signing with that key of the test keyring in
	// KeyringDir (its operator account) through the node at ChainRPC.
	AnchorKey  string `toml:"anchor_key,omitempty"`
	KeyringDir string `toml:"keyring_dir,omitempty"`
	// KeyringBackend is where that key lives: "os" (the default), "file"
	// (passphrase in $STRATOS_KEYRING_PASSPHRASE) or "test", which keeps it
	// unencrypted and is refused unless TestNetwork is set (a devnet).
	KeyringBackend string   `toml:"keyring_backend,omitempty"`
	TestNetwork    bool     `toml:"test_network,omitempty"`
	ChainID        string   `toml:"chain_id,omitempty"`
	ChainRPC       string   `toml:"chain_rpc,omitempty"`
	LedgerPeriod   Duration `toml:"ledger_period,omitempty"`
	// ChallengeEvery is how often the leader challenges one random slice's
	// holders to prove they hold it (x/trustedfn storage challenges; needs
	// AnchorKey, which signs them); absent: never.
	ChallengeEvery Duration `toml:"challenge_every,omitempty"`
	// RaftListen is the replicated log's transport address (DESIGN §5.1);
	// Peers are the meta nodes of the cluster, this one among them, which
	// start it together when none has a log yet. No peers: a cluster of
	// one.
	RaftListen string     `toml:"raft_listen,omitempty"`
	Peers      []MetaPeer `toml:"peers,omitempty"`
	// Join makes a meta node with no log join the running cluster of its
	// peers (as an observer until the chain admits it) instead of
	// starting the cluster with them.
	Join bool `toml:"join,omitempty"`
	// MasterTerm is the PoA master term: at each term's end the meta
	// nodes vote for the next leader (0 or absent: no vote).
	MasterTerm Duration `toml:"master_term,omitempty"`
}

// MetaPeer is a meta node of the cluster, as its peers know it.
type MetaPeer struct {
	ID       string `toml:"id"`
	Addr     string `toml:"addr"`
	RaftAddr string `toml:"raft_addr"`
}

// MetaNode is a meta node as clients and resource nodes call it.
type MetaNode struct {
	ID   string `toml:"id"`
	Addr string `toml:"addr"`
}

// Resource configures a resource node.
type Resource struct {
	Listen        string     `toml:"listen"`
	MetricsListen string     `toml:"metrics_listen,omitempty"` // serves Prometheus /metrics, if set
	MetaAddr      string     `toml:"meta_addr"`
	MetaID        string     `toml:"meta_id"`
	Metas         []MetaNode `toml:"metas,omitempty"` // the other meta nodes of the cluster
	Region        string     `toml:"region,omitempty"`
	Capacity      uint64     `toml:"capacity,omitempty"`
	Heartbeat     Duration   `toml:"heartbeat_interval,omitempty"`
	ReportEvery   Duration   `toml:"report_interval,omitempty"`
	OrphanGrace   Duration   `toml:"orphan_grace,omitempty"`
	// ScrubRate is how many bytes per second the node re-reads to find
	// slices that rotted on disk; absent means the default (32 MiB/s), 0
	// turns scrubbing off.
	ScrubRate *uint64 `toml:"scrub_rate,omitempty"`
	// ScrubInterval is the pause between scrub passes (default 24h).
	ScrubInterval Duration `toml:"scrub_interval,omitempty"`
	// ChainGRPC is a validator's gRPC endpoint: with it the node takes no
	// store from, and forwards none to, a node not active on chain.
	ChainGRPC string `toml:"chain_grpc,omitempty"`
	// ComputeListen is where the node serves trusted-function calls as
	// JSON-RPC (DESIGN §8), if set; it needs ChainGRPC, which says what
	// apps the node serves. Offer it with `tx trustedfn offer-compute`.
	ComputeListen string `toml:"compute_listen,omitempty"`
	// Byzantine makes the compute answer wrongly on purpose (devnet
	// --byzantine); never set it on a real node.
	Byzantine bool `toml:"byzantine,omitempty"`
	// With ComputeKey set the node takes part in rounds (DESIGN §8): the
	// key in KeyringDir signs its commits and reveals through the node at
	// ChainRPC; it is the operator's account or the agent its compute offer
	// names. KeyringBackend and TestNetwork are as for a meta node.
	ComputeKey     string `toml:"compute_key,omitempty"`
	KeyringDir     string `toml:"keyring_dir,omitempty"`
	KeyringBackend string `toml:"keyring_backend,omitempty"`
	TestNetwork    bool   `toml:"test_network,omitempty"`
	ChainID        string `toml:"chain_id,omitempty"`
	ChainRPC       string `toml:"chain_rpc,omitempty"`
}

// Client is <home>/client.toml: how client commands reach the network.
type Client struct {
	MetaAddr string     `toml:"meta_addr"`
	MetaID   string     `toml:"meta_id"`
	Metas    []MetaNode `toml:"metas,omitempty"` // the other meta nodes of the cluster
	Owner    string     `toml:"owner"`
	Region   string     `toml:"region,omitempty"`
	// Key names the account key in the home's test keyring that signs
	// requests (with a chain); its address is then the owner.
	Key string `toml:"key,omitempty"`
	// Gateway is the base URL of the network's HTTP gateway (DESIGN §9),
	// which `stratos status` shows.
	Gateway string `toml:"gateway,omitempty"`
	// ChainGRPC is a validator's gRPC endpoint (host:port): status and the
	// dashboard read the ledger and the prepay there.
	ChainGRPC string `toml:"chain_grpc,omitempty"`
	// ChainREST and ChainMetrics are a validator's REST (LCD) API and
	// CometBFT Prometheus URLs, shown by status (a devnet writes them).
	ChainREST    string `toml:"chain_rest,omitempty"`
	ChainMetrics string `toml:"chain_metrics,omitempty"`
}

// ReadTOML decodes the TOML file at path into v, refusing unknown keys so a
// typo in a config file is an error rather than a silent default.
func ReadTOML(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := toml.NewDecoder(f).DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// ReadTOMLLoose is ReadTOML for files other programs also write (the Cosmos
// SDK's client.toml): keys this program does not know are ignored.
func ReadTOMLLoose(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := toml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// WriteTOML writes v to path atomically.
func WriteTOML(path string, v any) error {
	b, err := toml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return durable.WriteFile(path, b, 0o644)
}

// LoadClient reads a home's client.toml.
func LoadClient(dir string) (Client, error) {
	var c Client
	path := filepath.Join(dir, ClientConfigFile)
	if err := ReadTOML(path, &c); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return c, fmt.Errorf("%w in %s: start one with `stratos devnet --home %s`, or write %s with meta_addr and meta_id", ErrNoNetwork, dir, dir, path)
		}
		return c, err
	}
	if c.MetaAddr == "" || c.MetaID == "" {
		return c, fmt.Errorf("%w: %s needs meta_addr and meta_id", ErrNoNetwork, path)
	}
	if c.Owner == "" {
		c.Owner = "user"
	}
	return c, nil
}

// Members turns configured meta nodes into the list wire.LeaderConn calls.
func Members(ms []MetaNode) []wire.Member {
	out := make([]wire.Member, len(ms))
	for i, m := range ms {
		out[i] = wire.Member{ID: m.ID, Addr: m.Addr}
	}
	return out
}
