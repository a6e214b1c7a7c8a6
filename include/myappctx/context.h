/**
 * @file myappctx/context.h
 * The application context (spec "Application Context Pattern" and "Session
 * Variables"): who the current user is, in which tenant, with which role,
 * session id and metadata, kept in myapp.* session variables that SQL
 * functions, row-level-security policies and audit triggers read.
 *
 * Two scopes:
 *  - session scope, myappctx_context_set(): lasts until the connection
 *    closes or myappctx_context_clear() runs.  Refused on a connection
 *    behind a transaction pooler, where it would leak to the next client.
 *  - transaction scope, myappctx_context_set_local() and
 *    myappctx_begin_as_user(): gone at COMMIT or ROLLBACK; refused outside
 *    a transaction block, where PostgreSQL would silently discard it at the
 *    end of the statement.
 *
 * Readers treat an empty variable as unset and report "unset" separately
 * from a value.
 *
 * Threading: a myappctx_conn is used by one thread at a time.  Ownership:
 * arguments are borrowed for the call only; what an `out` parameter
 * receives is the caller's, freed as its description says.  Each function
 * lists only its own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_CONTEXT_H
#define MYAPPCTX_CONTEXT_H

#include <myappctx/conn.h>
#include <myappctx/uuid.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest role accepted, in bytes. */
#define MYAPPCTX_ROLE_LABEL_MAX 63
/** Longest session id accepted, in bytes. */
#define MYAPPCTX_SESSION_ID_MAX 256
/** Longest metadata accepted: bytes of its compact JSON text. */
#define MYAPPCTX_METADATA_MAX 65536
/** Deepest nesting of metadata accepted (the object itself is level 1). */
#define MYAPPCTX_METADATA_DEPTH_MAX 64

/** A context to set with myappctx_context_set().  Start from
 *  MYAPPCTX_CONTEXT_INIT so that fields added later get their defaults. */
typedef struct myappctx_context {
    int version;                     /**< MYAPPCTX_CONTEXT_VERSION */
    myappctx_uuid user_id;           /**< required; the nil UUID is refused */
    const myappctx_uuid *tenant_id;  /**< optional (borrowed, not the nil UUID), NULL = no tenant */
    /** the user's role in the application, a label the schema's readers
     *  report (not a database role): optional, NULL = "user";
     *  1..MYAPPCTX_ROLE_LABEL_MAX bytes of UTF-8 */
    const char *role_label;
    /** optional, NULL = none; 1..MYAPPCTX_SESSION_ID_MAX bytes of UTF-8 */
    const char *session_id;
    /** optional JSON object (borrowed, not modified), NULL = {}; at most
     *  MYAPPCTX_METADATA_MAX bytes once serialized, nested at most
     *  MYAPPCTX_METADATA_DEPTH_MAX levels, real numbers below 1e18 in
     *  magnitude (integers: any json_int_t), no U+0000 in strings (jsonb
     *  cannot store it) */
    json_t *metadata;
} myappctx_context;

/** The version of myappctx_context this header describes. */
#define MYAPPCTX_CONTEXT_VERSION 1
/** Initialiser of myappctx_context: no user yet, every option unset. */
#define MYAPPCTX_CONTEXT_INIT { MYAPPCTX_CONTEXT_VERSION, {{0}}, NULL, NULL, NULL, NULL }

/**
 * Sets the session-scoped context (api.set_context()): user, tenant, role,
 * session id, metadata, the creation time and application_name.  Inside a
 * transaction block the change is undone if the transaction rolls back.
 *
 * @param conn  the connection (not behind a transaction pooler)
 * @param ctx   the context
 * @param err   error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_ESESSIONSTATE: the connection is behind a transaction pooler;
 *         MYAPPCTX_EIMPERSONATING (P0055): an impersonation is active (end it first);
 *         MYAPPCTX_EINVAL also when ctx->metadata cannot be serialized
 *         (invalid UTF-8 from a jansson _nocheck constructor, a reference
 *         cycle, or no memory to serialize it).
 */
MYAPPCTX_API int myappctx_context_set(myappctx_conn *conn, const myappctx_context *ctx,
                                      myappctx_error *err);

/**
 * Sets the user, tenant and role for the current transaction only
 * (api.set_transaction_context()).  Works behind a transaction pooler.
 *
 * @param conn       the connection, inside a transaction block
 * @param user_id    required; the nil UUID is refused
 * @param tenant_id  optional (not the nil UUID); NULL = no tenant for this
 *                   transaction
 * @param role_label optional; NULL = no role for this transaction (a role
 *                   from a session-scoped context is hidden, not inherited);
 *                   otherwise 1..MYAPPCTX_ROLE_LABEL_MAX bytes of UTF-8
 * @param err        error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_ENOTXN: not inside a transaction block (nothing is sent);
 *         MYAPPCTX_EIMPERSONATING (P0055): an impersonation the library
 *         started on this connection is active (nothing is sent).
 */
MYAPPCTX_API int myappctx_context_set_local(myappctx_conn *conn, const myappctx_uuid *user_id,
                                            const myappctx_uuid *tenant_id, const char *role_label,
                                            myappctx_error *err);

/**
 * BEGIN and the transaction-local context in one round trip: a unit of
 * work, which starts clean as myappctx_run_in_context() does
 * (myappctx/pipeline.h).  If setting the context fails, the transaction is
 * rolled back and the connection is idle again.  The caller ends the
 * transaction with myappctx_commit() or myappctx_rollback().
 *
 * @param conn, user_id, tenant_id, role_label  as for myappctx_context_set_local(),
 *                                              but @p conn must be idle
 * @param err                                   error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_EBUSY also when @p conn is already inside a transaction
 *         block, open or aborted (nothing is sent);
 *         MYAPPCTX_EIMPERSONATING (P0055): an impersonation is active.
 */
MYAPPCTX_API int myappctx_begin_as_user(myappctx_conn *conn, const myappctx_uuid *user_id,
                                        const myappctx_uuid *tenant_id, const char *role_label,
                                        myappctx_error *err);

/**
 * Clears the context (api.clear_context()): ends an active impersonation
 * (logging its end), resets every myapp.* context variable, the loaded app
 * settings and application_name.  Allowed behind a transaction pooler.
 * @return MYAPPCTX_OK or an error code.
 */
MYAPPCTX_API int myappctx_context_clear(myappctx_conn *conn, myappctx_error *err);

/* ------------------------------------------------------------- readers */

/**
 * Reads the current user id (private.get_current_user_id(): what row-level
 * security sees, whichever scope set it).
 *
 * @param conn        the connection
 * @param[out] out    receives the user id; the nil UUID when unset
 * @param[out] is_set receives 1 when a user id is set, 0 when unset or ''
 * @param err         error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_EMALFORMED: the variable holds something that is not a
 *         UUID (only possible if written with raw SQL).
 *         On failure *out and *is_set are untouched.
 */
MYAPPCTX_API int myappctx_context_user_id_get(myappctx_conn *conn, myappctx_uuid *out,
                                              int *is_set, myappctx_error *err);

/** Reads the current tenant id (private.get_current_tenant_id()).
 *  Parameters and return codes as myappctx_context_user_id_get(). */
MYAPPCTX_API int myappctx_context_tenant_id_get(myappctx_conn *conn, myappctx_uuid *out,
                                                int *is_set, myappctx_error *err);

/**
 * Reads the current context role (private.get_current_role()).
 *
 * @param conn      the connection
 * @param[out] out  receives a copy (free it with myappctx_free()), or NULL
 *                  when the role is unset or ''; NULL on failure
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK or an error code.
 */
MYAPPCTX_API int myappctx_context_role_label_get(myappctx_conn *conn, char **out,
                                           myappctx_error *err);

/** Reads the current session id (myapp.session_id).  Parameters, ownership
 *  and return codes as myappctx_context_role_label_get(). */
MYAPPCTX_API int myappctx_context_session_id_get(myappctx_conn *conn, char **out,
                                                 myappctx_error *err);

/** The whole context as read by myappctx_context_get().  Every pointer
 *  member belongs to the structure; free it all with
 *  myappctx_context_info_free(). */
typedef struct myappctx_context_info {
    int has_user_id;                 /**< 1 when user_id is set */
    myappctx_uuid user_id;           /**< nil when unset */
    int has_tenant_id;               /**< 1 when tenant_id is set */
    myappctx_uuid tenant_id;         /**< nil when unset */
    char *role_label;                /**< the role label; NULL when unset */
    char *session_id;                /**< NULL when unset */
    json_t *metadata;                /**< NULL when unset; normally an object */
    char *created_at;                /**< ISO 8601 time of the last myappctx_context_set(),
                                          NULL when unset */
    int is_impersonating;            /**< 1 while an impersonation is active */
    int has_original_user_id;        /**< 1 while impersonating */
    myappctx_uuid original_user_id;  /**< the admin behind the impersonation; nil when unset */
    json_t *audit;                   /**< audit context of this transaction, NULL when unset */
} myappctx_context_info;

/**
 * Reads the whole context in one round trip (api.get_context()).
 *
 * @param conn      the connection
 * @param[out] out  receives a new structure (free it with
 *                  myappctx_context_info_free()); NULL on failure
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_EMALFORMED: a variable holds a value of the wrong type
 *         (only possible if written with raw SQL).
 */
MYAPPCTX_API int myappctx_context_get(myappctx_conn *conn, myappctx_context_info **out,
                                      myappctx_error *err);

/** Frees a structure from myappctx_context_get() and everything it holds
 *  (json_decref on the JSON members).  NULL is allowed. */
MYAPPCTX_API void myappctx_context_info_free(myappctx_context_info *info);

/* Custom session variables other than the context (spec "Session
 * Variables", e.g. myapp.debug_mode) are set and read with
 * myappctx_config_set() and myappctx_config_show() (myappctx/session_config.h),
 * which refuse to write the context variables above. */

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_CONTEXT_H */
