// Package wasmtest builds Go packages as WASI modules for tests, with
// nothing but the Go toolchain (GOOS=wasip1 GOARCH=wasm), as a developer
// builds a trusted function.
package wasmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles the Go package at pkg (a path the go command takes, such as
// "../../examples/fn/hello") and returns the module's file.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg)+".wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s for wasip1: %v\n%s", pkg, err, b)
	}
	return out
}

// Module is Build's module, read.
func Module(t testing.TB, pkg string) []byte {
	t.Helper()
	b, err := os.ReadFile(Build(t, pkg))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
