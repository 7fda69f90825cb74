package disk

import (
	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/pebblekv"
)

func openPebble(dir string) (kv.Store, error) {
	return pebblekv.Open(dir, pebblekv.DefaultOptions())
}
