#!/usr/bin/env bash
# Install the system packages Longboat's tests need. Idempotent: a package that
# is already installed is not touched, and when everything is present the script
# returns at once without contacting any mirror.
#
#   scripts/install-deps.sh            # the default set (PostgreSQL 15 server + client)
#   scripts/install-deps.sh extra...   # also the named groups below
#
# Groups (add new ones to GROUPS and group_pkgs):
#   postgres  postgresql-15 postgresql-client-15    (default; differential TSBS test)
#   python    python3 python3-psycopg2              (client compatibility tests)
#   java      default-jdk-headless libpostgresql-jdbc-java
#   node      nodejs node-pg
set -euo pipefail

group_pkgs() {
  case "$1" in
    postgres) echo "postgresql-15 postgresql-client-15" ;;
    python)   echo "python3 python3-psycopg2" ;;
    java)     echo "default-jdk-headless libpostgresql-jdbc-java" ;;
    node)     echo "nodejs node-pg" ;;
    *) echo "install-deps: unknown group '$1' (known: postgres python java node)" >&2; return 1 ;;
  esac
}

groups=(postgres "$@")
want=()
for g in "${groups[@]}"; do
  for p in $(group_pkgs "$g"); do want+=("$p"); done
done

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all present (${want[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "install-deps: missing ${missing[*]}; run this script as root" >&2
    exit 1
  fi
else
  SUDO=
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update

# Debian's node-pg pulls in libnode108, which conflicts with the NodeSource
# build of nodejs that some images preinstall, and apt never downgrades on its
# own. When node-pg is wanted, pin nodejs to the Debian archive's version so apt
# replaces a foreign build (the tests need Debian's node-pg, which only Debian's
# nodejs finds on its default module path).
if [[ " ${missing[*]} " == *" node-pg "* ]]; then
  deb_node=$(apt-cache madison nodejs | awk -F'|' '$3 ~ /debian\.org/ { gsub(/ /, "", $2); print $2; exit }')
  have_node=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || true)
  if [ -n "$deb_node" ] && [ "$have_node" != "$deb_node" ]; then
    pinned=()
    for p in "${missing[@]}"; do
      [ "$p" = nodejs ] || pinned+=("$p")
    done
    missing=("${pinned[@]}" "nodejs=$deb_node")
  fi
fi

$SUDO apt-get install -y --no-install-recommends --allow-downgrades "${missing[@]}"

# The Debian package starts a cluster on port 5432 via systemd/pg_ctlcluster
# where possible; the tests never use it (they run throwaway clusters with
# scripts/pg-start.sh), so nothing else is configured here.
echo "install-deps: done"
