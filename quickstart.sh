#!/bin/bash
# libmyappctx quick start.
#
#   ./quickstart.sh demo    build, then run every example program against a
#                           throwaway local PostgreSQL (and PgBouncer)
#   ./quickstart.sh check   build, then run the full test suite (make check)
#
# On Debian/Ubuntu it first installs what is missing (as root, or through
# sudo), and builds and installs the server extension of sealed mode
# (extension/, with PGXS) for make check's sealed-mode suites.  It is
# idempotent: on a machine that is already set up it only runs an
# incremental build.  Environment:
#   MYAPPCTX_BUILD_DIR   build directory (default: ./build)
#   CONFIGURE_FLAGS      extra ./configure flags (e.g. --enable-werror)
#   MAKEFLAGS            passed through to make (default: -j<number of cores>)
set -eu

usage() {
    echo "usage: $0 demo|check" >&2
    exit 2
}
[ $# -eq 1 ] || usage
case $1 in demo|check) mode=$1 ;; *) usage ;; esac

top=$(cd "$(dirname "$0")" && pwd)
build=${MYAPPCTX_BUILD_DIR:-$top/build}

say() { echo "quickstart: $*"; }
die() { echo "quickstart: error: $*" >&2; exit 1; }

# Packages the build, the examples and the tests need (Debian names):
# prometheus for promtool (make check lints the pool's metrics with it),
# curl for make demo (it scrapes the metrics example), libssl-dev for
# libcrypto (sealed mode), openssl for the sealed-mode suites' key.
base_packages="build-essential autoconf automake libtool pkg-config libpq-dev libjansson-dev libssl-dev check postgresql postgresql-client pgbouncer util-linux prometheus curl openssl"

missing_packages() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

run_privileged() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
        sudo "$@"
    else
        return 3
    fi
}

apt_install() {
    missing=$(missing_packages "$@" | tr '\n' ' ')
    [ -n "${missing% }" ] || return 0
    say "installing: $missing"
    rc=0
    run_privileged env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || rc=$?
    if [ "$rc" = 0 ]; then
        # shellcheck disable=SC2086
        run_privileged env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
    fi
    case $rc in
        0) ;;
        3) die "missing packages: $missing
  Run this script as root or as a user with sudo, or install them yourself:
  apt-get install $missing" ;;
        *) die "apt-get failed (exit $rc) installing: $missing" ;;
    esac
}

install_dependencies() {
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        say "not a Debian-like system: skipping package installation; you need a C compiler,"
        say "autoconf, automake, libtool, pkg-config, libpq, jansson, check, OpenSSL's libcrypto,"
        say "PostgreSQL 15+ server binaries and development files (PGXS) with pgTAP and"
        say "plpgsql_check, pgbouncer, promtool (Prometheus) and curl (make failover:"
        say "pg_auto_failover for the same server)"
        return 0
    fi
    # shellcheck disable=SC2086
    apt_install $base_packages
    # pgTAP, plpgsql_check and pg_auto_failover (make failover) are built per
    # server major version.
    major=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed 's|/usr/lib/postgresql/\([0-9]*\)/bin|\1|' | sort -n | tail -n 1)
    [ -n "$major" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql after installing 'postgresql'"
    # postgresql-server-dev-NN (PGXS, server headers) builds the extension
    # myappctx_seal, which make check's sealed-mode suites need (libssl-dev,
    # above, is the library's libcrypto for sealed mode).
    apt_install "postgresql-$major-pgtap" "postgresql-$major-plpgsql-check" \
        "postgresql-$major-auto-failover" "postgresql-server-dev-$major"
}

# The server extension of sealed mode (extension/README.md), built with PGXS
# for the newest server major and installed into its pkglibdir (as root):
# make check starts a second server that preloads it.  Installing is
# skipped when the installed files are this build.
build_extension() {
    pgc=
    major=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed 's|/usr/lib/postgresql/\([0-9]*\)/bin|\1|' | sort -n | tail -n 1)
    if [ -n "$major" ] && [ -x "/usr/lib/postgresql/$major/bin/pg_config" ]; then
        pgc=/usr/lib/postgresql/$major/bin/pg_config
    elif command -v pg_config >/dev/null 2>&1; then
        pgc=$(command -v pg_config)
    else
        die "pg_config not found: install the PostgreSQL server development files (Debian: postgresql-server-dev-NN)"
    fi
    say "make -C extension (myappctx_seal, $("$pgc" --version))"
    make -C "$top/extension" PG_CONFIG="$pgc" >"$build/extension.out" 2>&1 || {
        tail -n 30 "$build/extension.out" >&2
        die "building the extension failed (see $build/extension.out; it needs postgresql-server-dev-NN)"; }
    pkglibdir=$("$pgc" --pkglibdir)
    sharedir=$("$pgc" --sharedir)/extension
    if cmp -s "$top/extension/myappctx_seal.so" "$pkglibdir/myappctx_seal.so" &&
       cmp -s "$top/extension/myappctx_seal.control" "$sharedir/myappctx_seal.control" &&
       cmp -s "$top/extension/myappctx_seal--1.0.sql" "$sharedir/myappctx_seal--1.0.sql"; then
        return 0
    fi
    say "installing the extension into $pkglibdir"
    rc=0
    run_privileged make -C "$top/extension" PG_CONFIG="$pgc" install >>"$build/extension.out" 2>&1 || rc=$?
    case $rc in
        0) ;;
        3) die "installing the extension needs root: run this script as root or with sudo, or run
  make -C $top/extension PG_CONFIG=$pgc install   (as root)" ;;
        *) tail -n 30 "$build/extension.out" >&2; die "installing the extension failed (exit $rc)" ;;
    esac
}

configure_and_build() {
    cd "$top"
    if [ ! -x configure ] || [ configure.ac -nt configure ]; then
        say "autoreconf"
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
    fi
    mkdir -p "$build"
    cd "$build"
    stamp="$build/.quickstart-configure-flags"
    if [ ! -f Makefile ] || [ "$(cat "$stamp" 2>/dev/null)" != "${CONFIGURE_FLAGS:-}" ]; then
        say "configure ${CONFIGURE_FLAGS:-}"
        # shellcheck disable=SC2086
        "$top/configure" ${CONFIGURE_FLAGS:-} >configure.out 2>&1 || {
            tail -n 30 configure.out >&2; die "configure failed (see $build/configure.out)"; }
        printf '%s' "${CONFIGURE_FLAGS:-}" >"$stamp"
    fi
    say "make"
    make -j"$(nproc 2>/dev/null || echo 2)" >make.out 2>&1 || {
        tail -n 40 make.out >&2; die "build failed (see $build/make.out)"; }
}

install_dependencies
configure_and_build
build_extension
cd "$build"
case $mode in
    demo)  say "running the examples against a throwaway PostgreSQL"; make demo ;;
    check) say "running the test suite against a throwaway PostgreSQL"; make -j"$(nproc 2>/dev/null || echo 2)" check ;;
esac
