#!/bin/sh
# `make failover`: tests/stress/failover against a primary and a synchronous
# streaming standby.  Runs inside tests/harness/with-server.sh, whose server
# is the primary (PGHOST=$MYAPPCTX_TEST_DIR, PGPORT; schema, demo objects and
# app_service installed).
#
# Usage: run-failover.sh PATH/TO/failover
#   FAILOVER_SECONDS        writes before the primary stops (default 4)
#   FAILOVER_AFTER_SECONDS  writes after the first commit on the new primary (3)
#   FAILOVER_BOUND_SECONDS  writes must resume within this (60)
#   FAILOVER_STOP_MODE      how the primary stops: immediate (default) or fast
set -eu
prog=${1:?usage: run-failover.sh PATH/TO/failover}
here=$(cd "$(dirname "$0")" && pwd)
common=$here/../harness/pg-common.sh
. "$common"
dir=${MYAPPCTX_TEST_DIR:?run through tests/harness/with-server.sh}
mode=${FAILOVER_STOP_MODE:-immediate}

psql -X -q -v ON_ERROR_STOP=1 -f "$here/stress-schema.sql" >/dev/null
# The harness runs with synchronous_commit = off; a commit must wait for the
# standby, or "acknowledged" would not mean "on the standby".
psql -X -q -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET synchronous_commit = 'on'" \
    -c 'SELECT pg_reload_conf()' >/dev/null

# pg_basebackup asks for a spread checkpoint, which paces its writes of the
# buffers the schema install dirtied (minutes); flush them at full speed first.
psql -X -q -v ON_ERROR_STOP=1 -c CHECKPOINT >/dev/null

port2=$(pg_pick_port)
while [ "$port2" = "$PGPORT" ]; do port2=$(pg_pick_port); done
pg_start_standby "$dir" standby "$port2" "$PGPORT"

# pg_basebackup -R writes primary_conninfo without application_name; name
# the standby so that the primary can wait for it.  (synchronous_standby_names
# is set on the primary only now: the standby's copy must not have it, or
# after promotion its commits would wait for a standby that does not exist.)
psql -X -q -v ON_ERROR_STOP=1 -p "$port2" <<'SQL' >/dev/null
SELECT current_setting('primary_conninfo') || ' application_name=standby' AS conninfo \gset
ALTER SYSTEM SET primary_conninfo = :'conninfo';
SELECT pg_reload_conf();
SQL
psql -X -q -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET synchronous_standby_names = 'standby'" \
    -c 'SELECT pg_reload_conf()' >/dev/null

i=0
until [ "$(psql -X -A -t -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")" = sync ]; do
    i=$((i + 1))
    if [ $i -gt 300 ]; then
        echo "run-failover: the standby did not become synchronous" >&2
        psql -X -c 'SELECT application_name, state, sync_state FROM pg_stat_replication' >&2
        exit 1
    fi
    sleep 0.1
done
echo "failover: primary port $PGPORT, synchronous standby port $port2, primary stops ($mode) after ${FAILOVER_SECONDS:-4} s"

FAILOVER_STOP_CMD=". '$common' && pg_stop \"\$MYAPPCTX_TEST_DIR\" data $mode"
FAILOVER_PROMOTE_CMD=". '$common' && pg_promote \"\$MYAPPCTX_TEST_DIR\" standby"
export FAILOVER_STOP_CMD FAILOVER_PROMOTE_CMD

"$prog" "host=$dir,$dir port=$PGPORT,$port2 dbname=$PGDATABASE user=app_service connect_timeout=2 target_session_attrs=read-write" \
    "host=$dir port=$port2 dbname=$PGDATABASE user=postgres" "$port2"
