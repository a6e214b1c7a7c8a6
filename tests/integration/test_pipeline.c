/* One-round-trip context-scoped units of work (lib/pipeline.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static myappctx_uuid user, tenant;
static char user_s[MYAPPCTX_UUID_BUFSIZE], tenant_s[MYAPPCTX_UUID_BUFSIZE];
static char table[64];

/* A table per test process, so suites can run in parallel. */
static void
setup(void)
{
    tu_random_uuid(&user, user_s);
    tu_random_uuid(&tenant, tenant_s);
    snprintf(table, sizeof table, "public.pl_test_%ld", (long)getpid());
    const char *bare = table + strlen("public.");
    myappctx_conn *c = tu_connect();
    char sql[512];
    snprintf(sql, sizeof sql,
             "DROP TABLE IF EXISTS %s; CREATE TABLE %s (n int, who uuid DEFAULT "
             "private.get_current_user_id(), CONSTRAINT %s_n UNIQUE (n) DEFERRABLE INITIALLY DEFERRED); "
             "GRANT ALL ON %s TO app_service", table, table, bare, table);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}

static void
teardown(void)
{
    myappctx_conn *c = tu_connect();
    char sql[128];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", table);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}

static int
count_rows(myappctx_conn *c)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return (int)tu_int(c, sql, 0, NULL);
}

static void
assert_context_gone(myappctx_conn *c)
{
    PGresult *res;
    myappctx_error err;
    tu_assert_ok(myappctx_exec(c, "SELECT private.get_current_user_id() IS NULL, "
                                  "private.get_current_tenant_id() IS NULL, "
                                  "private.get_audit_context() IS NULL", 0, NULL, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), "t");
    ck_assert_str_eq(PQgetvalue(res, 0, 2), "t");
    PQclear(res);
    ck_assert_int_eq(PQtransactionStatus(myappctx_conn_pg(c)), PQTRANS_IDLE);
}

static void
check_context_visible(const char *conninfo)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.txn_pooler = conninfo != NULL;
    opts.allow_privileged = tu_conninfo_is_superuser(conninfo);
    myappctx_conn *c = tu_connect_opts(conninfo, &opts);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    ctx.tenant_id = &tenant;
    ctx.role_label = "it's \\ a; role";
    myappctx_stmt stmts[] = {
        { "SELECT private.get_current_user_id()::text, private.get_current_tenant_id()::text, "
          "private.get_current_role()", 0, NULL },
        { "SELECT $1::int + 1", 1, (const char *const[]){ "41" } },
    };
    PGresult *res[2];
    myappctx_error err;
    tu_assert_ok(myappctx_run_in_context(c, &ctx, stmts, 2, res, &err), err);
    ck_assert_str_eq(PQgetvalue(res[0], 0, 0), user_s);
    ck_assert_str_eq(PQgetvalue(res[0], 0, 1), tenant_s);
    ck_assert_str_eq(PQgetvalue(res[0], 0, 2), "it's \\ a; role");
    ck_assert_str_eq(PQgetvalue(res[1], 0, 0), "42");
    myappctx_results_free(res, 2);
    ck_assert_ptr_null(res[0]);
    assert_context_gone(c);
    myappctx_conn_close(c);
}

/* Directly, and through PgBouncer in transaction mode (the unit is one
 * transaction, so the pooler keeps one server connection for it). */
static const struct {
    const char *via;
    int through_pgbouncer;
} visible_rows[] = {
    { "a direct connection", 0 },
    { "PgBouncer (transaction mode)", 1 },
};

START_TEST(context_visible_then_gone)
{
    const char *ci = NULL;
    if (visible_rows[_i].through_pgbouncer) {
        ci = tu_pgbouncer_conninfo("postgres");
        ck_assert_msg(ci != NULL, "%s: the harness did not start PgBouncer",
                      visible_rows[_i].via);
    }
    check_context_visible(ci);
}
END_TEST

START_TEST(statements_commit_together)
{
    myappctx_conn *c = tu_connect_opts("user=app_service", NULL);
    char ins[128];
    snprintf(ins, sizeof ins, "INSERT INTO %s (n) VALUES ($1::int)", table);
    myappctx_stmt stmts[] = {
        { ins, 1, (const char *const[]){ "1" } },
        { ins, 1, (const char *const[]){ "2" } },
    };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_error err;
    tu_assert_ok(myappctx_run_in_context(c, &ctx, stmts, 2, NULL, &err), err);
    ck_assert_int_eq(count_rows(c), 2);
    /* The rows carry the context's user (column default reads it). */
    char sql[128];
    PGresult *res;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE who = $1::uuid", table);
    tu_assert_ok(myappctx_exec(c, sql, 1, (const char *const[]){ user_s }, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "2");
    PQclear(res);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(error_rolls_back_everything)
{
    myappctx_conn *c = tu_connect();
    char ins[128];
    snprintf(ins, sizeof ins, "INSERT INTO %s (n) VALUES ($1::int)", table);
    myappctx_stmt stmts[] = {
        { ins, 1, (const char *const[]){ "1" } },
        { "SELECT 1/0", 0, NULL },
        { ins, 1, (const char *const[]){ "3" } },
    };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    PGresult *res[3] = { (PGresult *)1, (PGresult *)1, (PGresult *)1 };
    myappctx_error err;
    tu_assert_rc(myappctx_run_in_context(c, &ctx, stmts, 3, res, &err), MYAPPCTX_ESERVER, err);
    ck_assert_str_eq(err.sqlstate, "22012");
    ck_assert_msg(strstr(err.message, "statement 1") != NULL, "%s", err.message);
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_null(res[i]);
    ck_assert_int_eq(count_rows(c), 0);
    assert_context_gone(c);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(commit_time_error_is_not_success)
{
    myappctx_conn *c = tu_connect();
    char ins[128];
    snprintf(ins, sizeof ins, "INSERT INTO %s (n) VALUES (7)", table);
    /* The deferred unique constraint fires only when the unit commits. */
    myappctx_stmt stmts[] = { { ins, 0, NULL }, { ins, 0, NULL } };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_error err;
    tu_assert_rc(myappctx_run_in_context(c, &ctx, stmts, 2, NULL, &err), MYAPPCTX_ESERVER, err);
    ck_assert_str_eq(err.sqlstate, "23505");
    ck_assert_int_eq(count_rows(c), 0);
    assert_context_gone(c);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(audit_context_travels_along)
{
    myappctx_conn *c = tu_connect();
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    ctx.audit_reason = "fix \"typo\"; \\o/";
    ctx.audit_ticket = "TICKET-1";
    myappctx_stmt s = { "SELECT private.get_audit_context()->>'reason', "
                        "private.get_audit_context()->>'ticket'", 0, NULL };
    PGresult *res;
    myappctx_error err;
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "fix \"typo\"; \\o/");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), "TICKET-1");
    PQclear(res);
    assert_context_gone(c);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(invalid_arguments)
{
    myappctx_conn *c = tu_connect();
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    myappctx_stmt s = { "SELECT 1", 0, NULL };
    myappctx_error err;
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "user_id") != NULL, "%s", err.message);
    ctx.user_id = &user;
    tu_assert_rc(myappctx_run_in_context(c, NULL, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_run_in_context(c, &ctx, NULL, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 0, NULL, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, MYAPPCTX_PIPELINE_MAX_STMTS + 1, NULL, &err),
                 MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_run_in_context(NULL, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    myappctx_stmt bad = { NULL, 0, NULL };
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &bad, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    bad = (myappctx_stmt){ "SELECT $1", 1, NULL };
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &bad, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ctx.role_label = "\xff\xfe";
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ctx.role_label = "a role that is far too long to be accepted because it exceeds sixty-three bytes";
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ctx.role_label = "";
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ctx.role_label = NULL;
    myappctx_uuid nil;
    memset(&nil, 0, sizeof nil);
    ctx.user_id = &nil;
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ctx.user_id = &user;
    ctx.tenant_id = &nil;
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ctx.tenant_id = NULL;
    ctx.version = MYAPPCTX_TXN_CONTEXT_VERSION + 1;
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err);
    ctx.version = MYAPPCTX_TXN_CONTEXT_VERSION;
    /* Inside a caller's transaction: refused, nothing sent. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EBUSY, err);
    tu_assert_rc(myappctx_begin_in_context(c, &ctx, &s, NULL, &err), MYAPPCTX_EBUSY, err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(null_role_hides_the_session_role)
{
    myappctx_conn *c = tu_connect();
    myappctx_context sctx = MYAPPCTX_CONTEXT_INIT;
    sctx.user_id = user;
    sctx.role_label = "admin";
    myappctx_error err;
    tu_assert_ok(myappctx_context_set(c, &sctx, &err), err);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &tenant;                   /* another identity for the unit */
    myappctx_stmt s = { "SELECT private.get_current_role() IS NULL, "
                        "private.get_current_user_id()::text", 0, NULL };
    PGresult *res;
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), tenant_s);
    PQclear(res);
    /* After the unit, the session context is back. */
    tu_assert_ok(myappctx_exec(c, "SELECT private.get_current_role(), "
                                  "private.get_current_user_id()::text", 0, NULL, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "admin");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), user_s);
    PQclear(res);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(large_pipeline_does_not_deadlock)
{
    enum { N = 1000, SZ = 16384 };
    myappctx_conn *c = tu_connect();
    char *big = malloc(SZ + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', SZ);
    big[SZ] = '\0';
    const char *p[] = { big };
    myappctx_stmt *stmts = calloc(N, sizeof *stmts);
    PGresult **res = calloc(N, sizeof *res);
    ck_assert_ptr_nonnull(stmts);
    ck_assert_ptr_nonnull(res);
    for (int i = 0; i < N; i++)
        stmts[i] = (myappctx_stmt){ "SELECT length($1::text), repeat($1::text, 2)", 1, p };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_error err;
    tu_assert_ok(myappctx_run_in_context(c, &ctx, stmts, N, res, &err), err);
    for (int i = 0; i < N; i++)
        ck_assert_str_eq(PQgetvalue(res[i], 0, 0), "16384");
    myappctx_results_free(res, N);
    free(res);
    free(stmts);
    free(big);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(begin_in_context_leaves_transaction_open)
{
    myappctx_conn *c = tu_connect();
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    ctx.tenant_id = &tenant;
    char ins[128];
    snprintf(ins, sizeof ins, "INSERT INTO %s (n) VALUES (10) RETURNING who::text", table);
    myappctx_stmt first = { ins, 0, NULL };
    PGresult *res;
    myappctx_error err;
    tu_assert_ok(myappctx_begin_in_context(c, &ctx, &first, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), user_s);
    PQclear(res);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 1);
    tu_assert_ok(myappctx_exec(c, "SELECT private.get_current_tenant_id()::text", 0, NULL, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), tenant_s);
    PQclear(res);
    tu_assert_ok(myappctx_commit(c, &err), err);
    assert_context_gone(c);
    ck_assert_int_eq(count_rows(c), 1);

    /* Without a first statement: just BEGIN + context. */
    tu_assert_ok(myappctx_begin_in_context(c, &ctx, NULL, NULL, &err), err);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 1);
    tu_assert_ok(myappctx_rollback(c, &err), err);

    /* A failing first statement: rolled back, connection idle again. */
    myappctx_stmt boom = { "SELECT 1/0", 0, NULL };
    res = (PGresult *)1;
    tu_assert_rc(myappctx_begin_in_context(c, &ctx, &boom, &res, &err), MYAPPCTX_ESERVER, err);
    ck_assert_ptr_null(res);
    ck_assert_msg(strstr(err.message, "statement 0") != NULL, "%s", err.message);
    assert_context_gone(c);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(broken_connection_reports_econnect)
{
    myappctx_conn *c = tu_connect();
    tu_kill_backend(tu_backend_pid(c));
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt s = { "SELECT 1", 0, NULL };
    PGresult *res = (PGresult *)1;
    myappctx_error err;
    int rc = myappctx_run_in_context(c, &ctx, &s, 1, &res, &err);
    ck_assert_msg(rc == MYAPPCTX_ECONNECT, "got %s: %s", myappctx_strerror(rc), err.message);
    ck_assert_ptr_null(res);
    myappctx_conn_close(c);
}
END_TEST

/* A role app_service may SET ROLE to, and a loaded application setting,
 * both unique to this test process (setup/teardown of the pooled tests). */
static char other_role[64], setting_key[64];

static void
pooled_setup(void)
{
    setup();
    snprintf(other_role, sizeof other_role, "pl_other_%ld", (long)getpid());
    snprintf(setting_key, sizeof setting_key, "pl_setting_%ld", (long)getpid());
    myappctx_conn *c = tu_connect();
    char sql[512];
    snprintf(sql, sizeof sql,
             "DROP ROLE IF EXISTS %s; CREATE ROLE %s; GRANT %s TO app_service; "
             "INSERT INTO data.app_settings (key, value) VALUES ('%s', 'orig') "
             "ON CONFLICT (key) DO UPDATE SET value = 'orig'",
             other_role, other_role, other_role, setting_key);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}

static void
pooled_teardown(void)
{
    myappctx_conn *c = tu_connect();
    char sql[256];
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s; DELETE FROM data.app_settings WHERE key = '%s'",
             other_role, setting_key);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
    teardown();
}

static void
leave_session_context(myappctx_pool *pool)
{
    myappctx_conn *c;
    myappctx_error err;
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    myappctx_context sctx = MYAPPCTX_CONTEXT_INIT;
    sctx.user_id = user;
    sctx.session_id = "previous-borrower";
    tu_assert_ok(myappctx_context_set(c, &sctx, &err), err);
    tu_assert_ok(myappctx_pool_release(pool, c), err);
}

/* The pool defers the reset of a returned connection to its next use; the
 * fast path carries it at the head of its own pipeline. */
START_TEST(pooled_fast_path_never_sees_the_previous_borrower)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_error err;
    myappctx_conn *c;
    leave_session_context(pool);

    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &tenant;
    myappctx_stmt s = { "SELECT api.get_context()->>'session_id' IS NULL, "
                        "private.get_current_user_id()::text", 0, NULL };
    PGresult *res;
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), tenant_s);
    PQclear(res);
    tu_assert_ok(myappctx_exec(c, "SELECT api.get_context()->>'user_id' IS NULL", 0, NULL, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    tu_assert_ok(myappctx_pool_release(pool, c), err);

    /* A failing unit rolls the carried reset back with it: it stays pending
     * and the next statement, whatever it is, still finds nothing. */
    leave_session_context(pool);
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    myappctx_stmt boom = { "SELECT 1/0", 0, NULL };
    tu_assert_rc(myappctx_run_in_context(c, &ctx, &boom, 1, NULL, &err), MYAPPCTX_ESERVER, err);
    tu_assert_ok(myappctx_exec(c, "SELECT api.get_context()->>'session_id' IS NULL, "
                                  "api.get_context()->>'user_id' IS NULL", 0, NULL, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), "t");
    PQclear(res);
    tu_assert_ok(myappctx_pool_release(pool, c), err);

    /* Raw access runs the deferred reset before handing out the PGconn. */
    leave_session_context(pool);
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    PGconn *pg = myappctx_conn_pg(c);
    ck_assert_ptr_nonnull(pg);
    res = PQexec(pg, "SELECT current_setting('myapp.session_id', true)");
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "");
    PQclear(res);

    /* Closing a borrowed connection gives it back to the pool. */
    myappctx_conn_close(c);
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    myappctx_pool_stats_get(pool, &st);
    ck_assert_int_eq(st.in_use, 0);
    ck_assert_int_eq(st.idle, 1);
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    tu_assert_ok(myappctx_pool_release(pool, c), err);
    myappctx_pool_free(pool);
}
END_TEST

static void
run_unit_on_pool(myappctx_pool *pool, const char *sql)
{
    myappctx_conn *c;
    myappctx_error err;
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    ctx.tenant_id = &tenant;
    myappctx_stmt s = { sql, 0, NULL };
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), err);
    tu_assert_ok(myappctx_pool_release(pool, c), err);
}

static void
assert_next_borrower_sees(myappctx_pool *pool, int fast_path, const char *sql,
                          const char *expected)
{
    myappctx_conn *c;
    myappctx_error err;
    PGresult *res;
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    if (fast_path) {
        myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
        ctx.user_id = &tenant;
        myappctx_stmt st = { sql, 0, NULL };
        tu_assert_ok(myappctx_run_in_context(c, &ctx, &st, 1, &res, &err), err);
    } else {
        tu_assert_ok(myappctx_exec(c, sql, 0, NULL, &res, &err), err);
    }
    ck_assert_msg(strcmp(PQgetvalue(res, 0, 0), expected) == 0, "%s: got '%s', expected '%s'",
                  sql, PQgetvalue(res, 0, 0), expected);
    PQclear(res);
    tu_assert_ok(myappctx_pool_release(pool, c), err);
}

/* A pooled fast-path unit starts with private.begin_pooled_unit(), which
 * resets the session inside the unit when it is dirty (anything the targeted
 * reset would restore); other calls run the deferred reset first.  Either
 * way the next borrower finds nothing of what a unit left behind. */
START_TEST(pooled_next_borrower_never_sees_what_a_unit_left)
{
    char set_role[128], change_setting[160], probe_setting[128];
    snprintf(set_role, sizeof set_role, "SET ROLE %s", other_role);
    snprintf(change_setting, sizeof change_setting,
             "SELECT set_config('myapp.%s', 'changed-by-a-borrower', false)", setting_key);
    snprintf(probe_setting, sizeof probe_setting,
             "SELECT current_setting('myapp.%s', true)", setting_key);
    const struct { const char *sql, *probe, *expected; } dirty[] = {
        { "SELECT set_config('myapp.session_id', 'leak', false)",
          "SELECT COALESCE(current_setting('myapp.session_id', true), '')", "" },
        { "SELECT set_config('myapp.current_user_id', '00000000-0000-4000-8000-000000000001', false)",
          "SELECT private.get_current_user_id() IS DISTINCT FROM "
          "'00000000-0000-4000-8000-000000000001'", "t" },
        { "SELECT set_config('myapp.default_page_size', '99', false)",
          "SELECT current_setting('myapp.default_page_size')", "25" },
        { "SET application_name = 'leaky'",
          "SELECT current_setting('application_name') <> 'leaky'", "t" },
        { change_setting, probe_setting, "orig" },
        { set_role, "SELECT current_user::text = session_user::text", "t" },
    };
    myappctx_pool *pool = tu_pool_one();
    for (int fast = 0; fast <= 1; fast++)
        for (size_t i = 0; i < sizeof dirty / sizeof dirty[0]; i++) {
            run_unit_on_pool(pool, dirty[i].sql);
            assert_next_borrower_sees(pool, fast, dirty[i].probe, dirty[i].expected);
        }
    myappctx_pool_free(pool);
}
END_TEST

/* A unit's own SET ROLE (to a role without rights on schema private) must
 * not wedge the connection: the next unit of the same borrower resets and
 * runs. */
START_TEST(pooled_fast_path_recovers_from_its_own_set_role)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_conn *c;
    myappctx_error err;
    char set_role[128];
    snprintf(set_role, sizeof set_role, "SET ROLE %s", other_role);
    tu_assert_ok(myappctx_pool_acquire(pool, &c, 5000, &err), err);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt s1 = { set_role, 0, NULL };
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s1, 1, NULL, &err), err);
    myappctx_stmt s2 = { "SELECT current_user::text = session_user::text", 0, NULL };
    PGresult *res;
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s2, 1, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    tu_assert_ok(myappctx_pool_release(pool, c), err);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, context_visible_then_gone, 0,
                        (int)(sizeof visible_rows / sizeof visible_rows[0]));
    tcase_add_test(tc, statements_commit_together);
    tcase_add_test(tc, error_rolls_back_everything);
    tcase_add_test(tc, commit_time_error_is_not_success);
    tcase_add_test(tc, audit_context_travels_along);
    tcase_add_test(tc, invalid_arguments);
    tcase_add_test(tc, null_role_hides_the_session_role);
    tcase_add_test(tc, large_pipeline_does_not_deadlock);
    tcase_add_test(tc, begin_in_context_leaves_transaction_open);
    tcase_add_test(tc, broken_connection_reports_econnect);
    suite_add_tcase(s, tc);
    /* Pooled: a role to SET ROLE to and a loaded setting of their own. */
    TCase *pooled = tcase_create("pooled");
    tcase_set_timeout(pooled, 60);
    tcase_add_checked_fixture(pooled, pooled_setup, pooled_teardown);
    tcase_add_test(pooled, pooled_fast_path_never_sees_the_previous_borrower);
    tcase_add_test(pooled, pooled_next_borrower_never_sees_what_a_unit_left);
    tcase_add_test(pooled, pooled_fast_path_recovers_from_its_own_set_role);
    suite_add_tcase(s, pooled);
    return tu_run(s);
}
