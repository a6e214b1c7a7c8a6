/* The one place that runs a parameterized statement and maps its error. */
#include "config.h"

#include <string.h>

#include "exec/exec.h"

int
mxi_exec_params(myappctx_conn *conn, const char *what, const char *sql, int nparams,
                const char *const *params, PGresult **out, myappctx_error *err)
{
    if (out != NULL)
        *out = NULL;
    int rc = mxi_conn_ready(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (sql == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'sql' is NULL", what);
    if (nparams < 0 || nparams > 65535 || (nparams > 0 && params == NULL))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: %d parameters with %s array", what, nparams,
                             params ? "an" : "no");

    PGresult *res = PQexecParams(conn->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        rc = mxi_error_from_pg(err, what, conn->pg, res);
        mxi_trace_note_failure(conn, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
        PQclear(res);
        return rc;
    }
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return MYAPPCTX_OK;
}

/* The simple-query protocol: one Query message, not the extended
 * protocol's five (Parse, Bind, Describe, Execute, Sync) -- less work for
 * the server per fixed statement such as COMMIT.  @out (if not NULL)
 * receives the last result on success.  @what as for
 * mxi_exec_script_unchecked(). */
static int
run_simple(myappctx_conn *conn, const char *what, const char *sql, PGresult **out,
           myappctx_error *err)
{
    int rc = MYAPPCTX_OK;
    PGresult *res = PQexec(conn->pg, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY) {
        rc = mxi_error_from_pg(err, what, conn->pg, res);
        mxi_trace_note_failure(conn, res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
    }
    if (rc == MYAPPCTX_OK && out != NULL)
        *out = res;
    else
        PQclear(res);
    return rc;
}

int
mxi_exec_script_unchecked(myappctx_conn *conn, const char *what, const char *sql,
                          myappctx_error *err)
{
    return run_simple(conn, what, sql, NULL, err);
}

int
mxi_exec_script(myappctx_conn *conn, const char *what, const char *sql, myappctx_error *err)
{
    int rc = mxi_conn_ready(conn, what, err);
    return rc != MYAPPCTX_OK ? rc : mxi_exec_script_unchecked(conn, what, sql, err);
}

int
mxi_exec_one(myappctx_conn *conn, const char *what, const char *sql, int nparams,
             const char *const *params, PGresult **out_res,
             const char **out_value, myappctx_error *err)
{
    PGresult *res;
    *out_res = NULL;
    *out_value = NULL;
    int rc = mxi_exec_params(conn, what, sql, nparams, params, &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (PQntuples(res) != 1 || PQnfields(res) < 1) {
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                           "%s: expected one row, got %d rows of %d columns", what,
                           PQntuples(res), PQnfields(res));
        PQclear(res);
        return rc;
    }
    *out_res = res;
    *out_value = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_exec(myappctx_conn *conn, const char *sql, int nparams,
              const char *const *params, PGresult **out, myappctx_error *err)
{
    return mxi_exec_params(conn, __func__, sql, nparams, params, out, err);
}

MYAPPCTX_API int
myappctx_begin(myappctx_conn *conn, myappctx_error *err)
{
    int rc = mxi_conn_ready(conn, __func__, err);
    return rc != MYAPPCTX_OK ? rc : run_simple(conn, __func__, "BEGIN", NULL, err);
}

int
mxi_exec_commit(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    PGresult *res;
    int rc = mxi_conn_ready(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = run_simple(conn, what, "COMMIT", &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    /* COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK:
     * report it, never a false success. */
    bool rolled_back = strcmp(PQcmdStatus(res), "COMMIT") != 0;
    PQclear(res);
    if (rolled_back)
        return mxi_error_set(err, MYAPPCTX_ETXNFAILED, "25P02",
                             "%s: the transaction was aborted and has been rolled back", what);
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_commit(myappctx_conn *conn, myappctx_error *err)
{
    return mxi_exec_commit(conn, "myappctx_commit", err);
}

MYAPPCTX_API int
myappctx_rollback(myappctx_conn *conn, myappctx_error *err)
{
    int rc = mxi_conn_ready(conn, __func__, err);
    return rc != MYAPPCTX_OK ? rc : run_simple(conn, __func__, "ROLLBACK", NULL, err);
}
