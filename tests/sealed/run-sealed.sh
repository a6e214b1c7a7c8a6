#!/bin/sh
# Runs, in sealed mode, the test program named by the .sealed file $1 (one
# line: a path under tests/ of the build tree): TU_SEALED=1 makes the test
# helpers (tests/lib/conn.c, pool.c) open every app_service connection and
# pool with the key of $MYAPPCTX_TEST_DIR/seal.key.  The top-level
# check-local runs these against the server of tests/harness/setup-sealed.sh.
set -eu
prog=$(sed -n '1p' "$1")
TU_SEALED=1
export TU_SEALED
exec "${top_builddir:?}/tests/$prog"
