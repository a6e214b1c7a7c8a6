/* Spec section "Application Context Pattern": set the context of a request
 * (as Bob of tenant acme, from examples/demo-seed.sql), read it back, call
 * functions that depend on it, use the transaction-scoped variant that
 * pooled connections need, and clear it.
 *
 * Usage: application_context [conninfo]  (default "": the PG* environment) */
#include <string.h>

#include "context_examples.h"

#define BOB   "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define CAROL "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
#define ACME   "11111111-1111-1111-1111-111111111111"
#define GLOBEX "22222222-2222-2222-2222-222222222222"

static myappctx_uuid
uuid(const char *text)
{
    myappctx_uuid id;
    myappctx_error err;
    ex_ok(myappctx_uuid_parse(&id, text, &err), &err, "uuid");
    return id;
}

/* Prints the user's orders in the context's tenant (row-level security
 * filters by tenant) and returns how many there are. */
static int
show_orders(myappctx_conn *conn)
{
    myappctx_error err;
    PGresult *res = NULL;
    ex_ok(myappctx_exec(conn, "SELECT item, amount FROM api.get_my_orders()", 0, NULL, &res,
                        &err), &err, "api.get_my_orders()");
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        printf("   order: %s (%s)\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    if (n == 0)
        printf("   (no orders)\n");
    PQclear(res);
    return n;
}

static void
show_context(myappctx_conn *conn)
{
    myappctx_error err;
    myappctx_context_info *info = NULL;
    char buf[MYAPPCTX_UUID_BUFSIZE];
    ex_ok(myappctx_context_get(conn, &info, &err), &err, "myappctx_context_get");
    printf("   user_id    %s\n", info->has_user_id ? myappctx_uuid_format(&info->user_id, buf)
                                                   : "(unset)");
    printf("   tenant_id  %s\n", info->has_tenant_id
                                     ? myappctx_uuid_format(&info->tenant_id, buf) : "(unset)");
    printf("   role       %s\n", info->role_label ? info->role_label : "(unset)");
    printf("   session_id %s\n", info->session_id ? info->session_id : "(unset)");
    char *meta = info->metadata ? json_dumps(info->metadata, JSON_COMPACT | JSON_SORT_KEYS)
                                : NULL;
    printf("   metadata   %s\n", meta ? meta : "(unset)");
    printf("   created_at %s\n", info->created_at ? info->created_at : "(unset)");
    free(meta);
    myappctx_context_info_free(info);
}

int
main(int argc, char **argv)
{
    myappctx_error err;
    myappctx_conn *conn = ex_connect(argc, argv, NULL);
    myappctx_uuid bob = uuid(BOB), carol = uuid(CAROL);
    myappctx_uuid acme = uuid(ACME), globex = uuid(GLOBEX);

    printf("1. Without a context, api.get_my_profile() refuses (P0050 is a named code):\n");
    ex_refused(myappctx_exec(conn, "SELECT * FROM api.get_my_profile()", 0, NULL, NULL, &err),
               MYAPPCTX_ENOCONTEXT, &err, "api.get_my_profile() without context");

    printf("\n2. Session-scoped context for Bob in tenant acme (api.set_context):\n");
    json_t *metadata = json_pack("{s:s, s:s}", "ip", "203.0.113.7", "user_agent", "demo/1.0");
    ex_check(metadata != NULL, "json_pack");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = bob;
    ctx.tenant_id = &acme;
    ctx.role_label = "user";
    ctx.session_id = "web-session-123";
    ctx.metadata = metadata;
    ex_ok(myappctx_context_set(conn, &ctx, &err), &err, "myappctx_context_set");
    show_context(conn);

    printf("\n3. Functions read it from the server side:\n");
    PGresult *res = NULL;
    ex_ok(myappctx_exec(conn, "SELECT email, name FROM api.get_my_profile()", 0, NULL, &res,
                        &err), &err, "api.get_my_profile()");
    ex_check(PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "bob@example.com") == 0,
             "the profile is Bob's");
    printf("   api.get_my_profile(): %s <%s>\n", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
    PQclear(res);
    ex_check(show_orders(conn) == 1, "Bob has one order in acme");

    printf("\n4. Clear the context (api.clear_context): the next request starts clean.\n");
    ex_ok(myappctx_context_clear(conn, &err), &err, "myappctx_context_clear");
    show_context(conn);
    ex_refused(myappctx_exec(conn, "SELECT * FROM api.get_my_profile()", 0, NULL, NULL, &err),
               MYAPPCTX_ENOCONTEXT, &err, "api.get_my_profile() after clear");

    printf("\n5. Transaction-scoped context (what pooled connections use):\n"
           "   myappctx_begin_as_user() = BEGIN + api.set_transaction_context()\n");
    ex_ok(myappctx_begin_as_user(conn, &carol, &globex, "user", &err), &err,
          "myappctx_begin_as_user");
    printf("   Carol in globex:\n");
    ex_check(show_orders(conn) == 1, "Carol has one order in globex");
    ex_ok(myappctx_commit(conn, &err), &err, "COMMIT");
    ex_ok(myappctx_begin_as_user(conn, &bob, &globex, NULL, &err), &err,
          "myappctx_begin_as_user");
    printf("   Bob in globex (he is a member, but has no orders there):\n");
    ex_check(show_orders(conn) == 0, "Bob has no order in globex");
    ex_ok(myappctx_commit(conn, &err), &err, "COMMIT");
    printf("   after COMMIT the context is gone:\n");
    myappctx_uuid id;
    int is_set = 1;
    ex_ok(myappctx_context_user_id_get(conn, &id, &is_set, &err), &err,
          "myappctx_context_user_id_get");
    printf("   current user: %s\n", is_set ? "still set!" : "(unset)");
    ex_check(!is_set, "the transaction-scoped user is gone");
    myappctx_conn_close(conn);

    printf("\n6. A connection declared behind a transaction pooler (PgBouncer\n"
           "   pool_mode=transaction) refuses session-scoped context, which would\n"
           "   leak to the next client of the same server connection:\n");
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.txn_pooler = 1;
    conn = ex_connect(argc, argv, &opts);
    ex_refused(myappctx_context_set(conn, &ctx, &err), MYAPPCTX_ESESSIONSTATE, &err,
               "myappctx_context_set behind a pooler");
    ex_ok(myappctx_begin_as_user(conn, &bob, &acme, NULL, &err), &err,
          "myappctx_begin_as_user behind a pooler");
    printf("   the transaction-scoped path works:\n");
    ex_check(show_orders(conn) == 1, "Bob has one order in acme");
    ex_ok(myappctx_commit(conn, &err), &err, "COMMIT");
    myappctx_conn_close(conn);
    json_decref(metadata);

    printf("\napplication_context: done.\n");
    return EXIT_SUCCESS;
}
