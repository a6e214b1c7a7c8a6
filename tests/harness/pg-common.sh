# Shared shell functions of the test harness (sourced, not run).

# The OS user that runs initdb/postgres/pgbouncer: ourselves, unless root.
if [ "$(id -u)" = 0 ]; then
    MYAPPCTX_TEST_OSUSER=${MYAPPCTX_TEST_OSUSER:-postgres}
else
    MYAPPCTX_TEST_OSUSER=$(id -un)
fi
export MYAPPCTX_TEST_OSUSER

# Runs a command as the unprivileged server user.
as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$MYAPPCTX_TEST_OSUSER" -- "$@"
    else
        "$@"
    fi
}

# Finds initdb/pg_ctl/postgres; sets MYAPPCTX_PG_BINDIR.
pg_find_bindir() {
    for d in ${MYAPPCTX_PG_BINDIR:-} "$(pg_config --bindir 2>/dev/null)" \
             $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r) \
             "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            MYAPPCTX_PG_BINDIR=$d
            export MYAPPCTX_PG_BINDIR
            return 0
        fi
    done
    echo "harness: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found." >&2
    echo "harness: install them with: apt-get install postgresql   (or set MYAPPCTX_PG_BINDIR)" >&2
    return 1
}

pg_find_pgbouncer() {
    PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
    if [ ! -x "$PGBOUNCER" ]; then
        echo "harness: pgbouncer not found; install it with: apt-get install pgbouncer" >&2
        return 1
    fi
    export PGBOUNCER
}

# A port for the socket name; the socket lives in a private directory, so
# the only clash possible is in the name of shared memory, which the server
# handles itself.  Vary it anyway so logs are easy to tell apart.
pg_pick_port() {
    echo $(( 20000 + ( $$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % 20000 ))
}

# pg_start_server DIR NAME PORT [extra postgres options]: initdb DIR/NAME and
# start it with its socket in DIR.  Sets PG_PORT.
pg_start_server() {
    dir=$1; name=$2; PG_PORT=$3; shift 3
    if [ "$(id -u)" = 0 ]; then
        if ! id "$MYAPPCTX_TEST_OSUSER" >/dev/null 2>&1; then
            echo "harness: running as root, but user '$MYAPPCTX_TEST_OSUSER' does not exist to run the server" >&2
            echo "harness: create it (apt-get install postgresql creates 'postgres') or set MYAPPCTX_TEST_OSUSER" >&2
            return 1
        fi
        chown "$MYAPPCTX_TEST_OSUSER" "$dir"
    fi
    as_server_user "$MYAPPCTX_PG_BINDIR/initdb" -D "$dir/$name" -A trust -U postgres \
        -E UTF8 --locale=C --no-sync >"$dir/initdb-$name.log" 2>&1 || {
        echo "harness: initdb failed:" >&2; cat "$dir/initdb-$name.log" >&2; return 1; }
    # Everyone is trusted but the one role the tests of failed logins use
    # (28P01: a wrong or missing password); they create it themselves.
    hba=$dir/$name/pg_hba.conf
    as_server_user sh -c "{ echo 'local all myappctx_pw_test scram-sha-256'; cat '$hba'; } >'$hba.new' &&
                          mv '$hba.new' '$hba'"
    cat >>"$dir/$name/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $PG_PORT
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 64MB
max_prepared_transactions = 0
log_min_messages = warning
log_line_prefix = '%m [%p] %u@%d '
CONF
    as_server_user "$MYAPPCTX_PG_BINDIR/pg_ctl" -D "$dir/$name" -l "$dir/server.log" \
        -w -t 60 ${1:+-o "$*"} start >/dev/null || {
        echo "harness: the server did not start:" >&2; tail -n 30 "$dir/server.log" >&2; return 1; }
    echo "$dir/$name" >>"$dir/.servers"
}

# pg_start_pgbouncer DIR PORT PGPORT: PgBouncer in transaction mode on a Unix
# socket in DIR, in front of the server at DIR:PGPORT.  Sets PGB_PORT.
pg_start_pgbouncer() {
    dir=$1; PGB_PORT=$2; pgport=$3
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$dir port=$pgport

[pgbouncer]
listen_addr =
listen_port = $PGB_PORT
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
server_reset_query = DISCARD ALL
max_client_conn = 500
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
ignore_startup_parameters = extra_float_digits
INI
    printf '"postgres" ""\n"app_service" ""\n' >"$dir/userlist.txt"
    chmod 644 "$dir/pgbouncer.ini" "$dir/userlist.txt"
    [ "$(id -u)" != 0 ] || chown "$MYAPPCTX_TEST_OSUSER" "$dir/pgbouncer.ini" "$dir/userlist.txt"
    as_server_user "$PGBOUNCER" -d "$dir/pgbouncer.ini" >/dev/null 2>&1 || {
        echo "harness: pgbouncer did not start:" >&2; cat "$dir/pgbouncer.log" >&2 2>/dev/null; return 1; }
    i=0
    while [ ! -S "$dir/.s.PGSQL.$PGB_PORT" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -S "$dir/.s.PGSQL.$PGB_PORT" ] || { echo "harness: pgbouncer socket did not appear" >&2; return 1; }
}

# Stops everything started under DIR.
pg_stop_all() {
    dir=$1
    if [ -f "$dir/pgbouncer.pid" ]; then
        kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    fi
    if [ -f "$dir/.servers" ]; then
        while read -r d; do
            as_server_user "$MYAPPCTX_PG_BINDIR/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
        done <"$dir/.servers"
    fi
}

# pg_start_standby DIR NAME PORT PRIMARY_PORT: a streaming standby of the
# server listening in DIR on PRIMARY_PORT, its socket in DIR too.
pg_start_standby() {
    dir=$1; name=$2; port=$3; primary_port=$4
    as_server_user "$MYAPPCTX_PG_BINDIR/pg_basebackup" -h "$dir" -p "$primary_port" -U postgres \
        -D "$dir/$name" -R -X stream --no-sync >"$dir/basebackup-$name.log" 2>&1 || {
        echo "harness: pg_basebackup failed:" >&2; cat "$dir/basebackup-$name.log" >&2; return 1; }
    echo "port = $port" >>"$dir/$name/postgresql.conf"
    as_server_user "$MYAPPCTX_PG_BINDIR/pg_ctl" -D "$dir/$name" -l "$dir/server-$name.log" \
        -w -t 60 start >/dev/null || {
        echo "harness: the standby did not start:" >&2; tail -n 30 "$dir/server-$name.log" >&2; return 1; }
    echo "$dir/$name" >>"$dir/.servers"
}

# pg_promote DIR NAME: promotes the standby DIR/NAME and waits for it.
pg_promote() {
    as_server_user "$MYAPPCTX_PG_BINDIR/pg_ctl" -D "$1/$2" -w -t 60 promote >/dev/null
}

# pg_stop DIR NAME [MODE]: stops one server (fast by default).
pg_stop() {
    as_server_user "$MYAPPCTX_PG_BINDIR/pg_ctl" -D "$1/$2" -m "${3:-fast}" -w -t 60 stop >/dev/null
}

# pg_start DIR NAME: starts a stopped server again.
pg_start() {
    log=$1/server.log
    [ "$2" = data ] || log=$1/server-$2.log
    as_server_user "$MYAPPCTX_PG_BINDIR/pg_ctl" -D "$1/$2" -l "$log" -w -t 60 start >/dev/null
}
