# Longboat — the two commands: `make run` starts a node, `make test` runs the tests.
GO ?= go

.PHONY: run build test test-short lint bench-tsbs

run:
	$(GO) run ./cmd/longboat node start

build:
	CGO_ENABLED=0 $(GO) build -o bin/longboat ./cmd/longboat

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
