#!/usr/bin/env bash
# Regenerate the Go code for Longboat's protobuf files. The generated files are
# committed, so building and testing never need this script; run it after
# editing a .proto file and commit the .proto together with its output.
#
#   scripts/gen-proto.sh
#
# protoc comes from Debian's protobuf-compiler (installed with apt-get when
# missing). The Go plugins are pinned below and installed with `go install` into
# a temporary GOBIN, so nothing is left on PATH and the output does not depend
# on whatever plugin versions happen to be installed on the machine.
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12      # keep equal to google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2   # generated code needs grpc >= v1.64 (go.mod has v1.85.0)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v protoc >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "gen-proto: protoc missing; install protobuf-compiler or run as root" >&2
      exit 1
    fi
  else
    SUDO=
  fi
  echo "gen-proto: installing protobuf-compiler"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends protobuf-compiler
fi

gobin="$(mktemp -d)"
trap 'rm -rf "$gobin"' EXIT
GOBIN="$gobin" GOFLAGS= go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
GOBIN="$gobin" GOFLAGS= go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"

# Every .proto under server/ is generated next to itself (paths=source_relative).
mapfile -t protos < <(find server -name '*.proto' | sort)
if [ ${#protos[@]} -eq 0 ]; then
  echo "gen-proto: no .proto files found" >&2
  exit 1
fi
PATH="$gobin:$PATH" protoc \
  --proto_path=. \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  "${protos[@]}"
echo "gen-proto: $(protoc --version); protoc-gen-go ${PROTOC_GEN_GO_VERSION}; protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION}"
echo "gen-proto: generated ${protos[*]}"
