#!/bin/sh
# The library's objects form no cycle, and no layer calls a layer above it.
#
# A graph is drawn from the built objects as the linker sees them: object A
# needs object B when A has an undefined symbol that B defines (nm).  Then
#   1. no two objects reach each other (no cycle, however long);
#   2. each object's folder under lib/ has a rank (docs/design.md, "Layers"),
#      and an object needs only objects of its own rank or lower;
#   3. every global symbol an object defines is public (myappctx_) or named
#      after its file, mxi_<file>_ (docs/conventions.md).
# The graph is printed as TAP comments, so a failure shows the edge to cut.
#
# Usage: check-layers.sh [OBJECT_DIR]   (default: $top_builddir/lib)
set -eu
dir=${1:-$top_builddir/lib}
NM=${NM:-nm}
echo "1..4"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Objects of lib/<folder>/ only (libtool keeps the PIC ones in .libs; fall
# back to the plain ones).  A source file directly in lib/ is outside every
# layer: refused below.
objs=$(find "$dir" -mindepth 3 -path '*/.libs/*' -name '*.o' 2>/dev/null | sort)
[ -n "$objs" ] || objs=$(find "$dir" -mindepth 2 -name '*.o' 2>/dev/null | sort)
loose=$(ls "${top_srcdir:-.}"/lib/*.c 2>/dev/null || true)
if [ -z "$objs" ]; then
    echo "not ok 1 - objects found under $dir"
    echo "not ok 2 # no objects"; echo "not ok 3 # no objects"; echo "not ok 4 # no objects"
    exit 1
fi
n=$(echo "$objs" | wc -l)
echo "ok 1 - $n objects under $dir"

# One line per symbol: "D <object> <symbol>" (defined) or "U <object> <symbol>".
# The object's name is its folder and file stem: automake names objects
# <dir>/<lib>_la-<stem>.o, so "pool/lib_pool_la-acquire.o" is "pool/acquire".
for o in $objs; do
    rel=${o#"$dir"/}
    folder=$(dirname "$rel" | sed 's|/\.libs$||; s|^\.libs$|.|; s|/\.libs/|/|')
    stem=$(basename "$o" .o | sed 's/^.*_la-//')
    name="$folder/$stem"
    [ "$folder" = . ] && name=$stem
    $NM "$o" | awk -v n="$name" '
        $1 == "U" { print "U", n, $2; next }
        NF >= 3 && $2 ~ /^[TDBRCVW]$/ { print "D", n, $3 }'
done >"$tmp/syms"

# Edges: user -> definer, one line each.
awk '$1 == "D" { def[$3] = $2 }
     $1 == "U" { use[++k] = $2 " " $3 }
     END { for (i = 1; i <= k; i++) { split(use[i], a, " ");
           if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]] } }' \
    "$tmp/syms" | sort -u >"$tmp/edges"
echo "# $(wc -l <"$tmp/edges") edges between objects (user -> definer):"
sed 's/ / -> /; s/^/#   /' "$tmp/edges"

# 2. Cycles: transitive closure (Floyd-Warshall; a few dozen nodes).
awk '{ n[$1]; n[$2]; r[$1, $2] = 1 }
     END {
        for (k in n) for (i in n) if ((i, k) in r) for (j in n) if ((k, j) in r) r[i, j] = 1
        bad = 0
        for (i in n) for (j in n) if (i < j && ((i, j) in r) && ((j, i) in r)) {
            print "#   " i " <-> " j; bad = 1 }
        exit bad
     }' "$tmp/edges" >"$tmp/cycles" && cyc=0 || cyc=1
if [ "$cyc" = 0 ]; then
    echo "ok 2 - no cycle between objects"
else
    echo "not ok 2 - objects that reach each other (a cycle):"
    cat "$tmp/cycles"
fi

# 3. Layers, lowest first: a folder may use its own rank or lower ones.
rank() {
    case $1 in
        core/*) echo 1 ;;
        conn/*) echo 2 ;;
        exec/*) echo 3 ;;
        context/*|api/*|settings/*) echo 4 ;;
        pipeline/*) echo 5 ;;
        pool/*) echo 6 ;;
        schema/*) echo 7 ;;
        *) echo 0 ;;
    esac
}
bad=0
for f in $loose; do echo "#   outside any layer (not in a folder): lib/$(basename "$f")"; bad=1; done >"$tmp/layers"
while read -r from to; do
    rf=$(rank "$from"); rt=$(rank "$to")
    if [ "$rf" = 0 ] || [ "$rt" = 0 ]; then
        echo "#   outside any layer: $from -> $to"; bad=1
    elif [ "$rt" -gt "$rf" ]; then
        echo "#   upward call: $from (layer $rf) -> $to (layer $rt)"; bad=1
    fi
done <"$tmp/edges" >>"$tmp/layers"
[ -s "$tmp/layers" ] && bad=1
if [ "$bad" = 0 ]; then
    echo "ok 3 - every object uses only its own layer or lower ones"
else
    echo "not ok 3 - layering violated:"
    cat "$tmp/layers"
fi

# 4. Names: a global symbol of lib/<folder>/<file>.o is myappctx_* or
#    mxi_<file>_*.  Symbols of the compiler's and the sanitizers' own
#    (__odr_asan.*, __tsan_*) are not ours.
awk '$1 == "D" && $3 !~ /^__/ { n = split($2, p, "/"); stem = p[n];
                 if ($3 !~ /^myappctx_/ && index($3, "mxi_" stem "_") != 1)
                     print "#   " $2 ": " $3 }' "$tmp/syms" | sort -u >"$tmp/names"
if [ -s "$tmp/names" ]; then
    echo "not ok 4 - global symbols not named after their file (mxi_<file>_...):"
    cat "$tmp/names"
else
    echo "ok 4 - every global symbol is myappctx_* or mxi_<file>_*"
fi
