#!/usr/bin/env bash
# cluster-local.sh — a three-node Longboat cluster as three processes on
# 127.0.0.1 (docs/operations.md, "Local three-node cluster").
#
#   scripts/cluster-local.sh start       build bin/longboat, start the nodes that are
#                                        not running, init the cluster, wait for /health
#   scripts/cluster-local.sh stop        SIGTERM every node and wait for it to exit
#   scripts/cluster-local.sh status      processes, /health of each node, cluster status
#   scripts/cluster-local.sh kill N      SIGKILL node N (a crash)
#   scripts/cluster-local.sh restart N   stop node N if it runs, start it, wait for /health
#   scripts/cluster-local.sh clean       stop every node and delete the cluster directory
#
# Node N (1..3) listens on 127.0.0.1 with these ports (bases overridable):
#   PostgreSQL  LONGBOAT_PG_PORT_BASE     5433 + N-1   (5433, 5434, 5435)
#   HTTP        LONGBOAT_HTTP_PORT_BASE   8081 + N-1   (/health)
#   Raft        LONGBOAT_RAFT_PORT_BASE   7101 + N-1
#   RPC         LONGBOAT_RPC_PORT_BASE    7201 + N-1
#   gossip      LONGBOAT_GOSSIP_PORT_BASE 7301 + N-1
# Its data is in $LONGBOAT_CLUSTER_DIR/nodeN/data and its log in
# $LONGBOAT_CLUSTER_DIR/nodeN/node.log (default directory: ./longboat-cluster).
# LONGBOAT_BIN names a prebuilt binary (default: build bin/longboat);
# LONGBOAT_WAIT_SECONDS bounds every wait (default 120).
#
# Settings reach each node as LONGBOAT_* environment variables, the same
# names `longboat node start` reads for its flags; only --data-dir is a flag,
# so that `ps` shows which node a process is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${LONGBOAT_CLUSTER_DIR:-$ROOT/longboat-cluster}"
WAIT="${LONGBOAT_WAIT_SECONDS:-120}"
PG_BASE="${LONGBOAT_PG_PORT_BASE:-5433}"
HTTP_BASE="${LONGBOAT_HTTP_PORT_BASE:-8081}"
RAFT_BASE="${LONGBOAT_RAFT_PORT_BASE:-7101}"
RPC_BASE="${LONGBOAT_RPC_PORT_BASE:-7201}"
GOSSIP_BASE="${LONGBOAT_GOSSIP_PORT_BASE:-7301}"
NODES=(1 2 3)
BIN=""

die() { echo "cluster-local: $*" >&2; exit 1; }
say() { echo "cluster-local: $*" >&2; }

port() { # port BASE N
	echo $(($1 + $2 - 1))
}

seeds() {
	local s="" n
	for n in "${NODES[@]}"; do s+="${s:+,}127.0.0.1:$(port "$GOSSIP_BASE" "$n")"; done
	echo "$s"
}

node_dir() { echo "$DIR/node$1"; }

check_node() {
	[[ "${1:-}" =~ ^[1-3]$ ]] || die "node must be 1, 2 or 3 (got '${1:-}')"
}

resolve_bin() {
	if [[ -n "${LONGBOAT_BIN:-}" ]]; then
		BIN="$LONGBOAT_BIN"
	else
		BIN="$ROOT/bin/longboat"
		if [[ "${1:-}" == build ]]; then
			say "building $BIN"
			make -s -C "$ROOT" build >&2
		fi
	fi
	[[ -x "$BIN" ]] || die "no binary at $BIN (run: make build)"
	BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
}

# cluster_capable: does this binary have the cluster commands? Until it does,
# the three nodes run as three independent single-node databases (the
# cluster settings are environment variables, which older binaries ignore).
cluster_capable() {
	"$BIN" cluster init --help >/dev/null 2>&1
}

# pid_of N prints node N's pid if that process is alive and is this node's
# longboat (the pid file may be stale and its pid reused).
pid_of() {
	local f pid
	f="$(node_dir "$1")/pid"
	[[ -f "$f" ]] || return 1
	pid="$(<"$f")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--data-dir $(node_dir "$1")/data" || return 1
	echo "$pid"
}

# alive PID: the process exists and has not exited (a node this script just
# started is its child, and stays a zombie until the script exits).
alive() {
	local state
	state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
	[[ -n "$state" && "$state" != Z ]]
}

# http_code N prints the HTTP status of node N's /health (000: no answer).
http_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$(port "$HTTP_BASE" "$1")/health" || true
}

launch() {
	local n="$1" d
	d="$(node_dir "$n")"
	mkdir -p "$d/data"
	# setsid: the node keeps running when the shell that started it gets a ^C.
	# Unset LONGBOAT_* from the caller's environment first, so that settings
	# meant for this script (or a stray LONGBOAT_DATA_DIR) never reach a node.
	env $(env | sed -n 's/^\(LONGBOAT_[A-Z0-9_]*\)=.*/-u \1/p') \
		LONGBOAT_NODE_ID="$n" \
		LONGBOAT_PG_ADDR="127.0.0.1:$(port "$PG_BASE" "$n")" \
		LONGBOAT_HTTP_ADDR="127.0.0.1:$(port "$HTTP_BASE" "$n")" \
		LONGBOAT_RAFT_ADDR="127.0.0.1:$(port "$RAFT_BASE" "$n")" \
		LONGBOAT_RPC_ADDR="127.0.0.1:$(port "$RPC_BASE" "$n")" \
		LONGBOAT_GOSSIP_ADDR="127.0.0.1:$(port "$GOSSIP_BASE" "$n")" \
		LONGBOAT_SEEDS="$(seeds)" \
		LONGBOAT_LOG_LEVEL="${LONGBOAT_LOG_LEVEL:-info}" \
		setsid "$BIN" node start --data-dir "$d/data" </dev/null >>"$d/node.log" 2>&1 &
	echo $! >"$d/pid"
	say "node $n started (pid $!, log $d/node.log)"
}

# wait_for N WHAT: WHAT is "http" (any answer) or "healthy" (200).
wait_for() {
	local n="$1" what="$2" deadline code pid
	deadline=$((SECONDS + WAIT))
	# Not pid_of: right after launch the child may not have exec'd longboat yet.
	pid="$(<"$(node_dir "$n")/pid")"
	while :; do
		code="$(http_code "$n")"
		if [[ "$what" == http && "$code" != 000 ]] || [[ "$code" == 200 ]]; then
			return 0
		fi
		if ! alive "$pid"; then
			tail -n 20 "$(node_dir "$n")/node.log" >&2 || true
			die "node $n exited (log above: $(node_dir "$n")/node.log)"
		fi
		if ((SECONDS >= deadline)); then
			curl -s --max-time 2 "http://127.0.0.1:$(port "$HTTP_BASE" "$n")/health" >&2 || true
			die "node $n: no $what /health after ${WAIT}s (log: $(node_dir "$n")/node.log)"
		fi
		sleep 0.5
	done
}

init_cluster() {
	local deadline out
	deadline=$((SECONDS + WAIT))
	# Init is idempotent: sent again to an initialised cluster it succeeds.
	until out="$("$BIN" cluster init --host "127.0.0.1:$(port "$RPC_BASE" 1)" --meta-nodes 1,2,3 2>&1)"; do
		((SECONDS < deadline)) || die "cluster init failed for ${WAIT}s: $out"
		sleep 1
	done
	[[ -z "$out" ]] || say "$out"
}

stop_node() {
	local n="$1" pid deadline
	pid="$(pid_of "$n")" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	deadline=$((SECONDS + WAIT))
	while alive "$pid"; do
		if ((SECONDS >= deadline)); then
			say "node $n (pid $pid) did not stop in ${WAIT}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	rm -f "$(node_dir "$n")/pid"
	say "node $n stopped"
}

cmd_start() {
	resolve_bin build
	local n
	for n in "${NODES[@]}"; do
		if pid_of "$n" >/dev/null; then
			say "node $n already running"
		else
			launch "$n"
		fi
	done
	for n in "${NODES[@]}"; do wait_for "$n" http; done
	if cluster_capable; then
		init_cluster
	else
		say "this binary has no cluster commands: the nodes run as three independent single-node databases"
	fi
	for n in "${NODES[@]}"; do wait_for "$n" healthy; done
	for n in "${NODES[@]}"; do
		echo "node $n: postgres://longboat@127.0.0.1:$(port "$PG_BASE" "$n")/longboat  http://127.0.0.1:$(port "$HTTP_BASE" "$n")/health"
	done
}

cmd_stop() {
	local n
	for n in "${NODES[@]}"; do stop_node "$n"; done
}

cmd_status() {
	resolve_bin
	local n pid body rc=0 first=""
	for n in "${NODES[@]}"; do
		if pid="$(pid_of "$n")"; then
			body="$(curl -s --max-time 2 "http://127.0.0.1:$(port "$HTTP_BASE" "$n")/health" || echo '(no answer)')"
			echo "node $n: running pid $pid pg 127.0.0.1:$(port "$PG_BASE" "$n") health $body"
			first="${first:-$n}"
		else
			echo "node $n: not running"
			rc=1
		fi
	done
	if [[ -n "$first" ]] && cluster_capable; then
		"$BIN" cluster status --host "127.0.0.1:$(port "$RPC_BASE" "$first")" || rc=1
	fi
	return "$rc"
}

cmd_kill() {
	check_node "${1:-}"
	local pid
	pid="$(pid_of "$1")" || die "node $1 is not running"
	kill -KILL "$pid"
	while alive "$pid"; do sleep 0.1; done
	rm -f "$(node_dir "$1")/pid"
	say "node $1 killed (SIGKILL, pid $pid)"
}

cmd_restart() {
	check_node "${1:-}"
	resolve_bin
	stop_node "$1"
	launch "$1"
	wait_for "$1" healthy
}

cmd_clean() {
	cmd_stop
	rm -rf -- "$DIR"
	say "removed $DIR"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
kill) cmd_kill "${2:-}" ;;
restart) cmd_restart "${2:-}" ;;
clean) cmd_clean ;;
*)
	sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
