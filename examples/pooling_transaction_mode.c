/* Spec section "Transaction-Mode Pooling Pattern": connections are shared
 * between requests (here through PgBouncer in pool_mode=transaction when
 * MYAPPCTX_PGBOUNCER_HOST and MYAPPCTX_PGBOUNCER_PORT are set, as `make
 * demo` does), so each request sets its context for one transaction only:
 * acquire, BEGIN + api.set_transaction_context(), queries, COMMIT, release.
 * Row-level security shows each request only its own tenant's orders
 * (users and tenants of examples/demo-seed.sql).
 *
 * Usage: pooling_transaction_mode [conninfo]  (default "": the PG* environment) */
#include <string.h>

#include "context_examples.h"

static myappctx_uuid
uuid(const char *text)
{
    myappctx_uuid id;
    myappctx_error err;
    ex_ok(myappctx_uuid_parse(&id, text, &err), &err, "uuid");
    return id;
}

/* One request: returns how many orders the user sees in the tenant. */
static int
request(myappctx_pool *pool, const char *who, const char *user, const char *tenant)
{
    myappctx_error err;
    myappctx_conn *conn = NULL;
    myappctx_uuid u = uuid(user), t = uuid(tenant);
    ex_ok(myappctx_pool_acquire(pool, &conn, -1, &err), &err, "acquire");
    ex_ok(myappctx_begin_as_user(conn, &u, &t, NULL, &err), &err, "BEGIN + context");
    PGresult *res = NULL;
    ex_ok(myappctx_exec(conn, "SELECT item, amount FROM api.get_my_orders()", 0, NULL, &res,
                        &err), &err, "api.get_my_orders()");
    int n = PQntuples(res);
    printf("   %-14s", who);
    for (int i = 0; i < n; i++)
        printf(" %s (%s)", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    printf("%s\n", n == 0 ? " (no orders)" : "");
    PQclear(res);
    ex_ok(myappctx_commit(conn, &err), &err, "COMMIT");
    ex_ok(myappctx_pool_release(pool, conn), &err, "release");
    return n;
}

int
main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "";
    const char *host = getenv("MYAPPCTX_PGBOUNCER_HOST");
    const char *port = getenv("MYAPPCTX_PGBOUNCER_PORT");
    char conninfo[1024];
    /* In a conninfo string a later keyword wins over an earlier one. */
    if (host != NULL && port != NULL)
        snprintf(conninfo, sizeof conninfo, "%s host='%s' port='%s'", base, host, port);
    else
        snprintf(conninfo, sizeof conninfo, "%s", base);
    printf("Connecting %s.\n", host && port ? "through PgBouncer (pool_mode=transaction)"
                                            : "directly (no PgBouncer in the environment)");

    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = conninfo;
    cfg.min_size = 1;
    cfg.max_size = 2;
    cfg.txn_pooler = 1;     /* session state would leak to other clients */
    myappctx_pool *pool = NULL;
    myappctx_error err;
    ex_ok(myappctx_pool_new(&pool, &cfg, &err), &err, "pool");

    printf("\n1. One transaction per request, each with its own context:\n");
    ex_check(request(pool, "Bob @ acme", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
                     "11111111-1111-1111-1111-111111111111") == 1, "Bob sees his acme order");
    ex_check(request(pool, "Carol @ globex", "cccccccc-cccc-4ccc-8ccc-cccccccccccc",
                     "22222222-2222-2222-2222-222222222222") == 1, "Carol sees her order");
    ex_check(request(pool, "Bob @ globex", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
                     "22222222-2222-2222-2222-222222222222") == 0, "Bob has none in globex");
    ex_check(request(pool, "Carol @ acme", "cccccccc-cccc-4ccc-8ccc-cccccccccccc",
                     "11111111-1111-1111-1111-111111111111") == 0,
             "row-level security hides globex orders in acme");
    ex_check(request(pool, "Alice @ acme", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
                     "11111111-1111-1111-1111-111111111111") == 1, "Alice sees her order");

    printf("\n2. The next request without a context finds none (discarded at COMMIT):\n");
    myappctx_conn *conn = NULL;
    ex_ok(myappctx_pool_acquire(pool, &conn, -1, &err), &err, "acquire");
    ex_refused(myappctx_exec(conn, "SELECT * FROM api.get_my_orders()", 0, NULL, NULL, &err),
               MYAPPCTX_ENOCONTEXT, &err, "api.get_my_orders() without context");

    printf("\n3. Session-scoped context is refused on these connections:\n");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = uuid("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
    ex_refused(myappctx_context_set(conn, &ctx, &err), MYAPPCTX_ESESSIONSTATE, &err,
               "myappctx_context_set()");
    ex_ok(myappctx_pool_release(pool, conn), &err, "release");

    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    ex_ok(myappctx_pool_stats_get(pool, &st), &err, "stats");
    printf("\n4. Pool: %d connection(s) served %llu requests, %llu resets, %llu lost.\n",
           st.size, (unsigned long long)st.acquires, (unsigned long long)st.resets,
           (unsigned long long)st.lost);
    myappctx_pool_free(pool);
    return 0;
}
