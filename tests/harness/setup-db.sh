#!/bin/sh
# Prepares the test database of a `make check` run: installs the schema with
# the demo objects and the application role through the library's own tool,
# and creates the pgTAP extension.  Needs PG* from with-server.sh and
# MYAPPCTX_TOOL (path to the built tools/myappctx).
set -eu
"${MYAPPCTX_TOOL:?MYAPPCTX_TOOL not set}" schema install --app-role app_service --demo >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null 2>&1 || {
    echo "setup-db: CREATE EXTENSION pgtap failed; install it with: apt-get install postgresql-15-pgtap" >&2
    psql -X -q -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >&2 || true
    exit 1
}
