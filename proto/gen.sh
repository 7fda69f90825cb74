#!/usr/bin/env bash
# Regenerates the Go code for every .proto under proto/.
#
# Two generators, because two protobuf worlds meet in this binary:
# - the storage network (stratos/meta, stratos/storage) uses the standard
#   protoc-gen-go and protoc-gen-go-grpc, code beside the .proto files;
# - the chain modules (stratos/register, stratos/sds, stratos/pot, stratos/trustedfn) use the
#   Cosmos SDK's gogoproto (protoc-gen-gocosmos), code in x/<module>/types.
#
# Needs protoc (Debian: protobuf-compiler) and the plugins:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
#   go install github.com/cosmos/gogoproto/protoc-gen-gocosmos@v1.7.2
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/proto"
PATH="$(go env GOPATH)/bin:$PATH"

storage=$(find stratos/meta stratos/storage -name '*.proto' | sort)
protoc -I . \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  $storage

sdk=$(cd "$root" && go list -m -f '{{.Dir}}' github.com/cosmos/cosmos-sdk)
gogo=$(cd "$root" && go list -m -f '{{.Dir}}' github.com/cosmos/gogoproto)
cosmosproto=$(cd "$root" && go list -m -f '{{.Dir}}' github.com/cosmos/cosmos-proto)
module=$(cd "$root" && go list -m)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for dir in stratos/register/v1 stratos/sds/v1 stratos/pot/v1 stratos/trustedfn/v1; do
  [ -d "$dir" ] || continue
  protoc -I . -I "$sdk/proto" -I "$gogo" -I "$cosmosproto/proto" -I /usr/include \
    --gocosmos_out=plugins=grpc,Mgoogle/protobuf/any.proto=github.com/cosmos/gogoproto/types/any:"$out" \
    "$dir"/*.proto
done
if [ -d "$out/$module" ]; then
  cp -r "$out/$module/." "$root/"
fi
