package index

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// ThinSlices calls fn with the ID of every slice that has fewer than r
// replicas in the index. It reads a page at a time without holding the
// lock across fn, so fn may apply commands. The meta node's repair queue
// is soft state; this scan finds again, after a restart, the slices whose
// repair was under way (DESIGN §5.4).
func (ix *Index) ThinSlices(r int, fn func(sliceID string) error) error {
	return ix.scanPaged([]byte(prefixSlice), func(k, v []byte) error {
		e := new(metav1.SliceEntry)
		if err := proto.Unmarshal(v, e); err != nil {
			return fmt.Errorf("slice record %q: %w", clip(string(k)), err)
		}
		if len(e.GetReplicas()) < r {
			return fn(string(k[len(prefixSlice):]))
		}
		return nil
	})
}
