#!/bin/sh
# Tests of myappctx_seal against throwaway servers (make -C extension
# installcheck).  Three phases, each its own server started by
# tests/harness/with-server.sh from the binaries of $PG_CONFIG, with the
# library's schema (sql/), the demo objects and app_service installed:
#
#   shared   shared_preload_libraries=myappctx_seal, a key file, PgBouncer in
#            transaction mode in front: test/seal_test (libpq + OpenSSL) and
#            test/guc_test.sh (psql, openssl dgst)
#   backend  session_preload_libraries=myappctx_seal, no key at start (the key
#            comes with ALTER SYSTEM + reload): seal_test, guc_test.sh
#   inert    not preloaded, extension created: everything refuses with MX007
#            and the pure-SQL schema works as without the extension
#
# SEAL_PHASES (default "shared backend inert") runs a subset.
# The installed extension must be this build (make install, as root, first).
# The schema is installed with $MYAPPCTX_TOOL (the built tools/myappctx) when
# set, else with psql from sql/*.sql and myappctx.setup_app_role().
# Prints TAP per suite and a summary; exits non-zero on any failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ext=$(dirname "$here")
top=$(dirname "$ext")
PG_CONFIG=${PG_CONFIG:-pg_config}

if [ "${1:-}" = --phase ]; then
    # Inside with-server.sh: run the suites of one phase.
    phase=$2
    export SEAL_MODE=$phase SEAL_TOP=$top
    "$here/seal_test" >"$SEAL_OUT/$phase-seal_test.tap" 2>&1 || true
    if [ "$phase" != inert ]; then
        "$here/guc_test.sh" >"$SEAL_OUT/$phase-guc_test.tap" 2>&1 || true
    fi
    exit 0
fi

die() { echo "run.sh: $*" >&2; exit 1; }

command -v "$PG_CONFIG" >/dev/null 2>&1 || [ -x "$PG_CONFIG" ] || die "pg_config not found (set PG_CONFIG)"
pkglibdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
for f in "$ext/myappctx_seal.so:$pkglibdir/myappctx_seal.so" \
         "$ext/myappctx_seal.control:$sharedir/extension/myappctx_seal.control" \
         "$ext/myappctx_seal--1.0.sql:$sharedir/extension/myappctx_seal--1.0.sql"; do
    cmp -s "${f%%:*}" "${f#*:}" ||
        die "${f#*:} is missing or not this build: run 'make -C extension install' (as root) first"
done
for t in openssl perl od psql; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found"
done

# The test program: libpq and libcrypto, as the client library will use.
cc ${CFLAGS:--O1 -g} -Wall -Wextra -Werror -std=c11 -D_DEFAULT_SOURCE \
    -I"$top/lib/core" -I"$("$PG_CONFIG" --includedir)" -o "$here/seal_test" "$here/seal_test.c" \
    -L"$("$PG_CONFIG" --libdir)" -lpq -lcrypto ||
    die "could not build test/seal_test (needs libpq-dev and libssl-dev)"

# The server of each phase: the one the extension was built for.
MYAPPCTX_PG_BINDIR=$("$PG_CONFIG" --bindir)
export MYAPPCTX_PG_BINDIR

work=$(mktemp -d "${TMPDIR:-/tmp}/seal.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 711 "$work"               # the server's user must reach the key file
SEAL_OUT=$work/out
mkdir "$SEAL_OUT"
SEAL_KEY_HEX=$(openssl rand -hex 32)
SEAL_KEY_FILE=$work/seal.key
SEAL_APP_ROLE=app_service
SEAL_MAX_STREAMS=64
SEAL_README=$ext/README.md     # its test vector
export SEAL_OUT SEAL_KEY_HEX SEAL_KEY_FILE SEAL_APP_ROLE SEAL_MAX_STREAMS SEAL_README
( umask 077; printf '%s\n' "$SEAL_KEY_HEX" >"$SEAL_KEY_FILE" )
if [ "$(id -u)" = 0 ]; then
    chown "${MYAPPCTX_TEST_OSUSER:-postgres}" "$SEAL_KEY_FILE"
fi

# The schema, the application role, the extension (the tool of this tree
# creates it already), plpgsql_check.
setup="set -e
if [ -n \"\${MYAPPCTX_TOOL:-}\" ]; then
    \"\$MYAPPCTX_TOOL\" schema install --app-role $SEAL_APP_ROLE --demo >/dev/null
else
    cat '$top'/sql/[0-9][0-9][0-9]_*.sql '$top'/sql/demo/*.sql |
        psql -X -q -1 -v ON_ERROR_STOP=1 >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -c \"SELECT myappctx.setup_app_role('$SEAL_APP_ROLE')\" \\
        -c \"SELECT myappctx.setup_demo_grants('$SEAL_APP_ROLE')\" >/dev/null
fi
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS myappctx_seal' \\
    -c 'CREATE EXTENSION IF NOT EXISTS plpgsql_check' >/dev/null"

ws=$top/tests/harness/with-server.sh
status=0

# The key file is named in postgresql.auto.conf (ALTER SYSTEM), not with -c:
# a command-line value outranks the configuration files, so a reload would
# never re-read the file (README.md, "The key").
key_setup="$setup
psql -X -q -v ON_ERROR_STOP=1 -c \"ALTER SYSTEM SET myappctx_seal.key_file = '$SEAL_KEY_FILE'\" \\
    -c 'SELECT pg_reload_conf()' >/dev/null
i=0
until [ \"\$(psql -X -At -c 'SELECT key_loaded FROM myappctx_seal.status()')\" = t ]; do
    i=\$((i + 1)); [ \$i -lt 100 ] || { echo 'run.sh: the key did not load' >&2; exit 1; }
    sleep 0.1
done"

phases=" ${SEAL_PHASES:-shared backend inert} "
want() { case $phases in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if want shared; then
echo "# phase shared: shared_preload_libraries, key file, PgBouncer (transaction mode)"
SEAL_KEY_CONFIGURED=1 "$ws" --pgbouncer \
    --server-opt "-c shared_preload_libraries=myappctx_seal" \
    --server-opt "-c myappctx_seal.max_streams=$SEAL_MAX_STREAMS" \
    --server-opt "-c myappctx_seal.settings=default_page_size,site_name" \
    --setup "$key_setup" -- "$here/run.sh" --phase shared || status=1
fi

if want backend; then
echo "# phase backend: session_preload_libraries, no key until ALTER SYSTEM + reload"
SEAL_KEY_CONFIGURED=0 "$ws" \
    --server-opt "-c session_preload_libraries=myappctx_seal" \
    --setup "$setup" -- "$here/run.sh" --phase backend || status=1
fi

if want inert; then
echo "# phase inert: not preloaded"
SEAL_KEY_CONFIGURED=0 "$ws" --setup "$setup" -- "$here/run.sh" --phase inert || status=1
fi

total=0
bad=0
for f in "$SEAL_OUT"/shared-seal_test.tap "$SEAL_OUT"/shared-guc_test.tap \
         "$SEAL_OUT"/backend-seal_test.tap "$SEAL_OUT"/backend-guc_test.tap \
         "$SEAL_OUT"/inert-seal_test.tap; do
    name=$(basename "$f" .tap)
    want "${name%%-*}" || continue
    if [ ! -f "$f" ]; then
        echo "not ok - $name did not run"
        status=1
        continue
    fi
    echo "# ---- $name"
    cat "$f"
    plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$f")
    passed=$(grep -c '^ok ' "$f" || true)
    failed=$(grep -c '^not ok ' "$f" || true)
    if [ -z "$plan" ] || [ "$plan" != $((passed + failed)) ] || [ "$failed" != 0 ] ||
       grep -q '^Bail out!' "$f"; then
        status=1
    fi
    echo "# $name: ${plan:-no plan}, $passed passed, $failed failed"
    total=$((total + passed + failed))
    bad=$((bad + failed))
done
echo "# myappctx_seal: $total tests, $bad failed$( [ $status = 0 ] || echo ', RUN FAILED')"
exit $status
