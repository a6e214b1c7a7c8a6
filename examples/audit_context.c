/* Spec section "Context for Auditing": record why a unit of work happens (a
 * reason and a ticket) for audit triggers.  The audit context is
 * transaction-local: it belongs to one transaction and is gone after it.
 *
 * Usage: audit_context [conninfo]        (default "": the PG* environment) */
#include <string.h>

#include "context_examples.h"

/* Prints the audit context as JSON and returns it (new reference or NULL). */
static json_t *
show_audit(myappctx_conn *conn)
{
    myappctx_error err;
    json_t *audit = NULL;
    ex_ok(myappctx_audit_get(conn, &audit, &err), &err, "myappctx_audit_get");
    char *text = audit ? json_dumps(audit, JSON_SORT_KEYS) : NULL;
    printf("   audit context: %s\n", text ? text : "(unset)");
    free(text);
    return audit;
}

int
main(int argc, char **argv)
{
    myappctx_error err;
    myappctx_conn *conn = ex_connect(argc, argv, NULL);
    myappctx_uuid alice, acme;
    ex_ok(myappctx_uuid_parse(&alice, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", &err), &err, "uuid");
    ex_ok(myappctx_uuid_parse(&acme, "11111111-1111-1111-1111-111111111111", &err), &err, "uuid");

    printf("1. Outside a transaction the audit context would vanish at once, so\n"
           "   the library refuses to send it:\n");
    ex_refused(myappctx_audit_set(conn, "export", "SUP-4711", &err), MYAPPCTX_ENOTXN, &err,
               "myappctx_audit_set outside a transaction");

    printf("\n2. Inside a transaction (Alice, admin of acme, handles a support ticket):\n");
    ex_ok(myappctx_begin_as_user(conn, &alice, &acme, "admin", &err), &err,
          "myappctx_begin_as_user");
    ex_ok(myappctx_audit_set(conn, "Customer asked for a data export; it's \"urgent\"",
                             "SUP-4711", &err), &err, "myappctx_audit_set");
    json_t *audit = show_audit(conn);
    ex_check(audit != NULL &&
             strcmp(json_string_value(json_object_get(audit, "ticket")), "SUP-4711") == 0,
             "the ticket reads back");
    json_decref(audit);

    printf("   what an audit trigger sees (private.get_audit_context()):\n");
    PGresult *res = NULL;
    ex_ok(myappctx_exec(conn, "SELECT private.get_audit_context()->>'reason'", 0, NULL, &res,
                        &err), &err, "private.get_audit_context()");
    printf("   reason = %s\n", PQgetvalue(res, 0, 0));
    ex_check(strcmp(PQgetvalue(res, 0, 0),
                    "Customer asked for a data export; it's \"urgent\"") == 0,
             "the reason is stored verbatim");
    PQclear(res);

    ex_ok(myappctx_commit(conn, &err), &err, "COMMIT");
    printf("\n3. After COMMIT it is gone, so it cannot leak into the next request:\n");
    audit = show_audit(conn);
    ex_check(audit == NULL, "the audit context is gone after COMMIT");

    printf("\n4. A reason without a ticket, then ROLLBACK:\n");
    ex_ok(myappctx_begin(conn, &err), &err, "BEGIN");
    ex_ok(myappctx_audit_set(conn, "nightly cleanup", NULL, &err), &err, "myappctx_audit_set");
    audit = show_audit(conn);
    ex_check(audit != NULL && json_is_null(json_object_get(audit, "ticket")),
             "a missing ticket reads as JSON null");
    json_decref(audit);
    ex_ok(myappctx_rollback(conn, &err), &err, "ROLLBACK");
    audit = show_audit(conn);
    ex_check(audit == NULL, "the audit context is gone after ROLLBACK");

    myappctx_conn_close(conn);
    printf("\naudit_context: done.\n");
    return EXIT_SUCCESS;
}
