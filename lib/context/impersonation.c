/* Impersonation: start, end and status (api.impersonate_user,
 * api.end_impersonation).  The server decides who may impersonate whom and
 * keeps the log; this side checks arguments and refuses session state behind
 * a transaction pooler. */
#include "config.h"

#include "context/context.h"

MYAPPCTX_API int
myappctx_impersonate(myappctx_conn *conn, const myappctx_uuid *target_user_id,
                     myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    int rc = mxi_codec_check_uuid(target_user_id, false, "target_user_id", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    char target[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(target_user_id, target) };
    rc = mxi_exec_params(conn, what, "SELECT api.impersonate_user($1::uuid)", 1, params, NULL, err);
    /* Known here, without asking the server: a pool ends it (logged) when
     * the connection comes back, instead of leaving it to a later reset. */
    if (rc == MYAPPCTX_OK)
        conn->impersonating = true;
    return rc;
}

/* Refused behind a transaction pooler like the start: the impersonation
 * state it would end lives on whichever server connection the pooler picks
 * for this statement. */
MYAPPCTX_API int
myappctx_impersonation_end(myappctx_conn *conn, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, conn);
    int rc = mxi_conn_require_session_state(conn, __func__, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_exec_params(conn, __func__, "SELECT api.end_impersonation()", 0, NULL, NULL, err);
    if (rc == MYAPPCTX_OK)
        conn->impersonating = false;
    return rc;
}

/* Column @col of the status row as a UUID; nil and *has = 0 for NULL. */
static int
status_uuid(const PGresult *res, int col, const char *field, int *has, myappctx_uuid *out,
            const char *what, myappctx_error *err)
{
    static const myappctx_uuid nil;
    *out = nil;
    *has = !PQgetisnull(res, 0, col);
    if (!*has)
        return MYAPPCTX_OK;
    return mxi_codec_parse_uuid(PQgetvalue(res, 0, col), what, field, out, err);
}

MYAPPCTX_API int
myappctx_impersonation_status_get(myappctx_conn *conn, myappctx_impersonation_status *out,
                                  myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    MXI_ERROR_REQUIRE_ARG(err, out);
    PGresult *res;
    const char *active;
    int rc = mxi_codec_read(conn, what,
                          "SELECT private.is_impersonating(), "
                          "private.get_original_user_id()::text, "
                          "private.get_current_user_id()::text",
                          0, NULL, &res, &active, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    myappctx_impersonation_status st;
    int has_original;
    if (PQnfields(res) != 3 || active == NULL)
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: unexpected status row", what);
    if (rc == MYAPPCTX_OK)
        rc = status_uuid(res, 1, "the original user id", &has_original,
                         &st.original_user_id, what, err);
    if (rc == MYAPPCTX_OK)
        rc = status_uuid(res, 2, "the current user id", &st.has_current_user,
                         &st.current_user_id, what, err);
    if (rc == MYAPPCTX_OK) {
        /* One definition of "active" with the server: an original user is
         * recorded (private.is_impersonating()). */
        st.active = active[0] == 't';
        *out = st;
    }
    PQclear(res);
    return rc;
}
