#!/bin/sh
# Checks the two things Doxygen does not report about the public headers
# (docs/Doxyfile: EXTRACT_ALL = NO, warnings as errors), run by `make doc`
# before Doxygen:
#   - every header has a @file comment: without one, Doxygen skips the
#     whole file silently, documented or not;
#   - every enumerator has a comment (`/** ... */` before it or `/**< ... */`
#     on its line): Doxygen does not warn about undocumented ones.
# Usage: check-doc-comments.sh HEADER...
set -eu
status=0
for h in "$@"; do
    if ! grep -q '@file' "$h"; then
        echo "$h: no @file comment: Doxygen would leave the whole header out of the reference" >&2
        status=1
    fi
    awk -v file="$h" '
        # Inside an enum body, an enumerator is a line starting with a name.
        /^[ \t]*(typedef[ \t]+)?enum([ \t]+[A-Za-z_0-9]+)?[ \t]*\{/ { in_enum = 1; doc = 0; next }
        in_enum && /^[ \t]*\}/ { in_enum = 0; next }
        !in_enum { next }
        /\/\*\*</ && /^[ \t]*[A-Za-z_][A-Za-z_0-9]*/ { doc = 0; next }
        /\/\*\*/ { doc = 1 }
        /^[ \t]*[A-Za-z_][A-Za-z_0-9]*[ \t]*(=|,|$)/ {
            if (!doc) {
                name = $1; sub(/[=,].*/, "", name)
                printf "%s:%d: enumerator %s has no documentation comment\n", file, FNR, name > "/dev/stderr"
                bad = 1
            }
            doc = 0
        }
        END { exit bad }
    ' "$h" || status=1
done
exit "$status"
