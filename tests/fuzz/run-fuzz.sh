#!/bin/bash
# `make fuzz`: builds each libFuzzer target in tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) against the library's sources and
# runs it for FUZZ_SECONDS (default 20) from a copy of its seed corpus in
# tests/fuzz/corpus/NAME/.  Any crash, leak or sanitizer report fails.
# Usage: FUZZ_LIB_SOURCES="lib/a.c ..." run-fuzz.sh SRCDIR BUILDDIR [TARGET...]
# (the Makefile passes the library's source list, relative to SRCDIR).
set -euo pipefail
src=$1 build=$2; shift 2
secs=${FUZZ_SECONDS:-20}
cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found; install it with: apt-get install clang" >&2; exit 1; }
out=$build/tests/fuzz
mkdir -p "$out"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//'))
libsrc=
for f in ${FUZZ_LIB_SOURCES:?FUZZ_LIB_SOURCES not set}; do
    case $f in *.c) libsrc="$libsrc $src/$f" ;; esac
done
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE
       -I$build -I$build/include -I$src/include -I$src/lib $(pkg-config --cflags libpq jansson libcrypto)"
libs="$(pkg-config --libs libpq jansson libcrypto) -pthread"
status=0
for t in "${targets[@]}"; do
    echo "fuzz: building $t"
    # shellcheck disable=SC2086
    "$cc" $flags -o "$out/$t" "$src/tests/fuzz/$t.c" $libsrc \
        "$build/lib/schema/embedded.c" "$build/lib/core/embedded_version.c" $libs
    work=$(mktemp -d)
    name=${t#fuzz_}
    [ -d "$src/tests/fuzz/corpus/$name" ] && cp "$src/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null || true
    echo "fuzz: running $t for ${secs}s"
    if "$out/$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$out/$t-" \
            "$work" >"$out/$t.log" 2>&1; then
        echo "fuzz: $t ok: $(grep -E 'stat::number_of_executed_units' "$out/$t.log" | awk '{print $2}') executions"
    else
        echo "fuzz: $t FAILED"; tail -n 40 "$out/$t.log"; status=1
    fi
    rm -rf "$work"
done
exit $status
