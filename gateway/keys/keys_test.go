package keys

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateLookupRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway", "keys.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Create("user", "st1user", time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.AccessKey) != 20 || len(k.SecretKey) != 40 {
		t.Fatalf("key %+v: want a 20-character ID and a 40-character secret", k)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v, %v; want mode 0600", fi, err)
	}
	// Another process (the running gateway) sees the new key.
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := other.Lookup(k.AccessKey); err != nil || got != k {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if _, err := other.Lookup("STRNOPE"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown key: %v", err)
	}
	if err := s.Revoke(k.AccessKey); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Lookup(k.AccessKey); !errors.Is(err, ErrUnknown) {
		t.Fatalf("revoked key still found: %v", err)
	}
	if err := s.Revoke(k.AccessKey); !errors.Is(err, ErrUnknown) {
		t.Fatalf("revoke twice: %v", err)
	}
}

func TestCorruptFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("a corrupt keys file opened")
	}
}
