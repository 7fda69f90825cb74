//go:build docker

// Package docker_test runs a Stratos network as Docker containers on a
// private bridge network and injects faults while clients work (DESIGN §11:
// "Cluster tests with faults"). The image is built FROM scratch around a
// static binary, since this machine has no registry.
//
// Run it with
//
//	go test -tags docker -count=1 -v ./e2e/docker/
//
// It skips only when `docker info` fails.
package docker_test

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/identity"
	inproc "github.com/stratos-net/stratos/internal/cluster"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// docker runs the docker CLI and returns its trimmed combined output.
func docker(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return s, fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, s)
	}
	return s, nil
}

// tryDocker is docker for steps in other goroutines than the test's: a
// failure is reported and the test goes on to its checks.
func tryDocker(t testing.TB, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := docker(ctx, args...); err != nil {
		t.Error(err)
	}
}

// mustDocker is docker for steps whose failure fails the test.
func mustDocker(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := docker(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requireDocker skips the test when no Docker engine answers; any later
// Docker failure is a test failure.
func requireDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := docker(ctx, "info"); err != nil {
		t.Skipf("no Docker engine (docker info failed), skipping the container fault tests: %v", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	crand.Read(b)
	return hex.EncodeToString(b)
}

// image is the test image, built once per package run (TestMain removes it).
var image struct {
	once sync.Once
	tag  string
	err  error
}

// sharedImage builds the image on first use.
func sharedImage(t *testing.T) string {
	t.Helper()
	image.once.Do(func() {
		began := time.Now()
		image.tag, image.err = buildImage()
		if image.err == nil {
			t.Logf("image %s built in %s", image.tag, time.Since(began).Round(time.Second))
		}
	})
	if image.err != nil {
		t.Fatal(image.err)
	}
	return image.tag
}

func TestMain(m *testing.M) {
	code := m.Run()
	if image.tag != "" {
		if _, err := docker(context.Background(), "rmi", "-f", image.tag); err != nil {
			fmt.Fprintf(os.Stderr, "cleanup: %v\n", err)
		}
	}
	os.Exit(code)
}

// buildImage compiles cmd/stratos statically and wraps it in an image FROM
// scratch.
func buildImage() (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		return "", fmt.Errorf("go env GOMOD: %v %q", err, gomod)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dir, err := os.MkdirTemp("", "stratos-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "stratos"), "./cmd/stratos")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("static build of cmd/stratos: %w\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY stratos /stratos\nENTRYPOINT [\"/stratos\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	tag := "stratos-test:" + randomHex(4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := docker(ctx, "build", "-q", "-t", tag, dir); err != nil {
		return "", err
	}
	return tag, nil
}

// Timing of the containerized network: a node missing heartbeats for
// deadAfter is dead and its slices are repaired elsewhere.
const (
	heartbeat    = 500 * time.Millisecond
	suspectAfter = 2 * time.Second
	deadAfter    = 5 * time.Second
	sliceSize    = 256 << 10
	replicas     = 3
	minReplicas  = 2
	metas        = 3
	metaPort     = 7100
	raftPort     = 7300
	resourcePort = 7200
)

var regions = []string{"a", "b", "c"}

// cluster is three meta nodes (one Raft cluster, DESIGN §5.1) and several
// resource nodes, each a container with a fixed IP on a private bridge
// network and its home bind-mounted from a host directory. The meta nodes
// are also on a second network, the side network, which only the test's
// clients use: a meta node cut off the cluster network is still reachable
// there, so the test can see what it answers.
type cluster struct {
	t          *testing.T
	run        string // random suffix of every name
	image      string
	network    string
	prefix     string // the cluster subnet's first three octets
	side       string
	sidePrefix string
	metas      []*metaNode
	nodes      []*node
}

type node struct {
	name, ip, home, region string
	id                     string // resource nodes: read from the key after start
}

type metaNode struct {
	name, ip, sideIP, home, id string
}

func (m *metaNode) addr() string     { return fmt.Sprintf("%s:%d", m.ip, metaPort) }
func (m *metaNode) raftAddr() string { return fmt.Sprintf("%s:%d", m.ip, raftPort) }
func (m *metaNode) sideAddr() string { return fmt.Sprintf("%s:%d", m.sideIP, metaPort) }

// newCluster creates the networks and the homes; start runs the containers.
func newCluster(t *testing.T, run, image string, resources int) *cluster {
	c := &cluster{t: t, run: run, image: image, network: "stratos-e2e-" + run, side: "stratos-e2e-" + run + "-side"}
	c.prefix = c.createNetwork(c.network)
	c.sidePrefix = c.createNetwork(c.side)
	// Cleanups run last-in first-out: logs are read before the containers
	// go, and the homes are removed only after the containers that write
	// in them are gone (t.TempDir registers its removal on its first call,
	// so that call comes before c.remove's registration).
	root := t.TempDir()
	t.Cleanup(c.remove)
	t.Cleanup(c.dumpLogsOnFailure)
	for i := range metas {
		m := &metaNode{
			name:   fmt.Sprintf("stratos-e2e-%s-meta%d", run, i),
			ip:     fmt.Sprintf("%s.%d", c.prefix, 10+i),
			sideIP: fmt.Sprintf("%s.%d", c.sidePrefix, 10+i),
			home:   mkdirHome(t, root, fmt.Sprintf("meta%d", i)),
		}
		key, err := identity.LoadOrGenerate(filepath.Join(m.home, home.NodeKeyFile), crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		m.id = key.ID()
		c.metas = append(c.metas, m)
	}
	for i := range resources {
		c.nodes = append(c.nodes, &node{
			name:   fmt.Sprintf("stratos-e2e-%s-r%d", run, i),
			ip:     fmt.Sprintf("%s.%d", c.prefix, 20+i),
			home:   mkdirHome(t, root, fmt.Sprintf("r%d", i)),
			region: regions[i%len(regions)],
		})
	}
	return c
}

// mkdirHome makes a node's home under the cluster's root.
func mkdirHome(t *testing.T, root, name string) string {
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// createNetwork creates a bridge network on a 172.29.x.0/24 subnet no other
// network uses and returns the subnet's first three octets.
func (c *cluster) createNetwork(name string) string {
	ctx := context.Background()
	var err error
	for range 8 {
		prefix := fmt.Sprintf("172.29.%d", 16+rand.IntN(224))
		_, err = docker(ctx, "network", "create", "--driver", "bridge",
			"--subnet", prefix+".0/24", "--label", "stratos-e2e="+c.run, name)
		if err == nil {
			return prefix
		}
	}
	c.t.Fatalf("create network %s: %v", name, err)
	return ""
}

// members lists the meta nodes as clients and resource nodes call them.
func (c *cluster) members() []home.MetaNode {
	var out []home.MetaNode
	for _, m := range c.metas {
		out = append(out, home.MetaNode{ID: m.id, Addr: m.addr()})
	}
	return out
}

// writeConfigs writes every node's config.toml, so the containers start
// with this test's slice size and timing.
func (c *cluster) writeConfigs() {
	var peers []home.MetaPeer
	for _, m := range c.metas {
		peers = append(peers, home.MetaPeer{ID: m.id, Addr: m.addr(), RaftAddr: m.raftAddr()})
	}
	for _, m := range c.metas {
		cfg := home.Node{Role: home.RoleMeta, Meta: &home.Meta{
			// Every interface: the side network's too. Peers, resource
			// nodes and clients know it by its cluster address.
			Listen:     fmt.Sprintf("0.0.0.0:%d", metaPort),
			RaftListen: m.raftAddr(), Peers: peers,
			SliceSize: sliceSize, Replicas: replicas, MinReplicas: minReplicas,
			Heartbeat: home.Duration(heartbeat), SuspectAfter: home.Duration(suspectAfter),
			DeadAfter: home.Duration(deadAfter), RepairTimeout: home.Duration(15 * time.Second),
			AdmitAny: true, // no chain here; the nodes make their keys at start
		}}
		if err := home.WriteTOML(filepath.Join(m.home, home.NodeConfigFile), cfg); err != nil {
			c.t.Fatal(err)
		}
	}
	ms := c.members()
	for _, n := range c.nodes {
		cfg := home.Node{Role: home.RoleResource, Resource: &home.Resource{
			Listen:   fmt.Sprintf("%s:%d", n.ip, resourcePort),
			MetaAddr: ms[0].Addr, MetaID: ms[0].ID, Metas: ms[1:],
			Region: n.region, Heartbeat: home.Duration(heartbeat),
		}}
		if err := home.WriteTOML(filepath.Join(n.home, home.NodeConfigFile), cfg); err != nil {
			c.t.Fatal(err)
		}
	}
}

// runContainer starts a node container as the host's user, so the files it
// writes in its bind-mounted home belong to the test. A sideIP puts it on
// the side network too.
func (c *cluster) runContainer(name, ip, sideIP, dir, role string) {
	mustDocker(c.t, "create", "--name", name, "--label", "stratos-e2e="+c.run,
		"--network", c.network, "--ip", ip,
		"--user", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
		"-v", dir+":/home/stratos", c.image,
		"node", "start", "--role", role, "--home", "/home/stratos")
	if sideIP != "" {
		mustDocker(c.t, "network", "connect", "--ip", sideIP, c.side, name)
	}
	mustDocker(c.t, "start", name)
}

func (c *cluster) start() {
	c.writeConfigs()
	for _, m := range c.metas {
		c.runContainer(m.name, m.ip, m.sideIP, m.home, home.RoleMeta)
	}
	for _, n := range c.nodes {
		c.runContainer(n.name, n.ip, "", n.home, home.RoleResource)
	}
	for _, n := range c.nodes {
		inproc.Eventually(c.t, 30*time.Second, func() error {
			key, err := identity.Load(filepath.Join(n.home, home.NodeKeyFile))
			if err != nil {
				return err
			}
			n.id = key.ID()
			return nil
		})
	}
}

// client is a client of the whole meta cluster: its calls follow the
// leader.
func (c *cluster) client() *client.Client {
	ms := c.members()
	cfg := client.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner, cfg.Region, cfg.Signer = ms[0].Addr, ms[0].ID, inproc.Owner, regions[0], inproc.Signer
	cfg.Metas = make([]client.MetaNode, 0, len(ms)-1)
	for _, m := range ms[1:] {
		cfg.Metas = append(cfg.Metas, client.MetaNode{ID: m.ID, Addr: m.Addr})
	}
	cfg.RetryFor = 45 * time.Second // outlasts a meta node's restart
	return c.newClient(cfg)
}

// clientOf is a client of meta node m alone, on the side network, that
// gives up after retryFor of Unavailable answers.
func (c *cluster) clientOf(m *metaNode, retryFor time.Duration) *client.Client {
	cfg := client.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner, cfg.Region, cfg.Signer = m.sideAddr(), m.id, inproc.Owner, regions[0], inproc.Signer
	cfg.RetryFor = retryFor
	return c.newClient(cfg)
}

func (c *cluster) newClient(cfg client.Config) *client.Client {
	cl, err := client.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// status returns the meta leader's status and the states it holds the
// resource nodes in.
func status(ctx context.Context, cl *client.Client) (*metav1.StatusResponse, map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, nil, err
	}
	states := map[string]string{}
	for _, ns := range st.GetNodes() {
		states[ns.GetNode().GetNodeId()] = ns.GetState()
	}
	return st, states, nil
}

// waitAlive waits until every node in want is alive at the meta leader.
func (c *cluster) waitAlive(cl *client.Client, want []*node, within time.Duration) {
	c.t.Helper()
	inproc.Eventually(c.t, within, func() error {
		_, states, err := status(context.Background(), cl)
		if err != nil {
			return err
		}
		for _, n := range want {
			if states[n.id] != "alive" {
				return fmt.Errorf("%s (%.12s) is %q", n.name, n.id, states[n.id])
			}
		}
		return nil
	})
}

// leader waits until a meta node other than not says, in its own status,
// that it leads, and returns it.
func (c *cluster) leader(cl *client.Client, not *metaNode, within time.Duration) *metaNode {
	c.t.Helper()
	var lead *metaNode
	inproc.Eventually(c.t, within, func() error {
		var seen []string
		for _, v := range cl.MetaNodes(context.Background()) {
			if v.Err != nil {
				seen = append(seen, fmt.Sprintf("%.12s: %v", v.Node.ID, v.Err))
				continue
			}
			self := v.Status.GetSelf()
			for _, m := range c.metas {
				if m.id == self.GetNodeId() && m != not && self.GetState() == "Leading" {
					lead = m
					return nil
				}
			}
			seen = append(seen, fmt.Sprintf("%.12s: %s", self.GetNodeId(), self.GetState()))
		}
		return fmt.Errorf("no meta node leads: %s", strings.Join(seen, "; "))
	})
	return lead
}

func (c *cluster) names() []string {
	var out []string
	for _, m := range c.metas {
		out = append(out, m.name)
	}
	for _, n := range c.nodes {
		out = append(out, n.name)
	}
	return out
}

// dumpLogsOnFailure prints the end of every container's log if the test
// failed; with STRATOS_DOCKER_LOGS=DIR it also saves the whole logs there.
func (c *cluster) dumpLogsOnFailure() {
	if dir := os.Getenv("STRATOS_DOCKER_LOGS"); dir != "" {
		c.saveLogs(dir)
	}
	if !c.t.Failed() {
		return
	}
	for _, name := range c.names() {
		out, _ := exec.Command("docker", "logs", "--tail", "60", name).CombinedOutput()
		state, _ := docker(context.Background(), "inspect", "-f", "{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}", name)
		c.t.Logf("==== %s (%s): last lines of its log ====\n%s", name, state, out)
	}
}

func (c *cluster) saveLogs(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Logf("save logs: %v", err)
		return
	}
	for _, name := range c.names() {
		out, _ := exec.Command("docker", "logs", name).CombinedOutput()
		if err := os.WriteFile(filepath.Join(dir, name+".log"), out, 0o644); err != nil {
			c.t.Logf("save logs: %v", err)
		}
	}
	c.t.Logf("container logs saved in %s", dir)
}

func (c *cluster) remove() {
	ctx := context.Background()
	args := append([]string{"rm", "-f", "-v"}, c.names()...)
	if out, err := docker(ctx, args...); err != nil && !strings.Contains(out, "No such container") {
		c.t.Logf("cleanup: %v", err)
	}
	for _, n := range []string{c.network, c.side} {
		if _, err := docker(ctx, "network", "rm", n); err != nil {
			c.t.Logf("cleanup: %v", err)
		}
	}
}

// running reports whether a container runs (not paused, not stopped).
func running(name string) bool {
	out, err := docker(context.Background(), "inspect", "-f", "{{.State.Status}}", name)
	return err == nil && out == "running"
}

// content is file i's bytes: 1 to 3 MiB, several slices each.
func content(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	b := make([]byte, 1<<20+r.IntN(2<<20))
	for j := 0; j+8 <= len(b); j += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[j+k] = byte(v >> (8 * k))
		}
	}
	return b
}
