#!/bin/sh
# Prepares the database of make check's sealed-mode run (a server started
# with shared_preload_libraries=myappctx_seal): what setup-db.sh installs --
# through the library's tool, which also creates the extension -- then a
# fresh key in $MYAPPCTX_TEST_DIR/seal.key (mode 0600, owned by the server's
# OS user, outside the data directory), named with ALTER SYSTEM rather than
# -c (a command-line value outranks the files, so a reload would never
# re-read it), and a reload; waits until the server has the key.  The test
# programs read the same file (TU_SEALED=1, tests/lib/conn.c).
# MYAPPCTX_SEAL_SETUP replaces setup-db.sh (make bench: the tool alone).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sh -c "${MYAPPCTX_SEAL_SETUP:-sh '$here/setup-db.sh'}"
key=$MYAPPCTX_TEST_DIR/seal.key
if command -v openssl >/dev/null 2>&1; then
    hex=$(openssl rand -hex 32)
else
    hex=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
fi
( umask 077; printf '%s\n' "$hex" >"$key" )
[ "$(id -u)" != 0 ] || chown "$MYAPPCTX_TEST_OSUSER" "$key"
psql -X -q -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET myappctx_seal.key_file = '$key'" \
    -c 'SELECT pg_reload_conf()' >/dev/null
i=0
until [ "$(psql -X -At -c 'SELECT mode, key_loaded FROM myappctx_seal.status()')" = 'shared|t' ]; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then
        echo "setup-sealed: the server did not load the key:" >&2
        psql -X -c 'SELECT * FROM myappctx_seal.status()' >&2 || true
        exit 1
    fi
    sleep 0.1
done
