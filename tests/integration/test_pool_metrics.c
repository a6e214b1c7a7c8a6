/* myappctx_pool_metrics_write() on a pool under load (a few threads for
 * about a second, with queueing and timeouts), checked by Prometheus' own
 * linter: `promtool check metrics` (Debian package prometheus), and against
 * the stats it was written from. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

enum { THREADS = 4 };

struct load {
    myappctx_pool *pool;
    uint64_t until_ns;
    int units, timeouts, errors;
    char last_error[MYAPPCTX_ERROR_MESSAGE_SIZE];
};

static void *
load_main(void *arg)
{
    struct load *l = arg;
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt st = { "SELECT pg_sleep(0.002)", 0, NULL };
    for (int i = 0; tu_now_ns() < l->until_ns; i++) {
        myappctx_conn *c;
        myappctx_error err;
        /* Every 10th acquire does not wait: some of them time out. */
        int rc = myappctx_pool_acquire(l->pool, &c, i % 10 == 9 ? 0 : 10000, &err);
        if (rc == MYAPPCTX_ETIMEOUT) {
            l->timeouts++;
            continue;
        }
        if (rc == MYAPPCTX_OK)
            rc = myappctx_run_in_context(c, &ctx, &st, 1, NULL, &err);
        if (rc == MYAPPCTX_OK)
            l->units++;
        else {
            l->errors++;
            snprintf(l->last_error, sizeof l->last_error, "%s", err.message);
        }
        myappctx_pool_release(l->pool, c);
    }
    return NULL;
}

/* The value of the sample @prefix... (a whole metric name and labels). */
static double
value_of(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    ck_assert_msg(p != NULL, "no sample %s", prefix);
    return strtod(p + strlen(prefix), NULL);
}

/* The one complaint the OpenTelemetry name of the connection count earns
 * (lib/pool/export.c): anything else fails the test. */
static const char KNOWN_LINT[] =
    "db_client_connection_count non-histogram and non-summary metrics should not have "
    "\"_count\" suffix";

static void
promtool_check(const char *path)
{
    FILE *which = popen("command -v promtool", "r");
    char found[512] = "";
    ck_assert_ptr_nonnull(which);
    if (fgets(found, sizeof found, which) == NULL)
        found[0] = '\0';
    pclose(which);
    ck_assert_msg(found[0] != '\0',
                  "promtool not found: install the Debian package prometheus "
                  "(apt-get install --no-install-recommends prometheus; quickstart.sh does)");

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s' 2>&1; echo \"exit=$?\"", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char line[1024], unexpected[4096] = "";
    int status = -1, known = 0;
    while (fgets(line, sizeof line, p) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "exit=%d", &status) == 1)
            continue;
        if (strcmp(line, KNOWN_LINT) == 0)
            known++;
        else if (line[0] != '\0')
            snprintf(unexpected + strlen(unexpected), sizeof unexpected - strlen(unexpected),
                     "%s\n", line);
    }
    pclose(p);
    /* promtool: 0 clean, 3 lint problems only, anything else a parse error. */
    ck_assert_msg(unexpected[0] == '\0', "promtool check metrics (exit %d) says:\n%s", status,
                  unexpected);
    ck_assert_msg(status == 0 || (status == 3 && known == 1),
                  "promtool check metrics exited %d (%d known lint lines)", status, known);
}

START_TEST(exposition_under_load_passes_promtool)
{
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 3);
    myappctx_pool *pool = tu_pool_start(&cfg);
    struct load l[THREADS];
    pthread_t th[THREADS];
    uint64_t until = tu_now_ns() + 1000000000u;
    for (int i = 0; i < THREADS; i++) {
        memset(&l[i], 0, sizeof l[i]);
        l[i].pool = pool;
        l[i].until_ns = until;
        pthread_create(&th[i], NULL, load_main, &l[i]);
    }
    /* Written while the load runs, too: a scrape does not wait for quiet. */
    char *buf = malloc(65536);
    ck_assert_ptr_nonnull(buf);
    myappctx_error err;
    size_t len;
    tu_sleep_ms(300);
    tu_assert_ok(myappctx_pool_metrics_write(pool, buf, 65536, &len, "under load", &err), err);
    int units = 0, timeouts = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(l[i].errors == 0, "%d errors, last: %s", l[i].errors, l[i].last_error);
        units += l[i].units;
        timeouts += l[i].timeouts;
    }
    ck_assert_int_gt(units, 0);

    char dir[] = "/tmp/myappctx-metrics.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/during.prom", dir);
    FILE *f = fopen(path, "w");
    fwrite(buf, 1, len, f);
    fclose(f);
    promtool_check(path);

    /* After the load: the figures match the stats exactly. */
    tu_assert_ok(myappctx_pool_metrics_write(pool, buf, 65536, &len, "under load", &err), err);
    myappctx_pool_stats st = tu_pool_stats(pool);
    snprintf(path, sizeof path, "%s/after.prom", dir);
    f = fopen(path, "w");
    fwrite(buf, 1, len, f);
    fclose(f);
    promtool_check(path);
    ck_assert_uint_eq(st.timeouts, (uint64_t)timeouts);
    ck_assert_uint_eq(st.acquires, (uint64_t)units);
    static const char L[] = "{pool_name=\"under load\"} ";
    char name[128];
#define SAMPLE(metric) (snprintf(name, sizeof name, "%s%s", metric, L), value_of(buf, name))
    ck_assert_uint_eq((uint64_t)SAMPLE("db_client_connection_timeouts_total"), st.timeouts);
    ck_assert_uint_eq((uint64_t)SAMPLE("db_client_connection_wait_time_seconds_count"),
                      st.acquires);
    ck_assert_uint_eq((uint64_t)SAMPLE("db_client_connection_use_time_seconds_count"),
                      st.use_time.count);
    ck_assert_uint_eq((uint64_t)SAMPLE("db_client_connection_create_time_seconds_count"),
                      st.created);
    ck_assert_uint_eq((uint64_t)SAMPLE("db_client_connection_pending_requests"), 0);
    ck_assert_uint_eq((uint64_t)SAMPLE("db_client_connection_max"), 3);
    ck_assert_uint_eq((uint64_t)SAMPLE("myappctx_pool_acquires_total"), st.acquires);
#undef SAMPLE
    ck_assert_uint_eq(
        (uint64_t)value_of(buf, "db_client_connection_count{pool_name=\"under load\",state=\"used\"} "),
        0);
    ck_assert_uint_eq(
        (uint64_t)value_of(buf, "db_client_connection_count{pool_name=\"under load\",state=\"idle\"} "),
        (uint64_t)st.size);
    /* +Inf is the count; the sum is the stats' (in seconds). */
    ck_assert_uint_eq((uint64_t)value_of(buf, "db_client_connection_use_time_seconds_bucket"
                                              "{pool_name=\"under load\",le=\"+Inf\"} "),
                      st.use_time.count);
    double sum = value_of(buf, "db_client_connection_wait_time_seconds_sum{pool_name=\"under load\"} ");
    ck_assert_msg(sum * 1e6 > (double)st.acquire_wait.sum_us - 1 &&
                      sum * 1e6 < (double)st.acquire_wait.sum_us + 1,
                  "wait sum %.6f s, stats %llu us", sum, (unsigned long long)st.acquire_wait.sum_us);

    unlink(path);
    snprintf(path, sizeof path, "%s/during.prom", dir);
    unlink(path);
    rmdir(dir);
    free(buf);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool_metrics");
    TCase *tc = tcase_create("pool_metrics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exposition_under_load_passes_promtool);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
