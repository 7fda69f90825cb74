package memstore_test

import (
	"testing"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/memstore"
	"github.com/stratos-net/stratos/resource/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts storetest.Options) resource.SliceStore {
		s := memstore.New(memstore.Options{Capacity: opts.Capacity, Now: opts.Now})
		t.Cleanup(func() { s.Close() })
		return s
	})
}
