/* Helpers shared by the context, audit and impersonation test programs. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "context_util.h"

const char *const cu_hostile[] = {
    "O'Brien",
    "it''s \"double\" and 'single'",
    "back\\slash \\' \\\\",
    "semi; DROP TABLE data.users; --",
    "multi\nline\r\nand\ttab",
    "$1 %s %n %% {}",
    "' OR '1'='1",
    "caf\xc3\xa9 \xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
    "  leading and trailing  ",
    "NULL",
};
const size_t cu_hostile_count = sizeof cu_hostile / sizeof cu_hostile[0];

const char *const cu_bad_utf8[] = {
    "\xff",
    "abc\xc3",            /* truncated sequence */
    "\xc0\xaf",           /* overlong '/' */
    "\xed\xa0\x80",       /* surrogate */
    "ok\x80ok",           /* stray continuation byte */
};
const size_t cu_bad_utf8_count = sizeof cu_bad_utf8 / sizeof cu_bad_utf8[0];

void
cu_random_uuid(myappctx_uuid *out)
{
    FILE *f = fopen("/dev/urandom", "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fread(out->bytes, 1, sizeof out->bytes, f), sizeof out->bytes);
    fclose(f);
    out->bytes[6] = (unsigned char)((out->bytes[6] & 0x0f) | 0x40);
    out->bytes[8] = (unsigned char)((out->bytes[8] & 0x3f) | 0x80);
}

myappctx_conn *
cu_app_connect(void)
{
    return tu_connect_opts("user=app_service", NULL);
}

myappctx_conn *
cu_pooler_declared_connect(void)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.txn_pooler = 1;
    return tu_connect_opts("user=app_service", &opts);
}

char *
cu_query(myappctx_conn *c, const char *sql, int nparams, const char *const *params)
{
    PGresult *res;
    myappctx_error err;
    tu_assert_ok(myappctx_exec(c, sql, nparams, params, &res, &err), err);
    char *value = NULL;
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        value = strdup(PQgetvalue(res, 0, 0));
        ck_assert_ptr_nonnull(value);
    }
    PQclear(res);
    return value;
}

void
cu_seed_user(const myappctx_uuid *id, const char *role)
{
    char buf[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(id, buf), role };
    myappctx_conn *su = tu_connect();
    free(cu_query(su, "INSERT INTO data.users (id, email, name, role) "
                      "VALUES ($1::uuid, $1 || '@example.com', 'test user', $2)",
                  2, params));
    myappctx_conn_close(su);
}

void
cu_raw_set(myappctx_conn *c, const char *name, const char *value, int is_local)
{
    const char *params[] = { name, value, is_local ? "true" : "false" };
    free(cu_query(c, "SELECT set_config($1, $2, $3::boolean)", 3, params));
}

FILE *
cu_trace_start(myappctx_conn *c)
{
    FILE *trace = tmpfile();
    ck_assert_ptr_nonnull(trace);
    PQtrace(myappctx_conn_pg(c), trace);
    return trace;
}

long
cu_trace_stop(myappctx_conn *c, FILE *trace)
{
    PQuntrace(myappctx_conn_pg(c));
    fflush(trace);
    fseek(trace, 0, SEEK_END);
    long size = ftell(trace);
    fclose(trace);
    return size;
}

char *
cu_repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

void
cu_assert_no_context(myappctx_conn *c)
{
    myappctx_error err;
    myappctx_uuid id;
    int is_set = -1;
    tu_assert_ok(myappctx_context_user_id_get(c, &id, &is_set, &err), err);
    ck_assert_int_eq(is_set, 0);
    ck_assert(myappctx_uuid_is_nil(&id));
    is_set = -1;
    tu_assert_ok(myappctx_context_tenant_id_get(c, &id, &is_set, &err), err);
    ck_assert_int_eq(is_set, 0);
    char *role = (char *)"sentinel";
    tu_assert_ok(myappctx_context_role_get(c, &role, &err), err);
    ck_assert_ptr_null(role);
}

void
cu_assert_json_str(const json_t *got, const char *expected)
{
    ck_assert_ptr_nonnull(got);
    if (expected == NULL) {
        ck_assert_msg(json_is_null(got), "expected JSON null");
        return;
    }
    ck_assert_msg(json_is_string(got), "expected a JSON string");
    ck_assert_str_eq(json_string_value(got), expected);
}
