/* Single-value calls of server functions (see call.h). */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"

int
mxi_call_int(myappctx_conn *conn, const char *what, const char *sql, int nparams,
             const char *const *params, long long *out, myappctx_error *err)
{
    PGresult *res;
    const char *value;
    int rc = mxi_exec_one(conn, what, sql, nparams, params, &res, &value, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (!mxi_parse_int64(value, out))
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                           "%s: the server returned %s where an integer was expected",
                           what, value ? "a non-integer" : "NULL");
    PQclear(res);
    return rc;
}

int
mxi_call_count(myappctx_conn *conn, const char *what, const char *sql, int nparams,
               const char *const *params, int *out, myappctx_error *err)
{
    long long count;
    int rc = mxi_call_int(conn, what, sql, nparams, params, &count, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (count < 0 || count > INT_MAX)
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                             "%s: the server returned the count %lld", what, count);
    if (out != NULL)
        *out = (int)count;
    return MYAPPCTX_OK;
}

int
mxi_call_require_conn(const myappctx_conn *conn, const char *what, myappctx_error *err)
{
    if (conn == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'conn' is NULL", what);
    return MYAPPCTX_OK;
}

int
mxi_call_strdup(const char *s, const char *what, char **out, myappctx_error *err)
{
    *out = strdup(s);
    if (*out == NULL)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    return MYAPPCTX_OK;
}

int
mxi_call_text(myappctx_conn *conn, const char *what, const char *sql, int nparams,
              const char *const *params, char **out, myappctx_error *err)
{
    PGresult *res;
    const char *value;
    *out = NULL;
    int rc = mxi_exec_one(conn, what, sql, nparams, params, &res, &value, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (value != NULL && *value != '\0')
        rc = mxi_call_strdup(value, what, out, err);
    PQclear(res);
    return rc;
}

int
mxi_call_seconds_param(long seconds, char buf[MXI_CALL_SECONDS_SIZE], const char *argname,
                  const char *what, myappctx_error *err)
{
    if (seconds < 1 || seconds > MXI_CALL_SECONDS_MAX)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' must be between 1 and %ld seconds, got %ld",
                             what, argname, MXI_CALL_SECONDS_MAX, seconds);
    /* A parameter value, not SQL text: the server parses it as an interval. */
    snprintf(buf, MXI_CALL_SECONDS_SIZE, "%ld seconds", seconds);
    return MYAPPCTX_OK;
}

int
mxi_call_cleanup(myappctx_conn *conn, const char *what, const char *sql,
                 long seconds, const char *argname, int *out, myappctx_error *err)
{
    char interval[MXI_CALL_SECONDS_SIZE];
    int rc = mxi_call_seconds_param(seconds, interval, argname, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *params[] = { interval };
    return mxi_call_count(conn, what, sql, 1, params, out, err);
}
