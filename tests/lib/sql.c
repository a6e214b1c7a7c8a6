/* Statements that must succeed, and their values (see testutil.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void
tu_sql(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
                  "SQL failed: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

void
tu_exec(myappctx_conn *c, const char *sql, int nparams, const char *const *params)
{
    myappctx_error err = { 0 };
    int rc = myappctx_exec(c, sql, nparams, params, NULL, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "%s: %s [%s]", sql, err.message, err.sqlstate);
}

char *
tu_value(myappctx_conn *c, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    myappctx_error err = { 0 };
    int rc = myappctx_exec(c, sql, nparams, params, &res, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "%s: %s [%s]", sql, err.message, err.sqlstate);
    ck_assert_msg(PQntuples(res) == 1, "%s: %d rows, expected one", sql, PQntuples(res));
    char *value = NULL;
    if (!PQgetisnull(res, 0, 0)) {
        value = strdup(PQgetvalue(res, 0, 0));
        ck_assert_ptr_nonnull(value);
    }
    PQclear(res);
    return value;
}

long long
tu_int(myappctx_conn *c, const char *sql, int nparams, const char *const *params)
{
    char *v = tu_value(c, sql, nparams, params);
    ck_assert_msg(v != NULL, "%s returned NULL", sql);
    long long n = atoll(v);
    free(v);
    return n;
}

void
tu_expect_value(myappctx_conn *c, const char *sql, int nparams, const char *const *params,
                const char *expected)
{
    char *v = tu_value(c, sql, nparams, params);
    if (expected == NULL)
        ck_assert_msg(v == NULL, "%s: expected NULL, got '%s'", sql, v);
    else
        ck_assert_msg(v != NULL && strcmp(v, expected) == 0, "%s: expected '%s', got '%s'",
                      sql, expected, v ? v : "(null)");
    free(v);
}

void
tu_raw_set(myappctx_conn *c, const char *name, const char *value)
{
    const char *params[] = { name, value };
    tu_exec(c, "SELECT set_config($1, $2, false)", 2, params);
}

int
tu_try_raw_set(myappctx_conn *c, const char *name, const char *value, char sqlstate[6])
{
    const char *params[] = { name, value };
    myappctx_error err = { 0 };
    int rc = myappctx_exec(c, "SELECT set_config($1, $2, false)", 2, params, NULL, &err);
    if (sqlstate != NULL)
        memcpy(sqlstate, err.sqlstate, 6);
    return rc == MYAPPCTX_OK;
}

void
tu_set_context(myappctx_conn *c, const char *user_id, const char *tenant_id)
{
    const char *params[] = { user_id, tenant_id };
    tu_exec(c, "SELECT api.set_context($1::uuid, $2::uuid)", 2, params);
}
