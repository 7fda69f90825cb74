package home_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratos-net/stratos/home"
)

func TestResourceScrubSettings(t *testing.T) {
	// scrub_rate = 0 turns scrubbing off, so it must be told apart from a
	// config.toml that does not mention it (the default rate).
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		toml     string
		rate     *uint64
		interval time.Duration
	}{
		"absent":   {toml: "", rate: nil},
		"off":      {toml: "scrub_rate = 0\n", rate: new(uint64(0))},
		"set":      {toml: "scrub_rate = 1048576\nscrub_interval = \"6h\"\n", rate: new(uint64(1 << 20)), interval: 6 * time.Hour},
		"interval": {toml: "scrub_interval = \"1h30m\"\n", interval: 90 * time.Minute},
	} {
		path := filepath.Join(dir, name+".toml")
		text := "role = \"resource\"\n[resource]\nlisten = \"127.0.0.1:0\"\nmeta_addr = \"m:1\"\nmeta_id = \"m\"\n" + tc.toml
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		var n home.Node
		if err := home.ReadTOML(path, &n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := n.Resource
		if (r.ScrubRate == nil) != (tc.rate == nil) || (r.ScrubRate != nil && *r.ScrubRate != *tc.rate) || time.Duration(r.ScrubInterval) != tc.interval {
			t.Errorf("%s: scrub_rate %v, scrub_interval %s; want %v, %s", name, r.ScrubRate, time.Duration(r.ScrubInterval), tc.rate, tc.interval)
		}
		// Written back, the settings read the same.
		if err := home.WriteTOML(path, n); err != nil {
			t.Fatal(err)
		}
		var again home.Node
		if err := home.ReadTOML(path, &again); err != nil {
			t.Fatal(err)
		}
		if (again.Resource.ScrubRate == nil) != (r.ScrubRate == nil) || again.Resource.ScrubInterval != r.ScrubInterval {
			t.Errorf("%s: written and read back as %+v", name, again.Resource)
		}
	}
}
