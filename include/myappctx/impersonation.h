/**
 * @file myappctx/impersonation.h
 * Impersonation (spec "Security Context / Impersonation"): an admin acts as
 * another user.  The server fails closed: it needs a user context whose user
 * exists in data.users with role 'admin', refuses nested impersonation and
 * unknown targets, and logs start and end in app_audit.impersonation_log
 * (which the application role cannot edit).  While impersonating, the
 * context role is the target's data.users.role and setting a new context is
 * refused (MYAPPCTX_EIMPERSONATING).
 *
 * Impersonation is session state, so it is refused on a connection behind a
 * transaction pooler.
 *
 * Threading: a myappctx_conn is used by one thread at a time.  Ownership:
 * arguments are borrowed for the call only; nothing here allocates.  Each
 * function lists only its own codes; see myappctx/error.h for the common
 * ones.
 */
#ifndef MYAPPCTX_IMPERSONATION_H
#define MYAPPCTX_IMPERSONATION_H

#include <myappctx/conn.h>
#include <myappctx/uuid.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Starts impersonating @p target_user_id (api.impersonate_user()).  The
 * current user (set with myappctx_context_set()) becomes the original user.
 *
 * @param conn            the connection (not behind a transaction pooler)
 * @param target_user_id  the user to act as; the nil UUID is refused
 * @param err             error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_ESESSIONSTATE: the connection is behind a transaction pooler;
 *         MYAPPCTX_ENOCONTEXT (P0050): no user context is set;
 *         MYAPPCTX_EIMPERSONATING (P0055): already impersonating;
 *         MYAPPCTX_ENOTADMIN (P0053): the current user is unknown, has no
 *         role or is not an admin;
 *         MYAPPCTX_ENOUSER (P0057): the target user does not exist;
 *         MYAPPCTX_EBADARG (P0058): the target is the current user.
 */
MYAPPCTX_API int myappctx_impersonate(myappctx_conn *conn, const myappctx_uuid *target_user_id,
                                      myappctx_error *err);

/**
 * Ends the impersonation (api.end_impersonation()): restores the original
 * user and role and logs the end.
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_ENOTIMPERSONATING (P0056): no impersonation is active,
 *         or none is logged as open for this session.
 */
MYAPPCTX_API int myappctx_impersonation_end(myappctx_conn *conn, myappctx_error *err);

/** Impersonation state, filled by myappctx_impersonation_status_get(). */
typedef struct myappctx_impersonation_status {
    int active;                      /**< 1 while impersonating */
    myappctx_uuid original_user_id;  /**< the admin; valid when active (nil otherwise) */
    int has_current_user;            /**< 1 when a current user is set */
    myappctx_uuid current_user_id;   /**< the target while active; nil when unset */
} myappctx_impersonation_status;

/**
 * Reads the impersonation state in one round trip.
 *
 * @param conn      the connection
 * @param[out] out  caller-provided structure, filled on success (untouched
 *                  on failure); nothing to free
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_EMALFORMED: a variable holds something that is not a
 *         UUID (only possible if written with raw SQL).
 */
MYAPPCTX_API int myappctx_impersonation_status_get(myappctx_conn *conn,
                                                   myappctx_impersonation_status *out,
                                                   myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_IMPERSONATION_H */
