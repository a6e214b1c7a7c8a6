#!/bin/sh
# Installs the library into a temporary prefix (a separate configure, so the
# .pc file carries that prefix) and builds and runs a program using nothing
# but `pkg-config --cflags --libs myappctx`.
set -eu
echo "1..3"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/myappctx-pc.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/build"
if (cd "$tmp/build" && "$top_srcdir/configure" --prefix="$tmp/prefix" --disable-static \
        CFLAGS="-O0" >"$tmp/configure.log" 2>&1 &&
    make -j2 install-libLTLIBRARIES install-includeHEADERS install-myappctxincludeHEADERS \
        install-nodist_myappctxincludeHEADERS install-pkgconfigDATA >"$tmp/make.log" 2>&1); then
    echo "ok 1 - installed into a temporary prefix"
else
    echo "not ok 1 - install into a temporary prefix failed"
    tail -n 30 "$tmp/configure.log" "$tmp/make.log" 2>/dev/null | sed 's/^/# /'
    exit 1
fi
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if flags=$(pkg-config --cflags --libs myappctx) &&
   ${CC:-cc} -o "$tmp/demo" "$top_srcdir/tests/build/pkgconfig-demo.c" $flags 2>"$tmp/cc.log"; then
    echo "ok 2 - compiled and linked with: pkg-config --cflags --libs myappctx"
else
    echo "not ok 2 - build with pkg-config failed"; sed 's/^/# /' "$tmp/cc.log"; exit 1
fi
if out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/demo"); then
    echo "ok 3 - runs: $out"
else
    echo "not ok 3 - the program failed: $out"
fi
