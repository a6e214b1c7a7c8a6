#!/bin/bash
# libmyappctx quick start.
#
#   ./quickstart.sh demo    build, then run every example program against a
#                           throwaway local PostgreSQL (and PgBouncer)
#   ./quickstart.sh check   build, then run the full test suite (make check)
#
# On Debian/Ubuntu it first installs what is missing (as root, or through
# sudo).  It is idempotent: on a machine that is already set up it only runs
# an incremental build.  Environment:
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
# curl for make demo (it scrapes the metrics example).
base_packages="build-essential autoconf automake libtool pkg-config libpq-dev libjansson-dev check postgresql postgresql-client pgbouncer util-linux prometheus curl"

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
        say "autoconf, automake, libtool, pkg-config, libpq, jansson, check, PostgreSQL 14+"
        say "server binaries with pgTAP and plpgsql_check, pgbouncer, promtool (Prometheus)"
        say "and curl (make failover: pg_auto_failover for the same server)"
        return 0
    fi
    # shellcheck disable=SC2086
    apt_install $base_packages
    # pgTAP, plpgsql_check and pg_auto_failover (make failover) are built per
    # server major version.
    major=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed 's|/usr/lib/postgresql/\([0-9]*\)/bin|\1|' | sort -n | tail -n 1)
    [ -n "$major" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql after installing 'postgresql'"
    apt_install "postgresql-$major-pgtap" "postgresql-$major-plpgsql-check" \
        "postgresql-$major-auto-failover"
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
cd "$build"
case $mode in
    demo)  say "running the examples against a throwaway PostgreSQL"; make demo ;;
    check) say "running the test suite against a throwaway PostgreSQL"; make -j"$(nproc 2>/dev/null || echo 2)" check ;;
esac
