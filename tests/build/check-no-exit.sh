#!/bin/sh
# "Client libraries must not terminate the host application" (libpq's rule):
# the library references no exit/abort, and nothing that prints.
set -eu
lib=$(ls "$top_builddir"/lib/.libs/libmyappctx.so.* 2>/dev/null | head -n 1)
echo "1..2"
[ -n "$lib" ] || { echo "not ok 1 - no shared library"; echo "not ok 2 - no shared library"; exit 1; }
undef=$(${NM:-nm} -D --undefined-only "$lib" | awk '{ print $NF }' | sed 's/@.*//')
bad=$(echo "$undef" | grep -E '^(exit|_exit|_Exit|abort|__assert_fail|quick_exit)$' || true)
if [ -z "$bad" ]; then echo "ok 1 - no exit, _exit or abort"; else
    echo "not ok 1 - the library references: $(echo $bad)"; fi
bad=$(echo "$undef" | grep -E '^(__)?(printf|vprintf|puts|putchar|perror|fprintf|vfprintf|fputs|putc|fputc)(_chk)?$' || true)
if [ -z "$bad" ]; then echo "ok 2 - no printing functions"; else
    echo "not ok 2 - the library references: $(echo $bad)"; fi
