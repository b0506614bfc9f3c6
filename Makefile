# Longboat — the two commands: `make run` starts a node, `make test` runs the tests.
GO ?= go

.PHONY: run build image cluster-local cluster-docker test test-short lint bench-tsbs

run:
	$(GO) run ./cmd/longboat node start

# build makes a static binary (no cgo; zone data embedded, since the image
# has no /usr/share/zoneinfo), the one that goes into the Docker image.
build:
	CGO_ENABLED=0 $(GO) build -tags timetzdata -ldflags='-s -w' -o bin/longboat ./cmd/longboat

# image builds the FROM-scratch Docker image longboat:latest (no registry
# needed; see Dockerfile and docs/operations.md).
image:
	scripts/docker-cluster.sh build

# cluster-local starts a three-process cluster on 127.0.0.1
# (scripts/cluster-local.sh stop|status|kill N|restart N|clean for the rest).
cluster-local:
	scripts/cluster-local.sh start

# cluster-docker starts the three-node Docker Compose cluster
# (scripts/docker-cluster.sh status|cut N|heal N|kill N|start N|down).
cluster-docker:
	scripts/docker-cluster.sh up

# test installs what the tests need (PostgreSQL 15 and the real clients:
# psycopg2, pgjdbc, node-postgres; via apt-get, a no-op once installed), then
# runs every test, lint included.
test:
	scripts/install-deps.sh python java node
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...

test-short:
	$(GO) test -short -count=1 ./...

bench-tsbs: build
	scripts/bench-tsbs.sh
