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
n=0
for prog in "$@"; do
    n=$((n + 1))
    echo
    echo "=== example $n: $(basename "$prog") ==========================================="
    "./$prog" "$MYAPPCTX_DEMO_CONNINFO"
done
if [ -n "${MYAPPCTX_TOOL:-}" ]; then
    echo
    echo "=== myappctx doctor --app-role app_service ==========================================="
    "$MYAPPCTX_TOOL" doctor --app-role app_service
fi
echo
echo "All $n example programs ran successfully."
