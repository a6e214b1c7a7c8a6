/* Spec section "Session Variables": custom myapp.* variables in session and
 * transaction scope (myappctx_config_set / myappctx_config_show), reading
 * them back, '' reading as unset, why a transaction-scoped write outside a
 * transaction is refused, and the context variables, which only the typed
 * context calls write.
 *
 * Usage: session_variables [conninfo]    (default "": the PG* environment) */
#include <string.h>

#include "context_examples.h"

/* Prints a variable as the library reads it: a value or "(unset)". */
static void
show(myappctx_conn *conn, const char *name, const char *expected)
{
    myappctx_error err;
    char *value = NULL;
    ex_ok(myappctx_config_show(conn, name, &value, &err), &err, "myappctx_config_show");
    printf("   %-18s = %s\n", name, value ? value : "(unset)");
    ex_check(expected == NULL ? value == NULL : value != NULL && strcmp(value, expected) == 0,
             "the variable does not hold the expected value");
    myappctx_free(value);
}

int
main(int argc, char **argv)
{
    myappctx_error err;
    myappctx_conn *conn = ex_connect(argc, argv, NULL);

    printf("Custom variables such as myapp.debug_mode need no registration:\n"
           "custom_variable_classes was removed in PostgreSQL 9.2, and any dotted\n"
           "name (prefix.name) is accepted as a placeholder variable.\n\n");

    printf("1. Session scope: set_config('myapp.debug_mode', 'true', false)\n");
    ex_ok(myappctx_config_set(conn, "myapp.debug_mode", "true", 0, &err), &err,
          "myappctx_config_set(..., is_local=0)");
    show(conn, "myapp.debug_mode", "true");

    printf("\n2. Transaction scope: set_config(..., true) inside BEGIN ... COMMIT\n");
    ex_ok(myappctx_begin(conn, &err), &err, "BEGIN");
    ex_ok(myappctx_config_set(conn, "myapp.log_level", "debug", 1, &err), &err,
          "myappctx_config_set(..., is_local=1)");
    ex_ok(myappctx_config_set(conn, "myapp.debug_mode", "false", 1, &err), &err,
          "myappctx_config_set(..., is_local=1)");
    printf("   inside the transaction:\n");
    show(conn, "myapp.log_level", "debug");
    show(conn, "myapp.debug_mode", "false");
    ex_ok(myappctx_commit(conn, &err), &err, "COMMIT");
    printf("   after COMMIT the transaction-scoped values are gone, the session value is back:\n");
    show(conn, "myapp.log_level", NULL);
    show(conn, "myapp.debug_mode", "true");

    printf("\n3. '' reads as unset: once a variable has existed in a session,\n"
           "   current_setting(name, true) returns '' instead of NULL.\n");
    PGresult *res = NULL;
    ex_ok(myappctx_exec(conn, "SELECT current_setting('myapp.log_level', true)", 0, NULL,
                        &res, &err), &err, "current_setting");
    printf("   raw current_setting('myapp.log_level', true) = '%s'\n", PQgetvalue(res, 0, 0));
    ex_check(strcmp(PQgetvalue(res, 0, 0), "") == 0, "expected ''");
    PQclear(res);
    printf("   the library's reader reports it as:\n");
    show(conn, "myapp.log_level", NULL);

    printf("\n4. A transaction-scoped write outside a transaction block would be\n"
           "   silently discarded by PostgreSQL at the end of the statement, so the\n"
           "   library refuses it before sending anything:\n");
    ex_refused(myappctx_config_set(conn, "myapp.log_level", "debug", 1, &err),
               MYAPPCTX_ENOTXN, &err, "myappctx_config_set(is_local=1) outside a transaction");
    myappctx_uuid bob;
    ex_ok(myappctx_uuid_parse(&bob, "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", &err), &err,
          "uuid");
    ex_refused(myappctx_context_set_local(conn, &bob, NULL, NULL, &err), MYAPPCTX_ENOTXN,
               &err, "myappctx_context_set_local outside a transaction");

    printf("\n5. The context variables themselves (myapp.current_user_id, ...) are\n"
           "   written only through the typed calls, which apply the server's rules:\n");
    ex_refused(myappctx_config_set(conn, "myapp.current_user_id", "x", 0, &err),
               MYAPPCTX_EINVAL, &err, "myappctx_config_set on a context variable");
    ex_ok(myappctx_begin(conn, &err), &err, "BEGIN");
    ex_ok(myappctx_context_set_local(conn, &bob, NULL, NULL, &err), &err,
          "myappctx_context_set_local");
    printf("   after myappctx_context_set_local() inside a transaction:\n");
    show(conn, "myapp.current_user_id", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
    ex_ok(myappctx_rollback(conn, &err), &err, "ROLLBACK");
    printf("   after ROLLBACK:\n");
    show(conn, "myapp.current_user_id", NULL);

    myappctx_conn_close(conn);
    printf("\nsession_variables: done.\n");
    return EXIT_SUCCESS;
}
