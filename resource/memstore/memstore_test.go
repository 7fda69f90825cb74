package memstore_test

import (
	"testing"

	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/memstore"
	"github.com/stratos-net/stratos/resource/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, capacity uint64) resource.SliceStore {
		s := memstore.New(memstore.Options{Capacity: capacity})
		t.Cleanup(func() { s.Close() })
		return s
	})
}
