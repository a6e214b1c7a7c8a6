/* Calls of server functions that return one typed value, shared by the
 * settings, session configuration, lifecycle and security modules.  All go
 * through mxi_exec_one(), so every value is a bound parameter. */
#ifndef MYAPPCTX_CALL_H
#define MYAPPCTX_CALL_H

#include "internal.h"

/* Buffer size for mxi_seconds_param(). */
#define MXI_SECONDS_PARAM_SIZE 32
/* Largest interval accepted in seconds (about 68 years; fits any long). */
#define MXI_SECONDS_MAX 2147483647L

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

/* Checks 1 <= @seconds <= MXI_SECONDS_MAX (EINVAL naming @argname) and
 * writes it as interval text ("600 seconds") for binding. */
int mxi_seconds_param(long seconds, char buf[MXI_SECONDS_PARAM_SIZE], const char *argname,
                      const char *what, myappctx_error *err);

/* Calls a cleanup function taking one interval ($1) and returning how many
 * rows or connections it removed: *out receives that count (if not NULL). */
int mxi_call_cleanup(myappctx_conn *conn, const char *what, const char *sql,
                     long seconds, const char *argname, int *out, myappctx_error *err);

/* EINVAL "<what>: argument 'conn' is NULL" when @conn is NULL. */
int mxi_require_conn(const myappctx_conn *conn, const char *what, myappctx_error *err);

/* malloc'd copy of @s, or MYAPPCTX_ENOMEM. */
int mxi_strdup(const char *s, const char *what, char **out, myappctx_error *err);

#endif /* MYAPPCTX_CALL_H */
