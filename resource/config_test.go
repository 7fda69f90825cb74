package resource_test

import (
	"errors"
	"testing"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/memstore"
)

func TestConfigValidate(t *testing.T) {
	good := resource.DefaultConfig()
	good.DataDir, good.MetaAddr, good.MetaID = t.TempDir(), "127.0.0.1:1", "meta"
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*resource.Config){
		"no listen":                 func(c *resource.Config) { c.Listen = "" },
		"no meta address":           func(c *resource.Config) { c.MetaAddr = "" },
		"no meta ID":                func(c *resource.Config) { c.MetaID = "" },
		"no capacity":               func(c *resource.Config) { c.DataDir, c.Capacity = "", 0 },
		"negative grace":            func(c *resource.Config) { c.OrphanGrace = -1 },
		"negative repairs":          func(c *resource.Config) { c.Repairs = -1 },
		"negative idle":             func(c *resource.Config) { c.StoreIdleTimeout = -1 },
		"negative stores":           func(c *resource.Config) { c.MaxStores = -1 },
		"negative scrub":            func(c *resource.Config) { c.ScrubInterval = -1 },
		"negative per-user fetches": func(c *resource.Config) { c.MaxFetchesPerUser = -1 },
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, resource.ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
}

func TestNewCapacityFromFreeSpace(t *testing.T) {
	cfg := resource.DefaultConfig()
	cfg.DataDir, cfg.MetaAddr, cfg.MetaID = t.TempDir(), "127.0.0.1:1", "meta"
	n, err := resource.New(cfg, mustKey(t), memstore.New(memstore.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if n.Capacity() == 0 {
		t.Fatal("capacity 0 with a data directory on a real filesystem")
	}
	if _, err := resource.New(cfg, nil, memstore.New(memstore.Options{})); !errors.Is(err, resource.ErrConfig) {
		t.Fatalf("New without a key: err = %v", err)
	}
}
