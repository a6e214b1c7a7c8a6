/* Custom session variables (myapp.debug_mode and the like) by name.  A name
 * cannot be a bound parameter in SET, so it goes through set_config() and
 * current_setting() as a parameter, after a whitelist check here. */
#include "config.h"

#include <string.h>

#include "context_internal.h"

/* Mirrors private.context_variable_names() (sql/001_schemas.sql): writing
 * these directly would bypass the rules of the typed calls (e.g. replace an
 * impersonated user without ending the impersonation). */
static const char *const reserved_names[] = {
    "myapp.current_user_id", "myapp.current_tenant_id", "myapp.current_role",
    "myapp.session_id", "myapp.context_metadata", "myapp.context_created_at",
    "myapp.audit_context", "myapp.original_user_id", "myapp.original_role",
    "myapp.is_impersonating", "myapp.loaded_settings",
};

static bool
is_part_start(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_part_char(char c)
{
    return is_part_start(c) || (c >= '0' && c <= '9');
}

/* ^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$ : the dotted form PostgreSQL
 * accepts for placeholder variables, restricted to lower case so that one
 * variable has one spelling (GUC names are case-insensitive). */
static bool
name_matches(const char *name)
{
    int dots = 0;
    bool part_start = true;
    for (const char *p = name; *p != '\0'; p++) {
        if (part_start) {
            if (!is_part_start(*p))
                return false;
            part_start = false;
        } else if (*p == '.') {
            dots++;
            part_start = true;
        } else if (!is_part_char(*p)) {
            return false;
        }
    }
    return dots > 0 && !part_start;
}

static int
check_name(const char *name, bool for_write, const char *what, myappctx_error *err)
{
    int rc = mxi_check_text(name, MYAPPCTX_VAR_NAME_MAX, false, "name", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (!name_matches(name))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument 'name' is not a lower-case dotted variable "
                             "name such as myapp.debug_mode", what);
    for (size_t i = 0; for_write && i < sizeof reserved_names / sizeof reserved_names[0]; i++)
        if (strcmp(name, reserved_names[i]) == 0)
            return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                                 "%s: argument 'name' (%s) carries the context; use the "
                                 "myappctx_context_*, myappctx_audit_* or impersonation "
                                 "calls", what, name);
    return MYAPPCTX_OK;
}

/* Shared by both setters: @local selects set_config()'s is_local and the
 * scope check that goes with it. */
static int
var_set(myappctx_conn *conn, const char *name, const char *value, bool local,
        const char *what, myappctx_error *err)
{
    if (conn == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'conn' is NULL", what);
    int rc = check_name(name, true, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_check_text(value, MYAPPCTX_VAR_VALUE_MAX, false, "value", what, err);
    if (rc == MYAPPCTX_OK)
        rc = local ? mxi_require_txn(conn, what, err)
                   : mxi_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *params[] = { name, value, local ? "true" : "false" };
    return mxi_exec(conn, "SELECT set_config($1, $2, $3::boolean)", 3, params, NULL, err);
}

MYAPPCTX_API int
myappctx_var_set(myappctx_conn *conn, const char *name, const char *value,
                 myappctx_error *err)
{
    return var_set(conn, name, value, false, __func__, err);
}

MYAPPCTX_API int
myappctx_var_set_local(myappctx_conn *conn, const char *name, const char *value,
                       myappctx_error *err)
{
    return var_set(conn, name, value, true, __func__, err);
}

MYAPPCTX_API int
myappctx_var_get(myappctx_conn *conn, const char *name, char **out, myappctx_error *err)
{
    MXI_REQUIRE_ARG(err, out);
    *out = NULL;
    MXI_REQUIRE_ARG(err, conn);
    int rc = check_name(name, false, __func__, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *params[] = { name };
    return mxi_ctx_read_text(conn, __func__, "SELECT NULLIF(current_setting($1, true), '')",
                             1, params, out, err);
}
