/**
 * @file myappctx/session_config.h
 * Session configuration (spec "Session Configuration"): setting, showing and
 * resetting configuration parameters (GUCs) of the current session, and
 * reading the defaults stored for a role (ALTER ROLE ... SET).
 *
 * Parameter names are checked in C before any round trip: at most 63 bytes
 * matching ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$ (a built-in
 * parameter such as statement_timeout, or a two-part custom one such as
 * myapp.debug_mode).  Names are case-insensitive, as in PostgreSQL.
 *
 * The context variables (myapp.current_user_id, myapp.current_tenant_id,
 * myapp.current_role, myapp.session_id, myapp.context_metadata,
 * myapp.context_created_at, myapp.audit_context, myapp.original_user_id,
 * myapp.original_role, myapp.is_impersonating, myapp.loaded_settings) can be
 * shown but not set or reset here: use the context API (myappctx/context.h),
 * whose checks and impersonation log direct writes would bypass.
 *
 * Threading: a myappctx_conn is used by one thread at a time; different
 * connections may be used concurrently.  Ownership: pointer arguments are
 * borrowed for the call only; what an `out` parameter receives is the
 * caller's, freed with the function its description names.  Each function
 * lists only its own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_SESSION_CONFIG_H
#define MYAPPCTX_SESSION_CONFIG_H

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest parameter name accepted, in bytes. */
#define MYAPPCTX_CONFIG_NAME_MAX 63
/** Longest parameter value accepted, in bytes. */
#define MYAPPCTX_CONFIG_VALUE_MAX 65536

/**
 * Sets a parameter: SET (is_local == 0) or SET LOCAL (is_local != 0),
 * through set_config($1, $2, $3).
 *
 * A session-level value (is_local == 0) lasts until the connection closes
 * or is reset, and is undone if the surrounding transaction block rolls
 * back.  A local value lasts until the end of the current transaction.
 *
 * @param conn      the connection
 * @param name      the parameter name (see the file comment; not a context
 *                  variable)
 * @param value     the value as SET would take it ("10s", "256MB", "off"),
 *                  at most MYAPPCTX_CONFIG_VALUE_MAX bytes of UTF-8, sent
 *                  verbatim
 * @param is_local  non-zero for transaction scope
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EINVAL also for a context variable's name;
 *         MYAPPCTX_ENOTXN (is_local outside a transaction block: nothing is
 *         sent); MYAPPCTX_ESESSIONSTATE (session-level on a connection
 *         behind a transaction pooler); the server's refusals are
 *         MYAPPCTX_ESERVER (22023 invalid value or unknown built-in
 *         parameter, 42501 not allowed for this role, 55P02 cannot be
 *         changed now).
 */
MYAPPCTX_API int myappctx_config_set(myappctx_conn *conn, const char *name,
                                     const char *value, int is_local,
                                     myappctx_error *err);

/**
 * Shows the current value of a parameter, as SHOW prints it (current_setting()).
 *
 * Unset is not an error: a custom parameter that does not exist in this
 * session, and a value of '' (how a custom parameter reads once it has
 * existed), give MYAPPCTX_OK with *out NULL.
 *
 * @param conn      the connection
 * @param name      the parameter name
 * @param[out] out  receives a NUL-terminated copy of the value, or NULL when
 *                  unset; the caller frees it with myappctx_free().  NULL on
 *                  failure.
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ENOTFOUND (an unknown built-in, one-part
 *         name: a typo does not pass for "unset"); MYAPPCTX_ESERVER 42501
 *         for a parameter this role may not read.
 */
MYAPPCTX_API int myappctx_config_show(myappctx_conn *conn, const char *name, char **out,
                                      myappctx_error *err);

/**
 * Resets one parameter to its default, like RESET name: the value the
 * session started with, which includes the role's and the database's
 * defaults (e.g. statement_timeout = 30s for the application role).
 * Inside a transaction block it is undone if the transaction rolls back.
 *
 * @param conn  the connection
 * @param name  the parameter name (not a context variable)
 * @param err   error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EINVAL also for a context variable's name;
 *         MYAPPCTX_ESESSIONSTATE (behind a transaction pooler);
 *         MYAPPCTX_ENOTFOUND (unknown parameter, or a custom one that does
 *         not exist in this session); the server's refusals are
 *         MYAPPCTX_ESERVER (e.g. 42501, 55P02).
 */
MYAPPCTX_API int myappctx_config_reset(myappctx_conn *conn, const char *name,
                                       myappctx_error *err);

/**
 * RESET ALL: every parameter back to its session default, including the
 * myapp.* variables (so the context and loaded settings are gone too).
 * It does NOT reset role or session_authorization (PostgreSQL excludes them
 * from RESET ALL): after SET ROLE, reset "role" with myappctx_config_reset().
 *
 * Refused while impersonating, because it would drop the impersonation
 * without closing its log entry: end it first (or clear the context with
 * the context API).
 * @return MYAPPCTX_OK; MYAPPCTX_ESESSIONSTATE (behind a transaction
 *         pooler); MYAPPCTX_EIMPERSONATING (an impersonation is active:
 *         nothing is reset).
 */
MYAPPCTX_API int myappctx_config_reset_all(myappctx_conn *conn, myappctx_error *err);

/** A parameter and its value, e.g. "TimeZone" and "UTC", or
 *  "myapp.default_page_size" and "25". */
typedef struct myappctx_config_entry {
    const char *name;       /**< the parameter's name */
    const char *value;      /**< its value as SHOW prints it */
} myappctx_config_entry;

/**
 * SHOW ALL: every parameter this role may read, with its current value
 * formatted as SHOW prints it (pg_settings and current_setting()), sorted by
 * name.  Custom parameters such as myapp.* are not listed (PostgreSQL 15
 * hides placeholder parameters from pg_settings): read them with
 * myappctx_config_show().
 *
 * @param conn            the connection
 * @param[out] out        receives the entries, or NULL when there are none;
 *                        one allocation, freed with myappctx_config_entries_free()
 * @param[out] out_count  receives the number of entries
 * @param err             error details, or NULL
 * @return MYAPPCTX_OK or an error code.
 */
MYAPPCTX_API int myappctx_config_show_all(myappctx_conn *conn, myappctx_config_entry **out,
                                          size_t *out_count, myappctx_error *err);

/**
 * Reads the defaults stored for a login role (ALTER ROLE ... SET, from
 * pg_db_role_setting) that apply in the current database: a value set with
 * ALTER ROLE ... IN DATABASE for this database wins over one for all
 * databases.  Database-wide defaults (ALTER DATABASE ... SET) are not
 * included.  The session picks these up at connection time.
 *
 * @param conn            the connection
 * @param role            the role name (1..63 bytes of UTF-8, exact case),
 *                        or NULL for the session's login role
 * @param[out] out        receives the entries sorted by name, or NULL when
 *                        there are none; one allocation, freed with
 *                        myappctx_config_entries_free()
 * @param[out] out_count  receives the number of entries
 * @param err             error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ENOTFOUND (no such role).
 */
MYAPPCTX_API int myappctx_config_role_defaults(myappctx_conn *conn, const char *role,
                                               myappctx_config_entry **out,
                                               size_t *out_count, myappctx_error *err);

/** Frees what myappctx_config_show_all() or myappctx_config_role_defaults()
 *  returned (all entries and their strings, one allocation).  NULL is
 *  allowed. */
MYAPPCTX_API void myappctx_config_entries_free(myappctx_config_entry *entries);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_SESSION_CONFIG_H */
