#!/bin/sh
# psql-driven TAP tests of myappctx_seal: what the application role can and
# cannot do to the parameters with plain SQL, that the key cannot be read,
# and a context sealed by test/mac.sh (openssl) accepted by the server.
#
# Run by test/run.sh inside tests/harness/with-server.sh (PG* point at the
# server, PGUSER is the superuser).  Reads SEAL_MODE (shared | backend),
# SEAL_KEY_HEX, SEAL_KEY_FILE, SEAL_APP_ROLE, SEAL_TOP (the repository).
set -u
here=$(cd "$(dirname "$0")" && pwd)
app=${SEAL_APP_ROLE:-app_service}
mode=${SEAL_MODE:?}
key_file=${SEAL_KEY_FILE:?}
: "${SEAL_KEY_HEX:?}" "${SEAL_TOP:?}"

n=0
failed=0
tap() {  # tap STATUS DESCRIPTION [DIAG]
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
        [ -z "${3:-}" ] || echo "#   $3"
    fi
}

# The SQLSTATE of the first error of SQL run as USER, or 00000.
sqlstate_of() {
    err=$(psql -X -q -At -U "$1" -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$2" 2>&1 >/dev/null) && {
        echo 00000; return; }
    state=$(printf '%s\n' "$err" | sed -n 's/.*\(ERROR\|FATAL\):  \([0-9A-Z]\{5\}\): .*/\2/p' | head -n 1)
    echo "${state:-?????}"
}

expect() {  # expect USER SQLSTATE DESCRIPTION SQL
    got=$(sqlstate_of "$1" "$4")
    [ "$got" = "$2" ]
    tap $? "$3: $2" "got $got for: $4"
}

value_of() {  # value_of USER SQL
    psql -X -q -At -U "$1" -c "$2" 2>/dev/null
}

is() {  # is WANT DESCRIPTION USER SQL
    got=$(value_of "$3" "$4")
    [ "$got" = "$1" ]
    tap $? "$2" "got '$got', want '$1'"
}

# 1. Every context variable (the library's one list) is out of reach of
#    the application role, whichever way it tries.
names=$(sed -n 's/^[[:space:]]*X(\([a-z_]*\)[,)].*/\1/p' "$SEAL_TOP/lib/core/context_vars.h")
[ -n "$names" ]
tap $? "the context variable names come from lib/core/context_vars.h ($(echo $names | wc -w))"
for v in $names; do
    p=myapp.$v
    q="myapp.\"$v\""      # current_role is an SQL keyword: quote the name in SET
    expect "$app" 42501 "SET $p" "SET $q = 'forged'"
    expect "$app" 42501 "SET LOCAL $p" "BEGIN; SET LOCAL $q = 'forged'; COMMIT"
    expect "$app" 42501 "set_config('$p', ..., false)" "SELECT set_config('$p', 'forged', false)"
    expect "$app" 42501 "set_config('$p', ..., true)" "BEGIN; SELECT set_config('$p', 'forged', true); COMMIT"
    expect "$app" 42501 "RESET $p" "RESET $q"
    expect "$app" 42501 "ALTER ROLE $app SET $p" "ALTER ROLE $app SET $q = 'forged'"
    # A startup option: refused at connect (shared_preload_libraries), or
    # dropped with a WARNING when the library defines the parameter after
    # the options were read (session_preload_libraries).
    got=$(PGOPTIONS="-c $p=forged" psql -X -q -At -U "$app" -c "SELECT current_setting('$p')" 2>/dev/null)
    [ "$got" != forged ]
    tap $? "PGOPTIONS='-c $p=forged' does not set it" "it read back '$got'"
done
got=$(PGOPTIONS="-c myapp.current_tenant_id=forged" psql -X -q -At -U "$app" -c "SELECT 1" 2>&1)
case $mode in
    shared) case $got in *"permission denied to set parameter"*) r=0 ;; *) r=1 ;; esac
            tap $r "shared: a forged startup option refuses the connection" "$got" ;;
    backend) case $got in *"permission denied to set parameter"*) r=0 ;; *) r=1 ;; esac
             tap $r "backend: a forged startup option is dropped with a WARNING" "$got" ;;
esac

# 2. The prefix is reserved: no other myapp.* (or myappctx_seal.*) name.
expect "$app" 42602 "SET of an undeclared myapp.* name" "SET myapp.bogus = 'x'"
expect "$app" 42602 "set_config() of an undeclared myapp.* name" "SELECT set_config('myapp.current_tenant', 'x', false)"
expect "$app" 42602 "ALTER ROLE ... SET of an undeclared myapp.* name" "ALTER ROLE $app SET myapp.bogus = 'x'"
expect postgres 42602 "even a superuser cannot create a myapp.* placeholder" "SELECT set_config('myapp.bogus', 'x', false)"
expect "$app" 42602 "the extension's own prefix is reserved too" "SET myappctx_seal.bogus = 'x'"
expect "$app" 42704 "current_setting() of an undeclared name without missing_ok" "SELECT current_setting('myapp.bogus')"
is t "current_setting(name, true) of an undeclared name is NULL, as before" "$app" \
    "SELECT current_setting('myapp.bogus', true) IS NULL"
got=$(PGOPTIONS="-c myapp.bogus=x" psql -X -q -At -U "$app" -c "SELECT current_setting('myapp.bogus', true) IS NULL" 2>/dev/null)
[ "$got" != f ]
tap $? "PGOPTIONS='-c myapp.bogus=x' creates no parameter" "got '$got'"
expect "$app" 00000 "a declared setting stays user-settable" "SELECT set_config('myapp.default_page_size', '50', false)"
is 25 "the role default of a declared setting applies at login" "$app" "SHOW myapp.default_page_size"

# 3. The key: neither its path nor its content reaches the application role.
expect "$app" 42501 "SHOW myappctx_seal.key_file" "SHOW myappctx_seal.key_file"
expect "$app" 42501 "current_setting('myappctx_seal.key_file')" "SELECT current_setting('myappctx_seal.key_file')"
expect "$app" 42501 "current_setting('myappctx_seal.key_file', true)" "SELECT current_setting('myappctx_seal.key_file', true)"
is 0 "pg_settings has no row for myappctx_seal.key_file" "$app" \
    "SELECT count(*) FROM pg_settings WHERE name = 'myappctx_seal.key_file'"
got=$(value_of "$app" "SHOW ALL" | grep -c myappctx_seal.key_file)
[ "$got" = 0 ]
tap $? "SHOW ALL does not list it" "$got lines"
expect "$app" 42501 "pg_read_file(key file)" "SELECT pg_read_file('$key_file')"
expect "$app" 42501 "pg_read_binary_file(key file)" "SELECT pg_read_binary_file('$key_file')"
expect "$app" 42501 "pg_stat_file(key file)" "SELECT pg_stat_file('$key_file')"
expect "$app" 42501 "COPY ... FROM the key file" "CREATE TEMP TABLE k (x text); COPY k FROM '$key_file'"
expect "$app" 42501 "lo_import(key file)" "SELECT lo_import('$key_file')"
expect "$app" 42501 "pg_file_settings" "SELECT * FROM pg_file_settings"
expect "$app" 42501 "ALTER SYSTEM SET myappctx_seal.key_file" "ALTER SYSTEM SET myappctx_seal.key_file = '/tmp/mine'"
expect "$app" 55P02 "SET myappctx_seal.key_file" "SET myappctx_seal.key_file = '/tmp/mine'"
expect "$app" 42501 "pg_reload_conf()" "SELECT pg_reload_conf()"
is 0 "the key is no parameter's value (checked as superuser)" postgres \
    "SELECT count(*) FROM pg_settings WHERE setting ILIKE '%$SEAL_KEY_HEX%'"

# 4. A context sealed with openssl (test/mac.sh), accepted by the server;
#    the same MAC with a changed field is not.
U=bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb
T=11111111-1111-1111-1111-111111111111
out=$(SEAL_KEY_HEX=$SEAL_KEY_HEX psql -X -q -At -U "$app" -v ON_ERROR_STOP=0 -v VERBOSITY=verbose 2>&1 <<SQL
\\set open_mac \`"$here/mac.sh" open backend\`
SELECT myappctx_seal.open_stream(true, :'open_mac') AS stream \\gset
\\set mac \`"$here/mac.sh" context :'stream' 7 local $U $T 'role with '"'"'quote' 'web 1' '{"a": 1}' 'reason' ''\`
BEGIN;
SELECT myappctx_seal.set_context(:'stream', 7, true, '$U', '$T', 'role with ''quote', 'web 1', '{"a": 1}', 'reason', '', :'mac');
SELECT 'CHECK accepted ' || current_setting('myapp.current_user_id') || '|' || current_setting('myapp.current_role') || '|' || (current_setting('myapp.audit_context')::jsonb ->> 'reason');
COMMIT;
\\set mac \`"$here/mac.sh" context :'stream' 8 local $U $T '' '' '' '' ''\`
BEGIN;
SELECT myappctx_seal.set_context(:'stream', 8, true, '$U', '22222222-2222-2222-2222-222222222222', '', '', '', '', '', :'mac');
\\echo CHECK tampered :SQLSTATE
ROLLBACK;
BEGIN;
SELECT myappctx_seal.set_context(:'stream', 8, true, '$U', '$T', '', '', '', '', '', :'mac');
\\echo CHECK untampered :SQLSTATE
COMMIT;
BEGIN;
SELECT myappctx_seal.set_context(:'stream', 8, true, '$U', '$T', '', '', '', '', '', :'mac');
\\echo CHECK replayed :SQLSTATE
ROLLBACK;
SQL
)
check() { printf '%s\n' "$out" | sed -n "s/^CHECK $1 //p" | head -n 1; }
[ "$(check accepted)" = "$U|role with 'quote|reason" ]
tap $? "openssl-made MAC (test/mac.sh): the server accepts it and sets the context" "$out"
[ "$(check tampered)" = MX001 ]
tap $? "openssl-made MAC with the tenant changed: MX001" "got '$(check tampered)'"
[ "$(check untampered)" = 00000 ]
tap $? "openssl-made MAC, the next counter: accepted" "got '$(check untampered)'"
[ "$(check replayed)" = MX002 ]
tap $? "openssl-made MAC sent twice: MX002" "got '$(check replayed)'"

# 5. The test vector of README.md, recomputed by test/mac.sh.
readme=$SEAL_TOP/extension/README.md
vec() { sed -n "s/^vector $1 *//p" "$readme" | head -n 1; }
[ -n "$(vec key)" ] && [ -n "$(vec context.mac)" ]
tap $? "README.md has a test vector"
got=$(SEAL_KEY_HEX=$(vec key) "$here/mac.sh" key_id)
[ "$got" = "$(vec key_id)" ]
tap $? "test vector: key_id" "mac.sh: $got"
for b in backend any; do
    got=$(SEAL_KEY_HEX=$(vec key) "$here/mac.sh" open $b)
    [ "$got" = "\\x$(vec open.$b)" ]
    tap $? "test vector: open MAC ($b)" "mac.sh: $got"
done
got=$(SEAL_KEY_HEX=$(vec key) "$here/mac.sh" context "\\x$(vec context.stream)" "$(vec context.counter)" \
    "$(vec context.scope)" "$(vec context.user_id)" "$(vec context.tenant_id)" "$(vec context.role)" \
    "$(vec context.session_id)" "$(vec context.metadata)" "$(vec context.audit_reason)" \
    "$(vec context.audit_ticket)")
[ "$got" = "\\x$(vec context.mac)" ]
tap $? "test vector: context MAC" "mac.sh: $got"

# 6. The plpgsql functions of the extension pass plpgsql_check with every
#    warning class, as the schema's own do (tests/sql/plpgsql_check.sql).
findings=$(value_of postgres "
    SELECT p.oid::regprocedure || ': ' || cf.level || ': ' || cf.message
    FROM pg_proc AS p
    JOIN pg_namespace AS n ON n.oid = p.pronamespace
    JOIN pg_language AS l ON l.oid = p.prolang
    CROSS JOIN LATERAL plpgsql_check_function_tb(p.oid, fatal_errors := false,
        other_warnings := true, extra_warnings := true,
        performance_warnings := true, security_warnings := true) AS cf
    WHERE n.nspname = 'myappctx_seal' AND l.lanname = 'plpgsql'")
nfuncs=$(value_of postgres "SELECT count(*) FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
    JOIN pg_language AS l ON l.oid = p.prolang WHERE n.nspname = 'myappctx_seal' AND l.lanname = 'plpgsql'")
[ "$nfuncs" = 4 ] && [ -z "$findings" ]
tap $? "plpgsql_check: the $nfuncs plpgsql functions of myappctx_seal have no finding" "$findings"

echo "1..$n"
[ "$failed" = 0 ]
