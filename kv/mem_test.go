package kv_test

import (
	"testing"

	"github.com/stratos-net/stratos/kv"
	"github.com/stratos-net/stratos/kv/kvtest"
)

func TestMem(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store { return kv.NewMem() })
}
