/* Spec section "Security Context": tenant membership checks, row-level
 * security on the demo orders, impersonation by an admin, and rate
 * limiting (api.send_email: 10 per minute).  Users, tenants and orders come
 * from examples/demo-seed.sql.
 *
 * Usage: security_context [conninfo]  (default "": the PG* environment;
 * `make demo` passes "user=app_service", a role without superuser rights,
 * so row-level security applies) */
#include <string.h>
#include <unistd.h>

#include "context_examples.h"

#define ALICE  "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define BOB    "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define CAROL  "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
#define DAVE   "dddddddd-dddd-4ddd-8ddd-dddddddddddd"
#define ACME   "11111111-1111-1111-1111-111111111111"

/* Session context for @user in tenant @tenant (NULL: none). */
static void
act_as(myappctx_conn *conn, const char *user, const char *tenant)
{
    myappctx_error err;
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    myappctx_uuid tenant_id;
    ex_ok(myappctx_context_clear(conn, &err), &err, "clear context");
    ex_ok(myappctx_uuid_parse(&ctx.user_id, user, &err), &err, "user uuid");
    if (tenant != NULL) {
        ex_ok(myappctx_uuid_parse(&tenant_id, tenant, &err), &err, "tenant uuid");
        ctx.tenant_id = &tenant_id;
    }
    ex_ok(myappctx_context_set(conn, &ctx, &err), &err, "set context");
}

/* Runs a one-value query and prints it with @label. */
static void
print_value(myappctx_conn *conn, const char *label, const char *sql)
{
    myappctx_error err;
    PGresult *res = NULL;
    ex_ok(myappctx_exec(conn, sql, 0, NULL, &res, &err), &err, sql);
    printf("   %s: %s\n", label, PQgetvalue(res, 0, 0));
    PQclear(res);
}

static void
tenant_checks(myappctx_conn *conn)
{
    myappctx_error err;
    printf("1. Tenant checks:\n");
    act_as(conn, BOB, ACME);
    ex_ok(myappctx_require_context(conn, &err), &err, "require context");
    ex_ok(myappctx_require_tenant(conn, &err), &err, "require tenant");
    ex_ok(myappctx_verify_tenant_access(conn, &err), &err, "Bob in acme");
    printf("   Bob in acme: access granted\n");
    act_as(conn, CAROL, ACME);
    printf("   Carol (a globex user) in acme:\n");
    ex_refused(myappctx_verify_tenant_access(conn, &err), MYAPPCTX_EACCESS, &err,
               "Carol in acme");
    act_as(conn, DAVE, ACME);
    printf("   Dave, whose acme membership is inactive:\n");
    ex_refused(myappctx_verify_tenant_access(conn, &err), MYAPPCTX_EACCESS, &err,
               "Dave (inactive membership) in acme");
    act_as(conn, BOB, NULL);
    printf("   Bob without a tenant:\n");
    ex_refused(myappctx_require_tenant(conn, &err), MYAPPCTX_ENOTENANT, &err,
               "Bob without a tenant");
    ex_ok(myappctx_context_clear(conn, &err), &err, "clear context");
    printf("   no context at all:\n");
    ex_refused(myappctx_require_context(conn, &err), MYAPPCTX_ENOCONTEXT, &err,
               "no context at all");
}

static void
row_level_security(myappctx_conn *conn)
{
    myappctx_error err;
    PGresult *res = NULL;
    printf("\n2. Row-level security: Bob in acme sees acme's rows only:\n");
    act_as(conn, BOB, ACME);
    print_value(conn, "orders visible in data.orders", "SELECT count(*) FROM data.orders");
    print_value(conn, "tenants among them",
                "SELECT count(DISTINCT tenant_id) FROM data.orders");
    ex_ok(myappctx_exec(conn, "SELECT item, amount FROM api.get_my_orders()", 0, NULL, &res,
                        &err), &err, "api.get_my_orders()");
    for (int i = 0; i < PQntuples(res); i++)
        printf("   my order: %s (%s)\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    ex_check(PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "rocket skates") == 0,
             "Bob's only acme order is the rocket skates");
    PQclear(res);
}

static void
print_status(myappctx_conn *conn)
{
    myappctx_error err;
    myappctx_impersonation_status st;
    char a[MYAPPCTX_UUID_BUFSIZE], b[MYAPPCTX_UUID_BUFSIZE];
    ex_ok(myappctx_impersonation_status_get(conn, &st, &err), &err, "status");
    if (st.active)
        printf("   impersonating: %s acts as %s\n", myappctx_uuid_format(&st.original_user_id, a),
               myappctx_uuid_format(&st.current_user_id, b));
    else
        printf("   not impersonating (current user %s)\n",
               st.has_current_user ? myappctx_uuid_format(&st.current_user_id, b) : "unset");
}

static void
impersonation(myappctx_conn *conn)
{
    myappctx_error err;
    myappctx_uuid alice, bob;
    ex_ok(myappctx_uuid_parse(&alice, ALICE, &err), &err, "uuid");
    ex_ok(myappctx_uuid_parse(&bob, BOB, &err), &err, "uuid");

    printf("\n3. Impersonation: Alice (admin) acts as Bob, then stops:\n");
    act_as(conn, ALICE, ACME);
    ex_ok(myappctx_impersonate(conn, &bob, &err), &err, "Alice impersonates Bob");
    print_status(conn);
    print_value(conn, "Bob's orders seen by Alice", "SELECT count(*) FROM api.get_my_orders()");
    ex_ok(myappctx_impersonation_end(conn, &err), &err, "end impersonation");
    print_status(conn);

    printf("   Bob is no admin:\n");
    act_as(conn, BOB, ACME);
    ex_refused(myappctx_impersonate(conn, &alice, &err), MYAPPCTX_ENOTADMIN, &err,
               "Bob impersonates Alice");
}

/* api.send_email allows 10 mails per fixed 60-second window; start with a
 * few seconds left in the window so that all 11 calls land in one. */
static void
rate_limiting(myappctx_conn *conn)
{
    myappctx_error err;
    PGresult *res = NULL;
    printf("\n4. Rate limiting: api.send_email allows 10 per minute:\n");
    act_as(conn, BOB, ACME);
    ex_ok(myappctx_exec(conn, "SELECT 60 - floor(extract(epoch FROM clock_timestamp()))::int % 60",
                        0, NULL, &res, &err), &err, "time left in the window");
    int left = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (left < 5) {
        printf("   (waiting %d s for the next window)\n", left + 1);
        sleep((unsigned)left + 1);
    }
    /* Calls made by an earlier run in the same minute count too, so the
     * refusal comes at the 11th call at the latest. */
    const char *params[] = { "carol@example.com", "Hello", "Body with 'quotes'; and more" };
    int n = 1, rc = MYAPPCTX_OK;
    while (n <= 11 && (rc = myappctx_exec(conn, "SELECT api.send_email($1, $2, $3)", 3, params,
                                          NULL, &err)) == MYAPPCTX_OK)
        n++;
    printf("   %d mails queued; mail #%d:\n", n - 1, n);
    ex_refused(rc, MYAPPCTX_ERATELIMIT, &err, "a mail over the limit");

    printf("   the same check for an action of our own (3 exports per hour):\n");
    n = 1;
    while ((rc = myappctx_rate_limit_check(conn, "export_report", 3, 3600, &err)) == MYAPPCTX_OK)
        n++;
    printf("   export #%d:\n", n);
    ex_refused(rc, MYAPPCTX_ERATELIMIT, &err, "an export over the limit");
    ex_check(n <= 4, "at most 3 exports per hour pass");
}

int
main(int argc, char **argv)
{
    myappctx_conn *conn = ex_connect(argc, argv, NULL);
    tenant_checks(conn);
    row_level_security(conn);
    impersonation(conn);
    rate_limiting(conn);
    myappctx_error err;
    ex_ok(myappctx_context_clear(conn, &err), &err, "clear context");
    myappctx_conn_close(conn);
    printf("\nsecurity_context: done\n");
    return EXIT_SUCCESS;
}
