#!/usr/bin/env bash
# Stop a cluster started by scripts/pg-start.sh:  scripts/pg-stop.sh <dir>
# Exits 0 when the cluster is already stopped.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 <dir>" >&2
  exit 2
fi
dir=$1
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -f "$dir/postmaster.pid" ] || exit 0
if [ "$(id -u)" -eq 0 ]; then
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
else
  "$PGBIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
fi
