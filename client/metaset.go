package client

import (
	"fmt"

	"github.com/stratos-net/stratos/wire"
)

// MetaNode is a meta node a client may call.
type MetaNode = wire.Member

// metaNodes is the configured list: MetaAddr and MetaID first, then Metas,
// each node once.
func (c Config) metaNodes() ([]MetaNode, error) {
	var out []MetaNode
	seen := map[string]bool{}
	for _, n := range append([]MetaNode{{ID: c.MetaID, Addr: c.MetaAddr}}, c.Metas...) {
		if n.ID == "" && n.Addr == "" {
			continue
		}
		if n.ID == "" || n.Addr == "" {
			return nil, fmt.Errorf("%w: config: meta node %q at %q needs both an ID and an address", ErrInvalid, n.ID, n.Addr)
		}
		if !seen[n.ID] {
			seen[n.ID] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: config: no meta node (MetaAddr and MetaID, or Metas)", ErrInvalid)
	}
	return out, nil
}
