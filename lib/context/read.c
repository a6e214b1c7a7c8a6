/* Reading the application context back: one value at a time through the
 * server's own readers (what row-level security sees), or all of it through
 * api.get_context(). */
#include "config.h"

#include <stdlib.h>

#include "context/context.h"

static int
check_uuid_out(myappctx_conn *conn, const myappctx_uuid *out, const int *is_set,
               const char *what, myappctx_error *err)
{
    if (conn == NULL || out == NULL || is_set == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument '%s' is NULL", what,
                             conn == NULL ? "conn" : out == NULL ? "out" : "is_set");
    return MYAPPCTX_OK;
}

/* One of the server's UUID readers, what row-level security sees. */
static int
read_uuid(myappctx_conn *conn, const char *sql, myappctx_uuid *out, int *is_set,
          const char *what, myappctx_error *err)
{
    int rc = check_uuid_out(conn, out, is_set, what, err);
    return rc != MYAPPCTX_OK ? rc : mxi_codec_read_uuid(conn, what, sql, out, is_set, err);
}

MYAPPCTX_API int
myappctx_context_user_id_get(myappctx_conn *conn, myappctx_uuid *out, int *is_set,
                             myappctx_error *err)
{
    return read_uuid(conn, "SELECT private.get_current_user_id()::text", out, is_set,
                     __func__, err);
}

MYAPPCTX_API int
myappctx_context_tenant_id_get(myappctx_conn *conn, myappctx_uuid *out, int *is_set,
                               myappctx_error *err)
{
    return read_uuid(conn, "SELECT private.get_current_tenant_id()::text", out, is_set,
                     __func__, err);
}

MYAPPCTX_API int
myappctx_context_role_label_get(myappctx_conn *conn, char **out, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    return mxi_call_text(conn, __func__, "SELECT private.get_current_role()", 0, NULL,
                         out, err);
}

MYAPPCTX_API int
myappctx_context_session_id_get(myappctx_conn *conn, char **out, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    /* No private.* reader exists for it; mxi_call_text() applies the same
     * '' rule as the others. */
    return mxi_call_text(conn, __func__, "SELECT current_setting('myapp.session_id', true)",
                         0, NULL, out, err);
}

/* Fetches a member of api.get_context()'s object; EPROTO when absent, so a
 * renamed key on the server is noticed instead of read as "unset". */
static int
member(json_t *root, const char *key, json_t **out, const char *what, myappctx_error *err)
{
    *out = json_object_get(root, key);
    if (*out == NULL)
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                             "%s: api.get_context() has no key '%s'", what, key);
    return MYAPPCTX_OK;
}

static int
wrong_type(const char *key, const char *expected, const char *what, myappctx_error *err)
{
    return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                         "%s: api.get_context() key '%s' is not %s or null",
                         what, key, expected);
}

static int
member_uuid(json_t *root, const char *key, int *has, myappctx_uuid *out, const char *what,
            myappctx_error *err)
{
    json_t *v;
    int rc = member(root, key, &v, what, err);
    if (rc != MYAPPCTX_OK || json_is_null(v))
        return rc;
    if (!json_is_string(v))
        return wrong_type(key, "a string", what, err);
    rc = mxi_codec_parse_uuid(json_string_value(v), what, key, out, err);
    *has = rc == MYAPPCTX_OK;
    return rc;
}

static int
member_string(json_t *root, const char *key, char **out, const char *what,
              myappctx_error *err)
{
    json_t *v;
    int rc = member(root, key, &v, what, err);
    if (rc != MYAPPCTX_OK || json_is_null(v))
        return rc;
    if (!json_is_string(v))
        return wrong_type(key, "a string", what, err);
    return mxi_call_strdup(json_string_value(v), what, out, err);
}

static int
member_json(json_t *root, const char *key, json_t **out, const char *what,
            myappctx_error *err)
{
    json_t *v;
    int rc = member(root, key, &v, what, err);
    if (rc != MYAPPCTX_OK || json_is_null(v))
        return rc;
    /* Metadata and audit context are objects whenever the library wrote
     * them; anything else was forged with raw SQL. */
    if (!json_is_object(v))
        return mxi_error_set(err, MYAPPCTX_EMALFORMED, NULL,
                             "%s: the context's '%s' is not a JSON object", what, key);
    *out = json_incref(v);
    return rc;
}

static int
info_from_json(json_t *root, myappctx_context_info *info, const char *what,
               myappctx_error *err)
{
    json_t *imp;
    int rc = member_uuid(root, "user_id", &info->has_user_id, &info->user_id, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member_uuid(root, "tenant_id", &info->has_tenant_id, &info->tenant_id, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member_string(root, "role", &info->role_label, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member_string(root, "session_id", &info->session_id, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member_json(root, "metadata", &info->metadata, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member_string(root, "created_at", &info->created_at, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member_uuid(root, "original_user_id", &info->has_original_user_id,
                         &info->original_user_id, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member_json(root, "audit", &info->audit, what, err);
    if (rc == MYAPPCTX_OK)
        rc = member(root, "is_impersonating", &imp, what, err);
    if (rc == MYAPPCTX_OK && !json_is_boolean(imp))
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                           "%s: api.get_context() key 'is_impersonating' is not a boolean",
                           what);
    if (rc == MYAPPCTX_OK)
        info->is_impersonating = json_is_true(imp);
    return rc;
}

MYAPPCTX_API int
myappctx_context_get(myappctx_conn *conn, myappctx_context_info **out, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    MXI_ERROR_REQUIRE_ARG(err, conn);

    PGresult *res;
    const char *text;
    int rc = mxi_codec_read(conn, what, "SELECT api.get_context()::text", 0, NULL,
                          &res, &text, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    json_t *root = NULL;
    if (text == NULL)
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: api.get_context() returned NULL",
                           what);
    else
        rc = mxi_codec_parse_object(text, what, &root, err);
    PQclear(res);
    if (rc != MYAPPCTX_OK)
        return rc;

    myappctx_context_info *info = calloc(1, sizeof *info);
    if (info == NULL)
        rc = mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    else
        rc = info_from_json(root, info, what, err);
    json_decref(root);
    if (rc != MYAPPCTX_OK) {
        myappctx_context_info_free(info);
        return rc;
    }
    *out = info;
    return MYAPPCTX_OK;
}

MYAPPCTX_API void
myappctx_context_info_free(myappctx_context_info *info)
{
    if (info == NULL)
        return;
    free(info->role_label);
    free(info->session_id);
    free(info->created_at);
    json_decref(info->metadata);
    json_decref(info->audit);
    free(info);
}
