# pg_auto_failover formations for the test harness (sourced after
# pg-common.sh, not run): a monitor and PostgreSQL nodes, each run by its own
# `pg_autoctl run`, everything inside one private directory DIR.
#
# pg_autoctl, initdb and postgres refuse to run as root: as root they run as
# $MYAPPCTX_TEST_OSUSER (pg-common.sh).  pg_autoctl runs with an empty
# environment (no PG* of the caller, no $HOME): its configuration, state and
# pid files go to DIR/xdg, its servers listen on 127.0.0.1 and on a Unix
# socket in DIR only.
#
#   pgaf_find                          finds pg_autoctl (sets PGAF_AUTOCTL)
#   pgaf_pick_ports N                  N distinct TCP ports nothing listens on
#   pgaf_create_monitor DIR PORT       creates and starts the monitor
#   pgaf_create_node DIR NAME PORT DB  creates and starts a node (the first one
#                                      becomes the primary, later ones
#                                      secondaries)
#   pgaf_wait_state SECONDS NAME=STATE...  waits until the monitor reports
#                                      every NAME in (current and goal) STATE
#   pgaf_states, pgaf_event_id, pgaf_events SINCE   the monitor's view
#   pgaf_kill DIR NAME                 SIGKILL to the node's pg_autoctl and
#                                      postgres (an unplanned failure)
#   pgaf_freeze DIR NAME               SIGSTOP to the node's pg_autoctl,
#                                      postmaster and backends (a hung node)
#   pgaf_perform_failover DIR          `pg_autoctl perform failover`, in the
#   pgaf_perform_wait DIR SECONDS      background; its exit status
#   pgaf_run DIR NAME                  `pg_autoctl run` of a node (again)
#   pgaf_stop_all DIR                  stops every process started (for a trap)
#   pgaf_ctl DIR ARG...                pg_autoctl ARG... in that environment
#
# Node NAME's data directory is DIR/NAME, its keeper's log DIR/NAME.log; the
# monitor is "monitor".  PGAF_MONITOR_URI is the monitor's connection string.

pgaf_find() {
    local major sharedir
    PGAF_AUTOCTL=${PGAF_AUTOCTL:-$(command -v pg_autoctl || echo /usr/bin/pg_autoctl)}
    major=$("$MYAPPCTX_PG_BINDIR/pg_config" --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
    sharedir=$("$MYAPPCTX_PG_BINDIR/pg_config" --sharedir 2>/dev/null)
    if [ ! -x "$PGAF_AUTOCTL" ] || [ ! -f "$sharedir/extension/pgautofailover.control" ]; then
        echo "harness: pg_auto_failover for PostgreSQL ${major:-?} not found (pg_autoctl, pgautofailover extension)" >&2
        echo "harness: install it with: apt-get install postgresql-${major:-NN}-auto-failover" >&2
        return 1
    fi
    export PGAF_AUTOCTL
}

# pgaf_pick_ports N: N distinct ports in 20000-31999 (below the ephemeral
# range) with no TCP listener on them.
pgaf_pick_ports() {
    local n=$1 got="" p
    while [ "$(echo $got | wc -w)" -lt "$n" ]; do
        p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
        case " $got " in *" $p "*) continue ;; esac
        pgaf_port_free "$p" && got="$got $p"
    done
    echo $got
}

pgaf_port_free() {
    ! awk -v h="$(printf ':%04X' "$1")" \
        '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# pgaf_ctl DIR ARG...: pg_autoctl as the server user, with nothing but
# this environment.  Its connections to its own postgres name no host:
# PGHOST points them at the socket in DIR.
pgaf_ctl() {
    local dir=$1; shift
    as_server_user env -i PATH="$MYAPPCTX_PG_BINDIR:/usr/bin:/bin" HOME="$dir" LANG=C.UTF-8 \
        PGHOST="$dir" XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" \
        XDG_RUNTIME_DIR="$dir/xdg/run" PG_CONFIG="$MYAPPCTX_PG_BINDIR/pg_config" \
        "$PGAF_AUTOCTL" "$@"
}

# pgaf_initdb DIR NAME [conf line...]: initdb DIR/NAME the harness's way
# (pg_autoctl then adopts it), its socket in DIR.  pg_autoctl's own settings
# live in postgresql-auto-failover.conf, included at the top of
# postgresql.conf; what is appended here overrides them, and a secondary
# gets a copy through pg_basebackup.
pgaf_initdb() {
    local dir=$1 name=$2 line; shift 2
    as_server_user "$MYAPPCTX_PG_BINDIR/initdb" -D "$dir/$name" -A trust -U postgres \
        -E UTF8 --locale=C --no-sync >"$dir/initdb-$name.log" 2>&1 || {
        echo "harness: initdb failed:" >&2; cat "$dir/initdb-$name.log" >&2; return 1; }
    {
        echo "unix_socket_directories = '$dir'"
        echo "fsync = off"
        echo "max_connections = 100"
        echo "shared_buffers = 32MB"
        echo "log_min_messages = warning"
        for line in "$@"; do echo "$line"; done
    } >>"$dir/$name/postgresql.conf"
}

# pgaf_run DIR NAME: `pg_autoctl run` for DIR/NAME in the background, in a
# session of its own whose id goes to DIR/NAME.pgid (its postmaster is in it
# too, so that the node can be killed at once).  Not a child of the caller:
# no job notices, no zombie when it is killed.
pgaf_run() {
    local dir=$1 name=$2
    if [ "$(id -u)" = 0 ]; then set -- runuser -u "$MYAPPCTX_TEST_OSUSER" --; else set --; fi
    rm -f "$dir/$name.pgid"
    ( setsid sh -c 'echo $$ >"$0"; exec "$@"' "$dir/$name.pgid" "$@" \
        env -i PATH="$MYAPPCTX_PG_BINDIR:/usr/bin:/bin" HOME="$dir" LANG=C.UTF-8 \
        PGHOST="$dir" XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" \
        XDG_RUNTIME_DIR="$dir/xdg/run" PG_CONFIG="$MYAPPCTX_PG_BINDIR/pg_config" \
        "$PGAF_AUTOCTL" run --pgdata "$dir/$name" >>"$dir/$name.log" 2>&1 </dev/null & )
    grep -qx "$name" "$dir/.pgaf" 2>/dev/null || echo "$name" >>"$dir/.pgaf"
    local i=0
    while [ ! -s "$dir/$name.pgid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

pgaf_create_monitor() {
    local dir=$1 port=$2
    [ "$(id -u)" != 0 ] || chown "$MYAPPCTX_TEST_OSUSER" "$dir"
    # pg_autoctl falls back to /tmp/pg_autoctl for its pid files when
    # XDG_RUNTIME_DIR does not exist.
    as_server_user mkdir -m 700 -p "$dir/xdg/config" "$dir/xdg/data" "$dir/xdg/run"
    # Detection in seconds rather than the production defaults (20 s before
    # an unreported node counts as unhealthy, 10 s of grace after start).
    pgaf_initdb "$dir" monitor \
        "pgautofailover.health_check_period = 500" \
        "pgautofailover.health_check_timeout = 1000" \
        "pgautofailover.health_check_max_retries = 1" \
        "pgautofailover.health_check_retry_delay = 200" \
        "pgautofailover.node_considered_unhealthy_timeout = ${PGAF_UNHEALTHY_MS:-2000}" \
        "pgautofailover.startup_grace_period = 1000" \
        "pgautofailover.primary_demote_timeout = ${PGAF_DEMOTE_TIMEOUT_MS:-2000}" || return 1
    pgaf_ctl "$dir" create monitor --pgdata "$dir/monitor" --pgport "$port" \
        --pgctl "$MYAPPCTX_PG_BINDIR/pg_ctl" --hostname 127.0.0.1 --listen 127.0.0.1 \
        --auth trust --no-ssl >"$dir/create-monitor.log" 2>&1 || {
        echo "harness: pg_autoctl create monitor failed:" >&2; tail -n 30 "$dir/create-monitor.log" >&2; return 1; }
    PGAF_MONITOR_URI="postgres://autoctl_node@127.0.0.1:$port/pg_auto_failover?sslmode=prefer"
    export PGAF_MONITOR_URI
    pgaf_run "$dir" monitor
    pgaf_wait_sql "$dir" "$port" pg_auto_failover 30 || {
        echo "harness: the monitor did not start:" >&2; tail -n 30 "$dir/monitor.log" >&2; return 1; }
}

# pgaf_create_node DIR NAME PORT DBNAME: the first node is initdb'd here and
# adopted; later ones are cloned from the primary by pg_autoctl.
pgaf_create_node() {
    local dir=$1 name=$2 port=$3 db=$4
    if [ ! -s "$dir/.pgaf-first" ]; then
        # synchronous_commit is on (the default) on purpose: with a
        # synchronous standby, an acknowledged commit is on the standby.
        pgaf_initdb "$dir" "$name" "synchronous_commit = on" || return 1
        echo "$name" >"$dir/.pgaf-first"
    fi
    pgaf_ctl "$dir" create postgres --pgdata "$dir/$name" --pgport "$port" --pghost "$dir" \
        --pgctl "$MYAPPCTX_PG_BINDIR/pg_ctl" --name "$name" --hostname 127.0.0.1 \
        --listen 127.0.0.1 --dbname "$db" --monitor "$PGAF_MONITOR_URI" \
        --auth trust --no-ssl >"$dir/create-$name.log" 2>&1 || {
        echo "harness: pg_autoctl create postgres ($name) failed:" >&2
        tail -n 30 "$dir/create-$name.log" >&2; return 1; }
    pgaf_run "$dir" "$name"
}

# pgaf_wait_sql DIR PORT DB SECONDS: until a server answers on DIR:PORT.
pgaf_wait_sql() {
    local i=0
    until "$MYAPPCTX_PG_BINDIR/pg_isready" -q -h "$1" -p "$2" -d "$3" -U postgres; do
        i=$((i + 1)); [ $i -le $(($4 * 10)) ] || return 1; sleep 0.1
    done
}

# The monitor's view: "name current goal" per node.
pgaf_states() {
    "$MYAPPCTX_PG_BINDIR/psql" -X -A -t -F ' ' "$PGAF_MONITOR_URI" -c \
        "SELECT nodename, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeid" 2>/dev/null
}

# pgaf_event_id: the monitor's last event; pgaf_events SINCE: the events
# after that one, "time node reported-state goal-state description".
pgaf_event_id() {
    "$MYAPPCTX_PG_BINDIR/psql" -X -A -t "$PGAF_MONITOR_URI" -c \
        "SELECT coalesce(max(eventid), 0) FROM pgautofailover.event"
}

pgaf_events() {
    "$MYAPPCTX_PG_BINDIR/psql" -X -A -t -F ' ' "$PGAF_MONITOR_URI" -c \
        "SELECT to_char(eventtime, 'HH24:MI:SS.MS'), nodename, reportedstate, goalstate, description
           FROM pgautofailover.event WHERE eventid > $1 ORDER BY eventid" |
        sed 's/ node [0-9]* "[^"]*" ([^)]*)//g'
}

# pgaf_wait_state SECONDS NAME=STATE...: until each NAME's reported and
# goal state are STATE (STATE may be a|b for either).
pgaf_wait_state() {
    local limit=$1 end states ok want n s line cur goal; shift
    end=$(($(date +%s) + limit))
    while :; do
        states=$(pgaf_states)
        ok=1
        for want in "$@"; do
            n=${want%%=*}; s=${want#*=}
            line=$(printf '%s\n' "$states" | awk -v n="$n" '$1 == n { print $2, $3 }')
            cur=${line% *}; goal=${line#* }
            case "|$s|" in *"|$cur|"*) ;; *) ok=0 ;; esac
            [ "$cur" = "$goal" ] || ok=0
        done
        [ $ok = 0 ] || return 0
        if [ "$(date +%s)" -ge "$end" ]; then
            echo "harness: pg_auto_failover did not reach $* within $limit s; the monitor reports:" >&2
            printf '%s\n' "$states" >&2
            return 1
        fi
        sleep 0.1
    done
}

# pgaf_kill DIR NAME: the node fails -- SIGKILL to its keeper and its
# postmaster (one session) at once; the backends exit when they see the
# postmaster gone.  Nothing is shut down cleanly.  Returns once the
# postmaster is gone.
pgaf_kill() {
    local dir=$1 name=$2 pgid pm i=0
    pgid=$(cat "$dir/$name.pgid" 2>/dev/null) || return 1
    pm=$(head -n 1 "$dir/$name/postmaster.pid" 2>/dev/null) || pm=
    kill -KILL "-$pgid" || return 1
    if [ -n "$pm" ]; then
        kill -KILL "$pm" 2>/dev/null || true     # should it have left the session
        while pgaf_alive "$pm" && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
    fi
    rm -f "$dir/$name.pgid"
}

# pgaf_freeze DIR NAME: the node hangs -- SIGSTOP to its keeper, its
# postmaster and the postmaster's children (each in a session of its own).
# The kernel still accepts connections and ACKs data for it, so neither
# connect_timeout (the TCP connection opens, no answer follows) nor TCP
# keepalives notice; only a deadline of the client's does.  The pids go to
# DIR/NAME.frozen for pgaf_stop_all.
pgaf_freeze() {
    local dir=$1 name=$2 pgid pm p
    pgid=$(cat "$dir/$name.pgid" 2>/dev/null) || return 1
    pm=$(head -n 1 "$dir/$name/postmaster.pid" 2>/dev/null) || return 1
    kill -STOP "-$pgid" || return 1
    for p in $pm $(cat /proc/"$pm"/task/*/children 2>/dev/null); do
        kill -STOP "$p" 2>/dev/null && echo "$p" >>"$dir/$name.frozen"
    done
    return 0
}

# pgaf_perform_failover DIR: `pg_autoctl perform failover` (a switchover:
# the monitor has the primary drained and stopped, then promotes the
# secondary) in the background; pgaf_perform_wait DIR SECONDS returns its
# exit status.  pg_auto_failover 2.0's perform_failover() can fail with a
# deadlock against a keeper's concurrent report (its transaction is rolled
# back, nothing happened): that is retried.
pgaf_perform_failover() {
    local dir=$1
    rm -f "$dir/perform.rc"
    (
        n=0
        while :; do
            n=$((n + 1))
            pgaf_ctl "$dir" perform failover --pgdata "$dir/monitor" --wait 60 \
                >"$dir/perform.out" 2>&1 </dev/null
            rc=$?
            cat "$dir/perform.out" >>"$dir/perform.log"
            [ $rc != 0 ] && [ $n -lt 5 ] && grep -q 'deadlock detected' "$dir/perform.out" || break
            echo "harness: perform failover: deadlock in the monitor, again" >>"$dir/perform.log"
            sleep 0.2
        done
        echo $rc >"$dir/perform.rc"
    ) >/dev/null 2>&1 </dev/null &
    echo $! >"$dir/perform.pid"
}

pgaf_perform_wait() {
    local dir=$1 end
    end=$(($(date +%s) + $2))
    while [ ! -s "$dir/perform.rc" ]; do
        if [ "$(date +%s)" -ge "$end" ]; then
            echo "harness: pg_autoctl perform failover did not return within $2 s" >&2
            return 1
        fi
        sleep 0.1
    done
    return "$(cat "$dir/perform.rc")"
}

# pgaf_alive PID: the process exists and is not a zombie (Linux /proc).
pgaf_alive() {
    [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# pgaf_stop_all DIR: every keeper started under DIR, nodes first:
# `pg_autoctl stop` (it stops its postgres), SIGKILL to the session after
# 15 s, then an immediate stop of any postgres left.
pgaf_stop_all() {
    local dir=$1 names n pgid i
    [ -f "$dir/.pgaf" ] || return 0
    if [ -s "$dir/perform.pid" ] && [ ! -s "$dir/perform.rc" ]; then
        kill "$(cat "$dir/perform.pid")" 2>/dev/null || true
    fi
    names=$(sed '/^monitor$/d' "$dir/.pgaf"; grep -x monitor "$dir/.pgaf")
    for n in $names; do
        [ -f "$dir/$n.frozen" ] || continue        # a frozen node cannot stop
        pgid=$(cat "$dir/$n.pgid" 2>/dev/null) && kill -KILL "-$pgid" 2>/dev/null
        kill -KILL $(cat "$dir/$n.frozen") 2>/dev/null || true
        rm -f "$dir/$n.pgid"
    done
    for n in $names; do
        pgid=$(cat "$dir/$n.pgid" 2>/dev/null) || continue
        pgaf_alive "$pgid" || continue
        pgaf_ctl "$dir" stop --pgdata "$dir/$n" >/dev/null 2>&1 || kill -TERM "-$pgid" 2>/dev/null || true
    done
    for n in $names; do
        pgid=$(cat "$dir/$n.pgid" 2>/dev/null) || continue
        i=0
        while pgaf_alive "$pgid" && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "-$pgid" 2>/dev/null || true
    done
    for n in $names; do
        [ -f "$dir/$n/postmaster.pid" ] || continue
        as_server_user "$MYAPPCTX_PG_BINDIR/pg_ctl" -D "$dir/$n" -m immediate -w stop >/dev/null 2>&1 || true
    done
}
