#!/bin/sh
# The shared library exports exactly the functions declared MYAPPCTX_API in
# the public headers: nothing internal leaks, nothing declared is missing.
set -eu
lib=$(ls "$top_builddir"/lib/.libs/libmyappctx.so.* 2>/dev/null | head -n 1)
echo "1..3"
if [ -z "$lib" ]; then
    echo "not ok 1 - shared library built"; echo "not ok 2 # no library"; echo "not ok 3 # no library"
    exit 1
fi
echo "ok 1 - shared library built: $(basename "$lib")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
grep -h 'MYAPPCTX_API' "$top_srcdir"/include/myappctx/*.h "$top_srcdir"/include/myappctx.h |
    grep -v '#' | grep -o 'myappctx_[a-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*($//' |
    sort -u >"$tmp/expected"
${NM:-nm} -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' |
    sed 's/@.*//' | sort -u >"$tmp/actual"
if [ "$(wc -l <"$tmp/expected")" -gt 0 ] && diff -u "$tmp/expected" "$tmp/actual" >"$tmp/diff"; then
    echo "ok 2 - exports match the $(wc -l <"$tmp/expected") MYAPPCTX_API declarations"
else
    echo "not ok 2 - exports differ from the headers (- declared only, + exported only)"
    sed 's/^/# /' "$tmp/diff"
fi
if grep -v '^myappctx_' "$tmp/actual" >"$tmp/foreign"; then
    echo "not ok 3 - symbols outside the myappctx_ prefix are exported"
    sed 's/^/# /' "$tmp/foreign"
else
    echo "ok 3 - every exported symbol starts with myappctx_"
fi
