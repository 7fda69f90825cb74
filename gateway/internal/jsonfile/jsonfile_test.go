package jsonfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// What one process saves another sees on its next Load; a missing file is
// the zero value; the file is its owner's alone.
func TestLoadSeesAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "doc.json")
	a, b := New[[]string](path, "doc"), New[[]string](path, "doc")
	if v, err := b.Load(); err != nil || v != nil {
		t.Fatalf("missing file: %v, %v", v, err)
	}
	if err := a.Save([]string{"one"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Load(); len(v) != 1 || v[0] != "one" {
		t.Fatalf("after the first save: %v", v)
	}
	time.Sleep(10 * time.Millisecond) // a new mtime
	a.Save([]string{"one", "two"})
	if v, _ := b.Load(); len(v) != 2 {
		t.Fatalf("after the second save: %v", v)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v, %v", fi, err)
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := b.Load(); err == nil {
		t.Fatal("a corrupt file loaded")
	}
}
