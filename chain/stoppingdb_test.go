package chain

import (
	"testing"

	cmtdb "github.com/cometbft/cometbft-db"
)

// A read that races a node's shutdown gets "not found", not the error that
// made CometBFT's block store panic; a write after Close still fails.
func TestStoppingDBReadAfterCloseIsNotFound(t *testing.T) {
	db, err := cmtdb.NewGoLevelDB("blockstore", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := &stoppingDB{DB: db}
	if err := d.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("open: %q, %v", v, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get([]byte("k")); err == nil {
		t.Fatal("the underlying database still reads after Close; the test proves nothing")
	}
	if v, err := d.Get([]byte("k")); err != nil || v != nil {
		t.Fatalf("after close: %q, %v", v, err)
	}
	if ok, err := d.Has([]byte("k")); err != nil || ok {
		t.Fatalf("has after close: %v, %v", ok, err)
	}
	if err := d.Set([]byte("k"), []byte("w")); err == nil {
		t.Fatal("a write after Close succeeded")
	}
}
