#!/bin/bash
# `make bench-sweep`: cases a, b, c and d of `make bench` (run-bench.sh) over
# a range of clients and of statements per unit, against the throwaway
# server of tests/harness/with-server.sh (PG* and MYAPPCTX_PG_BINDIR set):
#   a  pgbench naive: BEGIN; set; N x SELECT; COMMIT (N + 3 round trips)
#   b  pgbench pipelined: \startpipeline set; N x SELECT \endpipeline (one)
#   c  libmyappctx pool + myappctx_run_in_context, N statements (one)
#   d  libmyappctx pool, the idiomatic pooled transaction: acquire,
#      myappctx_begin_as_user, N x myappctx_exec, myappctx_commit, release
# where the SELECT is the unit's read-back of its context.  Two series:
#   clients     SWEEP_CLIENTS (default 1 2 4 8 16 32 64), 1 statement per
#               unit, the pool sized to the clients (one connection each)
#   statements  SWEEP_STATEMENTS (default 1 10 100) per unit at
#               SWEEP_STATEMENTS_CLIENTS (default 8) clients
# Each point runs a, b, c, d back to back for SWEEP_SECONDS (default 2) each,
# so drift hits the four alike.  pgbench gets -j = the number of cores
# (nproc), capped at the clients.  tps counts units of work, not statements.
#
# Writes to OUTDIR: sweep.csv (case,clients,statements,tps,mean_us,p99_us,n),
# tps-vs-clients.png, p99-vs-clients.png, tps-vs-statements.png (gnuplot,
# Debian package gnuplot-nox), plot.gp (re-draws them: cd OUTDIR && gnuplot
# plot.gp) and sweep.md: the Markdown tables it also prints, with the commit,
# the machine and its load, to paste into the README.
#
# Usage: run-sweep.sh PATH/TO/bench_fastpath OUTDIR
set -euo pipefail
shopt -s inherit_errexit
die() { echo "bench-sweep: $*" >&2; exit 1; }
# Fail before a minute of measuring, not after it.
command -v gnuplot >/dev/null 2>&1 ||
    die "gnuplot not found: it draws the plots; install the Debian package gnuplot-nox (apt-get install gnuplot-nox)"
bench=${1:?usage: run-sweep.sh PATH/TO/bench_fastpath OUTDIR}
out=${2:?usage: run-sweep.sh PATH/TO/bench_fastpath OUTDIR}
secs=${SWEEP_SECONDS:-2}
clients_list=${SWEEP_CLIENTS:-1 2 4 8 16 32 64}
stmts_list=${SWEEP_STATEMENTS:-1 10 100}
stmts_clients=${SWEEP_STATEMENTS_CLIENTS:-8}
pgbench=${PGBENCH:-$MYAPPCTX_PG_BINDIR/pgbench}
psql=${MYAPPCTX_PG_BINDIR:+$MYAPPCTX_PG_BINDIR/}psql
cores=$(nproc 2>/dev/null || echo 2)
srcdir=$(cd "$(dirname "$0")/../.." && pwd)


for n in $clients_list $stmts_clients; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "SWEEP_CLIENTS and SWEEP_STATEMENTS_CLIENTS take positive integers, not '$n'"
done
for n in $stmts_list; do
    if ! [[ $n =~ ^[1-9][0-9]*$ ]] || [ "$n" -gt 1024 ]; then
        die "SWEEP_STATEMENTS takes integers 1..1024 (MYAPPCTX_PIPELINE_MAX_STMTS), not '$n'"
    fi
done

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/myappctx-sweep.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"   # pgbench writes its logs here as the invoking user; keep it readable

user_id=bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb
tenant_id=11111111-1111-1111-1111-111111111111
direct="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=app_service"
read_back="SELECT current_setting('myapp.current_user_id'), current_setting('myapp.current_tenant_id');"

# The points: the clients series at one statement, the statements series at
# SWEEP_STATEMENTS_CLIENTS clients; a point in both runs once.
points=$( { for c in $clients_list; do echo "$c 1"; done
            for n in $stmts_list; do echo "$stmts_clients $n"; done; } | sort -n -k1,1 -k2,2 -u)
max_clients=$(echo "$points" | awk '$1 > m { m = $1 } END { print m }')

# Each client is one connection (pgbench's, or the pool's); they never
# overlap, as the cases run one after the other.  The harness gives 200;
# should the sweep ask for more, raise it and restart the server.
have=$("$psql" -Atc "SHOW max_connections")
reserved=$("$psql" -Atc "SHOW superuser_reserved_connections")
need=$((max_clients + reserved + 5))
if [ "$have" -lt "$need" ]; then
    echo "bench-sweep: max_connections=$have < $need for $max_clients clients: raising it and restarting" >&2
    "$psql" -qc "ALTER SYSTEM SET max_connections = $need"
    # shellcheck source=tests/harness/pg-common.sh
    . "$srcdir/tests/harness/pg-common.sh"
    pg_stop "$MYAPPCTX_TEST_DIR" data
    pg_start "$MYAPPCTX_TEST_DIR" data
fi

# script_for KIND N: writes the pgbench script and prints its path.
script_for() {
    local f=$tmp/$1_$2.sql i
    if [ ! -f "$f" ]; then
        {
            if [ "$1" = naive ]; then echo "BEGIN;"; else printf '%s\n' '\startpipeline'; fi
            echo "SELECT api.set_transaction_context(:uid::uuid, :tid::uuid, NULL::text);"
            for i in $(seq 1 "$2"); do echo "$read_back"; done
            if [ "$1" = naive ]; then echo "COMMIT;"; else printf '%s\n' '\endpipeline'; fi
        } >"$f"
    fi
    echo "$f"
}

# run_pgbench SCRIPT CLIENTS -> "tps mean_us p99_us n"
run_pgbench() {
    local script=$1 clients=$2 jobs out tps failed
    jobs=$(( cores < clients ? cores : clients ))
    rm -f "$tmp"/log.*
    out=$("$pgbench" -n -M extended -c "$clients" -j "$jobs" -T "$secs" \
        -h "$PGHOST" -p "$PGPORT" -U app_service -D uid=$user_id -D tid=$tenant_id \
        -f "$script" -l --log-prefix="$tmp/log" "$PGDATABASE" 2>&1) || {
        echo "bench-sweep: pgbench failed ($script, $clients clients):" >&2; echo "$out" >&2; return 1; }
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -n 1)
    failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
    [ "${failed:-0}" = 0 ] || { echo "bench-sweep: pgbench: $failed failed transactions" >&2; return 1; }
    cat "$tmp"/log.* | awk '{ print $3 }' | sort -n >"$tmp/lat"
    rm -f "$tmp"/log.*
    awk -v tps="$tps" '{ v[NR] = $1; s += $1 }
        END { if (NR == 0) exit 1
              i = int(0.99 * (NR - 1) + 0.5) + 1; printf "%s %.1f %.1f %d\n", tps, s / NR, v[i], NR }' "$tmp/lat"
}

# run_lib MODE CLIENTS STATEMENTS -> "tps mean_us p99_us n"
run_lib() {
    local out
    out=$("$bench" "$1" "$secs" "$2" "$direct" 0 "$3") || {
        echo "bench-sweep: bench_fastpath $1 ($2 clients, $3 statements) failed: $out" >&2; return 1; }
    echo "$out" | sed -n 's/^tps=\([0-9.]*\) mean_us=\([0-9.]*\) p99_us=\([0-9.]*\) n=\([0-9]*\).*/\1 \2 \3 \4/p'
}

commit=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
branch=$(git -C "$srcdir" rev-parse --abbrev-ref HEAD 2>/dev/null || echo "")
if [ "$commit" != unknown ] && [ -n "$(git -C "$srcdir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit+changes"
fi
commit=${SWEEP_LABEL:-$commit}
npoints=$(echo "$points" | wc -l)
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)
start=$(date +%s)
echo "bench-sweep: $npoints points x 4 cases x ${secs}s, pgbench -j min(clients, $cores); load average $load_start" >&2

csv=$out/sweep.csv
echo "case,clients,statements,tps,mean_us,p99_us,n" >"$csv"
i=0
while read -r clients stmts; do
    i=$((i + 1))
    echo "bench-sweep: point $i/$npoints: $clients clients, $stmts statements per unit" >&2
    for c in a b c d; do
        case $c in
            a) r=$(run_pgbench "$(script_for naive "$stmts")" "$clients") ;;
            b) r=$(run_pgbench "$(script_for pipelined "$stmts")" "$clients") ;;
            c) r=$(run_lib fastpath "$clients" "$stmts") ;;
            d) r=$(run_lib roundtrips "$clients" "$stmts") ;;
        esac
        [ -n "$r" ] || die "case $c ($clients clients, $stmts statements): no figures"
        read -r tps mean p99 n <<<"$r"
        echo "$c,$clients,$stmts,$tps,$mean,$p99,$n" >>"$csv"
    done
done <<<"$points"
load_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)
elapsed=$(( $(date +%s) - start ))

# ---------------------------------------------------------------- plots
for c in a b c d; do
    awk -F, -v c="$c" 'NR > 1 && $1 == c && $3 == 1' "$csv" | sort -t, -k2,2n >"$out/clients_$c.dat"
    awk -F, -v c="$c" -v k="$stmts_clients" 'NR > 1 && $1 == c && $2 == k' "$csv" |
        sort -t, -k3,3n >"$out/statements_$c.dat"
done
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
    term="pngcairo size 1100,600 font 'Sans,11'"
else
    term="png size 1100,600"
fi
xtics_c=$(echo "$clients_list" | tr ' ' '\n' | sort -n -u | paste -sd, -)
xtics_s=$(echo "$stmts_list" | tr ' ' '\n' | sort -n -u | paste -sd, -)
# x ranges with a margin on the log scale, so no point sits on the border
xrange() { echo "$1" | tr ',' '\n' | awk 'NR == 1 || $1 < lo { lo = $1 } $1 > hi { hi = $1 }
    END { printf "[%g:%g]", lo / 1.25, hi * 1.25 }'; }
about="commit $commit, ${secs} s per point, $cores cores, load $load_start"
cat >"$out/plot.gp" <<GP
# Draws the sweep's plots from the .dat files beside it: gnuplot plot.gp
set terminal $term
set datafile separator ","
set grid
set key outside right top vertical Left reverse box spacing 1.3 title "RT = round trips per unit"
set style data linespoints
set pointsize 1.2
la = "a  pgbench naive (N+3 RT)"
lb = "b  pgbench pipelined (1 RT)"
lc = "c  pool + run\\\\_in\\\\_context (1 RT)"
ld = "d  pool: begin + context, N exec, commit (N+2 RT)"

set output "tps-vs-clients.png"
set title "Units of work per second against clients (1 statement per unit)\\n{/*0.8 $about}"
set xlabel "clients = connections (log2 scale)"
set ylabel "tps (units of work per second)"
set logscale x 2
set xtics ($xtics_c)
set xrange $(xrange "$xtics_c")
set yrange [0:*]
plot "clients_a.dat" using 2:4 title la lw 2, "clients_b.dat" using 2:4 title lb lw 2, \\
     "clients_c.dat" using 2:4 title lc lw 2, "clients_d.dat" using 2:4 title ld lw 2

set output "p99-vs-clients.png"
set title "p99 latency of a unit against clients (1 statement per unit)\\n{/*0.8 $about}"
set ylabel "p99 latency (µs, log scale)"
set logscale y 10
set yrange [*:*]
plot "clients_a.dat" using 2:6 title la lw 2, "clients_b.dat" using 2:6 title lb lw 2, \\
     "clients_c.dat" using 2:6 title lc lw 2, "clients_d.dat" using 2:6 title ld lw 2

set output "tps-vs-statements.png"
set title "Units of work per second against statements per unit ($stmts_clients clients)\\n{/*0.8 $about}"
set xlabel "N = read-back statements per unit (log scale)"
set ylabel "tps (units of work per second, log scale)"
set logscale x 10
set xtics ($xtics_s)
set xrange $(xrange "$xtics_s")
plot "statements_a.dat" using 3:4 title la lw 2, "statements_b.dat" using 3:4 title lb lw 2, \\
     "statements_c.dat" using 3:4 title lc lw 2, "statements_d.dat" using 3:4 title ld lw 2
GP
(cd "$out" && gnuplot plot.gp) || die "gnuplot failed on $out/plot.gp"

# --------------------------------------------------------------- summary
{
    echo "Measured by \`make bench-sweep\` at commit $commit${branch:+ ($branch)}, $(date -u +%Y-%m-%d), ${secs} s per point, $cores cores, pgbench \`-j\` = min(clients, $cores); load average (1, 5, 15 min) $load_start before the sweep, $load_end at its end (the sweep's own load included)."
    echo
    echo "| clients | N | a tps | b tps | c tps | d tps | c/b | d/a | a p99 µs | b p99 µs | c p99 µs | d p99 µs |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F, 'NR > 1 { k = $2 "," $3; if (!(k in seen)) { seen[k] = 1; order[++m] = k }
                      tps[k, $1] = $4; p99[k, $1] = $6 }
        END { for (i = 1; i <= m; i++) { k = order[i]; split(k, f, ",")
                printf "| %d | %d | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f |\n",
                    f[1], f[2], tps[k, "a"], tps[k, "b"], tps[k, "c"], tps[k, "d"],
                    tps[k, "c"] / tps[k, "b"], tps[k, "d"] / tps[k, "a"],
                    p99[k, "a"], p99[k, "b"], p99[k, "c"], p99[k, "d"] } }' "$csv"
} >"$out/sweep.md"
echo
cat "$out/sweep.md"
echo
echo "bench-sweep: $npoints points in ${elapsed}s; wrote $csv and, beside it, tps-vs-clients.png p99-vs-clients.png tps-vs-statements.png sweep.md"
echo "bench-sweep: to update the README: cp $out/*.png $out/sweep.csv $srcdir/docs/bench/ and replace the"
echo "bench-sweep: table and its \"Measured by\" line in README.md (Performance, \"The sweep\") with $out/sweep.md"
