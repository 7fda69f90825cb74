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

// buildImage compiles cmd/stratos statically and wraps it in an image FROM
// scratch, removed when the test ends.
func buildImage(t *testing.T, run string) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		t.Fatalf("go env GOMOD: %v %q", err, gomod)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "stratos"), "./cmd/stratos")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build of cmd/stratos: %v\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY stratos /stratos\nENTRYPOINT [\"/stratos\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "stratos-test:" + run
	mustDocker(t, "build", "-q", "-t", tag, dir)
	t.Cleanup(func() {
		if _, err := docker(context.Background(), "rmi", "-f", tag); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	return tag
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
	metaPort     = 7100
	resourcePort = 7200
)

var regions = []string{"a", "b", "c"}

// cluster is one meta node and several resource nodes, each a container
// with a fixed IP on a private bridge network and its home bind-mounted
// from a host directory.
type cluster struct {
	t        *testing.T
	run      string // random suffix of every name
	image    string
	network  string
	prefix   string // the subnet's first three octets
	metaID   string
	metaHome string
	nodes    []*node
}

type node struct {
	name, ip, home, region string
	id                     string // resource nodes: read from the key after start
}

func (c *cluster) metaName() string { return "stratos-e2e-" + c.run + "-meta" }
func (c *cluster) metaIP() string   { return c.prefix + ".10" }
func (c *cluster) metaAddr() string { return fmt.Sprintf("%s:%d", c.metaIP(), metaPort) }

// newCluster creates the network and the homes; start runs the containers.
func newCluster(t *testing.T, run, image string, resources int) *cluster {
	c := &cluster{t: t, run: run, image: image, network: "stratos-e2e-" + run}
	c.createNetwork()
	// Cleanups run last-in first-out: logs are read before the containers go.
	t.Cleanup(c.remove)
	t.Cleanup(c.dumpLogsOnFailure)
	c.metaHome = t.TempDir()
	key, err := identity.LoadOrGenerate(filepath.Join(c.metaHome, home.NodeKeyFile), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.metaID = key.ID()
	for i := range resources {
		c.nodes = append(c.nodes, &node{
			name:   fmt.Sprintf("stratos-e2e-%s-r%d", run, i),
			ip:     fmt.Sprintf("%s.%d", c.prefix, 11+i),
			home:   t.TempDir(),
			region: regions[i%len(regions)],
		})
	}
	return c
}

// createNetwork picks a 172.29.x.0/24 subnet no other network uses.
func (c *cluster) createNetwork() {
	ctx := context.Background()
	var err error
	for range 8 {
		c.prefix = fmt.Sprintf("172.29.%d", 16+rand.IntN(224))
		_, err = docker(ctx, "network", "create", "--driver", "bridge",
			"--subnet", c.prefix+".0/24", "--label", "stratos-e2e="+c.run, c.network)
		if err == nil {
			return
		}
	}
	c.t.Fatalf("create network: %v", err)
}

// writeConfigs writes every node's config.toml, so the containers start
// with this test's slice size and timing.
func (c *cluster) writeConfigs() {
	metaCfg := home.Node{Role: home.RoleMeta, Meta: &home.Meta{
		Listen: c.metaAddr(), SliceSize: sliceSize, Replicas: replicas, MinReplicas: minReplicas,
		Heartbeat: home.Duration(heartbeat), SuspectAfter: home.Duration(suspectAfter),
		DeadAfter: home.Duration(deadAfter), RepairTimeout: home.Duration(15 * time.Second),
		AdmitAny: true, // no chain here; the nodes make their keys at start
	}}
	if err := home.WriteTOML(filepath.Join(c.metaHome, home.NodeConfigFile), metaCfg); err != nil {
		c.t.Fatal(err)
	}
	for _, n := range c.nodes {
		cfg := home.Node{Role: home.RoleResource, Resource: &home.Resource{
			Listen: fmt.Sprintf("%s:%d", n.ip, resourcePort), MetaAddr: c.metaAddr(), MetaID: c.metaID,
			Region: n.region, Heartbeat: home.Duration(heartbeat),
		}}
		if err := home.WriteTOML(filepath.Join(n.home, home.NodeConfigFile), cfg); err != nil {
			c.t.Fatal(err)
		}
	}
}

// runContainer starts a node container as the host's user, so the files it
// writes in its bind-mounted home belong to the test.
func (c *cluster) runContainer(name, ip, dir, role string) {
	mustDocker(c.t, "run", "-d", "--name", name, "--label", "stratos-e2e="+c.run,
		"--network", c.network, "--ip", ip,
		"--user", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
		"-v", dir+":/home/stratos", c.image,
		"node", "start", "--role", role, "--home", "/home/stratos")
}

func (c *cluster) start() {
	c.writeConfigs()
	c.runContainer(c.metaName(), c.metaIP(), c.metaHome, home.RoleMeta)
	for _, n := range c.nodes {
		c.runContainer(n.name, n.ip, n.home, home.RoleResource)
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

func (c *cluster) client() *client.Client {
	cfg := client.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner, cfg.Region = c.metaAddr(), c.metaID, "alice", regions[0]
	cfg.RetryFor = 45 * time.Second // outlasts the meta node's restart
	cl, err := client.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// status returns the meta node's status and how many nodes it holds alive.
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

// waitAlive waits until every node in want is alive at the meta node.
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

func (c *cluster) names() []string {
	out := []string{c.metaName()}
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
	if _, err := docker(ctx, "network", "rm", c.network); err != nil {
		c.t.Logf("cleanup: %v", err)
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
