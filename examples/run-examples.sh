#!/bin/sh
# Runs each example program against the throwaway server of `make demo`
# (PG* set by tests/harness/with-server.sh), connected as the application
# role app_service, and stops at the first failure.
#
# Before the programs, as the superuser the harness connects as: the demo
# data (demo-seed.sql) and the table protect_your_table uses
# (protect_your_table.sql).  After them, when MYAPPCTX_TOOL names the
# myappctx tool, `myappctx doctor` audits the deployment the examples ran
# against and fails the run on any finding.
set -eu
here=$(dirname "$0")
for sql in demo-seed.sql protect_your_table.sql; do
    psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -f "$here/$sql" >/dev/null
done
export MYAPPCTX_DEMO_CONNINFO="user=app_service"

# metrics_http serves the pool's metrics on 127.0.0.1 (a free port, which it
# prints) until it has been scraped once: scrape it with curl and check the
# answer.
scrape_metrics() {
    command -v curl >/dev/null || { echo "make demo needs curl (Debian package curl)" >&2; exit 1; }
    out=$(mktemp); body=$(mktemp)
    "./$1" "$MYAPPCTX_DEMO_CONNINFO" 0 1 >"$out" &
    pid=$!
    port=
    for _ in $(seq 1 300); do
        port=$(sed -n 's|^serving http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$out")
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$out"; kill "$pid" 2>/dev/null; echo "metrics_http did not start" >&2; exit 1; }
    curl -sS --fail --max-time 20 "http://127.0.0.1:$port/metrics" -o "$body" ||
        { kill "$pid" 2>/dev/null; echo "curl could not scrape port $port" >&2; exit 1; }
    wait "$pid"
    cat "$out"
    echo "   curl http://127.0.0.1:$port/metrics ($(wc -l <"$body") lines), for example:"
    grep -E '^db_client_connection_(count|pending_requests|wait_time_seconds_count|create_time_seconds_count)\{' "$body" |
        sed 's/^/   /'
    grep -q '^db_client_connection_count{pool_name="demo",state="idle"} ' "$body" ||
        { echo "the scrape has no db_client_connection_count" >&2; exit 1; }
    rm -f "$out" "$body"
}

n=0
for prog in "$@"; do
    n=$((n + 1))
    echo
    echo "=== example $n: $(basename "$prog") ==========================================="
    case $prog in
        *metrics_http) scrape_metrics "$prog" ;;
        *) "./$prog" "$MYAPPCTX_DEMO_CONNINFO" ;;
    esac
done
if [ -n "${MYAPPCTX_TOOL:-}" ]; then
    echo
    echo "=== myappctx doctor --app-role app_service ==========================================="
    "$MYAPPCTX_TOOL" doctor --app-role app_service
fi
echo
echo "All $n example programs ran successfully."
