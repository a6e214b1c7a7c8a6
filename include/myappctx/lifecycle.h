/**
 * @file myappctx/lifecycle.h
 * Connection validation, initialisation, idle-connection cleanup and
 * connection statistics (spec "Connection Validation" and "Connection
 * Lifecycle").
 *
 * Threading: a myappctx_conn is used by one thread at a time; different
 * connections may be used concurrently.  Results are plain memory owned by
 * the caller and may be passed between threads.  Ownership: pointer
 * arguments are borrowed for the call only; each result is freed, once, with
 * the _free function its description names; arrays are ONE allocation each
 * (the rows and every string they point to).  Each function lists only its
 * own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_LIFECYCLE_H
#define MYAPPCTX_LIFECYCLE_H

#include <myappctx/conn.h>
#include <myappctx/uuid.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What api.validate_connection() reports about a connection.  The strings
 *  point into `raw` and live as long as the structure; a string that is
 *  unset or '' on the server is NULL. */
typedef struct myappctx_validation {
    int has_user;                  /**< 1 when a user context is set */
    myappctx_uuid user_id;         /**< valid when has_user */
    int has_tenant;                /**< 1 when a tenant context is set */
    myappctx_uuid tenant_id;       /**< valid when has_tenant */
    const char *application_name;  /**< application_name, or NULL */
    const char *server_version;    /**< e.g. "15.8 (Debian 15.8-1)" */
    const char *timezone;          /**< TimeZone, e.g. "UTC" */
    const char *search_path;       /**< e.g. "api, pg_temp" */
    int is_superuser;              /**< 1 when the session user is a superuser */
    /** The whole JSON object as returned (borrowed: owned by this structure;
     *  json_incref() it to keep it after myappctx_validation_free()). */
    json_t *raw;
} myappctx_validation;

/**
 * Reports the connection's context and settings (api.validate_connection()),
 * e.g. for a pool's validation hook.  Reads only; allowed behind a
 * transaction pooler.
 *
 * @param conn      the connection
 * @param[out] out  receives the report; the caller frees it with
 *                  myappctx_validation_free().  NULL on failure.
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EMALFORMED (myapp.current_user_id or
 *         myapp.current_tenant_id holds something other than a UUID, e.g.
 *         written with raw SQL).
 */
MYAPPCTX_API int myappctx_conn_validate(myappctx_conn *conn,
                                              myappctx_validation **out,
                                              myappctx_error *err);

/** Frees a report of myappctx_conn_validate() (and its JSON).  NULL is
 *  allowed. */
MYAPPCTX_API void myappctx_validation_free(myappctx_validation *validation);

/**
 * Initialises a new connection (api.init_connection()): loads the
 * application settings, sets TimeZone to UTC and DateStyle to "ISO, MDY"
 * for the session, and records the connection in data.connection_log.
 *
 * @param conn  the connection (its role needs INSERT on data.connection_log,
 *              as the application role has)
 * @param err   error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ESESSIONSTATE (behind a transaction pooler).
 */
MYAPPCTX_API int myappctx_conn_init(myappctx_conn *conn, myappctx_error *err);

/**
 * Terminates idle connections (api.cleanup_idle_connections()): client
 * backends of the caller's own login role, in the current database, idle
 * for longer than @p idle_timeout_seconds; never the calling connection.
 * Connections idle inside a transaction are not touched.  A pooler (e.g.
 * PgBouncer) that logs in as the same role has its idle server connections
 * terminated too; it opens new ones when needed.
 *
 * @param conn                  the connection
 * @param idle_timeout_seconds  1 .. 2147483647
 * @param[out] out_terminated   if not NULL, receives how many were terminated
 * @param err                   error details, or NULL
 * @return MYAPPCTX_OK or an error code (MYAPPCTX_ESERVER 42501 without
 *         EXECUTE on the function).
 */
MYAPPCTX_API int myappctx_conn_cleanup_idle(myappctx_conn *conn,
                                                  long idle_timeout_seconds,
                                                  int *out_terminated,
                                                  myappctx_error *err);

/** One row of api.get_connection_summary(): connections of the current
 *  database grouped by state. */
typedef struct myappctx_conn_summary {
    /** "active", "idle", "idle in transaction", ...; NULL for backends
     *  without a state or whose state this role may not see */
    const char *state;
    long long count;               /**< connections in this state */
    int has_avg_idle;              /**< 1 when avg_idle_seconds is known */
    double avg_idle_seconds;       /**< mean time since the last state change */
} myappctx_conn_summary;

/**
 * Reads api.get_connection_summary().
 *
 * @param conn            the connection
 * @param[out] out        receives the rows, or NULL when there are none;
 *                        freed with myappctx_conn_summary_free()
 * @param[out] out_count  receives the number of rows
 * @param err             error details, or NULL
 * @return MYAPPCTX_OK or an error code.
 */
MYAPPCTX_API int myappctx_conn_summary_get(myappctx_conn *conn,
                                                 myappctx_conn_summary **out,
                                                 size_t *out_count, myappctx_error *err);

/** Frees what myappctx_conn_summary_get() returned (rows and strings).
 *  NULL is allowed. */
MYAPPCTX_API void myappctx_conn_summary_free(myappctx_conn_summary *rows);

/** One row of api.v_connection_stats (pg_stat_activity for the current
 *  database, oldest state change first).  A role without pg_read_all_stats
 *  sees state, query and wait events only for its own connections; the
 *  others read as NULL (query: "<insufficient privilege>"). */
typedef struct myappctx_conn_stat {
    const char *username;          /**< login role, or NULL */
    const char *application_name;  /**< may be "" (none set) */
    const char *client_addr;       /**< client IP address, NULL for Unix sockets */
    const char *state;             /**< "active", "idle", ..., or NULL */
    int has_state_change;          /**< 1 when the two fields below are known */
    double state_change;           /**< time of the last state change, Unix epoch seconds */
    double idle_seconds;           /**< seconds since the last state change */
    const char *query;             /**< last or current statement, or NULL */
    const char *wait_event_type;   /**< or NULL when not waiting */
    const char *wait_event;        /**< or NULL when not waiting */
} myappctx_conn_stat;

/**
 * Reads api.v_connection_stats.
 *
 * @param conn            the connection (its role needs SELECT on the view,
 *                        as the application role has)
 * @param[out] out        receives the rows, or NULL when there are none;
 *                        freed with myappctx_conn_stats_free()
 * @param[out] out_count  receives the number of rows
 * @param err             error details, or NULL
 * @return MYAPPCTX_OK or an error code.
 */
MYAPPCTX_API int myappctx_conn_stats_get(myappctx_conn *conn,
                                               myappctx_conn_stat **out,
                                               size_t *out_count, myappctx_error *err);

/** Frees what myappctx_conn_stats_get() returned (rows and strings).
 *  NULL is allowed. */
MYAPPCTX_API void myappctx_conn_stats_free(myappctx_conn_stat *rows);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_LIFECYCLE_H */
