/* Shared helpers of the catalogue of hostile inputs (see hostile_util.h). */
#include "config.h"

#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "hostile_util.h"

const hx_input hx_injection[] = {
    { "single quote",             "O'Brien" },
    { "only quotes",              "''" },
    { "double quotes",            "say \"hi\" and 'bye'" },
    { "SQL injection",            "'; DROP TABLE data.users; --" },
    { "SQL injection (no quote)", "1; DROP TABLE data.users" },
    { "tautology",                "' OR '1'='1" },
    { "comment",                  "*/ /* -- #" },
    { "dollar quote",             "$$; SELECT pg_sleep(10); $$" },
    { "placeholder $1",           "$1" },
    { "placeholders $1::uuid $2", "$1::uuid, $2" },
    { "backslashes",              "back\\slash \\' \\\\" },
    { "escape-string literal",    "E'\\x41\\047'" },
    { "\\x00-looking text",       "\\x00" },
    { "\\u0000-looking text",     "\\u0000" },
    { "\\0-looking text",         "\\0" },
    { "%00-looking text",         "%00" },
    { "format string",            "%s%n%x%p%%" },
    { "newline",                  "line one\nline two" },
    { "CR LF",                    "a\r\nb" },
    { "tab",                      "a\tb" },
    { "control characters",       "\x01\x02\x1b[31m\x1f\x7f" },
    { "leading and trailing space", "  padded  " },
    { "only spaces",              "   " },
    { "the word NULL",            "NULL" },
    { "JSON text",                "{\"role\":\"admin\",\"x\":[1,2]}" },
    { "comma list",               "a,b,current_user_id" },
    { "markup",                   "<script>alert(1)</script>" },
    { "latin-1 range",            "caf\xc3\xa9 \xc3\xbc\xc3\x9f" },
    { "CJK and euro",             "\xe4\xb8\xad\xe6\x96\x87 \xe2\x82\xac" },
    { "emoji",                    "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd" },
    { "right-to-left mark",       "abc\xe2\x80\x8f" "def" },
    { "byte order mark",          "\xef\xbb\xbfstart" },
    { "zero-width joiner",        "a\xe2\x80\x8d" "b" },
};
const size_t hx_injection_count = sizeof hx_injection / sizeof hx_injection[0];

const hx_input hx_utf8_edges[] = {
    { "U+0080 (first 2-byte)",   "\xc2\x80" },
    { "U+07FF (last 2-byte)",    "\xdf\xbf" },
    { "U+0800 (first 3-byte)",   "\xe0\xa0\x80" },
    { "U+D7FF (before surrogates)", "\xed\x9f\xbf" },
    { "U+E000 (after surrogates)", "\xee\x80\x80" },
    { "U+FFFD (replacement)",    "\xef\xbf\xbd" },
    { "U+FFFF (last 3-byte)",    "\xef\xbf\xbf" },
    { "U+10000 (first 4-byte)",  "\xf0\x90\x80\x80" },
    { "U+10FFFF (last code point)", "\xf4\x8f\xbf\xbf" },
};
const size_t hx_utf8_edges_count = sizeof hx_utf8_edges / sizeof hx_utf8_edges[0];

const hx_input hx_bad_utf8[] = {
    { "lone continuation 0x80",      "\x80" },
    { "lone continuation 0xBF",      "\xbf" },
    { "continuation inside ASCII",   "ok\x80ok" },
    { "truncated 2-byte at end",     "abc\xc3" },
    { "truncated 3-byte at end",     "abc\xe2\x82" },
    { "truncated 4-byte at end",     "abc\xf0\x9f\x98" },
    { "truncated 2-byte mid-string", "\xc3" "a" },
    { "truncated 3-byte mid-string", "\xe2\x82" "a" },
    { "overlong 2-byte '/' (C0 AF)", "\xc0\xaf" },
    { "overlong 2-byte (C1 BF)",     "\xc1\xbf" },
    { "overlong 3-byte '/'",         "\xe0\x80\xaf" },
    { "overlong 4-byte '/'",         "\xf0\x80\x80\xaf" },
    { "overlong NUL (C0 80)",        "a\xc0\x80" "b" },
    { "high surrogate U+D800",       "\xed\xa0\x80" },
    { "low surrogate U+DFFF",        "\xed\xbf\xbf" },
    { "CESU-8 surrogate pair",       "\xed\xa0\xbd\xed\xb8\x80" },
    { "U+110000 (above U+10FFFF)",   "\xf4\x90\x80\x80" },
    { "lead byte F5",                "\xf5\x80\x80\x80" },
    { "5-byte form",                 "\xf8\x88\x80\x80\x80" },
    { "6-byte form",                 "\xfc\x84\x80\x80\x80\x80" },
    { "byte FE",                     "\xfe" },
    { "byte FF",                     "\xff" },
    { "latin-1 e-acute",             "caf\xe9" },
};
const size_t hx_bad_utf8_count = sizeof hx_bad_utf8 / sizeof hx_bad_utf8[0];

char *
hx_repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

char *
hx_ending_in_e_acute(size_t n)
{
    ck_assert_uint_ge(n, 2);
    char *s = hx_repeat('a', n);
    s[n - 2] = '\xc3';
    s[n - 1] = '\xa9';
    return s;
}

static myappctx_conn *
connect_or_fail(const char *conninfo, const myappctx_conn_options *opts)
{
    myappctx_conn *conn = NULL;
    myappctx_error err = { 0 };
    int rc = myappctx_conn_open(&conn, conninfo, opts, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "connect '%s' failed (is the harness running?): %s",
                  conninfo, err.message);
    return conn;
}

myappctx_conn *
hx_app_connect(void)
{
    return connect_or_fail("user=app_service", NULL);
}

myappctx_conn *
hx_su_connect(void)
{
    return connect_or_fail("", NULL);
}

myappctx_conn *
hx_bouncer_connect(void)
{
    const char *conninfo = tu_pgbouncer_conninfo("app_service");
    ck_assert_msg(conninfo != NULL, "the harness runs a PgBouncer (--pgbouncer)");
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.txn_pooler = 1;
    return connect_or_fail(conninfo, &opts);
}

myappctx_pool *
hx_pool_new(void)
{
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = "user=app_service";
    cfg.min_size = 1;
    cfg.max_size = 1;
    cfg.acquire_timeout_ms = 10000;
    cfg.health_check_period_ms = 0;
    cfg.validation = MYAPPCTX_POOL_VALIDATE_NONE;
    cfg.reconnect_min_ms = 5;
    cfg.reconnect_max_ms = 50;
    myappctx_pool *pool = NULL;
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_pool_new(&pool, &cfg, &err), err);
    tu_assert_ok(myappctx_pool_wait_ready(pool, 10000, &err), err);
    return pool;
}

myappctx_conn *
hx_pool_acquire(myappctx_pool *pool)
{
    myappctx_conn *conn = NULL;
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_pool_acquire(pool, &conn, 10000, &err), err);
    ck_assert_ptr_nonnull(conn);
    return conn;
}

myappctx_pool_stats
hx_pool_stats(myappctx_pool *pool)
{
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    ck_assert_int_eq(myappctx_pool_stats_get(pool, &st), MYAPPCTX_OK);
    return st;
}

hx_trace
hx_trace_start(myappctx_conn *c)
{
    hx_trace t = { tmpfile(), myappctx_conn_pg(c) };
    ck_assert_ptr_nonnull(t.file);
    ck_assert_ptr_nonnull(t.pg);
    PQtrace(t.pg, t.file);
    return t;
}

long
hx_trace_stop(hx_trace t)
{
    PQuntrace(t.pg);
    fflush(t.file);
    fseek(t.file, 0, SEEK_END);
    long size = ftell(t.file);
    fclose(t.file);
    return size;
}

void
hx_random_uuid(myappctx_uuid *out, char text[MYAPPCTX_UUID_BUFSIZE])
{
    ck_assert_int_eq(getrandom(out->bytes, sizeof out->bytes, 0), (ssize_t)sizeof out->bytes);
    out->bytes[6] = (unsigned char)((out->bytes[6] & 0x0f) | 0x40);
    out->bytes[8] = (unsigned char)((out->bytes[8] & 0x3f) | 0x80);
    if (text != NULL)
        myappctx_uuid_format(out, text);
}

void
hx_unique(const char *prefix, char *buf, size_t size)
{
    static unsigned counter;
    unsigned r;
    ck_assert_int_eq(getrandom(&r, sizeof r, 0), (ssize_t)sizeof r);
    int n = snprintf(buf, size, "%s_%ld_%u_%08x", prefix, (long)getpid(), counter++, r);
    ck_assert_msg(n > 0 && (size_t)n < size, "unique name too long");
}

char *
hx_value(myappctx_conn *c, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    myappctx_error err = { 0 };
    int rc = myappctx_exec(c, sql, nparams, params, &res, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "%s: %s [%s]", sql, err.message, err.sqlstate);
    char *value = NULL;
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        value = strdup(PQgetvalue(res, 0, 0));
        ck_assert_ptr_nonnull(value);
    }
    PQclear(res);
    return value;
}

long long
hx_int(myappctx_conn *c, const char *sql, int nparams, const char *const *params)
{
    char *v = hx_value(c, sql, nparams, params);
    ck_assert_msg(v != NULL, "%s returned NULL", sql);
    long long n = atoll(v);
    free(v);
    return n;
}

void
hx_raw_set(myappctx_conn *c, const char *name, const char *value)
{
    const char *params[] = { name, value };
    free(hx_value(c, "SELECT set_config($1, $2, false)", 2, params));
}

void
hx_seed_user(const myappctx_uuid *id, const char *role)
{
    char buf[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(id, buf), role };
    myappctx_conn *su = hx_su_connect();
    free(hx_value(su, "INSERT INTO data.users (id, email, name, role) "
                      "VALUES ($1::uuid, $1 || '@example.com', 'hostile test', $2)",
                  2, params));
    myappctx_conn_close(su);
}

long long
hx_impersonation_log_rows(const myappctx_uuid *admin)
{
    char buf[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(admin, buf) };
    myappctx_conn *su = hx_su_connect();
    long long n = hx_int(su, "SELECT count(*) FROM app_audit.impersonation_log "
                             "WHERE admin_user_id = $1::uuid", 1, params);
    myappctx_conn_close(su);
    return n;
}

void
hx_delete_setting(const char *key)
{
    const char *params[] = { key };
    myappctx_conn *su = hx_su_connect();
    free(hx_value(su, "DELETE FROM data.app_settings WHERE key = $1", 1, params));
    myappctx_conn_close(su);
}
