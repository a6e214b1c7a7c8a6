/* Spec sections "Connection Validation" and "Connection Lifecycle":
 * initialise a new connection, validate it before and after setting a
 * context, look at the connection summary and statistics, and terminate a
 * connection that has been idle too long.
 *
 * Usage: connection_lifecycle [conninfo]  (default "": the PG* environment;
 * `make demo` passes "user=app_service").  The idle cleanup only ever
 * terminates connections of the caller's own login role. */
#include <string.h>
#include <unistd.h>

#include "context_examples.h"

#define BOB  "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define ACME "11111111-1111-1111-1111-111111111111"

static void
print_validation(myappctx_conn *conn)
{
    myappctx_error err;
    myappctx_validation *v = NULL;
    char user[MYAPPCTX_UUID_BUFSIZE], tenant[MYAPPCTX_UUID_BUFSIZE];
    ex_ok(myappctx_conn_validate(conn, &v, &err), &err, "validate");
    printf("   user_id          %s\n", v->has_user ? myappctx_uuid_format(&v->user_id, user)
                                                   : "(unset)");
    printf("   tenant_id        %s\n", v->has_tenant ? myappctx_uuid_format(&v->tenant_id, tenant)
                                                     : "(unset)");
    printf("   application_name %s\n", v->application_name ? v->application_name : "(unset)");
    printf("   server_version   %s\n", v->server_version);
    printf("   timezone         %s\n", v->timezone);
    printf("   search_path      %s\n", v->search_path);
    printf("   is_superuser     %s\n", v->is_superuser ? "yes" : "no");
    myappctx_validation_free(v);
}

static void
print_summary_and_stats(myappctx_conn *conn)
{
    myappctx_error err;
    myappctx_conn_summary *sum = NULL;
    size_t n = 0;
    ex_ok(myappctx_conn_summary_get(conn, &sum, &n, &err), &err, "summary");
    printf("   %-22s %6s %18s\n", "state", "count", "avg idle seconds");
    for (size_t i = 0; i < n; i++) {
        char avg[32] = "-";
        if (sum[i].has_avg_idle)
            snprintf(avg, sizeof avg, "%.2f", sum[i].avg_idle_seconds);
        printf("   %-22s %6lld %18s\n", sum[i].state ? sum[i].state : "(none/hidden)",
               sum[i].count, avg);
    }
    myappctx_conn_summary_free(sum);

    myappctx_conn_stat *st = NULL;
    ex_ok(myappctx_conn_stats_get(conn, &st, &n, &err), &err, "stats");
    printf("\n   %-12s %-22s %-8s %9s  %s\n", "user", "application", "state", "idle s",
           "query");
    for (size_t i = 0; i < n; i++) {
        char idle[32] = "-";
        if (st[i].has_state_change)
            snprintf(idle, sizeof idle, "%.1f", st[i].idle_seconds);
        printf("   %-12.12s %-22.22s %-8.8s %9s  %.40s\n",
               st[i].username ? st[i].username : "-",
               st[i].application_name ? st[i].application_name : "-",
               st[i].state ? st[i].state : "-", idle, st[i].query ? st[i].query : "-");
    }
    myappctx_conn_stats_free(st);
}

/* Opens a second connection as the same role, leaves it idle past the
 * timeout, and shows that the cleanup terminates it (and only it). */
static void
cleanup_idle(myappctx_conn *conn, const char *conninfo)
{
    myappctx_error err;
    myappctx_conn *idle = NULL;
    char info[512];
    snprintf(info, sizeof info, "%s application_name=lifecycle-idle-demo", conninfo);
    ex_ok(myappctx_conn_open(&idle, info, NULL, &err), &err, "open the idle connection");
    ex_ok(myappctx_exec(idle, "SELECT 1", 0, NULL, NULL, &err), &err, "use it once");
    printf("   a second connection (lifecycle-idle-demo) now sits idle for 2 seconds...\n");
    sleep(2);

    int terminated = 0;
    ex_refused(myappctx_conn_cleanup_idle(conn, 0, &terminated, &err), MYAPPCTX_EINVAL,
               &err, "a timeout of 0 seconds");
    ex_ok(myappctx_conn_cleanup_idle(conn, 1, &terminated, &err), &err, "cleanup");
    printf("   cleanup of connections idle for more than 1 second: %d terminated\n", terminated);
    ex_check(terminated >= 1, "the idle connection was terminated");
    ex_refused(myappctx_exec(idle, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_ECONNECT, &err,
               "the terminated connection");
    ex_ok(myappctx_exec(conn, "SELECT 1", 0, NULL, NULL, &err), &err,
          "the caller's own connection survives");
    printf("   the caller's own connection still works\n");
    myappctx_conn_close(idle);
}

int
main(int argc, char **argv)
{
    myappctx_error err;
    const char *conninfo = argc > 1 ? argv[1] : "";
    myappctx_conn *conn = ex_connect(argc, argv, NULL);

    printf("1. Initialise the new connection (settings, UTC, ISO dates, connection log):\n");
    ex_ok(myappctx_conn_init(conn, &err), &err, "init");
    printf("   done\n");

    printf("\n2. Validate it (no context yet):\n");
    print_validation(conn);

    printf("\n3. With Bob's context in tenant acme:\n");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    myappctx_uuid acme;
    ex_ok(myappctx_uuid_parse(&ctx.user_id, BOB, &err), &err, "uuid");
    ex_ok(myappctx_uuid_parse(&acme, ACME, &err), &err, "uuid");
    ctx.tenant_id = &acme;
    ex_ok(myappctx_context_set(conn, &ctx, &err), &err, "set context");
    print_validation(conn);
    ex_ok(myappctx_context_clear(conn, &err), &err, "clear context");

    printf("\n4. Connections of this database:\n");
    print_summary_and_stats(conn);

    printf("\n5. Idle connection cleanup:\n");
    cleanup_idle(conn, conninfo);

    myappctx_conn_close(conn);
    printf("\nconnection_lifecycle: done\n");
    return EXIT_SUCCESS;
}
