/* Spec section "Session-Mode Pooling Pattern": a borrowed connection is
 * dedicated to its borrower, so the context is set once per borrow
 * (session scope) and serves every query until the connection goes back.
 * The pool's reset on release makes sure the next borrower -- here on the
 * very same server connection -- starts without it.
 *
 * Usage: pooling_session_mode [conninfo]  (default "": the PG* environment) */
#include <string.h>

#include "context_examples.h"

#define BOB    "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define CAROL  "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
#define ACME   "11111111-1111-1111-1111-111111111111"
#define GLOBEX "22222222-2222-2222-2222-222222222222"

/* Prints the one-column, one-row answer of @sql and returns it (static). */
static const char *
show(myappctx_conn *conn, const char *label, const char *sql)
{
    static char value[256];
    myappctx_error err;
    PGresult *res = NULL;
    ex_ok(myappctx_exec(conn, sql, 0, NULL, &res, &err), &err, sql);
    snprintf(value, sizeof value, "%s", PQgetisnull(res, 0, 0) ? "(unset)" : PQgetvalue(res, 0, 0));
    PQclear(res);
    printf("   %-22s %s\n", label, value);
    return value;
}

static myappctx_conn *
borrow(myappctx_pool *pool, const char *user, const char *tenant, const char *session)
{
    myappctx_conn *conn = NULL;
    myappctx_error err;
    ex_ok(myappctx_pool_acquire(pool, &conn, -1, &err), &err, "acquire");
    printf("   borrowed backend pid %d\n", PQbackendPID(myappctx_conn_pg(conn)));
    if (user == NULL)
        return conn;
    myappctx_uuid t;
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ex_ok(myappctx_uuid_parse(&ctx.user_id, user, &err), &err, "uuid");
    ex_ok(myappctx_uuid_parse(&t, tenant, &err), &err, "uuid");
    ctx.tenant_id = &t;
    ctx.session_id = session;
    ex_ok(myappctx_context_set(conn, &ctx, &err), &err, "myappctx_context_set()");
    return conn;
}

int
main(int argc, char **argv)
{
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = argc > 1 ? argv[1] : "";
    cfg.min_size = 1;
    cfg.max_size = 1;       /* one connection, so every borrow reuses it */
    myappctx_pool *pool = NULL;
    myappctx_error err;
    ex_ok(myappctx_pool_new(&pool, &cfg, &err), &err, "pool");
    ex_ok(myappctx_pool_wait_ready(pool, -1, &err), &err, "pool ready");

    printf("1. Borrow, set the session context once, run several queries:\n");
    myappctx_conn *conn = borrow(pool, BOB, ACME, "app-session-123");
    show(conn, "user", "SELECT name FROM api.get_my_profile()");
    ex_check(strcmp(show(conn, "order", "SELECT item FROM api.get_my_orders()"),
                    "rocket skates") == 0, "Bob's acme order");
    show(conn, "session id", "SELECT api.get_context()->>'session_id'");
    show(conn, "setting site_name", "SELECT private.get_app_setting('site_name')");
    ex_ok(myappctx_pool_release(pool, conn), &err, "release");

    printf("\n2. Borrow again: same connection, Bob's context is gone:\n");
    conn = borrow(pool, NULL, NULL, NULL);
    ex_check(strcmp(show(conn, "user id", "SELECT api.get_context()->>'user_id'"), "(unset)") == 0,
             "context cleared on release");
    show(conn, "session id", "SELECT api.get_context()->>'session_id'");
    ex_refused(myappctx_exec(conn, "SELECT * FROM api.get_my_orders()", 0, NULL, NULL, &err),
               MYAPPCTX_ENOCONTEXT, &err, "api.get_my_orders() without context");
    /* Settings come from the default on_connect step and are kept. */
    ex_check(strcmp(show(conn, "setting site_name", "SELECT private.get_app_setting('site_name')"),
                    "Demo Shop") == 0, "app settings still loaded");
    ex_ok(myappctx_pool_release(pool, conn), &err, "release");

    printf("\n3. The next borrower, Carol in globex:\n");
    conn = borrow(pool, CAROL, GLOBEX, "app-session-456");
    show(conn, "user", "SELECT name FROM api.get_my_profile()");
    ex_check(strcmp(show(conn, "order", "SELECT item FROM api.get_my_orders()"), "hammock") == 0,
             "Carol's globex order");
    ex_ok(myappctx_pool_release(pool, conn), &err, "release");

    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    ex_ok(myappctx_pool_stats_get(pool, &st), &err, "stats");
    printf("\n4. Pool: %llu borrows of %llu connection(s), %llu resets.\n",
           (unsigned long long)st.acquires, (unsigned long long)st.created,
           (unsigned long long)st.resets);
    ex_check(st.created == 1 && st.resets == 3, "one connection, reset after each borrow");
    myappctx_pool_free(pool);
    return 0;
}
