/* Connection validation, initialisation, idle cleanup and statistics (spec
 * "Connection Validation" and "Connection Lifecycle"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/* A string member of the validation object: NULL when null or '', EPROTO
 * when absent or of another type. */
static int
json_text(json_t *obj, const char *field, const char **out, myappctx_error *err)
{
    json_t *v = json_object_get(obj, field);
    *out = NULL;
    if (v == NULL || !(json_is_string(v) || json_is_null(v)))
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                             "myappctx_conn_validate: field '%s' is missing or not a string", field);
    if (json_is_string(v) && *json_string_value(v) != '\0')
        *out = json_string_value(v);
    return MYAPPCTX_OK;
}

/* An optional UUID member: unset when null or ''. */
static int
json_uuid(json_t *obj, const char *field, myappctx_uuid *out, int *is_set,
          myappctx_error *err)
{
    const char *text;
    int rc = json_text(obj, field, &text, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    *is_set = text != NULL;
    if (text != NULL && myappctx_uuid_parse(out, text, NULL) != MYAPPCTX_OK)
        return mxi_error_set(err, MYAPPCTX_EMALFORMED, NULL,
                             "myappctx_conn_validate: %s is \"%.40s\", not a UUID", field, text);
    return MYAPPCTX_OK;
}

static int
fill_validation(myappctx_validation *v, myappctx_error *err)
{
    const char *superuser;
    int rc = json_uuid(v->raw, "user_id", &v->user_id, &v->has_user, err);
    if (rc == MYAPPCTX_OK)
        rc = json_uuid(v->raw, "tenant_id", &v->tenant_id, &v->has_tenant, err);
    if (rc == MYAPPCTX_OK)
        rc = json_text(v->raw, "application_name", &v->application_name, err);
    if (rc == MYAPPCTX_OK)
        rc = json_text(v->raw, "server_version", &v->server_version, err);
    if (rc == MYAPPCTX_OK)
        rc = json_text(v->raw, "timezone", &v->timezone, err);
    if (rc == MYAPPCTX_OK)
        rc = json_text(v->raw, "search_path", &v->search_path, err);
    if (rc == MYAPPCTX_OK)
        rc = json_text(v->raw, "is_superuser", &superuser, err);
    if (rc == MYAPPCTX_OK && !mxi_parse_bool(superuser, &v->is_superuser))
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                           "myappctx_conn_validate: is_superuser is not a boolean");
    return rc;
}

MYAPPCTX_API int
myappctx_conn_validate(myappctx_conn *conn, myappctx_validation **out,
                             myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    PGresult *res;
    const char *text;
    rc = mxi_exec_one(conn, what, "SELECT api.validate_connection()", 0, NULL, &res, &text, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    myappctx_validation *v = calloc(1, sizeof *v);
    if (v == NULL) {
        PQclear(res);
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    }
    json_error_t jerr;
    v->raw = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    PQclear(res);
    if (!json_is_object(v->raw))
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: the server did not return "
                           "a JSON object", what);
    else
        rc = fill_validation(v, err);
    if (rc != MYAPPCTX_OK) {
        myappctx_validation_free(v);
        return rc;
    }
    *out = v;
    return MYAPPCTX_OK;
}

MYAPPCTX_API void
myappctx_validation_free(myappctx_validation *validation)
{
    if (validation == NULL)
        return;
    json_decref(validation->raw);
    free(validation);
}

MYAPPCTX_API int
myappctx_conn_init(myappctx_conn *conn, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    /* Sealed: api.init_connection() loads settings with the unsealed loader. */
    return mxi_exec_params(conn, what,
                           conn->seal != NULL ? "SELECT myappctx_seal.init_connection()"
                                              : "SELECT api.init_connection()",
                           0, NULL, NULL, err);
}

MYAPPCTX_API int
myappctx_conn_cleanup_idle(myappctx_conn *conn, long idle_timeout_seconds,
                                 int *out_terminated, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return mxi_call_cleanup(conn, what, "SELECT api.cleanup_idle_connections($1::interval)",
                            idle_timeout_seconds, "idle_timeout_seconds", out_terminated, err);
}

/* Runs a row-returning statement for the two array getters below. */
static int
query_rows(myappctx_conn *conn, const char *what, const char *sql, PGresult **res,
           myappctx_error *err)
{
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return mxi_exec_params(conn, what, sql, 0, NULL, res, err);
}

/* Parses an optional decimal column; EPROTO when it is not a number. */
static int
decimal_col(const PGresult *res, int row, int col, double *out, int *is_set,
            const char *what, myappctx_error *err)
{
    *is_set = !PQgetisnull(res, row, col);
    if (*is_set && !mxi_parse_decimal(PQgetvalue(res, row, col), out))
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                             "%s: column %d of row %d is not a number", what, col, row);
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_conn_summary_get(myappctx_conn *conn, myappctx_conn_summary **out,
                                size_t *out_count, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, out_count);
    *out = NULL;
    *out_count = 0;
    PGresult *res;
    int rc = query_rows(conn, what,
                        "SELECT state, count, avg_idle_seconds"
                        " FROM api.get_connection_summary() ORDER BY state",
                        &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    static const int text_cols[] = { 0 };
    mxi_rowblock b;
    rc = mxi_rowblock_alloc(&b, res, sizeof(myappctx_conn_summary), text_cols, 1,
                            what, err);
    myappctx_conn_summary *rows = b.rows;
    for (size_t i = 0; rc == MYAPPCTX_OK && i < b.nrows; i++) {
        int r = (int)i;
        rows[i].state = mxi_rowblock_text(&b, res, r, 0);
        if (!mxi_parse_int64(PQgetvalue(res, r, 1), &rows[i].count))
            rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: count of row %d is not "
                               "an integer", what, r);
        else
            rc = decimal_col(res, r, 2, &rows[i].avg_idle_seconds, &rows[i].has_avg_idle,
                             what, err);
    }
    PQclear(res);
    if (rc != MYAPPCTX_OK) {
        free(b.rows);
        return rc;
    }
    *out = rows;
    *out_count = b.nrows;
    return MYAPPCTX_OK;
}

MYAPPCTX_API void
myappctx_conn_summary_free(myappctx_conn_summary *rows)
{
    free(rows);
}

MYAPPCTX_API int
myappctx_conn_stats_get(myappctx_conn *conn, myappctx_conn_stat **out,
                              size_t *out_count, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, out_count);
    *out = NULL;
    *out_count = 0;
    PGresult *res;
    /* Times as epoch seconds: text timestamps would depend on DateStyle. */
    int rc = query_rows(conn, what,
                        "SELECT username, application_name, host(client_addr), state,"
                        " extract(epoch FROM state_change), extract(epoch FROM idle_time),"
                        " query, wait_event_type, wait_event"
                        " FROM api.v_connection_stats ORDER BY state_change",
                        &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    static const int text_cols[] = { 0, 1, 2, 3, 6, 7, 8 };
    mxi_rowblock b;
    rc = mxi_rowblock_alloc(&b, res, sizeof(myappctx_conn_stat), text_cols,
                            (int)(sizeof text_cols / sizeof text_cols[0]), what, err);
    myappctx_conn_stat *rows = b.rows;
    for (size_t i = 0; rc == MYAPPCTX_OK && i < b.nrows; i++) {
        int r = (int)i, has_idle;
        rows[i].username = mxi_rowblock_text(&b, res, r, 0);
        rows[i].application_name = mxi_rowblock_text(&b, res, r, 1);
        rows[i].client_addr = mxi_rowblock_text(&b, res, r, 2);
        rows[i].state = mxi_rowblock_text(&b, res, r, 3);
        rows[i].query = mxi_rowblock_text(&b, res, r, 6);
        rows[i].wait_event_type = mxi_rowblock_text(&b, res, r, 7);
        rows[i].wait_event = mxi_rowblock_text(&b, res, r, 8);
        rc = decimal_col(res, r, 4, &rows[i].state_change, &rows[i].has_state_change,
                         what, err);
        if (rc == MYAPPCTX_OK)
            rc = decimal_col(res, r, 5, &rows[i].idle_seconds, &has_idle, what, err);
    }
    PQclear(res);
    if (rc != MYAPPCTX_OK) {
        free(b.rows);
        return rc;
    }
    *out = rows;
    *out_count = b.nrows;
    return MYAPPCTX_OK;
}

MYAPPCTX_API void
myappctx_conn_stats_free(myappctx_conn_stat *rows)
{
    free(rows);
}
