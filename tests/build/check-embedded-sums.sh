#!/bin/sh
# build-aux/embed-sql.sh embeds each migration with the SHA-256 the
# installer records; here an independent sha256sum of each file's text must
# appear beside that file in the generated lib/schema/embedded.c.
set -eu
gen=$top_builddir/lib/schema/embedded.c
files=$(ls "$top_srcdir"/sql/[0-9][0-9][0-9]_*.sql "$top_srcdir"/sql/demo/[0-9][0-9][0-9]_*.sql)
echo "1..$(echo "$files" | wc -l)"
i=0
for f in $files; do
    i=$((i + 1))
    sum=$(LC_ALL=C awk '{ print }' "$f" | sha256sum | cut -c1-64)
    name=$(basename "$f")
    # The file's entry runs from its name to the next entry's opening brace.
    got=$(awk -v n="\"$name\"," 'index($0, n) { on = 1; next } on && /^    \{ / { exit }
                                 on && /^      , "/ { gsub(/[^0-9a-f]/, ""); print; exit }' "$gen")
    if [ "$got" = "$sum" ]; then
        echo "ok $i - $name: $sum"
    else
        echo "not ok $i - $name: embedded '${got:-none}', sha256sum $sum"
    fi
done
