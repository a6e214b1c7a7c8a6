/* Session configuration: set, show and reset parameters, and the stored role
 * defaults (spec "Session Configuration"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/* A parameter name the caller may write: valid, and not a context variable. */
static int
check_writable_name(const char *name, const char *what, myappctx_error *err)
{
    int rc = mxi_names_check_config(name, "name", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (mxi_names_is_context(name))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: '%s' is a context variable; use the context API "
                             "(myappctx/context.h) to change it", what, name);
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_config_set(myappctx_conn *conn, const char *name, const char *value,
                    int is_local, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = check_writable_name(name, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(value, MYAPPCTX_CONFIG_VALUE_MAX, false, "value", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = is_local ? mxi_conn_require_txn(conn, what, err)
                  : mxi_conn_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *params[] = { name, value, is_local ? "true" : "false" };
    return mxi_exec_params(conn, what, "SELECT set_config($1, $2, $3)", 3, params, NULL, err);
}

MYAPPCTX_API int
myappctx_config_show(myappctx_conn *conn, const char *name, char **out,
                     myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_names_check_config(name, "name", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    PGresult *res;
    const char *value;
    const char *params[] = { name };
    rc = mxi_exec_one(conn, what, "SELECT current_setting($1, true)", 1, params, &res, &value, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    /* A custom parameter that never existed is just unset; an unknown
     * built-in is most likely a typo and must not pass as "unset". */
    if (value == NULL && !mxi_names_is_custom(name))
        rc = mxi_error_set(err, MYAPPCTX_ENOTFOUND, NULL,
                           "%s: unrecognized configuration parameter '%s'", what, name);
    else if (value != NULL && *value != '\0')
        rc = mxi_call_strdup(value, what, out, err);
    PQclear(res);
    return rc;
}

MYAPPCTX_API int
myappctx_config_reset(myappctx_conn *conn, const char *name, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = check_writable_name(name, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    /* RESET takes an identifier, which cannot be bound; set_config() with a
     * NULL value is the same reset (to the session default, role defaults
     * included).  Unknown names are checked first because set_config()
     * would create a custom one instead of failing. */
    PGresult *res;
    const char *value;
    const char *params[] = { name };
    rc = mxi_exec_one(conn, what,
                      "SELECT CASE WHEN current_setting($1, true) IS NULL THEN false"
                      " ELSE set_config($1, NULL, false) IS NOT NULL END",
                      1, params, &res, &value, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (value == NULL || strcmp(value, "t") != 0)
        rc = mxi_error_set(err, MYAPPCTX_ENOTFOUND, NULL,
                           "%s: unrecognized configuration parameter '%s'", what, name);
    PQclear(res);
    return rc;
}

MYAPPCTX_API int
myappctx_config_reset_all(myappctx_conn *conn, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    /* RESET ALL would also wipe myapp.original_user_id and leave the
     * impersonation log entry open.  Read the variable directly, like
     * private.is_impersonating(), so this works without the schema. */
    PGresult *res;
    const char *value;
    rc = mxi_exec_one(conn, what,
                      "SELECT COALESCE(current_setting('myapp.original_user_id', true), '') <> ''",
                      0, NULL, &res, &value, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    bool impersonating = value != NULL && strcmp(value, "t") == 0;
    PQclear(res);
    if (impersonating)
        return mxi_error_set(err, MYAPPCTX_EIMPERSONATING, NULL,
                             "%s: an impersonation is active; end it before RESET ALL", what);
    return mxi_exec_params(conn, what, "RESET ALL", 0, NULL, NULL, err);
}

/* Copies (name, value) rows into one block for the caller. */
static int
entries_from_result(const PGresult *res, const char *what, myappctx_config_entry **out,
                    size_t *out_count, myappctx_error *err)
{
    static const int text_cols[] = { 0, 1 };
    mxi_rowblock b;
    int rc = mxi_rowblock_alloc(&b, res, sizeof(myappctx_config_entry), text_cols, 2, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    myappctx_config_entry *entries = b.rows;
    for (size_t i = 0; i < b.nrows; i++) {
        entries[i].name = mxi_rowblock_text(&b, res, (int)i, 0);
        entries[i].value = mxi_rowblock_text(&b, res, (int)i, 1);
    }
    *out = entries;
    *out_count = b.nrows;
    return MYAPPCTX_OK;
}

/* One row per stored parameter of the role; a single row with NULL columns
 * when the role exists without any; no row when it does not exist.  For
 * each name, the value for this database (setdatabase = its oid) wins over
 * the one for all databases (0). */
static const char role_defaults_sql[] =
    "SELECT s.name, s.value"
    " FROM pg_catalog.pg_roles AS r"
    " LEFT JOIN LATERAL ("
    "   SELECT DISTINCT ON (lower(split_part(c.cfg, '=', 1)))"
    "          split_part(c.cfg, '=', 1) AS name,"
    "          substr(c.cfg, strpos(c.cfg, '=') + 1) AS value"
    "   FROM pg_catalog.pg_db_role_setting AS d,"
    "        unnest(d.setconfig) AS c(cfg)"
    "   WHERE d.setrole = r.oid"
    "     AND d.setdatabase IN (0, (SELECT db.oid FROM pg_catalog.pg_database AS db"
    "                               WHERE db.datname = current_database()))"
    "   ORDER BY lower(split_part(c.cfg, '=', 1)), d.setdatabase DESC"
    " ) AS s ON true"
    " WHERE r.rolname = COALESCE($1, session_user)"
    " ORDER BY lower(s.name)";

MYAPPCTX_API int
myappctx_config_role_defaults(myappctx_conn *conn, const char *role,
                              myappctx_config_entry **out, size_t *out_count,
                              myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, out_count);
    *out = NULL;
    *out_count = 0;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(role, MYAPPCTX_CONFIG_NAME_MAX, true, "role", what, err);
    if (rc == MYAPPCTX_OK && role != NULL && *role == '\0')
        rc = mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'role' is empty", what);
    if (rc != MYAPPCTX_OK)
        return rc;

    PGresult *res;
    const char *params[] = { role };
    rc = mxi_exec_params(conn, what, role_defaults_sql, 1, params, &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (PQntuples(res) == 0) {
        rc = mxi_error_set(err, MYAPPCTX_ENOTFOUND, NULL, "%s: role \"%s\" does not exist",
                           what, role != NULL ? role : "(session user)");
        PQclear(res);
        return rc;
    }
    if (!PQgetisnull(res, 0, 0))        /* else the role has no stored defaults */
        rc = entries_from_result(res, what, out, out_count, err);
    PQclear(res);
    return rc;
}

MYAPPCTX_API int
myappctx_config_show_all(myappctx_conn *conn, myappctx_config_entry **out,
                         size_t *out_count, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, out_count);
    *out = NULL;
    *out_count = 0;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    /* current_setting() formats values with their units, as SHOW ALL does;
     * pg_settings lists only the parameters this role may read. */
    PGresult *res;
    rc = mxi_exec_params(conn, what, "SELECT s.name, current_setting(s.name) FROM pg_catalog.pg_settings AS s"
                        " ORDER BY lower(s.name)", 0, NULL, &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = entries_from_result(res, what, out, out_count, err);
    PQclear(res);
    return rc;
}

MYAPPCTX_API void
myappctx_config_entries_free(myappctx_config_entry *entries)
{
    free(entries);
}
