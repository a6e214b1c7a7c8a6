#!/bin/sh
# Released migrations are frozen (docs/migrations.md): the installer records
# each one's SHA-256 and refuses a database whose applied migration differs
# from the embedded one.  tests/build/frozen-migrations.sha256 lists the
# released files with their sums (sha256sum format, paths relative to the
# source tree); this test fails when one of them is edited, renamed or
# removed, and when a file of the released range (sql/00[1-9]_*.sql,
# sql/demo/001_*.sql) is missing from the list.  A fix goes into a new
# migration; the list only ever grows, by the sums of a new release.
set -eu
list=$top_srcdir/tests/build/frozen-migrations.sha256
cd "$top_srcdir"

if ! command -v sha256sum >/dev/null 2>&1; then
    echo "1..1"
    echo "not ok 1 - sha256sum not found (GNU coreutils)"
    exit 1
fi
if [ ! -s "$list" ]; then
    echo "1..1"
    echo "not ok 1 - $list is missing or empty"
    exit 1
fi

released=$(ls sql/00[1-9]_*.sql sql/demo/001_*.sql 2>/dev/null || true)
n=$(grep -c . "$list")
echo "1..$((n + 1))"

i=0
status=0
while read -r sum file; do
    [ -n "$sum" ] || continue
    i=$((i + 1))
    if [ ! -f "$file" ]; then
        echo "not ok $i - $file: released migration missing (renamed or removed)"
        status=1
        continue
    fi
    actual=$(sha256sum < "$file" | cut -d' ' -f1)
    if [ "$actual" = "$sum" ]; then
        echo "ok $i - $file unchanged since its release"
    else
        echo "not ok $i - $file was edited after its release (sha256 $actual, released $sum)"
        echo "# a released migration is frozen: revert the edit and put the change into a new"
        echo "# migration (docs/migrations.md); databases that applied it would refuse this build"
        status=1
    fi
done < "$list"

i=$((i + 1))
unlisted=
for f in $released; do
    grep -q "  $f\$" "$list" || unlisted="$unlisted $f"
done
if [ -z "$unlisted" ]; then
    echo "ok $i - every migration of the released range is listed"
else
    echo "not ok $i - released migrations missing from $list:$unlisted"
    status=1
fi
exit "$status"
