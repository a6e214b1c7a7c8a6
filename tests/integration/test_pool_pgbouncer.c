/* The pool behind the harness's PgBouncer (pool_mode = transaction): with
 * txn_pooler set, transaction-scoped context works and session-scoped calls
 * are refused; without it, session state set by one client is seen by
 * another -- the leak the flag exists to prevent. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A conninfo through PgBouncer to @dbname (NULL: the test database). */
static void
bouncer_conninfo(char *buf, size_t len, const char *user, const char *dbname)
{
    const char *base = tu_pgbouncer_conninfo(user);
    ck_assert_msg(base != NULL, "PgBouncer not started (run under with-server.sh --pgbouncer)");
    if (dbname == NULL)
        snprintf(buf, len, "%s", base);
    else
        snprintf(buf, len, "%s dbname=%s", base, dbname);  /* the last dbname wins */
}

START_TEST(transaction_context_through_pgbouncer)
{
    char conninfo[600];
    bouncer_conninfo(conninfo, sizeof conninfo, "app_service", NULL);
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 3);
    cfg.txn_pooler = 1;
    cfg.validation = MYAPPCTX_POOL_VALIDATE_PING;   /* the empty query through PgBouncer */
    cfg.validate_idle_ms = 0;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;

    for (int i = 0; i < 20; i++) {
        char user[MYAPPCTX_UUID_BUFSIZE], tenant[MYAPPCTX_UUID_BUFSIZE];
        myappctx_uuid u, t;
        tu_random_uuid(NULL, user);
        tu_random_uuid(NULL, tenant);
        myappctx_uuid_parse(&u, user, NULL);
        myappctx_uuid_parse(&t, tenant, NULL);

        myappctx_conn *c = tu_pool_acquire(pool);
        ck_assert_int_eq(myappctx_conn_is_txn_pooler(c), 1);
        tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, NULL);
        tu_assert_ok(myappctx_begin_as_user(c, &u, &t, NULL, &err), err);
        tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, user);
        tu_expect_value(c, "SELECT api.get_context()->>'tenant_id'", 0, NULL, tenant);
        if (i % 3 == 0)
            tu_assert_ok(myappctx_commit(c, &err), err);
        /* otherwise left open: the release rolls it back */
        myappctx_pool_release(pool, c);
    }

    /* Session scope is refused before anything is sent. */
    myappctx_conn *c = tu_pool_acquire(pool);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    char user[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, user);
    myappctx_uuid_parse(&ctx.user_id, user, NULL);
    tu_assert_rc(myappctx_context_set(c, &ctx, &err), MYAPPCTX_ESESSIONSTATE, err);
    int n;
    tu_assert_rc(myappctx_settings_load(c, &n, &err), MYAPPCTX_ESESSIONSTATE, err);
    tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, NULL);
    myappctx_pool_release(pool, c);

    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.acquires, 21);
    ck_assert_uint_eq(st.lost + st.discarded + st.errors, 0);
    myappctx_pool_free(pool);
}
END_TEST

/* Runs SQL on a raw PGconn; returns "pid|value" of its single row. */
static void
raw_row(PGconn *pg, const char *sql, int n, const char *const *params, int *pid, char *value,
        size_t len)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    *pid = atoi(PQgetvalue(res, 0, 0));
    snprintf(value, len, "%s", PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1));
    PQclear(res);
}

START_TEST(session_context_leaks_without_the_flag)
{
    /* A database of our own, so that the PgBouncer server pool we pollute
     * is used by nobody else. */
    char *own = tu_create_database("poolleak");
    const char *dbname = own + strlen("dbname=");
    myappctx_conn *su = tu_connect_opts(own, NULL);
    myappctx_error err;
    tu_assert_ok(myappctx_schema_install(su, NULL, NULL, &err), err);
    myappctx_conn_close(su);

    char conninfo[600];
    bouncer_conninfo(conninfo, sizeof conninfo, "postgres", dbname);
    PGconn *a = PQconnectdb(conninfo), *b = PQconnectdb(conninfo);
    ck_assert_int_eq(PQstatus(a), CONNECTION_OK);
    ck_assert_int_eq(PQstatus(b), CONNECTION_OK);

    char user[MYAPPCTX_UUID_BUFSIZE], seen[64];
    tu_random_uuid(NULL, user);
    const char *p[] = { user };
    int pid_a, pid_b = 0;
    /* Client A: session-scoped context, as api.set_context() does it. */
    raw_row(a, "SELECT pg_backend_pid(), 'set' FROM (SELECT api.set_context($1::uuid)) AS s", 1, p, &pid_a, seen,
            sizeof seen);
    /* Client B, a different client: PgBouncer hands it a server connection
     * from the same pool; find A's (it is reused, so usually at once). */
    int leaked = 0;
    for (int i = 0; i < 50 && !leaked; i++) {
        raw_row(b, "SELECT pg_backend_pid(), api.get_context()->>'user_id'", 0, NULL, &pid_b,
                seen, sizeof seen);
        if (pid_b == pid_a) {
            ck_assert_str_eq(seen, user);   /* B sees A's user */
            leaked = 1;
        }
    }
    ck_assert_msg(leaked, "client B never got client A's server connection");
    PQfinish(a);
    PQfinish(b);

    /* The same through a pool with the flag: refused, nothing sent. */
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);
    cfg.txn_pooler = 1;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    myappctx_uuid_parse(&ctx.user_id, user, NULL);
    tu_assert_rc(myappctx_context_set(c, &ctx, &err), MYAPPCTX_ESESSIONSTATE, err);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);

    tu_drop_database(own);
    free(own);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool_pgbouncer");
    TCase *tc = tcase_create("pool_pgbouncer");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, transaction_context_through_pgbouncer);
    tcase_add_test(tc, session_context_leaks_without_the_flag);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
