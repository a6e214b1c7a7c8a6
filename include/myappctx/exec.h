/**
 * @file myappctx/exec.h
 * Running the caller's own parameterized statements with the library's error
 * mapping.
 *
 * Threading: a myappctx_conn is used by one thread at a time.  Ownership: a
 * PGresult handed to the caller is the caller's, freed with PQclear().  Each
 * function lists only its own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_EXEC_H
#define MYAPPCTX_EXEC_H

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Runs one statement with text parameters ($1..$n) through PQexecParams.
 * Values are never pasted into the SQL text.
 *
 * @param conn     the connection
 * @param sql      one SQL statement
 * @param nparams  number of parameters (0..65535)
 * @param params   @p nparams NUL-terminated strings; an element may be NULL for SQL NULL
 * @param[out] out if non-NULL, receives the result on success (free it with
 *                 PQclear()); set to NULL on failure
 * @param err      error details, or NULL
 * @return MYAPPCTX_OK, or the code the statement's server error maps to
 *         (any of them, see myappctx_status_from_sqlstate(): e.g.
 *         MYAPPCTX_ENOCONTEXT for P0050 raised by a policy).
 */
MYAPPCTX_API int myappctx_exec(myappctx_conn *conn, const char *sql, int nparams,
                               const char *const *params, PGresult **out,
                               myappctx_error *err);

/** Runs BEGIN.  @return MYAPPCTX_OK or an error code. */
MYAPPCTX_API int myappctx_begin(myappctx_conn *conn, myappctx_error *err);
/** Runs COMMIT.
 *  @return MYAPPCTX_OK; MYAPPCTX_ETXNFAILED when the transaction had failed
 *          and the server rolled it back instead. */
MYAPPCTX_API int myappctx_commit(myappctx_conn *conn, myappctx_error *err);
/** Runs ROLLBACK (also of a failed transaction).
 *  @return MYAPPCTX_OK or an error code. */
MYAPPCTX_API int myappctx_rollback(myappctx_conn *conn, myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_EXEC_H */
