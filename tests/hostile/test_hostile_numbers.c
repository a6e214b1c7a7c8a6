/* Catalogue class "numbers": hostile counts, sizes, durations, enum values
 * and structure versions -- every integer or floating-point argument or
 * field with a documented range.  Out of range is MYAPPCTX_EINVAL naming
 * the argument or field, with nothing sent; the documented edges work. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static myappctx_uuid U;
static myappctx_txn_context TCTX;
static myappctx_stmt STMT = { "SELECT 1", 0, NULL };

/* ------------------------------------------------------- pool configs */

/* M(id, field named in the message, expected, mutation of cfg) */
#define POOL_MUTATIONS(M)                                                                  \
    M(version_0, "version", MYAPPCTX_EINVAL, cfg->version = 0)                               \
    M(version_1, "version", MYAPPCTX_EINVAL, cfg->version = 1)                               \
    M(version_2, "version", MYAPPCTX_EINVAL, cfg->version = 2)                               \
    M(version_3, "version", MYAPPCTX_EINVAL, cfg->version = 3)                               \
    M(version_next, "version", MYAPPCTX_EINVAL, cfg->version = MYAPPCTX_POOL_CONFIG_VERSION + 1) \
    M(leak_negative, "leak_detection_ms", MYAPPCTX_EINVAL, cfg->leak_detection_ms = LONG_MIN) \
    M(ping_timeout_negative, "ping_timeout_ms", MYAPPCTX_EINVAL, cfg->ping_timeout_ms = -1)  \
    M(seal_key_31, "seal_key_len", MYAPPCTX_EINVAL, (cfg->seal_key = KEY, cfg->seal_key_len = 31)) \
    M(seal_key_65, "seal_key_len", MYAPPCTX_EINVAL, (cfg->seal_key = KEY, cfg->seal_key_len = 65)) \
    M(seal_key_max, "seal_key_len", MYAPPCTX_EINVAL,                                        \
      (cfg->seal_key = KEY, cfg->seal_key_len = SIZE_MAX))                                 \
    M(seal_key_0, "seal_key_len", MYAPPCTX_EINVAL, (cfg->seal_key = KEY, cfg->seal_key_len = 0)) \
    M(seal_key_edges, NULL, MYAPPCTX_OK, (cfg->seal_key = KEY, cfg->seal_key_len = 32))      \
    M(seal_key_64, NULL, MYAPPCTX_OK, (cfg->seal_key = KEY, cfg->seal_key_len = 64))         \
    M(seal_key_null_len_ignored, NULL, MYAPPCTX_OK, (cfg->seal_key = NULL, cfg->seal_key_len = 7)) \
    M(min_negative, "min_size", MYAPPCTX_EINVAL, cfg->min_size = -1)                         \
    M(max_zero, "max_size", MYAPPCTX_EINVAL, cfg->max_size = 0)                              \
    M(max_int_min, "max_size", MYAPPCTX_EINVAL, cfg->max_size = INT_MIN)                     \
    M(min_above_max, "min_size", MYAPPCTX_EINVAL, (cfg->min_size = 5, cfg->max_size = 4))    \
    M(waiters_negative, "max_waiters", MYAPPCTX_EINVAL, cfg->max_waiters = -1)               \
    M(acquire_timeout_negative, "acquire_timeout_ms", MYAPPCTX_EINVAL,                      \
      cfg->acquire_timeout_ms = -1)                                                        \
    M(lifetime_negative, "max_lifetime_ms", MYAPPCTX_EINVAL, cfg->max_lifetime_ms = LONG_MIN) \
    M(idle_negative, "max_idle_ms", MYAPPCTX_EINVAL, cfg->max_idle_ms = -1)                  \
    M(health_negative, "health_check_period_ms", MYAPPCTX_EINVAL,                           \
      cfg->health_check_period_ms = -1)                                                    \
    M(validate_idle_negative, "validate_idle_ms", MYAPPCTX_EINVAL, cfg->validate_idle_ms = -1) \
    M(reconnect_min_zero, "reconnect_min_ms", MYAPPCTX_EINVAL, cfg->reconnect_min_ms = 0)    \
    M(reconnect_max_below_min, "reconnect_max_ms", MYAPPCTX_EINVAL,                         \
      (cfg->reconnect_min_ms = 100, cfg->reconnect_max_ms = 99))                           \
    M(jitter_nan, "max_lifetime_jitter", MYAPPCTX_EINVAL, cfg->max_lifetime_jitter = NAN)    \
    M(jitter_negative, "max_lifetime_jitter", MYAPPCTX_EINVAL, cfg->max_lifetime_jitter = -0.1) \
    M(jitter_above_one, "max_lifetime_jitter", MYAPPCTX_EINVAL, cfg->max_lifetime_jitter = 1.1) \
    M(jitter_infinite, "max_lifetime_jitter", MYAPPCTX_EINVAL,                              \
      cfg->max_lifetime_jitter = INFINITY)                                                 \
    M(validation_99, "validation", MYAPPCTX_EINVAL,                                         \
      cfg->validation = (myappctx_pool_validation)99)                                      \
    M(validation_negative, "validation", MYAPPCTX_EINVAL,                                   \
      cfg->validation = (myappctx_pool_validation)-1)                                      \
    M(reset_99, "reset", MYAPPCTX_EINVAL, cfg->reset = (myappctx_pool_reset)99)              \
    M(hook_validation_without_hook, "on_acquire", MYAPPCTX_EINVAL,                          \
      cfg->validation = MYAPPCTX_POOL_VALIDATE_HOOK)                                       \
    M(hook_without_hook_validation, "on_acquire", MYAPPCTX_EINVAL, cfg->on_acquire = any_hook) \
    M(hook_reset_without_hook, "on_release", MYAPPCTX_EINVAL,                               \
      cfg->reset = MYAPPCTX_POOL_RESET_HOOK)                                               \
    M(release_hook_without_hook_reset, "on_release", MYAPPCTX_EINVAL,                       \
      cfg->on_release = any_hook)                                                          \
    M(conninfo_over_limit, "conninfo", MYAPPCTX_EINVAL, cfg->conninfo = CONNINFO_65537)      \
    M(conninfo_mib, "conninfo", MYAPPCTX_EINVAL, cfg->conninfo = CONNINFO_MIB)               \
    M(edges_accepted, NULL, MYAPPCTX_OK,                                                    \
      (cfg->min_size = 0, cfg->max_size = 1, cfg->max_waiters = 0,                         \
       cfg->acquire_timeout_ms = 0, cfg->max_lifetime_ms = 0, cfg->max_idle_ms = 0,        \
       cfg->health_check_period_ms = 0, cfg->validate_idle_ms = 0,                         \
       cfg->max_lifetime_jitter = 1.0, cfg->reconnect_min_ms = 1, cfg->reconnect_max_ms = 1, \
       cfg->leak_detection_ms = 0, cfg->ping_timeout_ms = 0))                              \
    M(conninfo_at_limit, NULL, MYAPPCTX_OK, cfg->conninfo = CONNINFO_65536)

static int any_hook(myappctx_conn *c, void *u) { return 0; }
/* A key-sized buffer: only its length is under test here. */
static const unsigned char KEY[MYAPPCTX_SEAL_KEY_MAX + 1];
static char *CONNINFO_65536, *CONNINFO_65537, *CONNINFO_MIB;

#define DEFINE_MUTATION(id, field, expected, stmt)                                          \
    static void mut_##id(myappctx_pool_config *cfg) { (void)(stmt); }
POOL_MUTATIONS(DEFINE_MUTATION)

static int
pool_with(void (*mutate)(myappctx_pool_config *), myappctx_error *err)
{
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = "user=app_service";
    cfg.min_size = 0;
    mutate(&cfg);
    myappctx_pool *pool = (myappctx_pool *)1;
    int rc = myappctx_pool_new(&pool, &cfg, err);
    if (rc == MYAPPCTX_OK)
        myappctx_pool_free(pool);
    else
        ck_assert_ptr_null(pool);
    return rc;
}

/* --------------------------------------------------- helpers for rows */

static int
run_nstmts(myappctx_conn *c, size_t n, myappctx_error *err)
{
    static myappctx_stmt many[MYAPPCTX_PIPELINE_MAX_STMTS + 1];
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        many[i] = STMT;
    return myappctx_run_in_context(c, &TCTX, many, n, NULL, err);
}

static int
run_nparams(myappctx_conn *c, int nparams, myappctx_error *err)
{
    static const char *params[1] = { "x" };
    myappctx_stmt s = { "SELECT 1", nparams, params };
    return myappctx_run_in_context(c, &TCTX, &s, 1, NULL, err);
}

static int
begin_nparams(myappctx_conn *c, int nparams, myappctx_error *err)
{
    static const char *params[1] = { "x" };
    myappctx_stmt s = { "SELECT 1", nparams, params };
    return myappctx_begin_in_context(c, &TCTX, &s, NULL, err);
}

static int
exec_nparams(myappctx_conn *c, int nparams, myappctx_error *err)
{
    static const char *params[1] = { "x" };
    return myappctx_exec(c, "SELECT 1", nparams, params, NULL, err);
}

static int
context_version(myappctx_conn *c, int version, myappctx_error *err)
{
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = U;
    ctx.version = version;
    return myappctx_context_set(c, &ctx, err);
}

static int
txn_version(myappctx_conn *c, int version, int begin, myappctx_error *err)
{
    myappctx_txn_context ctx = TCTX;
    ctx.version = version;
    return begin ? myappctx_begin_in_context(c, &ctx, &STMT, NULL, err)
                 : myappctx_run_in_context(c, &ctx, &STMT, 1, NULL, err);
}

static int
conn_version(int version, int wrap, myappctx_conn *c, myappctx_error *err)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.version = version;
    myappctx_conn *x = NULL;
    int rc = wrap ? myappctx_conn_wrap(&x, myappctx_conn_pg(c), &opts, err)
                  : myappctx_conn_open(&x, "user=app_service", &opts, err);
    myappctx_conn_close(x);
    return rc;
}

/* Sealed-mode key lengths: refused before connecting. */
static int
conn_key_len(size_t len, int wrap, myappctx_conn *c, myappctx_error *err)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.seal_key = KEY;
    opts.seal_key_len = len;
    myappctx_conn *x = NULL;
    int rc = wrap ? myappctx_conn_wrap(&x, myappctx_conn_pg(c), &opts, err)
                  : myappctx_conn_open(&x, "user=app_service", &opts, err);
    myappctx_conn_close(x);
    return rc;
}

/* A key's hex text of @n digits (plus @extra appended). */
static int
key_hex(size_t n, const char *extra, myappctx_error *err)
{
    char text[300];
    memset(text, 'a', n);
    snprintf(text + n, sizeof text - n, "%s", extra);
    unsigned char out[MYAPPCTX_SEAL_KEY_MAX];
    size_t len = 0;
    int rc = myappctx_seal_key_from_hex(out, &len, text, err);
    if (rc == MYAPPCTX_OK && len != n / 2)
        return -999;
    return rc;
}

static int
key_id_len(size_t len, myappctx_error *err)
{
    char id[MYAPPCTX_SEAL_KEY_ID_SIZE];
    return myappctx_seal_key_id(id, KEY, len, err);
}

static int
seal_status_version(myappctx_conn *c, int version, myappctx_error *err)
{
    myappctx_seal_status st = MYAPPCTX_SEAL_STATUS_INIT;
    st.version = version;
    return myappctx_seal_status_get(c, &st, err);
}

static int
schema_version(myappctx_conn *c, int version, myappctx_error *err)
{
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.version = version;
    return myappctx_schema_install(c, &opts, NULL, err);
}

static int
stats_version(int version)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    st.version = version;
    int rc = myappctx_pool_stats_get(pool, &st);
    myappctx_pool_free(pool);
    return rc;
}

static int
resize(int min, int max, myappctx_error *err)
{
    myappctx_pool *pool = tu_pool_one();
    int rc = myappctx_pool_resize(pool, min, max, err);
    myappctx_pool_free(pool);
    return rc;
}

/* A rate-limit check with a user context in a transaction (rolled back). */
static int
rate(myappctx_conn *c, int max_requests, int window, myappctx_error *err)
{
    myappctx_error e = { 0 };
    tu_assert_ok(myappctx_begin(c, &e), e);
    tu_assert_ok(myappctx_context_set_local(c, &U, NULL, NULL, &e), e);
    int rc = myappctx_rate_limit_check(c, "hx_numbers", max_requests, window, err);
    tu_assert_ok(myappctx_rollback(c, &e), e);
    return rc;
}

static int
migration(myappctx_schema_kind kind, size_t index, myappctx_error *err)
{
    myappctx_migration m;
    memset(&m, 0xab, sizeof m);
    int rc = myappctx_schema_migration_get(kind, index, &m, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_int_eq(m.version, (int)0xabababab);
    return rc;
}

/* ------------------------------------------------------------ the table */

/* X(id, what, expected, needle, needs_txn_for_trace, expression) */
#define NUMBER_ROWS(X)                                                                         \
    X(exec_nparams_neg, "myappctx_exec nparams -1", MYAPPCTX_EINVAL, "parameters", exec_nparams(c, -1, err)) \
    X(exec_nparams_min, "myappctx_exec nparams INT_MIN", MYAPPCTX_EINVAL, "parameters", exec_nparams(c, INT_MIN, err)) \
    X(exec_nparams_big, "myappctx_exec nparams 65536", MYAPPCTX_EINVAL, "parameters", exec_nparams(c, 65536, err)) \
    X(run_n0, "myappctx_run_in_context nstmts 0", MYAPPCTX_EINVAL, "nstmts", run_nstmts(c, 0, err)) \
    X(run_n_over, "myappctx_run_in_context nstmts MAX+1", MYAPPCTX_EINVAL, "nstmts",          \
      run_nstmts(c, MYAPPCTX_PIPELINE_MAX_STMTS + 1, err))                                     \
    X(run_n_sizemax, "myappctx_run_in_context nstmts SIZE_MAX", MYAPPCTX_EINVAL, "nstmts",    \
      myappctx_run_in_context(c, &TCTX, &STMT, SIZE_MAX, NULL, err))                          \
    X(run_n_max, "myappctx_run_in_context nstmts MAX (accepted)", MYAPPCTX_OK, NULL,          \
      run_nstmts(c, MYAPPCTX_PIPELINE_MAX_STMTS, err))                                         \
    X(run_nparams_neg, "myappctx_run_in_context stmts[0].nparams -1", MYAPPCTX_EINVAL, "stmts[0]", \
      run_nparams(c, -1, err))                                                                 \
    X(run_nparams_big, "myappctx_run_in_context stmts[0].nparams 65536", MYAPPCTX_EINVAL,     \
      "stmts[0]", run_nparams(c, 65536, err))                                                  \
    X(bic_nparams_neg, "myappctx_begin_in_context first->nparams -1", MYAPPCTX_EINVAL,        \
      "stmts[0]", begin_nparams(c, -1, err))                                                   \
    X(ctx_version_0, "myappctx_context_set ctx->version 0", MYAPPCTX_EINVAL, "version",       \
      context_version(c, 0, err))                                                              \
    X(ctx_version_2, "myappctx_context_set ctx->version 2", MYAPPCTX_EINVAL, "version",       \
      context_version(c, 2, err))                                                              \
    X(ctx_version_min, "myappctx_context_set ctx->version INT_MIN", MYAPPCTX_EINVAL, "version", \
      context_version(c, INT_MIN, err))                                                        \
    X(run_version, "myappctx_run_in_context ctx->version 1", MYAPPCTX_EINVAL, "version",      \
      txn_version(c, 1, 0, err))                                                               \
    X(bic_version, "myappctx_begin_in_context ctx->version 0", MYAPPCTX_EINVAL, "version",    \
      txn_version(c, 0, 1, err))                                                               \
    X(open_version, "myappctx_conn_open opts->version 1", MYAPPCTX_EINVAL, "version",         \
      conn_version(1, 0, c, err))                                                              \
    X(open_version_2, "myappctx_conn_open opts->version 2", MYAPPCTX_EINVAL, "version",       \
      conn_version(2, 0, c, err))                                                              \
    X(wrap_version, "myappctx_conn_wrap opts->version 0", MYAPPCTX_EINVAL, "version",         \
      conn_version(0, 1, c, err))                                                              \
    X(open_version_3, "myappctx_conn_open opts->version 3 (before seal_key)", MYAPPCTX_EINVAL, \
      "version", conn_version(3, 0, c, err))                                                   \
    X(open_version_next, "myappctx_conn_open opts->version next", MYAPPCTX_EINVAL, "version", \
      conn_version(MYAPPCTX_CONN_OPTIONS_VERSION + 1, 0, c, err))                              \
    X(open_key_31, "myappctx_conn_open opts->seal_key_len 31", MYAPPCTX_EINVAL, "seal_key_len", \
      conn_key_len(31, 0, c, err))                                                             \
    X(open_key_65, "myappctx_conn_open opts->seal_key_len 65", MYAPPCTX_EINVAL, "seal_key_len", \
      conn_key_len(65, 0, c, err))                                                             \
    X(open_key_0, "myappctx_conn_open opts->seal_key_len 0", MYAPPCTX_EINVAL, "seal_key_len", \
      conn_key_len(0, 0, c, err))                                                              \
    X(wrap_key_max, "myappctx_conn_wrap opts->seal_key_len SIZE_MAX", MYAPPCTX_EINVAL,        \
      "seal_key_len", conn_key_len(SIZE_MAX, 1, c, err))                                       \
    X(hex_63, "myappctx_seal_key_from_hex 63 digits", MYAPPCTX_EINVAL, "hex", key_hex(63, "", err)) \
    X(hex_62, "myappctx_seal_key_from_hex 62 digits", MYAPPCTX_EINVAL, "hex", key_hex(62, "", err)) \
    X(hex_129, "myappctx_seal_key_from_hex 129 digits", MYAPPCTX_EINVAL, "hex", key_hex(129, "", err)) \
    X(hex_130, "myappctx_seal_key_from_hex 130 digits", MYAPPCTX_EINVAL, "hex", key_hex(130, "", err)) \
    X(hex_other, "myappctx_seal_key_from_hex 64 digits and 'g'", MYAPPCTX_EINVAL, "hex",      \
      key_hex(64, "g", err))                                                                   \
    X(hex_inner_space, "myappctx_seal_key_from_hex space inside", MYAPPCTX_EINVAL, "hex",     \
      key_hex(64, " aa", err))                                                                 \
    X(hex_64, "myappctx_seal_key_from_hex 64 digits and a newline (accepted)", MYAPPCTX_OK,   \
      NULL, key_hex(64, "\n", err))                                                            \
    X(hex_128, "myappctx_seal_key_from_hex 128 digits (accepted)", MYAPPCTX_OK, NULL,         \
      key_hex(128, "", err))                                                                   \
    X(key_id_31, "myappctx_seal_key_id key_len 31", MYAPPCTX_EINVAL, "key_len",               \
      key_id_len(31, err))                                                                     \
    X(key_id_65, "myappctx_seal_key_id key_len 65", MYAPPCTX_EINVAL, "key_len",               \
      key_id_len(65, err))                                                                     \
    X(seal_status_version, "myappctx_seal_status_get out->version 2", MYAPPCTX_EINVAL,        \
      "version", seal_status_version(c, 2, err))                                               \
    X(schema_version, "myappctx_schema_install opts->version 2", MYAPPCTX_EINVAL, "version",  \
      schema_version(c, 2, err))                                                               \
    X(stats_version, "myappctx_pool_stats_get out->version 1", MYAPPCTX_EINVAL, NULL,         \
      stats_version(1))                                                                        \
    X(stats_version_3, "myappctx_pool_stats_get out->version 3", MYAPPCTX_EINVAL, NULL,       \
      stats_version(3))                                                                        \
    X(idle_zero, "myappctx_conn_cleanup_idle 0 s", MYAPPCTX_EINVAL, "idle_timeout_seconds", \
      myappctx_conn_cleanup_idle(c, 0, NULL, err))                                       \
    X(idle_neg, "myappctx_conn_cleanup_idle -1 s", MYAPPCTX_EINVAL, "idle_timeout_seconds", \
      myappctx_conn_cleanup_idle(c, -1, NULL, err))                                      \
    X(idle_min, "myappctx_conn_cleanup_idle LONG_MIN s", MYAPPCTX_EINVAL,               \
      "idle_timeout_seconds", myappctx_conn_cleanup_idle(c, LONG_MIN, NULL, err))        \
    X(idle_over, "myappctx_conn_cleanup_idle 2^31 s", MYAPPCTX_EINVAL,                  \
      "idle_timeout_seconds", myappctx_conn_cleanup_idle(c, 2147483648L, NULL, err))     \
    X(idle_max, "myappctx_conn_cleanup_idle LONG_MAX s", MYAPPCTX_EINVAL,               \
      "idle_timeout_seconds", myappctx_conn_cleanup_idle(c, LONG_MAX, NULL, err))        \
    X(idle_edge, "myappctx_conn_cleanup_idle 2^31-1 s (accepted)", MYAPPCTX_OK, NULL,   \
      myappctx_conn_cleanup_idle(c, 2147483647L, NULL, err))                             \
    X(rl_cleanup_zero, "myappctx_rate_limit_cleanup 0 s", MYAPPCTX_EINVAL, "older_than_seconds", \
      myappctx_rate_limit_cleanup(c, 0, NULL, err))                                            \
    X(rl_cleanup_max, "myappctx_rate_limit_cleanup LONG_MAX s", MYAPPCTX_EINVAL,              \
      "older_than_seconds", myappctx_rate_limit_cleanup(c, LONG_MAX, NULL, err))               \
    X(rl_max_neg, "myappctx_rate_limit_check max_requests -1", MYAPPCTX_EINVAL, "max_requests", \
      myappctx_rate_limit_check(c, "a", -1, 60, err))                                          \
    X(rl_max_min, "myappctx_rate_limit_check max_requests INT_MIN", MYAPPCTX_EINVAL,          \
      "max_requests", myappctx_rate_limit_check(c, "a", INT_MIN, 60, err))                     \
    X(rl_window_zero, "myappctx_rate_limit_check window_seconds 0", MYAPPCTX_EINVAL,          \
      "window_seconds", myappctx_rate_limit_check(c, "a", 1, 0, err))                          \
    X(rl_window_min, "myappctx_rate_limit_check window_seconds INT_MIN", MYAPPCTX_EINVAL,     \
      "window_seconds", myappctx_rate_limit_check(c, "a", 1, INT_MIN, err))                    \
    X(rl_edges, "myappctx_rate_limit_check INT_MAX requests per INT_MAX s (accepted)",        \
      MYAPPCTX_OK, NULL, rate(c, INT_MAX, INT_MAX, err))                                       \
    X(rl_zero_max, "myappctx_rate_limit_check 0 requests (refuses all)", MYAPPCTX_ERATELIMIT, \
      NULL, rate(c, 0, 60, err))                                                               \
    X(resize_min_neg, "myappctx_pool_resize min -1", MYAPPCTX_EINVAL, "min_size", resize(-1, 1, err)) \
    X(resize_max_zero, "myappctx_pool_resize max 0", MYAPPCTX_EINVAL, "max_size", resize(0, 0, err)) \
    X(resize_min_above, "myappctx_pool_resize min 2 > max 1", MYAPPCTX_EINVAL, "min_size",    \
      resize(2, 1, err))                                                                       \
    X(mig_index, "myappctx_schema_migration_get index = count", MYAPPCTX_EINVAL, "out of range", \
      migration(MYAPPCTX_SCHEMA_CORE, myappctx_schema_migration_count(MYAPPCTX_SCHEMA_CORE), err)) \
    X(mig_index_max, "myappctx_schema_migration_get index SIZE_MAX", MYAPPCTX_EINVAL,         \
      "out of range", migration(MYAPPCTX_SCHEMA_DEMO, SIZE_MAX, err))                          \
    X(mig_kind, "myappctx_schema_migration_get kind 99", MYAPPCTX_EINVAL, "kind",             \
      migration((myappctx_schema_kind)99, 0, err))                                             \
    X(mig_kind_neg, "myappctx_schema_migration_get kind -1", MYAPPCTX_EINVAL, "kind",         \
      migration((myappctx_schema_kind)-1, 0, err))                                             \
    X(mig_count_kind, "myappctx_schema_migration_count kind 99 is 0", 0, NULL,                \
      (int)myappctx_schema_migration_count((myappctx_schema_kind)99))                          \
    X(sqlstate_empty, "myappctx_status_from_sqlstate \"\"", MYAPPCTX_EINVAL, NULL,            \
      myappctx_status_from_sqlstate(""))                                                       \
    X(sqlstate_short, "myappctx_status_from_sqlstate \"P005\"", MYAPPCTX_EINVAL, NULL,        \
      myappctx_status_from_sqlstate("P005"))                                                   \
    X(sqlstate_long, "myappctx_status_from_sqlstate \"P00500\"", MYAPPCTX_EINVAL, NULL,       \
      myappctx_status_from_sqlstate("P00500"))                                                 \
    X(sqlstate_bytes, "myappctx_status_from_sqlstate 5 bytes of 0xFF", MYAPPCTX_ESERVER, NULL, \
      myappctx_status_from_sqlstate("\xff\xff\xff\xff\xff"))                                   \
    X(strerror_min, "myappctx_strerror INT_MIN", 0, NULL,                                     \
      strcmp(myappctx_strerror(INT_MIN), "unknown error code"))                                \
    X(strerror_pos, "myappctx_strerror 12345", 0, NULL,                                       \
      strcmp(myappctx_strerror(12345), "unknown error code"))

#define DEFINE_ROW(id, what, expected, needle, expr)                                          \
    static int row_##id(myappctx_conn *c, myappctx_error *err) { (void)c; return (expr); }
NUMBER_ROWS(DEFINE_ROW)

#define DEFINE_POOL_ROW(id, field, expected, stmt)                                             \
    static int row_pool_##id(myappctx_conn *c, myappctx_error *err) { return pool_with(mut_##id, err); }
POOL_MUTATIONS(DEFINE_POOL_ROW)

typedef struct number_row {
    const char *what;
    int expected;
    const char *needle;
    int (*call)(myappctx_conn *, myappctx_error *);
} number_row;

#define TABLE_ROW(id, what, expected, needle, expr) { what, expected, needle, row_##id },
#define TABLE_POOL_ROW(id, field, expected, stmt)                                              \
    { "myappctx_pool_new cfg: " #id, expected, field, row_pool_##id },
static const number_row rows[] = { NUMBER_ROWS(TABLE_ROW) POOL_MUTATIONS(TABLE_POOL_ROW) };
#define NROWS (sizeof rows / sizeof rows[0])

START_TEST(number_rows)
{
    const number_row *r = &rows[_i];
    tu_random_uuid(&U, NULL);
    myappctx_txn_context t = MYAPPCTX_TXN_CONTEXT_INIT;
    t.user_id = &U;
    TCTX = t;
    /* At the limit, and one libpq can parse (pool_new checks that too). */
    CONNINFO_65536 = tu_repeat('x', 65536);
    static const char at_limit_prefix[] = "user=app_service application_name=";
    memcpy(CONNINFO_65536, at_limit_prefix, sizeof at_limit_prefix - 1);
    CONNINFO_65537 = tu_repeat('x', 65537);
    CONNINFO_MIB = tu_repeat('x', TU_MIB);
    myappctx_conn *c = tu_connect();     /* schema_install needs it */
    myappctx_error err = { 0 };
    tu_trace trace = tu_trace_start(c);
    int rc = r->call(c, &err);
    long sent = tu_trace_stop(trace);
    if (r->expected < 0 && r->needle != NULL) {
        tu_expect_row(r->what, rc, r->expected, err, r->needle);
    } else {
        ck_assert_msg(rc == r->expected, "%s: got %d (%s), expected %d", r->what, rc,
                      err.message, r->expected);
    }
    if (r->expected == MYAPPCTX_EINVAL)
        ck_assert_msg(sent == 0, "%s: refused but %ld bytes of traffic", r->what, sent);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    free(CONNINFO_65536);
    free(CONNINFO_65537);
    free(CONNINFO_MIB);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hostile numbers");
    TCase *tc = tcase_create("numbers");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, number_rows, 0, NROWS);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
