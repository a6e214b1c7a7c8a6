/* Observability and failover pieces that need no server: the decision
 * "not the primary the pool wants", the conninfo's target_session_attrs,
 * histogram buckets, reason names, the new configuration checks and the
 * Prometheus text of a pool that never connected. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"
#include "testutil.h"

START_TEST(unwanted_mirrors_libpq)
{
    static const struct {
        int want;
        const char *standby, *read_only;
        int unwanted;
    } rows[] = {
        /* anything goes */
        { MXI_FAILOVER_ANY, "on", "on", 0 },
        { MXI_FAILOVER_ANY, NULL, NULL, 0 },
        /* primary: only hot standby counts */
        { MXI_FAILOVER_PRIMARY, "on", "off", 1 },
        { MXI_FAILOVER_PRIMARY, "off", "on", 0 },
        { MXI_FAILOVER_PRIMARY, "off", "off", 0 },
        { MXI_FAILOVER_PRIMARY, NULL, NULL, 0 },     /* server < 14 reports neither */
        /* read-write: hot standby or read-only by default */
        { MXI_FAILOVER_READ_WRITE, "on", "off", 1 },
        { MXI_FAILOVER_READ_WRITE, "off", "on", 1 },
        { MXI_FAILOVER_READ_WRITE, "on", "on", 1 },
        { MXI_FAILOVER_READ_WRITE, "off", "off", 0 },
        { MXI_FAILOVER_READ_WRITE, NULL, "off", 0 },
        { MXI_FAILOVER_READ_WRITE, "ON", "yes", 0 },  /* the server reports exactly "on" */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ck_assert_msg(mxi_failover_unwanted(rows[i].want, rows[i].standby, rows[i].read_only) ==
                          rows[i].unwanted,
                      "row %zu: want=%d in_hot_standby=%s default_transaction_read_only=%s",
                      i, rows[i].want, rows[i].standby ? rows[i].standby : "(none)",
                      rows[i].read_only ? rows[i].read_only : "(none)");
}
END_TEST

START_TEST(target_session_attrs_from_conninfo)
{
    static const struct { const char *conninfo; int want; } rows[] = {
        { "", MXI_FAILOVER_ANY },
        { "host=a,b port=5432,5433", MXI_FAILOVER_ANY },
        { "host=a,b target_session_attrs=read-write", MXI_FAILOVER_READ_WRITE },
        { "host=a,b target_session_attrs=primary", MXI_FAILOVER_PRIMARY },
        { "host=a,b target_session_attrs=any", MXI_FAILOVER_ANY },
        { "host=a,b target_session_attrs=standby", MXI_FAILOVER_ANY },
        { "postgresql://a:1,b:2/db?target_session_attrs=read-write", MXI_FAILOVER_READ_WRITE },
        { "postgres://a,b/db?target_session_attrs=primary&connect_timeout=2", MXI_FAILOVER_PRIMARY },
        { "this is not a conninfo", MXI_FAILOVER_ANY },   /* the connect says why */
    };
    unsetenv("PGTARGETSESSIONATTRS");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
        myappctx_error err;
        int want = -1;
        cfg.conninfo = rows[i].conninfo;
        tu_assert_ok(mxi_failover_check(&cfg, &want, &err), err);
        ck_assert_msg(want == rows[i].want, "%s: want %d, got %d", rows[i].conninfo,
                      rows[i].want, want);
    }
    /* As libpq: the environment when the conninfo does not say. */
    setenv("PGTARGETSESSIONATTRS", "primary", 1);
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    myappctx_error err;
    int want = -1;
    cfg.conninfo = "host=a,b";
    tu_assert_ok(mxi_failover_check(&cfg, &want, &err), err);
    ck_assert_int_eq(want, MXI_FAILOVER_PRIMARY);
    cfg.conninfo = "host=a,b target_session_attrs=any";
    tu_assert_ok(mxi_failover_check(&cfg, &want, &err), err);
    ck_assert_int_eq(want, MXI_FAILOVER_ANY);
    unsetenv("PGTARGETSESSIONATTRS");
}
END_TEST

START_TEST(histogram_buckets_are_upper_bounds)
{
    static const uint64_t bounds[] = MYAPPCTX_POOL_HISTOGRAM_BOUNDS_US;
    ck_assert_uint_eq(sizeof bounds / sizeof bounds[0], MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1);
    myappctx_pool_histogram h;
    memset(&h, 0, sizeof h);
    mxi_metrics_add_locked(&h, 0);
    mxi_metrics_add_locked(&h, 10);          /* le 10 */
    mxi_metrics_add_locked(&h, 11);          /* le 50 */
    mxi_metrics_add_locked(&h, 1000);        /* le 1000 */
    mxi_metrics_add_locked(&h, 5000000);     /* le 5 s, the last bound */
    mxi_metrics_add_locked(&h, 5000001);     /* +Inf */
    ck_assert_uint_eq(h.count, 6);
    ck_assert_uint_eq(h.sum_us, 0 + 10 + 11 + 1000 + 5000000 + 5000001);
    ck_assert_uint_eq(h.buckets[0], 2);
    ck_assert_uint_eq(h.buckets[1], 1);
    ck_assert_uint_eq(h.buckets[4], 1);
    ck_assert_uint_eq(h.buckets[11], 1);
    ck_assert_uint_eq(h.buckets[12], 1);
    uint64_t total = 0;
    for (int i = 0; i < MYAPPCTX_POOL_HISTOGRAM_BUCKETS; i++)
        total += h.buckets[i];
    ck_assert_uint_eq(total, h.count);
}
END_TEST

START_TEST(reason_names)
{
    static const struct { myappctx_evict_reason r; const char *name; } rows[] = {
        { MYAPPCTX_EVICT_LIFETIME, "lifetime" },   { MYAPPCTX_EVICT_IDLE, "idle" },
        { MYAPPCTX_EVICT_RESIZE, "resize" },       { MYAPPCTX_EVICT_BROKEN, "broken" },
        { MYAPPCTX_EVICT_PING_TIMEOUT, "ping_timeout" },
        { MYAPPCTX_EVICT_REFUSED, "refused" },     { MYAPPCTX_EVICT_RESET_FAILED, "reset_failed" },
        { MYAPPCTX_EVICT_UNUSABLE, "unusable" },   { MYAPPCTX_EVICT_NOT_PRIMARY, "not_primary" },
        { MYAPPCTX_EVICT_CLOSED, "closed" },       { (myappctx_evict_reason)0, "unknown" },
        { (myappctx_evict_reason)99, "unknown" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ck_assert_str_eq(myappctx_trace_reason_name(rows[i].r), rows[i].name);
}
END_TEST

/* The refusals are in tests/integration/test_pool.c with the other fields. */
START_TEST(new_config_and_stats_defaults)
{
    /* The defaults of the new fields. */
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    ck_assert_ptr_null(cfg.tracer);
    ck_assert_int_eq(cfg.leak_detection_ms, 0);
    ck_assert_int_eq(cfg.ping_timeout_ms, 5000);
    ck_assert_ptr_null(cfg.seal_key);          /* version 4: sealed mode */
    ck_assert_uint_eq(cfg.seal_key_len, 0);
    ck_assert_int_eq(cfg.version, 4);
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    ck_assert_int_eq(st.version, 2);
    ck_assert_uint_eq(st.create_time.count, 0);
}
END_TEST

/* A pool that never connects (min_size 0, nobody acquires): its text is
 * complete, sized by out_len, and refuses a buffer that is too small. */
START_TEST(metrics_text_of_an_idle_pool)
{
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.min_size = 0;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    size_t len = 0;
    tu_expect(myappctx_pool_metrics_write(pool, NULL, 0, &len, "p", &err), MYAPPCTX_EINVAL, err,
              "needs");
    ck_assert_uint_gt(len, 1000);
    char *buf = malloc(len + 1);
    size_t len2 = 0;
    tu_assert_ok(myappctx_pool_metrics_write(pool, buf, len + 1, &len2, "p", &err), err);
    ck_assert_uint_eq(len2, len);
    ck_assert_uint_eq(strlen(buf), len);
    static const char *const lines[] = {
        "# TYPE db_client_connection_count gauge\n",
        "db_client_connection_count{pool_name=\"p\",state=\"idle\"} 0\n",
        "db_client_connection_count{pool_name=\"p\",state=\"used\"} 0\n",
        "db_client_connection_max{pool_name=\"p\"} 10\n",
        "db_client_connection_pending_requests{pool_name=\"p\"} 0\n",
        "# TYPE db_client_connection_timeouts_total counter\n",
        "# TYPE db_client_connection_wait_time_seconds histogram\n",
        "db_client_connection_wait_time_seconds_bucket{pool_name=\"p\",le=\"0.00001\"} 0\n",
        "db_client_connection_wait_time_seconds_bucket{pool_name=\"p\",le=\"0.5\"} 0\n",
        "db_client_connection_wait_time_seconds_bucket{pool_name=\"p\",le=\"5\"} 0\n",
        "db_client_connection_wait_time_seconds_bucket{pool_name=\"p\",le=\"+Inf\"} 0\n",
        "db_client_connection_wait_time_seconds_sum{pool_name=\"p\"} 0\n",
        "db_client_connection_use_time_seconds_count{pool_name=\"p\"} 0\n",
        "db_client_connection_create_time_seconds_count{pool_name=\"p\"} 0\n",
        "myappctx_pool_leaks_total{pool_name=\"p\"} 0\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        ck_assert_msg(strstr(buf, lines[i]) != NULL, "missing: %s", lines[i]);
    /* A buffer one byte short: as much as fits, NUL-terminated. */
    tu_expect(myappctx_pool_metrics_write(pool, buf, len, &len2, "p", &err), MYAPPCTX_EINVAL, err,
              "needs");
    ck_assert_uint_eq(len2, len);
    ck_assert_uint_eq(strlen(buf), len - 1);

    /* The label is escaped; a bad one is refused. */
    char big[16384];
    tu_assert_ok(myappctx_pool_metrics_write(pool, big, sizeof big, NULL, "a\"b\\c\nd", &err), err);
    ck_assert_msg(strstr(big, "pool_name=\"a\\\"b\\\\c\\nd\"") != NULL, "escaped label");
    tu_expect(myappctx_pool_metrics_write(pool, big, sizeof big, NULL, "", &err), MYAPPCTX_EINVAL,
              err, "'pool_name'");
    tu_expect(myappctx_pool_metrics_write(pool, big, sizeof big, NULL, NULL, &err), MYAPPCTX_EINVAL,
              err, "'pool_name'");
    tu_expect(myappctx_pool_metrics_write(pool, big, sizeof big, NULL, "\xff", &err),
              MYAPPCTX_EINVAL, err, "'pool_name'");
    tu_expect(myappctx_pool_metrics_write(pool, NULL, 10, NULL, "p", &err), MYAPPCTX_EINVAL, err,
              "'buf'");
    free(buf);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("observe");
    TCase *tc = tcase_create("observe");
    tcase_add_test(tc, unwanted_mirrors_libpq);
    tcase_add_test(tc, target_session_attrs_from_conninfo);
    tcase_add_test(tc, histogram_buckets_are_upper_bounds);
    tcase_add_test(tc, reason_names);
    tcase_add_test(tc, new_config_and_stats_defaults);
    tcase_add_test(tc, metrics_text_of_an_idle_pool);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
