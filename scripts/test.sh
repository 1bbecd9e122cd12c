#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone and ends with one line: "N passed, N failed, N skipped",
# counted from the TRX results of every test project.
set -uo pipefail
cd "$(dirname "$0")/.."

results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"

# A throwaway PostgreSQL on 127.0.0.1 for the PostgreSQL tests (installed from Debian's packages when missing). If it
# cannot start, those tests fail: each one tries to start a server itself and reports why it could not.
pg_dir=$(mktemp -d /tmp/work-test-pg.XXXXXX)
chmod 755 "$pg_dir"
stop_postgres() { bash deploy/postgres/throwaway.sh stop "$pg_dir/pg" >/dev/null 2>&1; rm -rf "$pg_dir"; }
trap stop_postgres EXIT
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 55433)
if connection=$(bash deploy/postgres/throwaway.sh start "$pg_dir/pg" "$pg_port"); then
  export WORK_TEST_POSTGRES="$connection"
  echo "PostgreSQL for the tests: $WORK_TEST_POSTGRES"
else
  echo "PostgreSQL could not be started; the PostgreSQL tests will fail." >&2
fi

# Debian's Chromium for the dashboard's browser tests (Playwright drives it; its own browser download cannot work
# without the internet). If it cannot be installed, those tests fail and say so.
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
    || echo "chromium could not be installed; the browser tests will fail." >&2
fi

# Build everything first: some tests start the silo, the CLI and the samples as processes, and `dotnet test` alone
# starts a test project as soon as its own references are built, not when the whole solution is.
dotnet build Work.Orleans.sln -c Release -nologo -v quiet
build_status=$?
dotnet test Work.Orleans.sln -c Release --no-build \
  --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 5m \
  -- RunConfiguration.TreatNoTestsAsError=true
status=$?
[ "$build_status" -ne 0 ] && status=$build_status

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done

if [ "$files" -eq 0 ]; then
  echo "no test results were written" >&2
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # dotnet test failed without a failing test (a build error or a crashed test host): count it.
  failed=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
