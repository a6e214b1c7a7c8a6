/* Catalogue class "JSON": hostile metadata for myappctx_context_set()
 * (ctx->metadata, the one argument that takes caller JSON), directly and
 * through the pool.
 *
 * Each row builds a json_t and names the expected outcome:
 *   EINVAL     refused naming ctx->metadata, nothing sent (PQtrace);
 *   ROUNDTRIP  stored, and myappctx_context_get() returns an equal object;
 *   CONSISTENT either of the two: whatever context_set accepts, the
 *              library's own reader must read back.
 *   LARGE      ROUNDTRIP, but refused in sealed mode (TU_SEALED): the
 *              server reports session metadata to the client, and libpq
 *              drops a connection on a report over 30000 bytes, so the
 *              library refuses metadata stored as more than 29000 bytes.
 * JSON the server holds but the caller did not write (forged with raw
 * SQL) is the "forged" class. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "testutil.h"

typedef enum { EINVAL, ROUNDTRIP, CONSISTENT, LARGE } expect;

typedef struct json_row {
    const char *name;
    json_t *(*make)(void);
    expect x;
} json_row;

/* ------------------------------------------------------ constructors */

static json_t *wrap(const char *key, json_t *value)
{
    json_t *o = json_object();
    ck_assert_int_eq(json_object_set_new(o, key, value), 0);
    return o;
}

static json_t *mk_array_empty(void) { return json_array(); }
static json_t *mk_array(void) { return json_pack("[i,i,{s:s}]", 1, 2, "role", "admin"); }
static json_t *mk_string(void) { return json_string("{\"role\":\"admin\"}"); }
static json_t *mk_integer(void) { return json_integer(42); }
static json_t *mk_real(void) { return json_real(1.5); }
static json_t *mk_true(void) { return json_true(); }
static json_t *mk_false(void) { return json_false(); }
static json_t *mk_null(void) { return json_null(); }

/* {"k":"mmm..."} of exactly @total bytes once compact. */
static json_t *
sized_object(size_t total)
{
    char *fill = tu_repeat('m', total - 8);
    json_t *o = wrap("k", json_string(fill));
    free(fill);
    return o;
}

static json_t *mk_at_limit(void) { return sized_object(MYAPPCTX_METADATA_MAX); }
static json_t *mk_over_limit(void) { return sized_object(MYAPPCTX_METADATA_MAX + 1); }
static json_t *mk_mib(void) { return sized_object(TU_MIB); }

/* Many small members: a large object without any large string. */
static json_t *
many_keys(int n)
{
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%d", i);
        json_object_set_new(o, key, json_integer(i));
    }
    return o;
}

static json_t *mk_2000_keys(void) { return many_keys(2000); }
/* Under the sealed bound as stored (string escapes counted: '\n' is 2 bytes). */
static json_t *mk_sealed_edge(void) { return sized_object(28000); }

/* Small as JSON text, large as jsonb prints it: 1e-300 has 300 decimals. */
static json_t *
mk_tiny_reals(void)
{
    json_t *a = json_array();
    for (int i = 0; i < 100; i++)
        json_array_append_new(a, json_real(1e-300));
    return wrap("r", a);
}
static json_t *mk_20000_keys(void) { return many_keys(20000); }

/* {"a":{"a":...}} with @depth levels in all (the root counts). */
static json_t *
nested_objects(int depth)
{
    json_t *root = json_object(), *cur = root;
    for (int i = 1; i < depth; i++) {
        json_t *n = json_object();
        json_object_set_new(cur, "a", n);
        cur = n;
    }
    return root;
}

/* {"a":[[[...]]]} with @depth levels in all. */
static json_t *
nested_arrays(int depth)
{
    json_t *root = json_object(), *cur = json_array();
    json_object_set_new(root, "a", cur);
    for (int i = 2; i < depth; i++) {
        json_t *n = json_array();
        json_array_append_new(cur, n);
        cur = n;
    }
    return root;
}

static json_t *mk_depth_64(void) { return nested_objects(64); }
static json_t *mk_depth_65(void) { return nested_objects(MYAPPCTX_METADATA_DEPTH_MAX + 1); }
static json_t *mk_arrays_65(void) { return nested_arrays(MYAPPCTX_METADATA_DEPTH_MAX + 1); }
static json_t *mk_depth_2048(void) { return nested_objects(2048); }
static json_t *mk_depth_3000(void) { return nested_objects(3000); }
static json_t *mk_depth_10000(void) { return nested_objects(10000); }
static json_t *mk_arrays_3000(void) { return nested_arrays(3000); }

static json_t *mk_nul_value(void) { return wrap("k", json_stringn("a\0b", 3)); }
static json_t *mk_nul_only(void) { return wrap("k", json_stringn("\0", 1)); }

static json_t *
mk_nul_key(void)
{
    json_t *o = json_object();
    ck_assert_int_eq(json_object_setn_new(o, "a\0b", 3, json_true()), 0);
    return o;
}

static json_t *
mk_nul_deep(void)
{
    json_t *arr = json_pack("[s,s]", "fine", "also fine");
    json_array_append_new(arr, json_stringn("x\0", 2));
    return wrap("outer", wrap("inner", arr));
}

static json_t *mk_bad_utf8_value(void) { return wrap("k", json_string_nocheck("\xff")); }
static json_t *mk_surrogate_value(void) { return wrap("k", json_string_nocheck("\xed\xa0\x80")); }
static json_t *mk_overlong_value(void) { return wrap("k", json_string_nocheck("\xc0\xaf")); }

static json_t *
mk_bad_utf8_key(void)
{
    json_t *o = json_object();
    ck_assert_int_eq(json_object_set_new_nocheck(o, "\xff", json_true()), 0);
    return o;
}

static json_t *
mk_bad_utf8_nested_key(void)
{
    json_t *inner = json_object();
    ck_assert_int_eq(json_object_set_new_nocheck(inner, "ok\xc3", json_integer(1)), 0);
    return wrap("outer", inner);
}

/* a -> b -> a.  The cycle is broken again before the object is freed. */
static json_t *
mk_cycle(void)
{
    json_t *a = json_object(), *b = json_object();
    json_object_set_new(a, "b", b);
    json_object_set(b, "a", a);
    return a;
}

static json_t *mk_empty(void) { return json_object(); }
static json_t *mk_backslash_u0000(void) { return wrap("k", json_string("\\u0000")); }
static json_t *mk_backslash_backslash_u0000(void) { return wrap("k\\u0000", json_string("\\\\u0000")); }
static json_t *mk_controls(void) { return wrap("k", json_string("\x01\x1f\x7f\t\n\"\\/")); }
static json_t *mk_edges(void) { return wrap("\xf4\x8f\xbf\xbf", json_string("\xef\xbf\xbf \xc2\x80")); }
static json_t *mk_int_limits(void) { return json_pack("{s:I,s:I}", "max", (json_int_t)INT64_MAX, "min", (json_int_t)INT64_MIN); }
static json_t *mk_small_reals(void) { return json_pack("{s:f,s:f}", "tenth", 0.1, "tiny", 1e-300); }
static json_t *mk_huge_real(void) { return wrap("k", json_real(1e308)); }
static json_t *mk_injection_keys(void) { return json_pack("{s:s,s:s}", "role", "admin", "'; DROP TABLE x; --", "$1 %s%n"); }

static const json_row rows[] = {
    /* not an object */
    { "top-level empty array",                   mk_array_empty,   EINVAL },
    { "top-level array holding an object",       mk_array,         EINVAL },
    { "top-level string of JSON text",           mk_string,        EINVAL },
    { "top-level integer",                       mk_integer,       EINVAL },
    { "top-level real",                          mk_real,          EINVAL },
    { "top-level true",                          mk_true,          EINVAL },
    { "top-level false",                         mk_false,         EINVAL },
    { "top-level null",                          mk_null,          EINVAL },
    /* size */
    { "exactly MYAPPCTX_METADATA_MAX bytes",     mk_at_limit,      LARGE },
    { "MYAPPCTX_METADATA_MAX + 1 bytes",         mk_over_limit,    EINVAL },
    { "1 MiB string member",                     mk_mib,           EINVAL },
    { "2000 members (~30 KiB)",                  mk_2000_keys,     LARGE },
    { "28000 bytes (under the sealed bound)",    mk_sealed_edge,   ROUNDTRIP },
    { "100 x 1e-300 (30 KiB as jsonb prints it)", mk_tiny_reals,   LARGE },
    { "20000 members (~300 KiB)",                mk_20000_keys,    EINVAL },
    /* depth */
    { "nested 64 deep",                          mk_depth_64,      ROUNDTRIP },
    { "nested one level deeper than the limit",    mk_depth_65,    EINVAL },
    { "arrays one level deeper than the limit",    mk_arrays_65,   EINVAL },
    { "nested 2048 deep (jansson's parser limit)", mk_depth_2048,  EINVAL },
    { "nested 3000 deep",                        mk_depth_3000,    EINVAL },
    { "nested 10000 deep",                       mk_depth_10000,   EINVAL },
    { "arrays nested 3000 deep",                 mk_arrays_3000,   EINVAL },
    /* U+0000 (jsonb cannot store it) */
    { "U+0000 inside a string",                  mk_nul_value,     EINVAL },
    { "a string that is only U+0000",            mk_nul_only,      EINVAL },
    { "U+0000 inside a key",                     mk_nul_key,       EINVAL },
    { "U+0000 three levels down in an array",    mk_nul_deep,      EINVAL },
    /* not UTF-8 (jansson _nocheck constructors) */
    { "invalid UTF-8 string value",              mk_bad_utf8_value, EINVAL },
    { "surrogate in a string value",             mk_surrogate_value, EINVAL },
    { "overlong form in a string value",         mk_overlong_value, EINVAL },
    { "invalid UTF-8 key",                       mk_bad_utf8_key,  EINVAL },
    { "invalid UTF-8 key of a nested object",    mk_bad_utf8_nested_key, EINVAL },
    /* not serializable */
    { "reference cycle",                         mk_cycle,         EINVAL },
    /* legal and hostile: stored verbatim */
    { "empty object",                            mk_empty,         ROUNDTRIP },
    { "literal backslash-u0000 text",            mk_backslash_u0000, ROUNDTRIP },
    { "escaped backslashes before u0000",        mk_backslash_backslash_u0000, ROUNDTRIP },
    { "control characters and escapes",          mk_controls,      ROUNDTRIP },
    { "U+10FFFF key, U+FFFF and U+0080 value",   mk_edges,         ROUNDTRIP },
    { "int64 limits",                            mk_int_limits,    ROUNDTRIP },
    { "0.1 and 1e-300",                          mk_small_reals,   ROUNDTRIP },
    { "injection text as keys",                  mk_injection_keys, ROUNDTRIP },
    { "1e308 (jsonb prints it as a 309-digit integer)", mk_huge_real, CONSISTENT },
};
#define NROWS (sizeof rows / sizeof rows[0])

/* ------------------------------------------------------------- runner */

static void
free_row_value(json_t *v)
{
    /* Break a cycle before releasing it. */
    json_t *b = json_object_get(v, "b");
    if (b != NULL && json_is_object(b))
        json_object_del(b, "a");
    json_decref(v);
}

/* Sets @meta as the metadata on @c and checks the row's expectation. */
static void
check_metadata(myappctx_conn *c, const char *label, json_t *meta, expect x)
{
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.metadata = meta;
    myappctx_error err = { 0 };
    if (x == LARGE)
        x = tu_sealed() ? EINVAL : ROUNDTRIP;
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_context_set(c, &ctx, &err);
    long sent = tu_trace_stop(trace);

    if (x == EINVAL || (x == CONSISTENT && rc == MYAPPCTX_EINVAL)) {
        tu_expect_row(label, rc, MYAPPCTX_EINVAL, err, "ctx->metadata");
        ck_assert_msg(sent == 0, "%s: refused but %ld bytes of traffic", label, sent);
        /* Nothing of the context was set. */
        int is_set = -1;
        myappctx_uuid got;
        tu_assert_ok(myappctx_context_user_id_get(c, &got, &is_set, &err), err);
        ck_assert_msg(is_set == 0, "%s: a user context is set after the refusal", label);
        return;
    }
    tu_expect_row(label, rc, MYAPPCTX_OK, err, NULL);
    myappctx_context_info *info = NULL;
    rc = myappctx_context_get(c, &info, &err);
    tu_expect_row(label, rc, MYAPPCTX_OK, err, NULL);
    ck_assert_msg(json_equal(info->metadata, meta), "%s: metadata does not round-trip", label);
    ck_assert(myappctx_uuid_equal(&info->user_id, &user));
    myappctx_context_info_free(info);
    tu_assert_ok(myappctx_context_clear(c, &err), err);
}

START_TEST(metadata_rows_direct)
{
    myappctx_conn *c = tu_app_connect();
    json_t *meta = rows[_i].make();
    ck_assert_ptr_nonnull(meta);
    check_metadata(c, rows[_i].name, meta, rows[_i].x);
    free_row_value(meta);
    myappctx_conn_close(c);
}
END_TEST

/* The same rows on a pooled connection; the next borrower of that
 * connection sees no metadata. */
START_TEST(metadata_rows_through_the_pool)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_conn *c = tu_pool_acquire(pool);
    json_t *meta = rows[_i].make();
    check_metadata(c, rows[_i].name, meta, rows[_i].x);
    free_row_value(meta);
    /* Leave the context set (when it was accepted) for the pool to reset. */
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    tu_random_uuid(&ctx.user_id, NULL);
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    myappctx_pool_release(pool, c);
    c = tu_pool_acquire(pool);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_ptr_null(info->metadata);
    ck_assert_int_eq(info->has_user_id, 0);
    myappctx_context_info_free(info);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

/* Every injection string of the catalogue as both a key and a value. */
START_TEST(injection_strings_as_keys_and_values)
{
    myappctx_conn *c = tu_app_connect();
    for (size_t i = 0; i < tu_injection_count; i++) {
        json_t *meta = json_object();
        json_object_set_new(meta, tu_injection[i].text, json_string(tu_injection[i].text));
        json_object_set_new(meta, "nested", json_pack("[s,{s:s}]", tu_injection[i].text,
                                                      tu_injection[i].text, "v"));
        check_metadata(c, tu_injection[i].name, meta, ROUNDTRIP);
        json_decref(meta);
    }
    for (size_t i = 0; i < tu_utf8_edges_count; i++) {
        json_t *meta = json_object();
        json_object_set_new(meta, tu_utf8_edges[i].text, json_string(tu_utf8_edges[i].text));
        check_metadata(c, tu_utf8_edges[i].name, meta, ROUNDTRIP);
        json_decref(meta);
    }
    /* Invalid UTF-8 cannot even enter jansson through the checking
     * constructors; through the _nocheck ones it is refused. */
    for (size_t i = 0; i < tu_bad_utf8_count; i++) {
        ck_assert_ptr_null(json_string(tu_bad_utf8[i].text));
        json_t *meta = json_object();
        json_object_set_new(meta, "k", json_string_nocheck(tu_bad_utf8[i].text));
        check_metadata(c, tu_bad_utf8[i].name, meta, EINVAL);
        json_decref(meta);
    }
    myappctx_conn_close(c);
}
END_TEST

/* Arguments are checked before the connection state: bad metadata on a
 * connection behind a transaction pooler is EINVAL, good metadata is
 * ESESSIONSTATE; neither sends anything. */
START_TEST(metadata_on_a_transaction_pooler)
{
    myappctx_conn *c = tu_bouncer_connect("app_service");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    tu_random_uuid(&ctx.user_id, NULL);
    myappctx_error err = { 0 };
    ctx.metadata = mk_array();
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_context_set(c, &ctx, &err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_expect_row("array on a pooler", rc, MYAPPCTX_EINVAL, err, "ctx->metadata");
    json_decref(ctx.metadata);
    ctx.metadata = mk_injection_keys();
    trace = tu_trace_start(c);
    rc = myappctx_context_set(c, &ctx, &err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_expect_row("object on a pooler", rc, MYAPPCTX_ESESSIONSTATE, err, NULL);
    json_decref(ctx.metadata);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hostile json");
    TCase *tc = tcase_create("json");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, metadata_rows_direct, 0, NROWS);
    tcase_add_loop_test(tc, metadata_rows_through_the_pool, 0, NROWS);
    tcase_add_test(tc, injection_strings_as_keys_and_values);
    tcase_add_test(tc, metadata_on_a_transaction_pooler);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
