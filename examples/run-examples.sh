#!/bin/sh
# Runs each example program against the throwaway server of `make demo`
# (PG* set by tests/harness/with-server.sh), connected as the application
# role app_service, and stops at the first failure.
set -eu
psql -X -q -v ON_ERROR_STOP=1 -f "$(dirname "$0")/demo-seed.sql" >/dev/null
export MYAPPCTX_DEMO_CONNINFO="user=app_service"
n=0
for prog in "$@"; do
    n=$((n + 1))
    echo
    echo "=== example $n: $(basename "$prog") ==========================================="
    "./$prog" "$MYAPPCTX_DEMO_CONNINFO"
done
echo
echo "All $n example programs ran successfully."
