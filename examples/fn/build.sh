#!/bin/sh
# Builds the example trusted functions to WebAssembly (WASI), with nothing
# but the Go toolchain: examples/fn/<name>/<name>.wasm.
set -eu
cd "$(dirname "$0")"
for dir in */; do
  name=${dir%/}
  GOOS=wasip1 GOARCH=wasm go build -trimpath -o "$name/$name.wasm" "./$name"
  echo "examples/fn/$name/$name.wasm"
done
