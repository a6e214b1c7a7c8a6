/* Application settings: load, typed reads and upsert (spec
 * "Application-Specific Settings"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"

MYAPPCTX_API int
myappctx_settings_load(myappctx_conn *conn, int *out_count, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = mxi_conn_require_session_state(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    /* Sealed: api.load_app_settings() writes myapp.loaded_settings, which
     * only the seal may set. */
    return mxi_call_count(conn, what,
                          conn->seal != NULL ? "SELECT myappctx_seal.load_app_settings()"
                                             : "SELECT api.load_app_settings()",
                          0, NULL, out_count, err);
}

/* The stored value of @key, or NULL when unset (caller frees). */
static int
read_setting(myappctx_conn *conn, const char *what, const char *key,
             const char *default_value, char **out, myappctx_error *err)
{
    *out = NULL;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = mxi_names_check_setting_key(key, "key", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(default_value, MYAPPCTX_SETTING_VALUE_MAX, true,
                            "default_value", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *params[] = { key, default_value };
    return mxi_call_text(conn, what, "SELECT private.get_app_setting($1, $2)",
                         2, params, out, err);
}

MYAPPCTX_API int
myappctx_setting_get(myappctx_conn *conn, const char *key, const char *default_value,
                     char **out, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    return read_setting(conn, __func__, key, default_value, out, err);
}

static int
malformed(myappctx_error *err, const char *what, const char *key, const char *value,
          const char *type)
{
    /* The value comes from the table: quote it and bound it, it may be long. */
    return mxi_error_set(err, MYAPPCTX_EMALFORMED, NULL,
                         "%s: setting '%s' has the value \"%.64s\"%s, which is not %s",
                         what, key, value, strlen(value) > 64 ? "..." : "", type);
}

MYAPPCTX_API int
myappctx_setting_get_bool(myappctx_conn *conn, const char *key, int default_value,
                          int *out, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    char *text;
    int rc = read_setting(conn, what, key, NULL, &text, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    int value = default_value != 0;
    if (text != NULL && !mxi_parse_bool(text, &value))
        rc = malformed(err, what, key, text, "a boolean");
    free(text);
    if (rc == MYAPPCTX_OK)
        *out = value;
    return rc;
}

MYAPPCTX_API int
myappctx_setting_get_int(myappctx_conn *conn, const char *key, long long default_value,
                         long long *out, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    char *text;
    int rc = read_setting(conn, what, key, NULL, &text, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    long long value = default_value;
    if (text != NULL && !mxi_parse_int64(text, &value))
        rc = malformed(err, what, key, text, "an integer in the range of long long");
    free(text);
    if (rc == MYAPPCTX_OK)
        *out = value;
    return rc;
}

MYAPPCTX_API int
myappctx_setting_put(myappctx_conn *conn, const char *key, const char *value,
                     const char *description, myappctx_error *err)
{
    const char *const what = __func__;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = mxi_names_check_setting_key(key, "key", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(value, MYAPPCTX_SETTING_VALUE_MAX, false, "value", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(description, MYAPPCTX_SETTING_DESCRIPTION_MAX, true,
                            "description", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *params[] = { key, value, description };
    return mxi_exec_params(conn, what, "SELECT api.set_app_setting($1, $2, $3)", 3, params, NULL, err);
}
