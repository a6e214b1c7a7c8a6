/* Context requirements, tenant membership and rate limiting (spec
 * "Multi-Tenant Security" and "Rate Limiting"). */
#include "config.h"

#include <stdio.h>

#include "api/api.h"

/* The checks are server functions that raise P0050..P0052, which
 * mxi_exec_params() maps to their codes. */
static int
run_check(myappctx_conn *conn, const char *what, const char *sql, myappctx_error *err)
{
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return mxi_exec_params(conn, what, sql, 0, NULL, NULL, err);
}

MYAPPCTX_API int
myappctx_require_context(myappctx_conn *conn, myappctx_error *err)
{
    return run_check(conn, __func__, "SELECT private.require_context()", err);
}

MYAPPCTX_API int
myappctx_require_tenant(myappctx_conn *conn, myappctx_error *err)
{
    return run_check(conn, __func__, "SELECT private.require_tenant_context()", err);
}

MYAPPCTX_API int
myappctx_verify_tenant_access(myappctx_conn *conn, myappctx_error *err)
{
    return run_check(conn, __func__,
                     "SELECT private.verify_user_tenant_access()", err);
}

MYAPPCTX_API int
myappctx_rate_limit_check(myappctx_conn *conn, const char *action, int max_requests,
                          int window_seconds, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(action, MYAPPCTX_RATE_LIMIT_ACTION_MAX, false, "action", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (*action == '\0')
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'action' is empty", what);
    if (max_requests < 0)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument 'max_requests' must be >= 0, got %d",
                             what, max_requests);
    if (window_seconds <= 0)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument 'window_seconds' must be > 0, got %d",
                             what, window_seconds);

    /* Parameter values, not SQL text. */
    char max_text[16], window_text[16];
    snprintf(max_text, sizeof max_text, "%d", max_requests);
    snprintf(window_text, sizeof window_text, "%d", window_seconds);
    const char *params[] = { action, max_text, window_text };
    return mxi_exec_params(conn, what, "SELECT private.check_rate_limit($1, $2, $3)", 3, params, NULL, err);
}

MYAPPCTX_API int
myappctx_rate_limit_cleanup(myappctx_conn *conn, long older_than_seconds,
                            int *out_deleted, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return mxi_call_cleanup(conn, what, "SELECT api.cleanup_rate_limits($1::interval)",
                            older_than_seconds, "older_than_seconds", out_deleted, err);
}
