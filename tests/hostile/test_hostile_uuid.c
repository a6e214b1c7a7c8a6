/* Catalogue class "UUID": malformed UUID text for myappctx_uuid_parse(),
 * buffers with NUL bytes and lying lengths for myappctx_uuid_parsen(), and
 * the nil UUID for every function that takes a myappctx_uuid.  Each is
 * MYAPPCTX_EINVAL, leaves the output untouched and sends nothing. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"

#define VALID "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

typedef struct uuid_row {
    const char *name;
    const char *text;
    int ok;                  /* 1: parses (to the canonical VALID_BYTES or as noted) */
} uuid_row;

static const uuid_row parse_rows[] = {
    { "canonical lower case",           VALID, 1 },
    { "upper case",                     "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", 1 },
    { "mixed case",                     "a0EEbc99-9C0b-4eF8-Bb6d-6bB9bD380A11", 1 },
    { "nil",                            "00000000-0000-0000-0000-000000000000", 1 },
    { "all f",                          "ffffffff-ffff-ffff-ffff-ffffffffffff", 1 },
    { "empty",                          "", 0 },
    { "35 characters",                  "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", 0 },
    { "37 characters",                  VALID "1", 0 },
    { "braces (PostgreSQL accepts)",    "{" VALID "}", 0 },
    { "urn:uuid: prefix",               "urn:uuid:" VALID, 0 },
    { "no dashes (PostgreSQL accepts)", "a0eebc999c0b4ef8bb6d6bb9bd380a11", 0 },
    { "leading space",                  " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", 0 },
    { "trailing space",                 "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1 ", 0 },
    { "trailing newline",               VALID "\n", 0 },
    { "dash moved left",                "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11", 0 },
    { "dash moved right",               "a0eebc99-9c0b-4ef8-bb6d6-bb9bd380a11", 0 },
    { "doubled dash",                   "a0eebc99--c0b-4ef8-bb6d-6bb9bd380a11", 0 },
    { "underscores for dashes",         "a0eebc99_9c0b_4ef8_bb6d_6bb9bd380a11", 0 },
    { "non-hex letter g",               "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0 },
    { "non-hex at the last position",   "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1z", 0 },
    { "sign in front",                  "+0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0 },
    { "0x prefix",                      "0xeebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0 },
    { "full-width digit",               "\xef\xbc\x90" "ebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0 },
    { "invalid UTF-8 byte",             "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\xff", 0 },
    { "percent sign",                   "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1%", 0 },
    { "SQL injection",                  "'; DROP TABLE data.users; --", 0 },
    { "SQL injection, 36 characters",   "'; DROP TABLE data.users; --xxxxxxxx", 0 },
    { "format string, 36 characters",   "%s%n%s%n-%s%n-%s%n-%s%n-%s%n%s%n%s%n", 0 },
    { "\\x00-looking text",             "\\x00", 0 },
};

static void
fill(myappctx_uuid *u)
{
    memset(u->bytes, 0xab, sizeof u->bytes);
}

static int
untouched(const myappctx_uuid *u)
{
    for (size_t i = 0; i < sizeof u->bytes; i++)
        if (u->bytes[i] != 0xab)
            return 0;
    return 1;
}

START_TEST(uuid_parse_rows)
{
    const uuid_row *r = &parse_rows[_i];
    myappctx_uuid out;
    myappctx_error err = { 0 };
    fill(&out);
    int rc = myappctx_uuid_parse(&out, r->text, &err);
    if (r->ok) {
        tu_expect_row(r->name, rc, MYAPPCTX_OK, err, NULL);
        char buf[MYAPPCTX_UUID_BUFSIZE], lower[MYAPPCTX_UUID_BUFSIZE];
        for (size_t i = 0; i < sizeof lower; i++)
            lower[i] = (char)(r->text[i] >= 'A' && r->text[i] <= 'F' ? r->text[i] + 32
                                                                    : r->text[i]);
        ck_assert_str_eq(myappctx_uuid_format(&out, buf), lower);
    } else {
        tu_expect_row(r->name, rc, MYAPPCTX_EINVAL, err, "uuid");
        ck_assert_msg(untouched(&out), "%s: output written on failure", r->name);
        ck_assert_int_eq(myappctx_uuid_parse(&out, r->text, NULL), MYAPPCTX_EINVAL);
        ck_assert_msg(untouched(&out), "%s: output written on failure", r->name);
    }
}
END_TEST

START_TEST(uuid_parse_very_long)
{
    char *mib = tu_repeat('a', TU_MIB);
    memcpy(mib, VALID, MYAPPCTX_UUID_STRLEN);
    myappctx_uuid out;
    myappctx_error err = { 0 };
    fill(&out);
    tu_expect_row("1 MiB starting with a valid UUID", myappctx_uuid_parse(&out, mib, &err),
                  MYAPPCTX_EINVAL, err, "uuid");
    ck_assert(untouched(&out));
    free(mib);
}
END_TEST

/* Buffers for uuid_parsen(): a length and bytes that need not be a C string. */
typedef struct parsen_row {
    const char *name;
    const char *buf;
    size_t len;
    int ok;
} parsen_row;

static const char valid_then_garbage[] = VALID "\xff\xfe trailing garbage";
static const char nul_at_0[] = "\0" "0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
static const char nul_at_10[] = "a0eebc99-9\0" "0b-4ef8-bb6d-6bb9bd380a11";
static const char nul_at_35[] = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\0";
static const char nul_for_dash[] = "a0eebc99\0" "9c0b-4ef8-bb6d-6bb9bd380a11";
static const char all_nul[36] = { 0 };

static const parsen_row parsen_rows[] = {
    { "36 bytes, not NUL-terminated",        valid_then_garbage, 36, 1 },
    { "36 bytes and its NUL (37)",           VALID, 37, 0 },
    { "35 bytes of a valid UUID",            VALID, 35, 0 },
    { "length 0",                            VALID, 0, 0 },
    { "NUL at byte 0",                       nul_at_0, 36, 0 },
    { "NUL at byte 10",                      nul_at_10, 36, 0 },
    { "NUL at the last byte",                nul_at_35, 36, 0 },
    { "NUL where a dash belongs",            nul_for_dash, 36, 0 },
    { "36 NUL bytes",                        all_nul, 36, 0 },
    { "length SIZE_MAX (must not be read)",  "x", SIZE_MAX, 0 },
    { "length 37 on garbage",                valid_then_garbage, 37, 0 },
};

START_TEST(uuid_parsen_rows)
{
    const parsen_row *r = &parsen_rows[_i];
    myappctx_uuid out;
    myappctx_error err = { 0 };
    fill(&out);
    int rc = myappctx_uuid_parsen(&out, r->buf, r->len, &err);
    if (r->ok) {
        tu_expect_row(r->name, rc, MYAPPCTX_OK, err, NULL);
        char buf[MYAPPCTX_UUID_BUFSIZE];
        ck_assert_str_eq(myappctx_uuid_format(&out, buf), VALID);
    } else {
        tu_expect_row(r->name, rc, MYAPPCTX_EINVAL, err, "uuid");
        ck_assert_msg(untouched(&out), "%s: output written on failure", r->name);
    }
}
END_TEST

/* The nil UUID (what MYAPPCTX_CONTEXT_INIT leaves behind) is refused by
 * every function taking a user, tenant or target, naming the argument,
 * with nothing sent and no transaction left open. */
static const myappctx_uuid nil;

typedef struct nil_row {
    const char *name;
    const char *needle;
    int in_txn;              /* the call needs a transaction block */
    int (*call)(myappctx_conn *c, const myappctx_uuid *user, myappctx_error *err);
} nil_row;

static myappctx_uuid some_user;

static int
nil_set_user(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    return myappctx_context_set(c, &ctx, err);
}

static int
nil_set_tenant(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = some_user;
    ctx.tenant_id = &nil;
    return myappctx_context_set(c, &ctx, err);
}

static int
nil_local_user(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{
    return myappctx_context_set_local(c, &nil, NULL, NULL, err);
}

static int
nil_local_tenant(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{
    return myappctx_context_set_local(c, &some_user, &nil, NULL, err);
}

static int
nil_begin_user(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{
    return myappctx_begin_as_user(c, &nil, NULL, "r", err);
}

static int
nil_begin_tenant(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{
    return myappctx_begin_as_user(c, &some_user, &nil, "r", err);
}

static int
nil_impersonate(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{
    return myappctx_impersonate(c, &nil, err);
}

static int
nil_fast(myappctx_conn *c, const myappctx_uuid *user, const myappctx_uuid *tenant,
         int begin, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.tenant_id = tenant;
    myappctx_stmt stmt = { "SELECT 1", 0, NULL };
    if (begin)
        return myappctx_begin_in_context(c, &ctx, &stmt, NULL, err);
    return myappctx_run_in_context(c, &ctx, &stmt, 1, NULL, err);
}

static int nil_run_user(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{ return nil_fast(c, &nil, NULL, 0, err); }
static int nil_run_tenant(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{ return nil_fast(c, &some_user, &nil, 0, err); }
static int nil_bic_user(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{ return nil_fast(c, &nil, NULL, 1, err); }
static int nil_bic_tenant(myappctx_conn *c, const myappctx_uuid *u, myappctx_error *err)
{ return nil_fast(c, &some_user, &nil, 1, err); }

static const nil_row nil_rows[] = {
    { "myappctx_context_set: ctx->user_id",        "ctx->user_id",   0, nil_set_user },
    { "myappctx_context_set: ctx->tenant_id",      "ctx->tenant_id", 0, nil_set_tenant },
    { "myappctx_context_set_local: user_id",       "user_id",        1, nil_local_user },
    { "myappctx_context_set_local: tenant_id",     "tenant_id",      1, nil_local_tenant },
    { "myappctx_begin_as_user: user_id",           "user_id",        0, nil_begin_user },
    { "myappctx_begin_as_user: tenant_id",         "tenant_id",      0, nil_begin_tenant },
    { "myappctx_impersonate: target_user_id",      "target_user_id", 0, nil_impersonate },
    { "myappctx_run_in_context: ctx->user_id",     "ctx->user_id",   0, nil_run_user },
    { "myappctx_run_in_context: ctx->tenant_id",   "ctx->tenant_id", 0, nil_run_tenant },
    { "myappctx_begin_in_context: ctx->user_id",   "ctx->user_id",   0, nil_bic_user },
    { "myappctx_begin_in_context: ctx->tenant_id", "ctx->tenant_id", 0, nil_bic_tenant },
};

static void
nil_rows_on(myappctx_conn *c, const nil_row *r)
{
    myappctx_error err = { 0 };
    tu_random_uuid(&some_user, NULL);
    if (r->in_txn)
        tu_assert_ok(myappctx_begin(c, &err), err);
    tu_trace trace = tu_trace_start(c);
    int rc = r->call(c, NULL, &err);
    long sent = tu_trace_stop(trace);
    tu_expect_row(r->name, rc, MYAPPCTX_EINVAL, err, r->needle);
    ck_assert_msg(strstr(err.message, "nil") != NULL, "%s: %s", r->name, err.message);
    ck_assert_msg(sent == 0, "%s: %ld bytes of traffic", r->name, sent);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), r->in_txn);
    if (r->in_txn)
        tu_assert_ok(myappctx_rollback(c, &err), err);
}

START_TEST(nil_uuid_rows_direct)
{
    myappctx_conn *c = tu_app_connect();
    nil_rows_on(c, &nil_rows[_i]);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(nil_uuid_rows_through_the_pool)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_conn *c = tu_pool_acquire(pool);
    nil_rows_on(c, &nil_rows[_i]);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hostile uuid");
    TCase *tc = tcase_create("uuid");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, uuid_parse_rows, 0, sizeof parse_rows / sizeof parse_rows[0]);
    tcase_add_test(tc, uuid_parse_very_long);
    tcase_add_loop_test(tc, uuid_parsen_rows, 0, sizeof parsen_rows / sizeof parsen_rows[0]);
    tcase_add_loop_test(tc, nil_uuid_rows_direct, 0, sizeof nil_rows / sizeof nil_rows[0]);
    tcase_add_loop_test(tc, nil_uuid_rows_through_the_pool, 0,
                        sizeof nil_rows / sizeof nil_rows[0]);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
