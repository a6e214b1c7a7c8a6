#!/bin/sh
# `make stress`: runs tests/stress/stress against the throwaway server of
# tests/harness/with-server.sh (PG* set to the superuser on the test
# database; schema, demo objects and app_service installed).
#
# Usage: run-stress.sh PATH/TO/stress      (STRESS_SECONDS, default 60)
#
# The program restarts the server itself in its last phase, through the
# harness's pg_stop / pg_start (STRESS_STOP_CMD / STRESS_START_CMD below).
set -eu
prog=${1:?usage: run-stress.sh PATH/TO/stress}
here=$(cd "$(dirname "$0")" && pwd)
common=$here/../harness/pg-common.sh
: "${MYAPPCTX_TEST_DIR:?run through tests/harness/with-server.sh}"

psql -X -q -v ON_ERROR_STOP=1 -f "$here/stress-schema.sql" >/dev/null

STRESS_STOP_CMD=". '$common' && pg_stop \"\$MYAPPCTX_TEST_DIR\" data fast"
STRESS_START_CMD=". '$common' && pg_start \"\$MYAPPCTX_TEST_DIR\" data"
export STRESS_STOP_CMD STRESS_START_CMD

echo "stress: ${STRESS_SECONDS:-60} s, see tests/stress/stress.c for the phases"
"$prog"
