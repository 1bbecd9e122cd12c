#!/usr/bin/env bash
# A local Work.Orleans cluster: N Work.Silo processes on loopback sharing PostgreSQL (state, reminders, membership).
#
#   deploy/local-cluster.sh start [N] [CONNECTION_STRING]
#       Builds Work.Silo (Release) and starts N silos (3 by default): silo i listens on 127.0.0.1, silo port 11111+i
#       gateway port 30000+i and HTTP port 8080+i (API, health, metrics; loopback). Without a connection string (or ConnectionStrings__Work in the environment) it first
#       starts a throwaway PostgreSQL on 127.0.0.1:5433 (deploy/postgres/throwaway.sh). The silos apply the schema.
#   deploy/local-cluster.sh stop
#       Stops every silo it started (SIGTERM, so they leave the cluster cleanly) and the throwaway PostgreSQL.
#   deploy/local-cluster.sh status
#       Lists the cluster's silos from the membership table.
#
# State (pids, logs, the throwaway database) lives in $WORK_CLUSTER_DIR, /tmp/work-local-cluster by default.
# WORK_SILO_PORT / WORK_GATEWAY_PORT / WORK_HTTP_PORT (11111 / 30000 / 8080) are the first silo's ports, WORK_PG_PORT (5433) the throwaway
# PostgreSQL's, WORK_CLUSTER_ID (work) the cluster id; WORK_NO_BUILD=1 skips the build. The silos run in the
# Development environment (the sample handlers and the heartbeat job) unless DOTNET_ENVIRONMENT says otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${WORK_CLUSTER_DIR:-/tmp/work-local-cluster}
cluster_id=${WORK_CLUSTER_ID:-work}
pg_port=${WORK_PG_PORT:-5433}
silo_port=${WORK_SILO_PORT:-11111}
gateway_port=${WORK_GATEWAY_PORT:-30000}
http_port=${WORK_HTTP_PORT:-8080}

connection() { cat "$state/connection"; }

psql_cluster() {
  local cs
  cs=$(connection)
  # Host=...;Port=...;Username=...;Database=... as psql options.
  local host port user db
  host=$(sed -n 's/.*Host=\([^;]*\).*/\1/p' <<<"$cs"); port=$(sed -n 's/.*Port=\([^;]*\).*/\1/p' <<<"$cs")
  user=$(sed -n 's/.*Username=\([^;]*\).*/\1/p' <<<"$cs"); db=$(sed -n 's/.*Database=\([^;]*\).*/\1/p' <<<"$cs")
  psql -h "${host:-127.0.0.1}" -p "${port:-5432}" -U "${user:-postgres}" -d "${db:-postgres}" -X -A -t -q "$@"
}

active_count() {
  psql_cluster -c "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = '$cluster_id' AND Status = 3" 2>/dev/null || echo 0
}

start() {
  local count=${1:-3} cs=${2:-${ConnectionStrings__Work:-}}
  if [ -f "$state/pids" ]; then
    echo "A local cluster is already running (see $state); stop it first." >&2
    exit 1
  fi
  mkdir -p "$state"
  chmod 755 "$state"
  if [ -z "$cs" ]; then
    cs=$(bash "$root/deploy/postgres/throwaway.sh" start "$state/pg" "$pg_port")
    echo "Started a throwaway PostgreSQL: $cs"
  fi
  echo "$cs" >"$state/connection"

  [ "${WORK_NO_BUILD:-}" = 1 ] || dotnet build "$root/src/Work.Silo" -c Release -v quiet -nologo >/dev/null
  local dll="$root/src/Work.Silo/bin/Release/net10.0/Work.Silo.dll" i
  : >"$state/pids"
  for ((i = 0; i < count; i++)); do
    ConnectionStrings__Work="$cs" \
    Work__Silo__Storage=postgres Work__Silo__Clustering=adonet Work__Silo__Address=127.0.0.1 \
    Work__Silo__ClusterId="$cluster_id" Work__Silo__ServiceId="$cluster_id" \
    Work__Silo__SiloPort=$((silo_port + i)) Work__Silo__GatewayPort=$((gateway_port + i)) \
    Work__Http__Urls="http://127.0.0.1:$((http_port + i))" DOTNET_ENVIRONMENT="${DOTNET_ENVIRONMENT:-Development}" \
      nohup dotnet "$dll" >"$state/silo-$i.log" 2>&1 &
    echo $! >>"$state/pids"
  done

  # Active in membership, and ready: the jobs from configuration defined and started (the silo logs it last).
  local waited=0
  until [ "$(active_count)" -ge "$count" ] && [ "$(cat "$state"/silo-*.log 2>/dev/null | grep -c 'Work silo ready')" -ge "$count" ]; do
    if [ $waited -ge 120 ]; then
      echo "The silos did not all become active and ready within 60 s; see $state/silo-*.log" >&2
      exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  echo "$count silos are active (cluster '$cluster_id'); gateways 127.0.0.1:$gateway_port to 127.0.0.1:$((gateway_port + count - 1))."
  echo "Try: work --gateway 127.0.0.1:$gateway_port --cluster-id $cluster_id list   (or: dotnet run --project src/Work.Cli -- ...)"
}

stop() {
  if [ -f "$state/pids" ]; then
    local pid
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$state/pids"
    while read -r pid; do
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    done <"$state/pids"
    rm -f "$state/pids"
    echo "Stopped the silos."
  fi
  if [ -d "$state/pg" ]; then
    bash "$root/deploy/postgres/throwaway.sh" stop "$state/pg"
    rm -rf "$state"
    echo "Stopped the throwaway PostgreSQL."
  fi
}

status() {
  psql_cluster -F ' ' -c "SELECT SiloName, Address || ':' || Port, CASE Status WHEN 3 THEN 'active' WHEN 6 THEN 'dead' ELSE 'status ' || Status END, IAmAliveTime FROM OrleansMembershipTable WHERE DeploymentId = '$cluster_id' ORDER BY StartTime"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [N] [CONNECTION_STRING] | stop | status" >&2; exit 2 ;;
esac
