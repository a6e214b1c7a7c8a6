/* Setting and clearing the application context: session scope
 * (api.set_context), transaction scope inside the caller's transaction
 * (api.set_transaction_context) and api.clear_context -- or, on a sealed
 * connection, their myappctx_seal counterparts (sealed.c).  The units of work
 * that open their own transaction (myappctx_begin_as_user() and the
 * pipelined ones) are lib/pipeline/unit.c. */
#include "config.h"

#include <stdlib.h>

#include "context/context.h"

MYAPPCTX_API int
myappctx_context_set(myappctx_conn *conn, const myappctx_context *ctx, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    MXI_ERROR_REQUIRE_ARG(err, ctx);
    if (ctx->version != MYAPPCTX_CONTEXT_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: ctx->version %d is not %d (use MYAPPCTX_CONTEXT_INIT)",
                             what, ctx->version, MYAPPCTX_CONTEXT_VERSION);
    int rc = mxi_codec_check_uuid(&ctx->user_id, false, "ctx->user_id", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_uuid(ctx->tenant_id, true, "ctx->tenant_id", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_label(ctx->role_label, MYAPPCTX_ROLE_LABEL_MAX, "ctx->role_label", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_label(ctx->session_id, MYAPPCTX_SESSION_ID_MAX,
                                 "ctx->session_id", what, err);
    char *metadata = NULL;
    if (rc == MYAPPCTX_OK && ctx->metadata != NULL)
        rc = mxi_codec_dump_object(ctx->metadata, MYAPPCTX_METADATA_MAX, "ctx->metadata",
                                 what, &metadata, err);
    if (rc == MYAPPCTX_OK && conn->seal != NULL && ctx->metadata != NULL &&
        mxi_sealed_stored_size(ctx->metadata) > MXI_SEALED_METADATA_MAX)
        rc = mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                           "%s: argument 'ctx->metadata' is too large for sealed mode: the "
                           "server stores it as up to %zu bytes, and reports it to the client, "
                           "which refuses a report over %d bytes", what,
                           mxi_sealed_stored_size(ctx->metadata), MXI_SEALED_METADATA_MAX);
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK) {
        free(metadata);
        return rc;
    }

    char user[MYAPPCTX_UUID_BUFSIZE], tenant[MYAPPCTX_UUID_BUFSIZE];
    if (conn->seal != NULL) {
        /* Sealed: the same values, '' for an absent one (the MAC covers
         * what is sent; audit fields are transaction-local only). */
        const char *tenant_param = mxi_codec_uuid_param(ctx->tenant_id, tenant);
        const char *fields[MXI_HMAC_CONTEXT_FIELDS] = {
            myappctx_uuid_format(&ctx->user_id, user),
            tenant_param != NULL ? tenant_param : "",
            ctx->role_label != NULL ? ctx->role_label : "user",
            ctx->session_id != NULL ? ctx->session_id : "",
            metadata != NULL ? metadata : "{}",
            "", "",
        };
        rc = mxi_sealed_set(conn, false, fields, what, err);
        free(metadata);
        return rc;
    }
    /* The C defaults are spelt out rather than sent as NULL: the server
     * maps a NULL role to "no role", not to its parameter default. */
    const char *params[] = {
        myappctx_uuid_format(&ctx->user_id, user),
        mxi_codec_uuid_param(ctx->tenant_id, tenant),
        ctx->role_label != NULL ? ctx->role_label : "user",
        ctx->session_id,
        metadata != NULL ? metadata : "{}",
    };
    rc = mxi_exec_params(conn, what,
                  "SELECT api.set_context($1::uuid, $2::uuid, $3::text, $4::text, $5::jsonb)",
                  5, params, NULL, err);
    free(metadata);
    return rc;
}

/* Checks of the transaction-scoped setter (nothing is sent). */
static int
check_local_args(myappctx_conn *conn, const myappctx_uuid *user_id,
                 const myappctx_uuid *tenant_id, const char *role, const char *what,
                 myappctx_error *err)
{
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_uuid(user_id, false, "user_id", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_uuid(tenant_id, true, "tenant_id", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_label(role, MYAPPCTX_ROLE_LABEL_MAX, "role_label", what, err);
    return rc;
}

/* Sealed: user, tenant and role for the transaction; the session id,
 * metadata and audit context stay as they are in effect, as with
 * api.set_transaction_context() (lib/context/sealed.c). */
static int
send_sealed_local(myappctx_conn *conn, const char *user, const char *tenant, const char *role,
                  myappctx_error *err)
{
    const char *const what = "myappctx_context_set_local";
    char *reason, *ticket;
    int rc = mxi_sealed_audit_in_effect(conn, &reason, &ticket, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *fields[MXI_HMAC_CONTEXT_FIELDS] = {
        user, tenant != NULL ? tenant : "", role != NULL ? role : "",
        mxi_sealed_reported(conn, "myapp.session_id"),
        mxi_sealed_reported(conn, "myapp.context_metadata"),
        reason, ticket,
    };
    rc = mxi_sealed_set(conn, true, fields, what, err);
    free(reason);
    free(ticket);
    return rc;
}

/* Sends api.set_transaction_context; the caller has checked the arguments
 * and that a transaction block is open. */
static int
send_local(myappctx_conn *conn, const char *what, const myappctx_uuid *user_id,
           const myappctx_uuid *tenant_id, const char *role, myappctx_error *err)
{
    char user[MYAPPCTX_UUID_BUFSIZE], tenant[MYAPPCTX_UUID_BUFSIZE];
    if (conn->seal != NULL)
        return send_sealed_local(conn, myappctx_uuid_format(user_id, user),
                                 mxi_codec_uuid_param(tenant_id, tenant), role, err);
    /* A NULL role is sent as '' (unset for this transaction), not as NULL
     * (which keeps the session's role): the transaction's identity must not
     * inherit the role of whoever set a session context earlier. */
    const char *params[] = {
        myappctx_uuid_format(user_id, user),
        mxi_codec_uuid_param(tenant_id, tenant),
        role != NULL ? role : "",
    };
    return mxi_exec_params(conn, what, "SELECT api.set_transaction_context($1::uuid, $2::uuid, $3::text)",
                    3, params, NULL, err);
}

MYAPPCTX_API int
myappctx_context_set_local(myappctx_conn *conn, const myappctx_uuid *user_id,
                           const myappctx_uuid *tenant_id, const char *role,
                           myappctx_error *err)
{
    const char *const what = __func__;
    int rc = check_local_args(conn, user_id, tenant_id, role, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_require_txn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return send_local(conn, what, user_id, tenant_id, role, err);
}

MYAPPCTX_API int
myappctx_context_clear(myappctx_conn *conn, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, conn);
    /* Sealed: api.clear_context() RESETs variables only the seal may set. */
    int rc = mxi_exec_params(conn, __func__,
                             conn->seal != NULL ? "SELECT myappctx_seal.clear_context()"
                                                : "SELECT api.clear_context()",
                             0, NULL, NULL, err);
    if (rc == MYAPPCTX_OK)
        conn->impersonating = false;    /* clear_context() ends one */
    return rc;
}
