#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1, for tests and for a local cluster.
#
#   throwaway.sh install           installs the server binaries (Debian's postgresql-15) when they are missing
#   throwaway.sh start DIR PORT    creates a cluster in DIR (trust auth, fsync off), starts it on 127.0.0.1:PORT and
#                                  creates the role and database "work"; prints the connection string
#   throwaway.sh stop DIR          stops the server of DIR (fast shutdown); DIR stays until you remove it
#   throwaway.sh restart DIR       starts the stopped server of DIR again with its earlier settings
#
# WORK_PG_DURABLE=1 keeps fsync and synchronous commit on (for durable benchmarks); tests run without them.
#
# PostgreSQL refuses to run as root: as root, the server runs as the "postgres" user.
set -euo pipefail

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

install() {
  if find_bin >/dev/null; then
    return 0
  fi
  echo "PostgreSQL server binaries are missing; installing postgresql-15." >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "Installing PostgreSQL needs root (apt-get install postgresql-15)." >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql-15 >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql-15 >&2; }
  find_bin >/dev/null
}

# Runs a command as the server's user: postgres when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir=$1 port=$2 bin
  install
  bin=$(find_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
    chmod 700 "$dir"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  echo "$port" >"$dir/port"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/port"
  run_server "$dir"
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<'SQL' >/dev/null
SELECT 'CREATE ROLE work LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'work')\gexec
SELECT 'CREATE DATABASE work OWNER work' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'work')\gexec
SQL
  echo "Host=127.0.0.1;Port=$port;Username=work;Database=work"
}

run_server() {
  local dir=$1 bin port
  bin=$(find_bin)
  port=$(cat "$dir/port")
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${WORK_PG_DURABLE:-0}" = 1 ] && durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $durability -c max_connections=300" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
}

stop() {
  local dir=$1 bin
  bin=$(find_bin)
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

case "${1:-}" in
  install) install ;;
  start) [ $# -eq 3 ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  restart) [ $# -eq 2 ] || { echo "usage: $0 restart DIR" >&2; exit 2; }; run_server "$2" ;;
  *) echo "usage: $0 install | start DIR PORT | stop DIR | restart DIR" >&2; exit 2 ;;
esac
