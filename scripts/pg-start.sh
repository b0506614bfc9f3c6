#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster for benchmarks and differential tests.
#
#   scripts/pg-start.sh <port> <dir> [setup.sql]
#
# - initdb into <dir> (must be empty or absent; an existing cluster in <dir> is
#   just started again) with --locale=C --encoding=UTF8 so text sorts bytewise
#   like Longboat, trust auth, TimeZone UTC;
# - listens on 127.0.0.1:<port> only, unix socket in <dir>;
# - runs as user "postgres" (via runuser) when invoked as root;
# - waits until ready, creates database "tsbs" and applies setup.sql (default:
#   postgres-setup.sql from $LONGBOAT_TSBS_DIR or ../shared/bench/tsbs relative
#   to the repository) to it.
# Extra postgresql.conf lines may be passed in $PG_EXTRA_CONF.
# Stop with scripts/pg-stop.sh <dir>.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 <port> <dir> [setup.sql]" >&2
  exit 2
fi
port=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
tsbs=${LONGBOAT_TSBS_DIR:-$repo/../shared/bench/tsbs}
[ -d "$tsbs" ] || tsbs=/work/shared/bench/tsbs  # the workplace keeps it there
setup=${3:-$tsbs/postgres-setup.sql}

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/pg_ctl" ]; then
  echo "pg-start: $PGBIN/pg_ctl not found: run scripts/install-deps.sh (as root) first" >&2
  exit 1
fi
if [ ! -r "$setup" ]; then
  echo "pg-start: setup file $setup not readable" >&2
  exit 1
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# as_pg runs a command as the cluster owner.
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  chmod 0700 "$dir"
  as_pg() { runuser -u postgres -- "$@"; }
  if ! as_pg test -w "$dir"; then
    echo "pg-start: user postgres cannot write $dir (a parent directory is not searchable?)" >&2
    exit 1
  fi
else
  as_pg() { "$@"; }
fi

if [ ! -f "$dir/PG_VERSION" ]; then
  as_pg env TZ=UTC "$PGBIN/initdb" -D "$dir" -U postgres -A trust \
    --locale=C --encoding=UTF8 >"$dir.initdb.log" 2>&1 || {
      cat "$dir.initdb.log" >&2; exit 1; }
  rm -f "$dir.initdb.log"
  cat >>"$dir/postgresql.conf" <<CONF
# --- scripts/pg-start.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
timezone = 'UTC'
log_timezone = 'UTC'
datestyle = 'iso, mdy'
lc_messages = 'C'
${PG_EXTRA_CONF:-}
CONF
fi

as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir/postgres.log" -o "-p $port" -w -t 60 start >/dev/null || {
  echo "pg-start: pg_ctl start failed; log:" >&2
  tail -n 30 "$dir/postgres.log" >&2 || true
  exit 1
}

for _ in $(seq 1 100); do
  if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then break; fi
  sleep 0.1
done

PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
if [ "$("${PSQL[@]}" -d postgres -Atc "SELECT count(*) FROM pg_database WHERE datname = 'tsbs'")" = 0 ]; then
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE tsbs"
  "${PSQL[@]}" -d tsbs -f "$setup" >/dev/null
fi
echo "pg-start: PostgreSQL ready at postgres://postgres@127.0.0.1:$port/tsbs (data $dir)"
