#!/bin/sh
# Prepares the test database of a `make check` run: installs the schema with
# the demo objects and the application role through the library's own tool,
# and creates the pgTAP and plpgsql_check extensions (as the superuser the
# harness connects as).  Needs PG* from with-server.sh and MYAPPCTX_TOOL
# (path to the built tools/myappctx).
set -eu
"${MYAPPCTX_TOOL:?MYAPPCTX_TOOL not set}" schema install --app-role app_service --demo >/dev/null

# Both extensions are built per server major version (Debian:
# postgresql-NN-pgtap, postgresql-NN-plpgsql-check).
major=$(( $(psql -X -At -c 'SHOW server_version_num') / 10000 ))

# create_extension NAME DEBIAN-PACKAGE
create_extension() {
    psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS $1" >/dev/null 2>&1 || {
        echo "setup-db: CREATE EXTENSION $1 failed; install it with: apt-get install $2" >&2
        psql -X -q -c "CREATE EXTENSION IF NOT EXISTS $1" >&2 || true
        exit 1
    }
}
create_extension pgtap "postgresql-$major-pgtap"
create_extension plpgsql_check "postgresql-$major-plpgsql-check"
