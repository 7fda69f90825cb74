package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/chain"
	"github.com/stratos-net/stratos/chainclient"
	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta"
	"github.com/stratos-net/stratos/metrics"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/disk"
	"github.com/stratos-net/stratos/slice"
	"github.com/stratos-net/stratos/trust"
)

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Run one Stratos node"}
	cmd.AddCommand(newNodeStartCmd())
	return cmd
}

type nodeFlags struct {
	home, role, listen, metaAddr, metaID, region, logLevel string
}

func newNodeStartCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "start --role validator|meta|resource --home DIR",
		Short: "Start a node with the configuration in DIR/config.toml",
		Long: `Start a node. Its configuration is DIR/config.toml and its key DIR/node_key.pem;
both are created on first start (the configuration from the flags) and reused after;
flags given later override the file for that run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.role == roleValidator {
				// A validator's home is a CometBFT/Cosmos home: config/,
				// data/ and the keys, as chain.InitTestnet writes them.
				return chain.StartValidator(cmd.Context(), f.home)
			}
			log, err := newLogger(f.logLevel)
			if err != nil {
				return err
			}
			cfg, err := loadNodeConfig(f)
			if err != nil {
				return err
			}
			key, err := identity.LoadOrGenerate(filepath.Join(f.home, home.NodeKeyFile), rand.Reader)
			if err != nil {
				return err
			}
			dataDir := filepath.Join(f.home, home.DataDir)
			switch cfg.Role {
			case home.RoleMeta:
				return runMeta(cmd, cfg.Meta, key, dataDir, log)
			default:
				return runResource(cmd, cfg.Resource, key, dataDir, log)
			}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.home, "home", home.Default(), "node home directory (env STRATOS_HOME)")
	fl.StringVar(&f.role, "role", "", "validator, meta or resource (must match config.toml if it exists)")
	fl.StringVar(&f.listen, "listen", "", "address to listen on, for a new config (default 127.0.0.1:7100 for meta, 127.0.0.1:0 for resource)")
	fl.StringVar(&f.metaAddr, "meta-addr", "", "meta node address, for a new resource config")
	fl.StringVar(&f.metaID, "meta-id", "", "meta node ID, for a new resource config")
	fl.StringVar(&f.region, "region", "", "region of a new resource node")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

var errRole = errors.New("--role must be validator, meta or resource")

const roleValidator = "validator"

// loadNodeConfig reads DIR/config.toml, or writes one from the flags.
func loadNodeConfig(f nodeFlags) (home.Node, error) {
	var cfg home.Node
	path := filepath.Join(f.home, home.NodeConfigFile)
	err := home.ReadTOML(path, &cfg)
	switch {
	case err == nil:
		if f.role != "" && f.role != cfg.Role {
			return cfg, fmt.Errorf("%w: %s says role %q, --role says %q", errRole, path, cfg.Role, f.role)
		}
	case errors.Is(err, os.ErrNotExist):
		cfg = home.Node{Role: f.role}
		switch f.role {
		case home.RoleMeta:
			cfg.Meta = &home.Meta{Listen: or(f.listen, meta.DefaultConfig().Listen)}
		case home.RoleResource:
			if f.metaAddr == "" || f.metaID == "" {
				return cfg, fmt.Errorf("a new resource node needs --meta-addr and --meta-id (see the meta node's log or `stratos status`)")
			}
			cfg.Resource = &home.Resource{Listen: or(f.listen, "127.0.0.1:0"), MetaAddr: f.metaAddr, MetaID: f.metaID, Region: f.region}
		default:
			return cfg, fmt.Errorf("%w, got %q", errRole, f.role)
		}
		if err := home.WriteTOML(path, cfg); err != nil {
			return cfg, err
		}
	default:
		return cfg, err
	}
	if (cfg.Role == home.RoleMeta) != (cfg.Meta != nil) || (cfg.Role == home.RoleResource) != (cfg.Resource != nil) || (cfg.Meta == nil) == (cfg.Resource == nil) {
		return cfg, fmt.Errorf("%s: role %q needs exactly its own [%s] section", path, cfg.Role, cfg.Role)
	}
	applyFlags(&cfg, f)
	return cfg, nil
}

// applyFlags lets flags given on the command line override config.toml
// (DESIGN §2) for this run, without rewriting the file.
func applyFlags(cfg *home.Node, f nodeFlags) {
	if m := cfg.Meta; m != nil {
		m.Listen = or(f.listen, m.Listen)
	}
	if r := cfg.Resource; r != nil {
		r.Listen = or(f.listen, r.Listen)
		r.MetaAddr = or(f.metaAddr, r.MetaAddr)
		r.MetaID = or(f.metaID, r.MetaID)
		r.Region = or(f.region, r.Region)
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func setDur(dst *time.Duration, d home.Duration) {
	if d > 0 {
		*dst = time.Duration(d)
	}
}

func setInt(dst *int, v int) {
	if v > 0 {
		*dst = v
	}
}

func runMeta(cmd *cobra.Command, m *home.Meta, key *identity.Key, dataDir string, log *slog.Logger) error {
	cfg := meta.DefaultConfig()
	cfg.DataDir, cfg.Logger = dataDir, log
	cfg.Listen = or(m.Listen, cfg.Listen)
	setInt(&cfg.SliceSize, m.SliceSize)
	setInt(&cfg.Replicas, m.Replicas)
	setInt(&cfg.MinReplicas, m.MinReplicas)
	setDur(&cfg.TaskTTL, m.TaskTTL)
	setDur(&cfg.Health.HeartbeatInterval, m.Heartbeat)
	setDur(&cfg.Health.SuspectAfter, m.SuspectAfter)
	setDur(&cfg.Health.DeadAfter, m.DeadAfter)
	setDur(&cfg.RepairTimeout, m.RepairTimeout)
	cfg.Raft.Listen = or(m.RaftListen, cfg.Raft.Listen)
	setDur(&cfg.MasterTerm, m.MasterTerm)
	if m.ChainRPC != "" {
		cfg.Blocks = chainBlocks(m.ChainRPC)
	}
	for _, p := range m.Peers {
		cfg.Peers = append(cfg.Peers, meta.Peer{ID: p.ID, Addr: p.Addr, RaftAddr: p.RaftAddr})
	}
	cfg.Bootstrap = !m.Join
	cfg.Admit, cfg.AdmitAny = m.Admit, m.AdmitAny
	if m.ChainGRPC != "" {
		view, err := chainclient.Dial(m.ChainGRPC)
		if err != nil {
			return err
		}
		defer view.Close()
		cfg.Chain, cfg.Authorities = view, view
	}
	if m.AnchorKey != "" {
		backend := or(m.KeyringBackend, chainclient.BackendOS)
		input, err := chainclient.NodeKeyring(backend, m.TestNetwork)
		if err != nil {
			return err
		}
		sender, err := chainclient.NewSender(chainclient.SenderConfig{KeyringDir: m.KeyringDir, Backend: backend, Input: input, Key: m.AnchorKey, ChainID: m.ChainID, RPC: m.ChainRPC})
		if err != nil {
			return fmt.Errorf("index anchors: %w", err)
		}
		cfg.Anchors, cfg.Reporter = sender, sender
		setDur(&cfg.LedgerPeriod, m.LedgerPeriod)
		setDur(&cfg.ChallengeEvery, m.ChallengeEvery)
		if view, ok := cfg.Chain.(*chainclient.View); ok {
			cfg.Periods = chainPeriods{view}
			cfg.Challenges = chainclient.MetaChallenges{Sender: sender, View: view, MetaID: key.ID()}
		}
	}
	srv, err := meta.New(cfg, key)
	if err != nil {
		return err
	}
	if m.MetricsListen != "" {
		stop, err := serveMetrics(m.MetricsListen, "stratos_meta", metaGauges, func() (map[string]float64, error) {
			return metaStatusGauges(cmd.Context(), srv)
		})
		if err != nil {
			return err
		}
		defer stop()
	}
	return srv.Run(cmd.Context(), nil)
}

func runResource(cmd *cobra.Command, r *home.Resource, key *identity.Key, dataDir string, log *slog.Logger) error {
	cfg := resource.DefaultConfig()
	cfg.DataDir, cfg.Logger = dataDir, log
	cfg.Listen, cfg.MetaAddr, cfg.MetaID, cfg.Region, cfg.Capacity = r.Listen, r.MetaAddr, r.MetaID, r.Region, r.Capacity
	cfg.Metas = home.Members(r.Metas)
	setDur(&cfg.HeartbeatInterval, r.Heartbeat)
	setDur(&cfg.ReportInterval, r.ReportEvery)
	setDur(&cfg.OrphanGrace, r.OrphanGrace)
	if r.ScrubRate != nil {
		cfg.ScrubRate = *r.ScrubRate
	}
	setDur(&cfg.ScrubInterval, r.ScrubInterval)
	var view *chainclient.View
	if r.ChainGRPC != "" {
		var err error
		if view, err = chainclient.Dial(r.ChainGRPC); err != nil {
			return err
		}
		defer view.Close()
		cfg.Registry = view
	}
	opts := disk.DefaultOptions()
	opts.Capacity, opts.Logger = r.Capacity, log
	store, err := disk.Open(dataDir, opts)
	if err != nil {
		return err
	}
	defer store.Close()
	var rounds *trust.Node // answers storage challenges, if the node takes part in rounds
	if r.ComputeListen != "" {
		if view == nil {
			return errors.New("compute_listen needs chain_grpc: the chain says which apps the node serves")
		}
		stop, node, err := serveCompute(cmd.Context(), r, key, view, storeSlices{store}, filepath.Join(dataDir, "compute"), log)
		if err != nil {
			return err
		}
		defer stop()
		rounds = node
	}
	n, err := resource.New(cfg, key, store)
	if err != nil {
		return err
	}
	if r.MetricsListen != "" {
		stop, err := serveMetrics(r.MetricsListen, "stratos_resource", resourceGauges, func() (map[string]float64, error) {
			u, err := store.Usage()
			sc := n.ScrubStats()
			g := map[string]float64{"capacity_bytes": float64(n.Capacity()), "stored_bytes": float64(u.Bytes), "stored_slices": float64(u.Slices),
				"scrub_passes": float64(sc.Passes), "scrubbed_bytes": float64(sc.Bytes), "scrub_bad_slices": float64(sc.Bad)}
			if rounds != nil {
				c, b := rounds.StorageStats()
				g["storage_challenges"], g["storage_challenge_bytes"] = float64(c), float64(b)
			}
			return g, err
		})
		if err != nil {
			return err
		}
		defer stop()
	}
	return n.Run(cmd.Context(), nil)
}

var resourceGauges = map[string]string{
	"capacity_bytes":   "Bytes the node offers the network.",
	"stored_bytes":     "Bytes of slices on the node's disk.",
	"stored_slices":    "Slices on the node's disk.",
	"scrub_passes":     "Full scrub passes finished since start.",
	"scrubbed_bytes":   "Bytes read and checked by the scrubber since start.",
	"scrub_bad_slices": "Corrupt copies the scrubber found since start.",
	// Proofs of storage (issue 10): what they cost the node.
	"storage_challenges":      "Storage challenges the node answered since start.",
	"storage_challenge_bytes": "Bytes the node read to answer storage challenges since start.",
}

var metaGauges = map[string]string{
	"files":                   "Files in the index.",
	"slices":                  "Slices in the index.",
	"under_replicated_slices": "Slices with fewer live replicas than the target.",
	"pending_repairs":         "Repairs in flight.",
	"resource_nodes_alive":    "Resource nodes this meta node sees alive.",
	"raft_term":               "The replicated log's term.",
	"raft_applied_index":      "The last log entry this node applied.",
	"raft_commit_index":       "The last log entry known committed.",
	"leading":                 "1 if this meta node leads the cluster.",
	"voter":                   "1 if this meta node votes in the log.",
}

// serveMetrics serves a node's Prometheus metrics: the runtime's and its
// own gauges, read from its state on each scrape.
func serveMetrics(addr, namespace string, help map[string]string, read func() (map[string]float64, error)) (func(), error) {
	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.Gauges(namespace, help, read))
	return metrics.Serve(addr, reg)
}

func metaStatusGauges(ctx context.Context, srv *meta.Server) (map[string]float64, error) {
	st, err := srv.Status(ctx, &metav1.StatusRequest{Local: true})
	if err != nil {
		return nil, err
	}
	alive := 0
	for _, n := range st.GetNodes() {
		if n.GetState() == "alive" {
			alive++
		}
	}
	self := st.GetSelf()
	return map[string]float64{
		"files": float64(st.GetFiles()), "slices": float64(st.GetSlices()), "under_replicated_slices": float64(st.GetUnderReplicated()),
		"pending_repairs": float64(st.GetPendingRepairs()), "resource_nodes_alive": float64(alive),
		"raft_term": float64(self.GetRaftTerm()), "raft_applied_index": float64(self.GetAppliedIndex()), "raft_commit_index": float64(self.GetCommitIndex()),
		"leading": b2f(self.GetState() == "Leading"), "voter": b2f(self.GetVoter()),
	}, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// chainBlocks gives the meta node the chain's latest block hash.
type chainBlocks string

func (c chainBlocks) LatestBlockHash(ctx context.Context) ([]byte, error) {
	return chain.LatestBlockHash(ctx, string(c))
}

func (c chainBlocks) BlockTime(ctx context.Context, hash []byte) (time.Time, error) {
	return chain.BlockTime(ctx, string(c), hash)
}

// chainPeriods gives the meta node x/pot's ledger periods.
type chainPeriods struct{ v *chainclient.View }

func (c chainPeriods) Period(ctx context.Context) (meta.ChainPeriod, error) {
	p, err := c.v.Period(ctx)
	return meta.ChainPeriod{Current: p.Current, LastReported: p.LastReported, Reported: p.Reported, Length: p.Length}, err
}

// serveCompute serves the node's trusted-function calls (DESIGN §8) as
// JSON-RPC on r.ComputeListen until stop.
func serveCompute(ctx context.Context, r *home.Resource, key *identity.Key, view *chainclient.View, slices trust.Slices, dir string, log *slog.Logger) (stop func(), rounds *trust.Node, err error) {
	cfg := service.DefaultConfig()
	cfg.Dir, cfg.Apps, cfg.Key, cfg.Logger, cfg.Byzantine = dir, chainclient.ServiceApps{View: view}, key, log, r.Byzantine
	svc, err := service.New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", r.ComputeListen)
	if err != nil {
		svc.Close(ctx)
		return nil, nil, fmt.Errorf("compute listen %s: %w", r.ComputeListen, err)
	}
	rctx, cancelRounds := context.WithCancel(ctx)
	var node *trust.Node
	if r.ComputeKey != "" {
		node, err = roundNode(r, key, view, svc, slices, filepath.Join(dir, "rounds"), log)
		if err != nil {
			cancelRounds()
			ln.Close()
			svc.Close(ctx)
			return nil, nil, err
		}
		svc.SetRounds(node)
		go node.Run(rctx)
	}
	srv := &http.Server{Handler: svc, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	if r.Byzantine {
		log.Warn("compute: this node answers wrongly on purpose (byzantine = true)")
	}
	log.Info("compute: serving trusted functions", "listen", ln.Addr().String())
	return func() {
		cancelRounds()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		svc.Close(sctx)
	}, node, nil
}

// roundNode is the node's part in rounds, signing with r.ComputeKey.
func roundNode(r *home.Resource, key *identity.Key, view *chainclient.View, svc *service.Service, slices trust.Slices, dir string, log *slog.Logger) (*trust.Node, error) {
	backend := or(r.KeyringBackend, chainclient.BackendOS)
	input, err := chainclient.NodeKeyring(backend, r.TestNetwork)
	if err != nil {
		return nil, err
	}
	sender, err := chainclient.NewSender(chainclient.SenderConfig{KeyringDir: r.KeyringDir, Backend: backend, Input: input,
		Key: r.ComputeKey, ChainID: r.ChainID, RPC: r.ChainRPC})
	if err != nil {
		return nil, fmt.Errorf("rounds: %w", err)
	}
	return trust.NewNode(trust.NodeConfig{ChainID: r.ChainID, NodeID: key.ID(), Chain: view, Sender: sender,
		Compute: svc, Dir: dir, Open: view, Slices: slices, Logger: log})
}

// storeSlices reads slices from the node's store for storage challenges.
type storeSlices struct{ store resource.SliceStore }

func (s storeSlices) OpenSlice(id string) (uint64, io.ReadCloser, error) {
	sid, err := slice.ParseID(id)
	if err != nil {
		return 0, nil, err
	}
	r, err := s.store.Open(sid)
	if err != nil {
		return 0, nil, err
	}
	return r.Size(), struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(r, 0, int64(r.Size())), r}, nil
}
