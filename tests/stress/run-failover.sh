#!/bin/sh
# `make failover`: tests/stress/failover against a pg_auto_failover formation
# (tests/harness/pgaf.sh) -- a monitor and two nodes, node1 the primary and
# node2 its synchronous secondary -- started here as the unprivileged server
# user, on 127.0.0.1 and Unix sockets in a private mkdtemp directory, and
# stopped at the end, also on failure.  pg_auto_failover performs the
# failover; the pool gets the formation's URI (`pg_autoctl show uri`: both
# nodes, target_session_attrs=read-write) and must find the new primary by
# itself.
#
# Usage: run-failover.sh PATH/TO/failover
#   MYAPPCTX_TOOL           the myappctx tool (schema install)
#   FAILOVER_KIND           unplanned: node1 fails (its pg_autoctl and postgres
#                             are SIGKILLed), the monitor notices and promotes
#                             node2;
#                           planned: `pg_autoctl perform failover` (switchover);
#                           both (default): unplanned, then node1 rejoins as a
#                             secondary and a planned failover switches back;
#                           freeze: node1 hangs (SIGSTOP to its pg_autoctl,
#                             postmaster and backends), the monitor promotes
#                             node2 (not in `both`: today the workers hang on
#                             the frozen node's connections, exit status 3)
#   FAILOVER_SECONDS        writes before the failover starts (default 4)
#   FAILOVER_AFTER_SECONDS  writes after the first commit on the new primary (3)
#   FAILOVER_BOUND_SECONDS  writes must resume within this (60)
#   PGAF_UNHEALTHY_MS, PGAF_DEMOTE_TIMEOUT_MS  the monitor's timing (pgaf.sh)
#   FAILOVER_KEEP_DIR       set: keep the directory (data, logs) for a post-mortem
set -eu
prog=${1:?usage: run-failover.sh PATH/TO/failover}
tool=${MYAPPCTX_TOOL:?MYAPPCTX_TOOL must name the myappctx tool}
kind=${FAILOVER_KIND:-both}
case $kind in unplanned|planned|both|freeze) ;; *) echo "run-failover: FAILOVER_KIND=$kind?" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
harness=$(cd "$here/../harness" && pwd)
. "$harness/pg-common.sh"
. "$harness/pgaf.sh"
pg_find_bindir || exit 99
pgaf_find || exit 99

# Nothing of the caller's PostgreSQL (with-server.sh's PG*, say) may leak in.
for v in $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p' | grep -v '^PGAF_'); do unset "$v"; done

dir=$(mktemp -d "${TMPDIR:-/tmp}/myappctx-pgaf.XXXXXX")
chmod 700 "$dir"
cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    if [ "$rc" != 0 ] && [ -n "${PGAF_MONITOR_URI:-}" ]; then
        echo "run-failover: exit status $rc; the monitor reports:" >&2
        pgaf_states >&2 || true
    fi
    pgaf_stop_all "$dir"
    if [ "$rc" != 0 ]; then
        for f in "$dir"/node*.log "$dir"/monitor.log; do
            [ -f "$f" ] || continue
            echo "--- last lines of $(basename "$f")" >&2
            tail -n 15 "$f" >&2
        done
    fi
    [ -n "${FAILOVER_KEEP_DIR:-}" ] && echo "run-failover: kept $dir" >&2 || rm -rf "$dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

db=myappctx_test
set -- $(pgaf_pick_ports 3)
mport=$1 port1=$2 port2=$3
t0=$(date +%s)
pgaf_create_monitor "$dir" "$mport"
pgaf_create_node "$dir" node1 "$port1" "$db"
pgaf_wait_state 60 node1=single
pgaf_create_node "$dir" node2 "$port2" "$db"
pgaf_wait_state 120 node1=primary node2=secondary
uri=$(pgaf_ctl "$dir" show uri --pgdata "$dir/monitor" --formation default)
case $uri in
    *"127.0.0.1:$port1,127.0.0.1:$port2"*target_session_attrs=read-write*) ;;
    *) echo "run-failover: unexpected formation URI: $uri" >&2; exit 1 ;;
esac
echo "failover: pg_auto_failover $("$PGAF_AUTOCTL" --version | sed -n '1s/.*version //p'): monitor :$mport," \
     "node1 :$port1 primary, node2 :$port2 secondary, ready in $(($(date +%s) - t0)) s"
echo "failover: formation URI $uri"

sql_as() { # USER PORT ARG...: psql on that node, through its socket
    u=$1 p=$2; shift 2
    "$MYAPPCTX_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$dir" -p "$p" -U "$u" -d "$db" "$@"
}
sql() { sql_as postgres "$@"; }

# The schema goes to the primary; the secondary gets it by replication.
PGHOST=$dir PGPORT=$port1 PGUSER=postgres PGDATABASE=$db \
    "$tool" schema install --app-role app_service --demo >/dev/null
sql "$port1" -f "$here/stress-schema.sql" >/dev/null
i=0
until [ "$(sql "$port2" -c "SELECT to_regclass('data.stress_events') IS NOT NULL")" = t ]; do
    i=$((i + 1))
    [ $i -le 300 ] || { echo "run-failover: the schema did not reach node2" >&2; exit 1; }
    sleep 0.1
done

# "Acknowledged" must mean "on the secondary": pg_auto_failover names the
# secondary in synchronous_standby_names, and the test's role commits with
# synchronous_commit = on.
check_sync() { # PRIMARY_PORT SECONDARY_NAME
    ssn=$(sql "$1" -c 'SHOW synchronous_standby_names')
    state=$(sql "$1" -c "SELECT string_agg(application_name || ':' || sync_state, ',') FROM pg_stat_replication")
    sc=$(sql_as app_service "$1" -c 'SHOW synchronous_commit')
    echo "failover: synchronous_standby_names = '$ssn', replication $state, synchronous_commit = $sc for app_service"
    case $ssn in *pgautofailover_standby_*) ;; *) echo "run-failover: replication is not synchronous" >&2; exit 1 ;; esac
    case ",$state," in *",pgautofailover_standby_$2:sync,"*|*",pgautofailover_standby_$2:quorum,"*) ;;
        *) echo "run-failover: the secondary is not a synchronous standby" >&2; exit 1 ;; esac
    [ "$sc" = on ] || { echo "run-failover: synchronous_commit is '$sc' for app_service" >&2; exit 1; }
}

# run_failover KIND FROM TO: one run of the program while pg_auto_failover
# moves the primary from node FROM to node TO.
run_failover() {
    how=$1 from=$2 to=$3
    eval "fport=\$port${from#node} tport=\$port${to#node}"
    check_sync "$fport" "${to#node}"
    lib=". '$harness/pg-common.sh' && . '$harness/pgaf.sh'"
    case $how in
        unplanned) step="SIGKILL to $from's pg_autoctl and postgres" cmd="pgaf_kill '$dir' $from" ;;
        planned) step="pg_autoctl perform failover" cmd="pgaf_perform_failover '$dir'" ;;
        freeze) step="SIGSTOP to $from's pg_autoctl, postmaster and backends" cmd="pgaf_freeze '$dir' $from" ;;
    esac
    FAILOVER_STOP_CMD="$lib && echo \"failover: \$(date +%T.%3N) $step\" && $cmd"
    since=$(pgaf_event_id)
    rm -f "$dir/perform.pid" "$dir/perform.rc"
    # Done when the monitor has the new primary accept writes.
    FAILOVER_PROMOTE_CMD="$lib && pgaf_wait_state 60 $to='wait_primary|primary'"
    export FAILOVER_STOP_CMD FAILOVER_PROMOTE_CMD
    echo "failover: $how failover $from -> $to after ${FAILOVER_SECONDS:-4} s of writes"
    # failover seeds its users and tenants through PG*: the current primary.
    set +e
    PGHOST=$dir PGPORT=$fport PGUSER=postgres PGDATABASE=$db \
        "$prog" "$uri&user=app_service&connect_timeout=2" \
        "host=$dir port=$tport dbname=$db user=postgres" "$tport"
    st=$?
    set -e
    if [ "$how" = planned ] && [ -f "$dir/perform.pid" ] && ! pgaf_perform_wait "$dir" 60; then
        echo "run-failover: pg_autoctl perform failover failed:" >&2
        cat "$dir/perform.log" >&2
        st=1
    fi
    pgaf_events "$since" | sed 's/^/failover: monitor event /' || true
    pgaf_states | sed 's/^/failover: monitor: /' || true
    return $st
}

case $kind in
    unplanned) run_failover unplanned node1 node2 ;;
    planned) run_failover planned node1 node2 ;;
    freeze) run_failover freeze node1 node2 ;;
    both)
        run_failover unplanned node1 node2
        # node1 comes back: pg_autoctl rewinds it and it follows node2.
        t1=$(date +%s)
        pgaf_run "$dir" node1
        pgaf_wait_state 120 node1=secondary node2=primary
        echo "failover: node1 rejoined as a secondary in $(($(date +%s) - t1)) s"
        run_failover planned node2 node1
        ;;
esac
