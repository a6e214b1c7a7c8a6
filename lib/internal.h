/* Internal declarations shared by the library's modules.  Nothing here is
 * exported: the library is built with -fvisibility=hidden and only
 * MYAPPCTX_API declarations are visible. */
#ifndef MYAPPCTX_INTERNAL_H
#define MYAPPCTX_INTERNAL_H

#include <stdbool.h>
#include <stdarg.h>

#include "myappctx.h"

/* A pool reset deferred to the connection's next use (lib/pool_conn.c):
 * the statements run before anything else the next borrower sends. */
struct mxi_deferred_reset {
    const char *script;            /* all of them, for one simple-query round trip */
    const char *const *stmts;      /* the same one by one, to lead a pipeline */
    int nstmts;
};

struct myappctx_conn {
    PGconn *pg;
    bool    owns_pg;       /* close the PGconn in myappctx_conn_close() */
    bool    txn_pooler;    /* refuse session-scoped state */
    void   *pool_slot;     /* set while the connection belongs to a pool */
    /* Set by every library call that may talk to the server and by
     * myappctx_conn_pg() (raw access): a pooled connection that was never
     * touched since its last reset needs no reset on release. */
    bool    touched;
    /* Set by the pool at release instead of a reset round trip; run (or
     * sent at the head of the next pipeline) before the connection's next
     * statement, so the next borrower never sees the previous one's state
     * and the one-round-trip path stays one round trip. */
    const struct mxi_deferred_reset *pending_reset;
    /* The reset the pool uses for this connection (NULL unless pooled with
     * the targeted reset): the fast path falls back on it. */
    const struct mxi_deferred_reset *pool_reset;
    /* A deferred reset failed: the connection cannot be made safe again and
     * is closed when it goes back to the pool. */
    bool    reset_failed;
    /* Set by the pool for the targeted reset (lib/pool_conn.c): the fast
     * path starts with private.begin_pooled_unit(), which resets the session
     * only if it is dirty.  MXI_CLEAN_CHECK_SETTINGS: the pool's baseline
     * includes loaded application settings. */
    unsigned char clean_check;
    /* application_name and session_authorization at connect time, as the
     * server reported them (ParameterStatus); the fast path's cleanliness
     * test compares with them. */
    char   *initial_app_name;
    char   *initial_session_auth;
    /* The session's baseline of non-context myapp.* variables as two text[]
     * literals (private.session_baseline()), bound to the cleanliness check. */
    char   *clean_default_names;
    char   *clean_default_values;
};

enum { MXI_CLEAN_CHECK_OFF = 0, MXI_CLEAN_CHECK_ON = 1, MXI_CLEAN_CHECK_SETTINGS = 2 };

/* Fills @err (if not NULL) and returns @code.  printf-style message. */
int mxi_error_set(myappctx_error *err, int code, const char *sqlstate,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Maps a failed PGresult (or, when res is NULL, the connection's error) to a
 * status code and fills @err with SQLSTATE and the primary message. */
int mxi_error_from_pg(myappctx_error *err, PGconn *pg, const PGresult *res);

/* Validates that a required pointer argument is not NULL. */
#define MXI_REQUIRE_ARG(err, arg)                                              \
    do {                                                                       \
        if ((arg) == NULL)                                                     \
            return mxi_error_set((err), MYAPPCTX_EINVAL, NULL,                 \
                                 "%s: argument '%s' is NULL", __func__, #arg); \
    } while (0)

/* Checks that the connection can run a statement now (not NULL, not in
 * pipeline mode, no result pending), then runs a pending pool reset. */
int mxi_conn_ready(myappctx_conn *conn, const char *what, myappctx_error *err);

/* The checks of mxi_conn_ready() without running a pending reset: for the
 * pipeline, which sends the reset at the head of its own round trip. */
int mxi_conn_check(myappctx_conn *conn, const char *what, myappctx_error *err);

/* Gives a pooled connection back to its pool (myappctx_conn_close() on a
 * borrowed connection). */
void mxi_pool_return(myappctx_conn *conn);

/* The one helper for "run a parameterized statement and map its error".
 * On success, if @out is not NULL it receives the result (caller PQclear()s).
 * Tuples and command-ok results are success; anything else is an error. */
int mxi_exec(myappctx_conn *conn, const char *sql, int nparams,
             const char *const *params, PGresult **out, myappctx_error *err);

/* Runs the library's own multi-statement SQL text (no parameters, so no
 * values) with the simple-query protocol: used for embedded migrations. */
int mxi_exec_script(myappctx_conn *conn, const char *sql, myappctx_error *err);

/* The same without the readiness check (and so without running a pending
 * pool reset): for mxi_conn_ready() itself. */
int mxi_run_script(myappctx_conn *conn, const char *sql, myappctx_error *err);

/* Like mxi_exec() but the statement must return exactly one row; the value
 * of column 0 (or NULL for SQL NULL) is passed to @out_value as a borrowed
 * pointer into @out_res, which the caller PQclear()s. */
int mxi_exec_one(myappctx_conn *conn, const char *sql, int nparams,
                 const char *const *params, PGresult **out_res,
                 const char **out_value, myappctx_error *err);

/* COMMIT that reports an aborted transaction (tag ROLLBACK) as
 * MYAPPCTX_ETXNFAILED instead of success. */
int mxi_commit(myappctx_conn *conn, const char *what, myappctx_error *err);

/* Refuses (MYAPPCTX_ENOTXN) unless the connection is inside an open
 * transaction block: SET LOCAL outside one is silently discarded. */
int mxi_require_txn(myappctx_conn *conn, const char *what, myappctx_error *err);

/* Refuses (MYAPPCTX_ESESSIONSTATE) on a connection behind a transaction pooler. */
int mxi_require_session_state(myappctx_conn *conn, const char *what,
                              myappctx_error *err);

/* Text-argument validation before any round trip.  max_len counts bytes;
 * rejects NULL (unless allow_null), over-long, and invalid UTF-8. */
int mxi_check_text(const char *value, size_t max_len, bool allow_null,
                   const char *argname, const char *what, myappctx_error *err);

/* SHA-256 of @len bytes as 64 lower-case hex digits plus NUL. */
void mxi_sha256_hex(const void *data, size_t len, char out[65]);

/* Schema version check used by myappctx_conn_open(..check_schema..). */
int mxi_schema_check_version(myappctx_conn *conn, myappctx_error *err);

#endif /* MYAPPCTX_INTERNAL_H */
