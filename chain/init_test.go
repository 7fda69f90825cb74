package chain_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratos-net/stratos/chain"
)

// Issue 3: "Parameters for a real network default to the whitepaper's (10 s
// blocks, 10-minute traffic periods)".
func TestInitNodeDefaults(t *testing.T) {
	h := t.TempDir()
	id, err := chain.InitNode(chain.NodeConfig{Home: h, Moniker: "val0", ChainID: "stratos-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 40 {
		t.Fatalf("node ID %q", id)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(h, "config", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if c := read("config.toml"); !strings.Contains(c, `timeout_commit = "10s"`) || !strings.Contains(c, `moniker = "val0"`) {
		t.Fatal("config.toml: want 10 s blocks and the moniker")
	}
	if a := read("app.toml"); !strings.Contains(a, `minimum-gas-prices = "`+chain.DefaultMinGasPrices+`"`) {
		t.Fatal("app.toml: want a minimum gas price")
	}
	if g := read("genesis.json"); !strings.Contains(g, `"period_seconds": "600"`) || !strings.Contains(g, `"chain_id": "stratos-1"`) || !strings.Contains(g, `"display": "stos"`) {
		t.Fatal("genesis.json: want x/pot's 600 s periods, the chain ID and the STOS denom")
	}
	if c := read("client.toml"); !strings.Contains(c, `keyring-backend = "os"`) {
		t.Fatal("client.toml: want the os keyring on a real network")
	}
	if _, err := chain.InitNode(chain.NodeConfig{Home: h, Moniker: "val0", ChainID: "stratos-1"}); !errors.Is(err, chain.ErrGenesisExists) {
		t.Fatalf("second init: %v, want ErrGenesisExists", err)
	}
	if _, err := chain.InitNode(chain.NodeConfig{Home: h, Moniker: "val0", ChainID: "stratos-2", Overwrite: true}); err != nil {
		t.Fatalf("init --overwrite: %v", err)
	}
	for _, bad := range []chain.NodeConfig{{Home: h, ChainID: "x"}, {Home: t.TempDir(), Moniker: "m", ChainID: "x", BlockTime: -1}, {Home: t.TempDir(), Moniker: "m", ChainID: "x", MinGasPrices: "lots"}} {
		if _, err := chain.InitNode(bad); err == nil {
			t.Errorf("InitNode(%+v) accepted", bad)
		}
	}
}
