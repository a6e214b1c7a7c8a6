#!/bin/sh
# Runs a command against a throwaway PostgreSQL (and optionally PgBouncer in
# transaction mode in front of it), then stops both -- also when the command
# fails or the run is interrupted.
#
# Usage: with-server.sh [--pgbouncer] [--setup CMD] [--server-opt OPT]... [--keep-log] -- COMMAND [ARG...]
#
# --server-opt OPT (repeatable) is passed to postgres at start, e.g.
# --server-opt '-c shared_preload_libraries=myappctx_seal' (extension/test/run.sh);
# options must not contain white space inside a value.
#
# The server: initdb into a short mkdtemp directory (mode 0700), Unix socket
# there, listen_addresses='', fsync=off.  initdb, postgres and pgbouncer refuse
# to run as root, so as root they run as the unprivileged user "postgres"
# (override with MYAPPCTX_TEST_OSUSER).
#
# Exported to COMMAND: PGHOST PGPORT PGUSER PGDATABASE (the server),
# MYAPPCTX_TEST_DIR, MYAPPCTX_PG_BINDIR, MYAPPCTX_TEST_OSUSER and, with --pgbouncer,
# MYAPPCTX_PGBOUNCER_HOST and MYAPPCTX_PGBOUNCER_PORT.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg-common.sh"

pgbouncer=0
setup=
server_opts=
while [ $# -gt 0 ]; do
    case $1 in
        --pgbouncer) pgbouncer=1 ;;
        --setup) setup=$2; shift ;;
        --server-opt) server_opts="${server_opts:+$server_opts }$2"; shift ;;
        --) shift; break ;;
        *) echo "with-server: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ $# -gt 0 ] || { echo "usage: with-server.sh [--pgbouncer] [--setup CMD] [--server-opt OPT]... -- COMMAND..." >&2; exit 2; }

pg_find_bindir || exit 99
if [ "$pgbouncer" = 1 ]; then pg_find_pgbouncer || exit 99; fi

MYAPPCTX_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/myappctx.XXXXXX")
chmod 700 "$MYAPPCTX_TEST_DIR"
export MYAPPCTX_TEST_DIR

cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    pg_stop_all "$MYAPPCTX_TEST_DIR"
    if [ "$rc" != 0 ] && [ -f "$MYAPPCTX_TEST_DIR/server.log" ]; then
        echo "with-server: exit status $rc; last lines of the server log:" >&2
        tail -n 20 "$MYAPPCTX_TEST_DIR/server.log" >&2 || true
    fi
    rm -rf "$MYAPPCTX_TEST_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

pg_start_server "$MYAPPCTX_TEST_DIR" data "$(pg_pick_port)" $server_opts
export PGHOST="$MYAPPCTX_TEST_DIR" PGPORT="$PG_PORT" PGUSER=postgres PGDATABASE=myappctx_test
"$MYAPPCTX_PG_BINDIR/createdb" myappctx_test

if [ "$pgbouncer" = 1 ]; then
    pg_start_pgbouncer "$MYAPPCTX_TEST_DIR" "$(pg_pick_port)" "$PGPORT"
    export MYAPPCTX_PGBOUNCER_HOST="$MYAPPCTX_TEST_DIR" MYAPPCTX_PGBOUNCER_PORT="$PGB_PORT"
fi

if [ -n "$setup" ]; then
    sh -c "$setup"
fi

set +e
"$@"
status=$?
set -e
exit "$status"
