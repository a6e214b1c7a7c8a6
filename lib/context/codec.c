/* Argument checks, parameter encoding and result decoding shared by the
 * context, audit and impersonation modules. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context/context.h"

int
mxi_codec_check_uuid(const myappctx_uuid *uuid, bool allow_null, const char *argname,
                   const char *what, myappctx_error *err)
{
    if (uuid == NULL) {
        if (allow_null)
            return MYAPPCTX_OK;
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument '%s' is NULL",
                             what, argname);
    }
    if (myappctx_uuid_is_nil(uuid))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is the nil UUID", what, argname);
    return MYAPPCTX_OK;
}

const char *
mxi_codec_uuid_param(const myappctx_uuid *uuid, char buf[MYAPPCTX_UUID_BUFSIZE])
{
    return uuid == NULL ? NULL : myappctx_uuid_format(uuid, buf);
}

int
mxi_codec_check_label(const char *value, size_t max_len, const char *argname,
                    const char *what, myappctx_error *err)
{
    if (value != NULL && value[0] == '\0')
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is empty (pass NULL for none)",
                             what, argname);
    return mxi_text_check(value, max_len, true, argname, what, err);
}

/* True when the JSON text holds the escape \u0000: jsonb refuses it
 * (22P05), so it is refused up front with a message naming the argument.
 * Outside strings JSON has no backslashes, so a left-to-right scan that
 * skips each escape pair sees every escape exactly once. */
static bool
json_has_nul_escape(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s != '\\')
            continue;
        if (s[1] == 'u' && strncmp(s + 2, "0000", 4) == 0)
            return true;
        if (s[1] != '\0')
            s++;
    }
    return false;
}

/* Numbers PostgreSQL would print back as integers too long for jansson:
 * jsonb prints 1e308 as 309 digits. */
#define JSON_REAL_MAX 1e18

/* 0 when @v is readable back; 1 nested deeper than @depth_left allows;
 * 2 holds an unreadable number. */
static int
unreadable(const json_t *v, int depth_left)
{
    const char *key;
    json_t *member;
    size_t i;
    int r = 0;
    switch (json_typeof(v)) {
    case JSON_REAL:
        return fabs(json_real_value(v)) < JSON_REAL_MAX ? 0 : 2;
    case JSON_OBJECT:
        if (depth_left == 0)
            return 1;
        json_object_foreach((json_t *)v, key, member)
            if ((r = unreadable(member, depth_left - 1)) != 0)
                return r;
        return 0;
    case JSON_ARRAY:
        if (depth_left == 0)
            return 1;
        json_array_foreach(v, i, member)
            if ((r = unreadable(member, depth_left - 1)) != 0)
                return r;
        return 0;
    default:
        return 0;
    }
}

/* What is stored must read back: the serialized text must parse again
 * (jansson writes keys with invalid UTF-8 made by the _nocheck setters as
 * broken JSON), nest no deeper than MYAPPCTX_METADATA_DEPTH_MAX (well
 * inside what the readers can parse once the server wraps it in
 * api.get_context()), and hold no number the server would print back
 * unreadably. */
static int
check_readable(const char *text, const char *argname, const char *what, myappctx_error *err)
{
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    if (back == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' does not serialize to JSON that can be "
                             "read back: %s", what, argname, jerr.text);
    int bad = unreadable(back, MYAPPCTX_METADATA_DEPTH_MAX);
    json_decref(back);
    if (bad == 1)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is nested deeper than %d levels",
                             what, argname, MYAPPCTX_METADATA_DEPTH_MAX);
    if (bad == 2)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' holds a number of magnitude 1e18 or more, "
                             "which would not read back", what, argname);
    return MYAPPCTX_OK;
}

int
mxi_codec_dump_object(const json_t *value, size_t max_len, const char *argname,
                    const char *what, char **out, myappctx_error *err)
{
    *out = NULL;
    if (!json_is_object(value))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is not a JSON object", what, argname);
    /* jansson fails for strings made with the _nocheck constructors that
     * are not UTF-8 and for reference cycles, far more often than for lack
     * of memory: report the caller's argument. */
    char *text = json_dumps(value, JSON_COMPACT);
    if (text == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' cannot be serialized (invalid UTF-8, "
                             "a reference cycle, or out of memory)", what, argname);
    int rc = mxi_text_check(text, max_len, false, argname, what, err);
    if (rc == MYAPPCTX_OK && json_has_nul_escape(text))
        rc = mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                           "%s: argument '%s' contains U+0000, which PostgreSQL "
                           "cannot store in jsonb", what, argname);
    if (rc == MYAPPCTX_OK)
        rc = check_readable(text, argname, what, err);
    if (rc != MYAPPCTX_OK) {
        free(text);
        return rc;
    }
    *out = text;
    return MYAPPCTX_OK;
}

int
mxi_codec_read(myappctx_conn *conn, const char *what, const char *sql, int nparams,
             const char *const *params, PGresult **out_res, const char **out_value,
             myappctx_error *err)
{
    /* The SQLSTATE is needed even when the caller passed no error struct. */
    myappctx_error local;   /* written before it is read */
    myappctx_error *e = err != NULL ? err : &local;
    int rc = mxi_exec_one(conn, what, sql, nparams, params, out_res, out_value, e);
    /* Class 22 (data exception: 22P02 bad syntax, 22007/22008 bad dates...)
     * here means a stored variable the server cannot cast. */
    if (rc == MYAPPCTX_ESERVER && strncmp(e->sqlstate, "22", 2) == 0)
        rc = mxi_error_wrap(e, MYAPPCTX_EMALFORMED, e,
                            "%s: a context variable holds a malformed value: %s",
                            what, mxi_error_cause(e, what));
    return rc;
}

int
mxi_codec_parse_uuid(const char *text, const char *what, const char *field,
                   myappctx_uuid *out, myappctx_error *err)
{
    if (myappctx_uuid_parse(out, text, NULL) != MYAPPCTX_OK)
        return mxi_error_set(err, MYAPPCTX_EMALFORMED, NULL,
                             "%s: %s is not a UUID", what, field);
    return MYAPPCTX_OK;
}

int
mxi_codec_read_uuid(myappctx_conn *conn, const char *what, const char *sql,
                  myappctx_uuid *out, int *is_set, myappctx_error *err)
{
    PGresult *res;
    const char *value;
    myappctx_uuid id = { { 0 } };
    int rc = mxi_codec_read(conn, what, sql, 0, NULL, &res, &value, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (value != NULL)
        rc = mxi_codec_parse_uuid(value, what, "the value", &id, err);
    if (rc == MYAPPCTX_OK) {
        *out = id;
        *is_set = value != NULL;
    }
    PQclear(res);
    return rc;
}

int
mxi_codec_parse_object(const char *text, const char *what, json_t **out, myappctx_error *err)
{
    json_error_t jerr;
    *out = NULL;
    json_t *value = json_loads(text, 0, &jerr);
    if (value == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
        return mxi_error_set(err, MYAPPCTX_EMALFORMED, NULL,
                             "%s: the server sent JSON that cannot be read: %s",
                             what, jerr.text);
    }
    if (!json_is_object(value)) {
        json_decref(value);
        return mxi_error_set(err, MYAPPCTX_EMALFORMED, NULL,
                             "%s: the stored value is not a JSON object", what);
    }
    *out = value;
    return MYAPPCTX_OK;
}
