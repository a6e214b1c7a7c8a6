#!/bin/sh
# The context variable names have one source, lib/core/context_vars.h; the
# SQL that must agree with it (frozen migrations, so checked, not generated)
# is compared here: private.context_variable_names() (which also drives
# api.clear_context()) and private.session_is_clean(), each in its latest
# definition across sql/NNN_*.sql.
set -eu
src=${top_srcdir:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..3"

sed -n 's/^[[:space:]]*X(\([a-z_]*\),.*/\1/p' "$src/lib/core/context_vars.h" >"$tmp/c"
if [ -s "$tmp/c" ]; then
    echo "ok 1 - $(wc -l <"$tmp/c") names in lib/core/context_vars.h"
else
    echo "not ok 1 - no names found in lib/core/context_vars.h"
fi

# Body of the latest CREATE OR REPLACE FUNCTION <name>( ... up to its $$;.
latest_body() {
    cat "$src"/sql/[0-9][0-9][0-9]_*.sql | awk -v fn="$1" '
        index($0, "FUNCTION " fn "(") { body = ""; grab = 1; next }
        grab { body = body $0 "\n"; if ($0 ~ /^\$\$;/) grab = 0 }
        END { printf "%s", body }'
}

latest_body private.context_variable_names | grep -o "'[a-z_]*'" | tr -d "'" >"$tmp/sql"
if diff -u "$tmp/c" "$tmp/sql" >"$tmp/d1"; then
    echo "ok 2 - private.context_variable_names() lists the same names in the same order"
else
    echo "not ok 2 - private.context_variable_names() differs (- C, + SQL)"; sed 's/^/# /' "$tmp/d1"
fi

latest_body private.session_is_clean | grep -o "myapp\.[a-z_]*" | sed 's/^myapp\.//' |
    sort -u >"$tmp/clean"
sort -u "$tmp/c" >"$tmp/c.sorted"
if [ -s "$tmp/clean" ] && diff -u "$tmp/c.sorted" "$tmp/clean" >"$tmp/d2"; then
    echo "ok 3 - private.session_is_clean() checks every context variable"
else
    echo "not ok 3 - private.session_is_clean() differs (- C, + SQL)"; sed 's/^/# /' "$tmp/d2"
fi
