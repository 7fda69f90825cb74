package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratos-net/stratos/chainclient"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/home"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "4k": 4 << 10, "4KiB": 4 << 10, "16MiB": 16 << 20, "1GiB": 1 << 30,
		"1.5GiB": 3 << 29, "2MB": 2e6, " 8 mib ": 8 << 20, "0": 0,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1XB", "1e30GiB", "NaN"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 16 << 20: "16 MiB", 1 << 30: "1 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRemotePaths(t *testing.T) {
	for _, tc := range []struct{ remote, local, want string }{
		{"/videos/a.mp4", "x.mp4", "/videos/a.mp4"},
		{"videos/a.mp4", "x.mp4", "/videos/a.mp4"},
		{"/videos/", "./dir/movie.mp4", "/videos/movie.mp4"},
		{"/", "movie.mp4", "/movie.mp4"},
		{"/in/", "-", "/in/"}, // standard input has no name: the meta node refuses the path
	} {
		if got := remotePath(tc.remote, tc.local); got != tc.want {
			t.Errorf("remotePath(%q, %q) = %q, want %q", tc.remote, tc.local, got, tc.want)
		}
	}
	id := "merkle-sha256-" + strings.Repeat("a", 64)
	if remoteArg(id) != id || remoteArg("a/b") != "/a/b" || remoteArg("/a") != "/a" {
		t.Error("remoteArg must make paths absolute and leave file IDs alone")
	}
}

func TestLocalTarget(t *testing.T) {
	dir := t.TempDir()
	if got := localTarget(dir, "/videos/movie.mp4"); got != filepath.Join(dir, "movie.mp4") {
		t.Errorf("into a directory: %s", got)
	}
	if got := localTarget(filepath.Join(dir, "copy"), "/videos/movie.mp4"); got != filepath.Join(dir, "copy") {
		t.Errorf("to a file name: %s", got)
	}
}

// A failed download leaves nothing at the destination, nor a temporary file.
func TestWriteAtomically(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "out")
	err := writeAtomically(dst, func(w io.Writer) error {
		fmt.Fprint(w, "partial")
		return errors.New("network gone")
	})
	if err == nil {
		t.Fatal("error swallowed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed download left %v", entries)
	}
	if err := writeAtomically(dst, func(w io.Writer) error { _, err := fmt.Fprint(w, "whole"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "whole" {
		t.Fatalf("got %q", b)
	}
}

func TestExplain(t *testing.T) {
	for err, hint := range map[error]string{
		fmt.Errorf("put /x: %w", client.ErrMetaUnavailable): "stratos devnet --home H",
		fmt.Errorf("put /x: %w", client.ErrExists):          "--overwrite",
		fmt.Errorf("put /x: %w", client.ErrNoSpace):         "stratos status --home H",
	} {
		got := explain(err, "H")
		if !errors.Is(got, err) || !strings.Contains(got.Error(), hint) {
			t.Errorf("explain(%v) = %v, want it wrapped with a hint containing %q", err, got, hint)
		}
	}
	if explain(nil, "H") != nil {
		t.Error("explain(nil) must be nil")
	}
}

// DESIGN §2: flags override config.toml.
func TestNodeFlagsOverrideConfig(t *testing.T) {
	dir := t.TempDir()
	err := home.WriteTOML(filepath.Join(dir, home.NodeConfigFile), home.Node{Role: home.RoleResource,
		Resource: &home.Resource{Listen: "127.0.0.1:1", MetaAddr: "127.0.0.1:2", MetaID: "m", Region: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadNodeConfig(nodeFlags{home: dir, listen: "127.0.0.1:9", region: "b"})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Resource
	if r.Listen != "127.0.0.1:9" || r.Region != "b" || r.MetaAddr != "127.0.0.1:2" || r.MetaID != "m" {
		t.Fatalf("config after flags: %+v", r)
	}
	if _, err := loadNodeConfig(nodeFlags{home: dir, role: home.RoleMeta}); !errors.Is(err, errRole) {
		t.Fatalf("--role meta on a resource home: %v", err)
	}
	if _, err := loadNodeConfig(nodeFlags{home: t.TempDir(), role: "validator?"}); !errors.Is(err, errRole) {
		t.Fatalf("unknown role: %v", err)
	}
	if _, err := loadNodeConfig(nodeFlags{home: t.TempDir(), role: home.RoleResource}); err == nil {
		t.Fatal("a new resource node without --meta-addr was accepted")
	}
}

// Issue 8: a meta node of a real network keeps its operator key encrypted;
// started with the test keyring and no test_network it refuses, saying
// what to use, before it opens anything.
func TestMetaNodeRefusesTestKeyring(t *testing.T) {
	dir := t.TempDir()
	m := &home.Meta{Listen: "127.0.0.1:0", ChainGRPC: "127.0.0.1:1", ChainRPC: "tcp://127.0.0.1:2", ChainID: "real-1",
		AnchorKey: "operator", KeyringDir: dir, KeyringBackend: "test"}
	if err := home.WriteTOML(filepath.Join(dir, home.NodeConfigFile), home.Node{Role: home.RoleMeta, Meta: m}); err != nil {
		t.Fatal(err)
	}
	root, err := newRoot()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"node", "start", "--role", "meta", "--home", dir})
	err = root.ExecuteContext(context.Background())
	if !errors.Is(err, chainclient.ErrKeyring) || !strings.Contains(err.Error(), "unencrypted") {
		t.Fatalf("meta node with the test keyring on a real network: %v\n%s", err, out.String())
	}
}
