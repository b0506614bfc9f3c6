#!/usr/bin/env bash
# bench-tsbs.sh — TSBS cpu-only, Longboat against PostgreSQL 15, in one run.
#
#   scripts/bench-tsbs.sh [--cluster] [-- extra `longboat bench tsbs` flags]
#
# Starts a throwaway PostgreSQL 15 (scripts/pg-start.sh) and a single
# Longboat node, loads the TSBS data into both in the same run and runs the
# 15 query types against both (`longboat bench tsbs`; ratios single/PG).
#
# With --cluster it also starts a three-node cluster on loopback
# (scripts/cluster-local.sh, replicas = 3) and loads it in the same run
# (targets in load order: cluster, single, postgres). Then a fourth node
# joins the cluster. It holds no replica (joining after the shards were
# placed), so it leads nothing, and every fragment of a query sent to it
# runs on another node. The queries run through it and through the single
# node (ratios: cluster via node 4 / single node).
#
# Everything lives under $BENCH_DIR (default: a new temp dir) and is stopped
# on exit. Ports: PostgreSQL 54329, single node 5533/8180/7190, cluster
# 5543+/8191+/7191+/7291+/7391+ (node 4: 5546/8194/7194/7294/7394).
# Results: $BENCH_DIR/*.json and the printed tables.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER=0
EXTRA=()
while (($#)); do
	case "$1" in
	--cluster) CLUSTER=1 ;;
	--) shift; EXTRA=("$@"); break ;;
	*) echo "usage: $0 [--cluster] [-- bench flags]" >&2; exit 2 ;;
	esac
	shift
done

if [[ -n "${BENCH_DIR:-}" ]]; then
	DIR=$BENCH_DIR
	mkdir -p "$DIR"
else
	# mktemp makes the directory 0700: open it, or PostgreSQL (run as the
	# postgres user when this script runs as root) cannot reach its
	# data directory inside.
	DIR=$(mktemp -d /tmp/longboat-bench.XXXXXX)
	chmod 0755 "$DIR"
fi
BIN="$ROOT/bin/longboat"
[[ -x "$BIN" ]] || make -s -C "$ROOT" build
say() { echo "bench-tsbs: $*" >&2; }

PIDS=()
cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if ((CLUSTER)); then
		LONGBOAT_CLUSTER_DIR="$DIR/cluster" LONGBOAT_BIN="$BIN" cluster_env "$ROOT/scripts/cluster-local.sh" stop >/dev/null 2>&1
	fi
	"$ROOT/scripts/pg-stop.sh" "$DIR/pg" >/dev/null 2>&1
}
trap cleanup EXIT

cluster_env() {
	LONGBOAT_PG_PORT_BASE=5543 LONGBOAT_HTTP_PORT_BASE=8191 LONGBOAT_RAFT_PORT_BASE=7191 \
		LONGBOAT_RPC_PORT_BASE=7291 LONGBOAT_GOSSIP_PORT_BASE=7391 "$@"
}

wait_healthy() { # wait_healthy HTTP_ADDR WHAT
	for _ in $(seq 1 240); do
		if curl -fs -o /dev/null --max-time 2 "http://$1/health"; then return 0; fi
		sleep 0.5
	done
	say "$2 did not become healthy (http://$1/health)"
	exit 1
}

say "directory $DIR"
"$ROOT/scripts/pg-start.sh" 54329 "$DIR/pg" >"$DIR/pg-start.log" 2>&1 || { cat "$DIR/pg-start.log" >&2; exit 1; }
PG=postgres://postgres@127.0.0.1:54329/tsbs

"$BIN" node start --data-dir "$DIR/single" --pg-addr 127.0.0.1:5533 --http-addr 127.0.0.1:8180 \
	--raft-addr 127.0.0.1:7190 >"$DIR/single.log" 2>&1 &
PIDS+=($!)
wait_healthy 127.0.0.1:8180 "the single node"
SINGLE=postgres://longboat@127.0.0.1:5533/longboat

if ((CLUSTER == 0)); then
	"$BIN" bench tsbs --load --target "longboat=$SINGLE" --target "postgres=$PG" \
		--size "longboat=$DIR/single" --json "$DIR/tsbs.json" "${EXTRA[@]}"
	exit 0
fi

LONGBOAT_CLUSTER_DIR="$DIR/cluster" LONGBOAT_BIN="$BIN" cluster_env "$ROOT/scripts/cluster-local.sh" start
CLUSTER_URL=postgres://longboat@127.0.0.1:5543/longboat
say "load: 3-node cluster (replicas 3, through node 1), single node, PostgreSQL"
"$BIN" bench tsbs --load --queries none --target "cluster3=$CLUSTER_URL" --target "single=$SINGLE" \
	--target "postgres=$PG" --json "$DIR/load.json" "${EXTRA[@]}"

say "node 4 joins (it gets no replica: the shards exist already)"
mkdir -p "$DIR/cluster/node4"
"$BIN" node start --node-id 4 --data-dir "$DIR/cluster/node4/data" --pg-addr 127.0.0.1:5546 \
	--http-addr 127.0.0.1:8194 --raft-addr 127.0.0.1:7194 --rpc-addr 127.0.0.1:7294 \
	--gossip-addr 127.0.0.1:7394 --seeds 127.0.0.1:7391,127.0.0.1:7392,127.0.0.1:7393 \
	>"$DIR/cluster/node4/node.log" 2>&1 &
PIDS+=($!)
wait_healthy 127.0.0.1:8194 "node 4"
"$BIN" cluster status --host 127.0.0.1:7294
psql -X -qAt "postgres://longboat@127.0.0.1:5546/longboat" \
	-c "SELECT 'node 4 replicas: ' || replicas FROM longboat.nodes WHERE node_id = 4"

say "queries: through node 4 (leads nothing), through the single node, and PostgreSQL"
"$BIN" bench tsbs --target "cluster-via-node4=postgres://longboat@127.0.0.1:5546/longboat" \
	--target "single=$SINGLE" --json "$DIR/queries-cluster.json" "${EXTRA[@]}"
"$BIN" bench tsbs --target "single=$SINGLE" --target "postgres=$PG" --json "$DIR/queries-single.json" "${EXTRA[@]}"
