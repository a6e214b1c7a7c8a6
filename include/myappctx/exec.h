/**
 * @file myappctx/exec.h
 * Running the caller's own parameterized statements with the library's error
 * mapping.
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
 * @param[out] out if non-NULL, receives the result on success (caller frees
 *                 it with PQclear()); set to NULL on failure
 * @param err      optional error details
 * @return MYAPPCTX_OK, MYAPPCTX_EINVAL, MYAPPCTX_EBUSY (connection in pipeline
 *         mode or busy), or the code the server error maps to (see
 *         myappctx_status_from_sqlstate()).
 */
MYAPPCTX_API int myappctx_exec(myappctx_conn *conn, const char *sql, int nparams,
                               const char *const *params, PGresult **out,
                               myappctx_error *err);

/** Runs BEGIN, COMMIT or ROLLBACK (no parameters).  Return codes as myappctx_exec(). */
MYAPPCTX_API int myappctx_begin(myappctx_conn *conn, myappctx_error *err);
MYAPPCTX_API int myappctx_commit(myappctx_conn *conn, myappctx_error *err);
MYAPPCTX_API int myappctx_rollback(myappctx_conn *conn, myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_EXEC_H */
