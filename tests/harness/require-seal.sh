#!/bin/sh
# Fails (exit 1, with what to install) unless the server binaries the
# harness uses have the extension of sealed mode, myappctx_seal, installed:
# make check runs the sealed-mode suites against a server that preloads it,
# and a server told to preload a missing library does not start.  The
# extension is built with PGXS from extension/ and installed as root;
# ./quickstart.sh check does both.  Usage: require-seal.sh TOP_SRCDIR
set -eu
top=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg-common.sh"
pg_find_bindir || exit 1
pgc=$MYAPPCTX_PG_BINDIR/pg_config
[ -x "$pgc" ] || pgc=pg_config
major=$("$MYAPPCTX_PG_BINDIR/postgres" -V | sed 's/[^0-9]*\([0-9]*\).*/\1/')
pkglibdir=$("$pgc" --pkglibdir)
sharedir=$("$pgc" --sharedir)
fail() {
    echo "make check: $*" >&2
    echo "make check: the sealed-mode suites need the server extension myappctx_seal (extension/README.md):" >&2
    echo "make check:   apt-get install postgresql-server-dev-$major libssl-dev" >&2
    echo "make check:   make -C $top/extension PG_CONFIG=$pgc" >&2
    echo "make check:   make -C $top/extension PG_CONFIG=$pgc install     (as root)" >&2
    echo "make check: ./quickstart.sh check does all three." >&2
    exit 1
}
[ -f "$pkglibdir/myappctx_seal.so" ] || fail "$pkglibdir/myappctx_seal.so is missing"
for f in myappctx_seal.control myappctx_seal--1.0.sql; do
    cmp -s "$top/extension/$f" "$sharedir/extension/$f" ||
        fail "$sharedir/extension/$f is missing or not this source tree's"
done
