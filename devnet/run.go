package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/stratos-net/stratos/chain"
	"github.com/stratos-net/stratos/client"
	gatewaykeys "github.com/stratos-net/stratos/gateway/keys"
	"github.com/stratos-net/stratos/home"
)

// ManifestFile lists the running nodes inside a devnet home.
const ManifestFile = "devnet.json"

// Manifest is devnet.json.
type Manifest struct {
	Home  string     `json:"home"`
	Nodes []NodeInfo `json:"nodes"`
}

// NodeInfo describes one node process.
type NodeInfo struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	ID      string `json:"id"`
	PID     int    `json:"pid"`
	Addr    string `json:"addr"`
	DataDir string `json:"data_dir"`
	Home    string `json:"home"`
	Region  string `json:"region,omitempty"`
	Log     string `json:"log"`
	Running bool   `json:"running"`
	// Metrics is the URL of the node's Prometheus metrics, if it serves them.
	Metrics string `json:"metrics,omitempty"`
}

// Config says how to run a devnet.
type Config struct {
	Home     string
	Settings Settings // used when Home holds no devnet yet
	// Binary is the stratos executable the nodes run as.
	Binary       string
	ReadyTimeout time.Duration
	StopTimeout  time.Duration
	Out          io.Writer // what a person reads: addresses, "devnet ready"
	Logger       *slog.Logger
}

// ErrBusy is returned when another devnet runs on the same home.
var ErrBusy = errors.New("another devnet is running on this home")

// Run creates the devnet home if needed, starts every node, prints
// "devnet ready" once the network accepts uploads, and supervises the nodes
// until ctx ends; then it stops them all.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Minute
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 15 * time.Second
	}
	if err := os.MkdirAll(cfg.Home, 0o755); err != nil {
		return fmt.Errorf("devnet home: %w", err)
	}
	unlock, err := lockHome(cfg.Home)
	if err != nil {
		return err
	}
	defer unlock()
	s, ok, err := LoadSettings(cfg.Home)
	if err != nil {
		return err
	}
	if !ok {
		if err := create(cfg.Home, cfg.Settings); err != nil {
			return fmt.Errorf("create devnet in %s: %w", cfg.Home, err)
		}
		// Read back what creating fixed, such as the chain's ports.
		if s, _, err = LoadSettings(cfg.Home); err != nil {
			return err
		}
		fmt.Fprintf(cfg.Out, "created devnet in %s: %d validators (chain %s), %d resource nodes, %d replicas, %d MiB slices\n", cfg.Home, s.Validators, s.ChainID, s.Resources, s.Replicas, s.SliceSize>>20)
	} else {
		fmt.Fprintf(cfg.Out, "resuming devnet in %s\n", cfg.Home)
	}
	nodes, err := layout(cfg.Home, s)
	if err != nil {
		return err
	}
	sup := &supervisor{cfg: cfg, settings: s}
	defer sup.stopAll()
	if err := sup.startAll(ctx, nodes); err != nil {
		return err
	}
	sup.printNodes()
	printGateway(cfg.Out, cfg.Home, s)
	if stop, err := sup.serveControl(ctx); err != nil {
		fmt.Fprintf(cfg.Out, "devnet: %v; `stratos devnet add-node` will not reach this devnet\n", err)
	} else {
		defer stop()
	}
	fmt.Fprintln(cfg.Out, "devnet ready")
	sup.watch(ctx)
	return nil
}

type proc struct {
	info NodeInfo
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

type supervisor struct {
	cfg      Config
	settings Settings
	addMu    sync.Mutex // one add-node at a time; it owns settings meanwhile
	mu       sync.Mutex
	procs    []*proc
	exits    chan *proc
}

func (s *supervisor) startAll(ctx context.Context, nodes []node) error {
	s.exits = make(chan *proc, len(nodes))
	if err := os.MkdirAll(filepath.Join(s.cfg.Home, "logs"), 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	byRole := map[string][]node{}
	for _, n := range nodes {
		byRole[n.Role] = append(byRole[n.Role], n)
	}
	for _, v := range byRole[roleValidator] {
		if err := s.start(v); err != nil {
			return err
		}
	}
	if vals := byRole[roleValidator]; len(vals) > 0 {
		if err := s.waitChain(ctx, vals[0]); err != nil {
			return err
		}
	}
	for _, n := range append(byRole[home.RoleMeta], byRole[home.RoleResource]...) {
		if err := s.start(n); err != nil {
			return err
		}
	}
	c, err := client.New(s.clientConfig())
	if err != nil {
		return err
	}
	defer c.Close()
	if err := s.waitReady(ctx, c, byRole[home.RoleResource]); err != nil {
		return err
	}
	for _, g := range byRole[roleGateway] {
		if err := s.start(g); err != nil {
			return err
		}
		if err := waitListening(ctx, g.Addr); err != nil {
			return fmt.Errorf("gateway: %w (log in %s)", err, filepath.Join(s.cfg.Home, "logs", g.Name+".log"))
		}
	}
	return nil
}

// waitListening waits until something accepts connections at addr.
func waitListening(ctx context.Context, addr string) error {
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s: %w", addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitChain waits until the chain has made its first block.
func (s *supervisor) waitChain(ctx context.Context, v node) error {
	var last error
	for {
		if p := s.exited(); p != nil {
			return fmt.Errorf("node %s exited while starting (%v); see %s", p.info.Name, p.err, p.info.Log)
		}
		info, err := chain.Status(ctx, "tcp://"+v.Addr)
		if err == nil && info.Height >= 1 {
			return nil
		}
		last = err
		if err == nil {
			last = errors.New("no block yet")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chain not producing blocks after %s: %v (logs in %s)", s.cfg.ReadyTimeout, last, filepath.Join(s.cfg.Home, "logs"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *supervisor) clientConfig() client.Config {
	cc, _ := home.LoadClient(s.cfg.Home)
	cfg := client.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner, cfg.Region = cc.MetaAddr, cc.MetaID, cc.Owner, cc.Region
	cfg.Metas = home.Members(cc.Metas)
	cfg.Logger = s.cfg.Logger
	return cfg
}

// start launches one node process (see childAttrs for how it is tied to the
// supervisor).
func (s *supervisor) start(n node) error {
	logPath := filepath.Join(s.cfg.Home, "logs", n.Name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node %s log: %w", n.Name, err)
	}
	defer logf.Close()
	args := n.Args
	if args == nil {
		args = []string{"node", "start", "--role", n.Role, "--home", n.Home}
	}
	cmd := exec.Command(s.cfg.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start node %s: %w", n.Name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), info: NodeInfo{
		Name: n.Name, Role: n.Role, ID: n.ID, PID: cmd.Process.Pid, Addr: n.Addr,
		DataDir: filepath.Join(n.Home, home.DataDir), Home: n.Home, Region: n.Region, Log: logPath, Running: true,
	}}
	if n.Metrics != "" {
		p.info.Metrics = "http://" + n.Metrics + "/metrics"
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		s.exits <- p
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return s.writeManifest()
}

// waitReady waits until every resource node has registered and is alive.
func (s *supervisor) waitReady(ctx context.Context, c *client.Client, resources []node) error {
	want := map[string]bool{}
	for _, n := range resources {
		want[n.ID] = true
	}
	var last error
	for {
		if p := s.exited(); p != nil {
			return fmt.Errorf("node %s exited while starting (%v); see %s", p.info.Name, p.err, p.info.Log)
		}
		st, err := c.Status(ctx)
		if err == nil {
			alive := 0
			for _, n := range st.GetNodes() {
				if want[n.GetNode().GetNodeId()] && n.GetState() == "alive" && n.GetLoad().GetFree() > 0 {
					alive++
				}
			}
			if alive == len(want) {
				return nil
			}
			last = fmt.Errorf("%d of %d resource nodes alive", alive, len(want))
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devnet not ready after %s: %v (logs in %s)", s.cfg.ReadyTimeout, last, filepath.Join(s.cfg.Home, "logs"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *supervisor) exited() *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		select {
		case <-p.done:
			return p
		default:
		}
	}
	return nil
}

func (s *supervisor) printNodes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		i := p.info
		fmt.Fprintf(s.cfg.Out, "  %-12s %-9s %-21s %-9s id %s  pid %d\n", i.Name, i.Role, i.Addr, i.Region, i.ID, i.PID)
	}
	fmt.Fprintf(s.cfg.Out, "nodes: %s (with each node's Prometheus /metrics URL)\nlogs:  %s\n", filepath.Join(s.cfg.Home, ManifestFile), filepath.Join(s.cfg.Home, "logs"))
}

// printGateway says where the S3 gateway is and which keys open it.
func printGateway(out io.Writer, dir string, s Settings) {
	if s.Gateway == "" {
		return
	}
	fmt.Fprintf(out, "gateway: dashboard http://%s/\n", s.Gateway)
	fmt.Fprintf(out, "  S3 endpoint http://%s (region us-east-1, path-style)\n", s.Gateway)
	fmt.Fprintf(out, "  streaming: http://%s/stream/<path> (the user's files, on loopback, no credentials)\n", s.Gateway)
	fmt.Fprintf(out, "  share links: stratos share --home %s <path>\n", dir)
	ks, err := gatewaykeys.Open(gatewaykeys.Path(dir))
	if err != nil {
		fmt.Fprintf(out, "  keys: %v\n", err)
		return
	}
	all, _ := ks.List()
	for _, k := range all {
		fmt.Fprintf(out, "  %s: access key %s  secret key %s\n", k.Account, k.AccessKey, k.SecretKey)
	}
}

// watch reports node exits until ctx ends. A node that dies stays down: the
// network is there to show what happens when machines die.
func (s *supervisor) watch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.exits:
			fmt.Fprintf(s.cfg.Out, "devnet: node %s (pid %d) exited: %v\n", p.info.Name, p.info.PID, exitText(p.err))
			s.mu.Lock()
			p.info.Running = false
			s.mu.Unlock()
			if err := s.writeManifest(); err != nil {
				s.cfg.Logger.Warn("write devnet manifest", "err", err)
			}
		}
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// stopAll stops resource nodes first, then the meta node, then the
// validators: SIGTERM, then SIGKILL for a node that has not stopped within
// StopTimeout.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	procs := append([]*proc(nil), s.procs...)
	s.mu.Unlock()
	if len(procs) == 0 {
		return
	}
	stop := func(ps []*proc) {
		for _, p := range ps {
			terminate(p.cmd.Process)
		}
		deadline := time.After(s.cfg.StopTimeout)
		for _, p := range ps {
			select {
			case <-p.done:
			case <-deadline:
				p.cmd.Process.Kill()
				<-p.done
			}
		}
	}
	for _, role := range []string{home.RoleResource, home.RoleMeta, roleValidator} {
		var group []*proc
		for _, p := range procs {
			if p.info.Role == role {
				group = append(group, p)
			}
		}
		stop(group)
	}
	s.mu.Lock()
	for _, p := range procs {
		p.info.Running = false
	}
	s.mu.Unlock()
	s.writeManifest()
	fmt.Fprintln(s.cfg.Out, "devnet stopped")
}

func (s *supervisor) writeManifest() error {
	s.mu.Lock()
	m := Manifest{Home: s.cfg.Home}
	for _, p := range s.procs {
		m.Nodes = append(m.Nodes, p.info)
	}
	s.mu.Unlock()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.cfg.Home, ManifestFile)
	if err := os.WriteFile(path+".tmp", append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// ReadManifest reads devnet.json from a devnet home.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", ManifestFile, err)
	}
	return &m, nil
}

// lockHome takes an exclusive lock on the home, so two devnets never share
// one; the kernel drops it if the process dies.
func lockHome(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "devnet.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (%s): stop it first", ErrBusy, dir)
	}
	return func() { f.Close() }, nil
}
