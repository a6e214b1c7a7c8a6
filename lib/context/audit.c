/* The audit context of the current transaction (api.set_audit_context). */
#include "config.h"

#include "context/context.h"

/* Sealed: the audit context is sealed together with the transaction's
 * context, so the fields in effect (reported by the server) are sealed
 * again with the audit ones (lib/context/sealed.c).  Without a user in
 * effect there is nothing to seal it with. */
static int
set_sealed(myappctx_conn *conn, const char *reason, const char *ticket, myappctx_error *err)
{
    const char *const what = "myappctx_audit_set";
    const char *user = mxi_sealed_reported(conn, "myapp.current_user_id");
    if (user[0] == '\0')
        return mxi_error_set(err, MYAPPCTX_ENOCONTEXT, NULL,
                             "%s: sealed mode: the audit context is sealed with the "
                             "transaction's context, and none is set; set one first "
                             "(myappctx_context_set_local())", what);
    const char *fields[MXI_HMAC_CONTEXT_FIELDS] = {
        user,
        mxi_sealed_reported(conn, "myapp.current_tenant_id"),
        mxi_sealed_reported(conn, "myapp.current_role"),
        mxi_sealed_reported(conn, "myapp.session_id"),
        mxi_sealed_reported(conn, "myapp.context_metadata"),
        reason != NULL ? reason : "",
        ticket != NULL ? ticket : "",
    };
    return mxi_sealed_set(conn, true, fields, what, err);
}

MYAPPCTX_API int
myappctx_audit_set(myappctx_conn *conn, const char *reason, const char *ticket,
                   myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    int rc = mxi_text_check(reason, MYAPPCTX_AUDIT_TEXT_MAX, true, "reason", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(ticket, MYAPPCTX_AUDIT_TEXT_MAX, true, "ticket", what, err);
    /* The server function stores it with is_local = true: outside a
     * transaction block it would vanish before anyone could read it. */
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_require_txn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (conn->seal != NULL)
        return set_sealed(conn, reason, ticket, err);
    const char *params[] = { reason, ticket };
    return mxi_exec_params(conn, what, "SELECT api.set_audit_context($1::text, $2::text)", 2, params,
                    NULL, err);
}

MYAPPCTX_API int
myappctx_audit_get(myappctx_conn *conn, json_t **out, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    PGresult *res;
    const char *text;
    int rc = mxi_codec_read(conn, what, "SELECT private.get_audit_context()::text", 0, NULL,
                          &res, &text, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (text != NULL)
        rc = mxi_codec_parse_object(text, what, out, err);
    PQclear(res);
    return rc;
}
