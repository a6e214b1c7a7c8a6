/**
 * @file myappctx/security.h
 * Security checks (spec "Multi-Tenant Security" and "Rate Limiting"): the
 * context requirements and tenant membership check that API functions run
 * before touching tenant data, and per-user rate limits.
 *
 * The checks read the context the connection carries (set with the context
 * API, myappctx/context.h); they change nothing and are allowed behind a
 * transaction pooler, where they must run in the same transaction as the
 * transaction-scoped context they check.
 *
 * A failed check inside a transaction block aborts that transaction (the
 * server raised an error): roll it back before going on.
 *
 * Threading: a myappctx_conn is used by one thread at a time; different
 * connections may be used concurrently.  Ownership: pointer arguments are
 * borrowed for the call only; nothing here allocates.  Each function lists
 * only its own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_SECURITY_H
#define MYAPPCTX_SECURITY_H

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest rate-limit action name accepted, in bytes. */
#define MYAPPCTX_RATE_LIMIT_ACTION_MAX 128

/**
 * Succeeds when a user context is set (private.require_context()).
 * @return MYAPPCTX_OK; MYAPPCTX_ENOCONTEXT (no user context, P0050);
 *         MYAPPCTX_ESERVER 22P02 when myapp.current_user_id was written with
 *         something other than a UUID.
 */
MYAPPCTX_API int myappctx_require_context(myappctx_conn *conn, myappctx_error *err);

/**
 * Succeeds when a tenant context is set (private.require_tenant_context()).
 * It does not check the user; see myappctx_verify_tenant_access().
 * @return MYAPPCTX_OK; MYAPPCTX_ENOTENANT (no tenant context, P0051).
 */
MYAPPCTX_API int myappctx_require_tenant(myappctx_conn *conn, myappctx_error *err);

/**
 * Succeeds when the context's user is an active member of the context's
 * tenant (private.verify_user_tenant_access(), which reads
 * data.user_tenants with its owner's rights: the calling role needs no
 * rights on the table).
 * @return MYAPPCTX_OK; MYAPPCTX_ENOCONTEXT (no user context, P0050);
 *         MYAPPCTX_ENOTENANT (no tenant context, P0051); MYAPPCTX_EACCESS
 *         (not a member, or the membership is inactive, P0052).
 */
MYAPPCTX_API int myappctx_verify_tenant_access(myappctx_conn *conn, myappctx_error *err);

/**
 * Counts one request of @p action for the context's user and fails once
 * there were more than @p max_requests in the current window
 * (private.check_rate_limit()).  Windows are fixed: @p window_seconds long,
 * aligned to multiples of that length since the Unix epoch, so a burst can
 * straddle two windows.
 *
 * The count is part of the caller's transaction: a request whose
 * transaction rolls back is not counted, and a refused one
 * (MYAPPCTX_ERATELIMIT) is not counted either.  Outside a transaction block
 * each call commits on its own.  The application role needs no rights on
 * the counters' table.
 *
 * @param conn            the connection (with a user context)
 * @param action          the action's name: 1..MYAPPCTX_RATE_LIMIT_ACTION_MAX
 *                        bytes of UTF-8, stored verbatim
 * @param max_requests    requests allowed per window, >= 0 (0 refuses all)
 * @param window_seconds  window length, > 0
 * @param err             error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ENOCONTEXT (no user context, P0050);
 *         MYAPPCTX_ERATELIMIT (limit exceeded, P0054).
 */
MYAPPCTX_API int myappctx_rate_limit_check(myappctx_conn *conn, const char *action,
                                           int max_requests, int window_seconds,
                                           myappctx_error *err);

/**
 * Deletes rate-limit counters whose window started more than
 * @p older_than_seconds ago, for every user (api.cleanup_rate_limits()).
 * Pass at least the longest window in use, or live counters are dropped
 * early and their users get a fresh quota.
 *
 * @param conn                the connection
 * @param older_than_seconds  1 .. 2147483647
 * @param[out] out_deleted    if not NULL, receives the number of counters deleted
 * @param err                 error details, or NULL
 * @return MYAPPCTX_OK or an error code (MYAPPCTX_ESERVER 42501 without
 *         EXECUTE on the function).
 */
MYAPPCTX_API int myappctx_rate_limit_cleanup(myappctx_conn *conn, long older_than_seconds,
                                             int *out_deleted, myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_SECURITY_H */
