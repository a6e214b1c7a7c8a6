/* lib/exec: running statements on a connection -- the one place that sends
 * a parameterized statement and maps its error (exec.c), the library's own
 * SQL with a deadline (deadline.c), single-value calls of server functions
 * (call.c) and result rows copied into one allocation (rowblock.c).  Every
 * value is a bound parameter. */
#ifndef MXI_EXEC_H
#define MXI_EXEC_H

#include "conn/conn.h"

/* ---- exec.c -------------------------------------------------------------- */

/* Runs a parameterized statement (extended protocol, text parameters).  On
 * success, if @out is not NULL it receives the result (caller PQclear()s).
 * Tuples and command-ok results are success; anything else is an error,
 * reported as "<what>: ..." (@what: the public function called, not NULL). */
int mxi_exec_params(myappctx_conn *conn, const char *what, const char *sql, int nparams,
                    const char *const *params, PGresult **out, myappctx_error *err);

/* Like mxi_exec_params() but the statement must return exactly one row; the
 * value of column 0 (NULL for SQL NULL) is passed to @out_value as a
 * borrowed pointer into @out_res, which the caller PQclear()s. */
int mxi_exec_one(myappctx_conn *conn, const char *what, const char *sql, int nparams,
                 const char *const *params, PGresult **out_res,
                 const char **out_value, myappctx_error *err);

/* Runs the library's own SQL text (no parameters, so no values; may hold
 * several statements) with the simple-query protocol, after mxi_conn_ready(). */
int mxi_exec_script(myappctx_conn *conn, const char *what, const char *sql,
                    myappctx_error *err);

/* The same without the readiness check, and so without the owner's prepare
 * hook: for that hook itself.  @what may be NULL: the server's message
 * alone, to be quoted by the caller. */
int mxi_exec_script_unchecked(myappctx_conn *conn, const char *what, const char *sql,
                              myappctx_error *err);

/* COMMIT that reports an aborted transaction (tag ROLLBACK) as
 * MYAPPCTX_ETXNFAILED instead of success. */
int mxi_exec_commit(myappctx_conn *conn, const char *what, myappctx_error *err);

/* ---- deadline.c ---------------------------------------------------------- */

/* mxi_exec_script_unchecked() (@what likewise) that gives up after
 * @timeout_ms (<= 0: no limit) with MYAPPCTX_ETIMEOUT, the query still in
 * flight: the caller must then close the connection. */
int mxi_deadline_script(myappctx_conn *conn, const char *what, const char *sql,
                        long timeout_ms, myappctx_error *err);

/* ---- call.c: server functions returning one typed value ----------------- */

/* Buffer size for mxi_call_seconds_param(). */
#define MXI_CALL_SECONDS_SIZE 32
/* Largest interval accepted in seconds (about 68 years; fits any long). */
#define MXI_CALL_SECONDS_MAX 2147483647L

/* Runs @sql (one row, one column) and parses the value as an integer.
 * SQL NULL or a non-integer is MYAPPCTX_EPROTO. */
int mxi_call_int(myappctx_conn *conn, const char *what, const char *sql, int nparams,
                 const char *const *params, long long *out, myappctx_error *err);

/* mxi_call_int() for counts: the value must be in 0..INT_MAX (else
 * MYAPPCTX_EPROTO); *out receives it when @out is not NULL. */
int mxi_call_count(myappctx_conn *conn, const char *what, const char *sql, int nparams,
                   const char *const *params, int *out, myappctx_error *err);

/* Runs @sql (one row, one column): *out receives a malloc'd copy of the
 * value, or NULL when it is SQL NULL or '' (both read as unset). */
int mxi_call_text(myappctx_conn *conn, const char *what, const char *sql, int nparams,
                  const char *const *params, char **out, myappctx_error *err);

/* Checks 1 <= @seconds <= MXI_CALL_SECONDS_MAX (EINVAL naming @argname) and
 * writes it as interval text ("600 seconds") for binding. */
int mxi_call_seconds_param(long seconds, char buf[MXI_CALL_SECONDS_SIZE], const char *argname,
                      const char *what, myappctx_error *err);

/* Calls a cleanup function taking one interval ($1) and returning how many
 * rows or connections it removed: *out receives that count (if not NULL). */
int mxi_call_cleanup(myappctx_conn *conn, const char *what, const char *sql,
                     long seconds, const char *argname, int *out, myappctx_error *err);

/* EINVAL "<what>: argument 'conn' is NULL" when @conn is NULL. */
int mxi_call_require_conn(const myappctx_conn *conn, const char *what, myappctx_error *err);

/* malloc'd copy of @s, or MYAPPCTX_ENOMEM. */
int mxi_call_strdup(const char *s, const char *what, char **out, myappctx_error *err);

/* ---- rowblock.c: result rows handed out as ONE allocation ----------------
 * The row structs first, then the strings they point to, so that a single
 * free() releases everything and no row can be leaked on its own. */

typedef struct mxi_rowblock {
    void   *rows;      /* the block; NULL when the result has no rows */
    size_t  nrows;
    char   *next_str;  /* where the next string is copied */
} mxi_rowblock;

/* Allocates room for PQntuples(res) structs of @row_size bytes (zeroed) plus
 * every non-NULL value of the @ntext columns listed in @text_cols.  With no
 * rows, b->rows is NULL and nothing is allocated. */
int mxi_rowblock_alloc(mxi_rowblock *b, const PGresult *res, size_t row_size,
                       const int *text_cols, int ntext, const char *what,
                       myappctx_error *err);

/* Copies the value at (row, col) into the block and returns it, or NULL for
 * SQL NULL.  The column must have been listed in mxi_rowblock_alloc(). */
const char *mxi_rowblock_text(mxi_rowblock *b, const PGresult *res, int row, int col);

#endif /* MXI_EXEC_H */
