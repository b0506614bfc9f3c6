#!/usr/bin/env bash
# docker-cluster.sh — the three-node Docker Compose cluster of
# docker-compose.yml (docs/operations.md, "Docker Compose cluster").
#
#   scripts/docker-cluster.sh build      static bin/longboat + the FROM-scratch image
#   scripts/docker-cluster.sh up         build, start node1..node3, init, wait for /health
#   scripts/docker-cluster.sh status     containers, /health of each node, cluster status
#   scripts/docker-cluster.sh cut N      disconnect node N from the cluster network
#   scripts/docker-cluster.sh heal N     reconnect node N (its name and fixed address)
#   scripts/docker-cluster.sh kill N     SIGKILL node N's container (a crash)
#   scripts/docker-cluster.sh start N    start node N's container again, wait for /health
#   scripts/docker-cluster.sh down       remove containers, network and volumes (down -v)
#
# Environment: LONGBOAT_BIN (a prebuilt static binary to put in the image
# instead of running `make build`), LONGBOAT_IMAGE (default longboat:latest), LONGBOAT_COMPOSE_PROJECT
# (default longboat), LONGBOAT_HTTP_PORT_1..3 and LONGBOAT_PG_PORT_1..3 (host
# loopback ports, defaults 8081-8083 and 5433-5435), LONGBOAT_SUBNET_PREFIX
# (the cluster network's /24, default 10.213.83), LONGBOAT_WAIT_SECONDS
# (default 120). Works with docker-compose v1 and with `docker compose` v2.
# Nothing is pulled: the engine needs no registry.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="${LONGBOAT_COMPOSE_PROJECT:-longboat}"
export LONGBOAT_IMAGE="${LONGBOAT_IMAGE:-longboat:latest}"
WAIT="${LONGBOAT_WAIT_SECONDS:-120}"
NETWORK="${PROJECT}_cluster" # compose names it <project>_<network> (v1 and v2)
NODES=(1 2 3)

die() { echo "docker-cluster: $*" >&2; exit 1; }
say() { echo "docker-cluster: $*" >&2; }

check_node() {
	[[ "${1:-}" =~ ^[1-3]$ ]] || die "node must be 1, 2 or 3 (got '${1:-}')"
}

compose() {
	if command -v docker-compose >/dev/null 2>&1; then
		docker-compose -f "$ROOT/docker-compose.yml" -p "$PROJECT" "$@"
	else
		docker compose -f "$ROOT/docker-compose.yml" -p "$PROJECT" "$@"
	fi
}

http_port() {
	local v="LONGBOAT_HTTP_PORT_$1"
	echo "${!v:-$((8080 + $1))}"
}

pg_port() {
	local v="LONGBOAT_PG_PORT_$1"
	echo "${!v:-$((5432 + $1))}"
}

container() { # container N prints node N's container id
	local id
	id="$(compose ps -q "node$1")"
	[[ -n "$id" ]] || die "node$1 has no container (run: $0 up)"
	echo "$id"
}

# lb N ARGS... runs the longboat binary inside node N's container (the image
# has no shell: exec runs /longboat directly). It works while node N is cut
# off the network too: exec goes through the engine, and 127.0.0.1 is the
# container's own loopback.
lb() {
	local n="$1"
	shift
	compose exec -T "node$n" /longboat "$@"
}

cluster_capable() {
	lb "$1" cluster init --help >/dev/null 2>&1
}

http_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$(http_port "$1")/health" || true
}

# wait_for N WHAT: WHAT is "http" (any answer) or "healthy" (200).
wait_for() {
	local n="$1" what="$2" deadline code running
	deadline=$((SECONDS + WAIT))
	while :; do
		code="$(http_code "$n")"
		if [[ "$what" == http && "$code" != 000 ]] || [[ "$code" == 200 ]]; then
			return 0
		fi
		running="$(docker inspect -f '{{.State.Running}}' "$(container "$n")")"
		if [[ "$running" != true ]]; then
			compose logs --tail 20 "node$n" >&2 || true
			die "node$n exited"
		fi
		if ((SECONDS >= deadline)); then
			compose logs --tail 20 "node$n" >&2 || true
			die "node$n: no $what /health after ${WAIT}s (last HTTP status $code)"
		fi
		sleep 0.5
	done
}

cmd_build() {
	if [[ -n "${LONGBOAT_BIN:-}" ]]; then
		# A prebuilt binary; it must be static (CGO_ENABLED=0): the image has no libc.
		[[ -x "$LONGBOAT_BIN" ]] || die "LONGBOAT_BIN=$LONGBOAT_BIN is not an executable"
		mkdir -p "$ROOT/bin"
		if [[ ! "$LONGBOAT_BIN" -ef "$ROOT/bin/longboat" ]]; then
			cp "$LONGBOAT_BIN" "$ROOT/bin/longboat"
		fi
	else
		say "building the static binary (bin/longboat)"
		make -s -C "$ROOT" build >&2
	fi
	# The image's only directories besides /: /data (the volume) and /tmp,
	# owned by the node's non-root user (see Dockerfile).
	rm -rf "$ROOT/bin/image-root"
	mkdir -p "$ROOT/bin/image-root/data" "$ROOT/bin/image-root/tmp"
	say "building image $LONGBOAT_IMAGE"
	docker build -q -t "$LONGBOAT_IMAGE" "$ROOT" >&2
	# A rebuild leaves the previous image untagged: remove those (only
	# Longboat's, by label; dangling images only).
	docker image prune -f --filter label=org.opencontainers.image.title=longboat >/dev/null
}

cmd_up() {
	cmd_build
	compose up -d
	local n
	for n in "${NODES[@]}"; do wait_for "$n" http; done
	if cluster_capable 1; then
		local deadline out
		deadline=$((SECONDS + WAIT))
		# Idempotent: init sent again to an initialised cluster succeeds.
		until out="$(lb 1 cluster init --host 127.0.0.1:7200 --meta-nodes 1,2,3 2>&1)"; do
			((SECONDS < deadline)) || die "cluster init failed for ${WAIT}s: $out"
			sleep 1
		done
		[[ -z "$out" ]] || say "$out"
	else
		say "this image has no cluster commands: the nodes run as three independent single-node databases"
	fi
	for n in "${NODES[@]}"; do wait_for "$n" healthy; done
	for n in "${NODES[@]}"; do
		echo "node$n: postgres://longboat@127.0.0.1:$(pg_port "$n")/longboat  http://127.0.0.1:$(http_port "$n")/health"
	done
}

cmd_status() {
	compose ps
	local n body rc=0 first=""
	for n in "${NODES[@]}"; do
		body="$(curl -s --max-time 2 "http://127.0.0.1:$(http_port "$n")/health")" || { body="(no answer)"; rc=1; }
		echo "node$n: health $body"
		if [[ -z "$first" && "$body" != "(no answer)" ]]; then first="$n"; fi
	done
	if [[ -n "$first" ]] && cluster_capable "$first"; then
		lb "$first" cluster status --host 127.0.0.1:7200 || rc=1
	fi
	return "$rc"
}

cmd_cut() {
	check_node "${1:-}"
	docker network disconnect "$NETWORK" "$(container "$1")"
	say "node$1 disconnected from $NETWORK"
}

cmd_heal() {
	check_node "${1:-}"
	# Reconnect under the service name, so that node$1 resolves again, and
	# with its fixed address (docker-compose.yml).
	docker network connect --alias "node$1" --ip "${LONGBOAT_SUBNET_PREFIX:-10.213.83}.1$1" \
		"$NETWORK" "$(container "$1")"
	say "node$1 reconnected to $NETWORK"
}

cmd_kill() {
	check_node "${1:-}"
	docker kill -s KILL "$(container "$1")" >/dev/null
	say "node$1 killed (SIGKILL)"
}

cmd_start() {
	check_node "${1:-}"
	compose start "node$1"
	wait_for "$1" healthy
}

cmd_down() {
	compose down -v --remove-orphans
}

case "${1:-}" in
build) cmd_build ;;
up) cmd_up ;;
status) cmd_status ;;
cut) cmd_cut "${2:-}" ;;
heal) cmd_heal "${2:-}" ;;
kill) cmd_kill "${2:-}" ;;
start) cmd_start "${2:-}" ;;
down) cmd_down ;;
*)
	sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
