/* Broken, old and idle connections: backends killed while idle or borrowed
 * are detected and replaced; lifetime and idle eviction; the pool recovers
 * by itself when the server (here: the database) comes back. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static int
contains(const int *pids, int n, int pid)
{
    for (int i = 0; i < n; i++)
        if (pids[i] == pid)
            return 1;
    return 0;
}

START_TEST(killed_idle_connections_found_by_health_check)
{
    enum { N = 3 };
    myappctx_pool_config cfg = tu_pool_config("", N, N);
    cfg.health_check_period_ms = 20;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c[N];
    int pids[N];
    for (int i = 0; i < N; i++) {
        c[i] = tu_pool_acquire(pool);
        pids[i] = tu_backend_pid(c[i]);
    }
    for (int i = 0; i < N; i++)
        myappctx_pool_release(pool, c[i]);
    for (int i = 0; i < N; i++)
        tu_kill_backend(pids[i]);

    TU_EVENTUALLY(tu_pool_stats(pool).lost >= N && tu_pool_stats(pool).idle == N, 20000,
                  "dead connections found and replaced");
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.lost, N);
    ck_assert_uint_eq(st.created, 2 * N);
    for (int i = 0; i < N; i++) {
        c[i] = tu_pool_acquire(pool);
        ck_assert_msg(!contains(pids, N, tu_backend_pid(c[i])), "got a killed backend");
        tu_expect_value(c[i], "SELECT 'alive'", 0, NULL, "alive");
    }
    for (int i = 0; i < N; i++)
        myappctx_pool_release(pool, c[i]);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(killed_idle_connections_found_by_ping_validation)
{
    myappctx_pool_config cfg = tu_pool_config("", 2, 2);
    cfg.validation = MYAPPCTX_POOL_VALIDATE_PING;
    cfg.validate_idle_ms = 0;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *a = tu_pool_acquire(pool), *b = tu_pool_acquire(pool);
    int pids[2] = { tu_backend_pid(a), tu_backend_pid(b) };
    myappctx_pool_release(pool, a);
    myappctx_pool_release(pool, b);
    tu_kill_backend(pids[0]);
    tu_kill_backend(pids[1]);

    /* Both idle ones fail their ping; the acquirer waits for a new one. */
    a = tu_pool_acquire(pool);
    ck_assert_msg(!contains(pids, 2, tu_backend_pid(a)), "got a killed backend");
    tu_expect_value(a, "SELECT 'alive'", 0, NULL, "alive");
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.lost, 2);
    ck_assert_uint_eq(st.discarded, 0);
    ck_assert_uint_eq(st.acquires, 3);
    myappctx_pool_release(pool, a);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(ping_validation_waits_for_the_idle_threshold)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.validation = MYAPPCTX_POOL_VALIDATE_PING;
    cfg.validate_idle_ms = 600000;      /* never due in this test */
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    myappctx_pool_release(pool, c);
    tu_kill_backend(pid);

    /* No round trip on the fast path, so the dead one is lent out; its first
     * use (the reset deferred from the release) finds it dead... */
    c = tu_pool_acquire(pool);
    myappctx_error err;
    tu_assert_rc(myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_ECONNECT, err);
    ck_assert_int_eq(tu_backend_pid(c), 0);
    /* ...and counted as lost when it comes back. */
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).lost, 1);
    c = tu_pool_acquire(pool);
    ck_assert_int_ne(tu_backend_pid(c), pid);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(killed_while_borrowed)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_kill_backend(pid);
    tu_assert_rc(myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_ECONNECT, err);
    ck_assert_int_eq(myappctx_pool_release(pool, c), MYAPPCTX_OK);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.lost, 1);
    ck_assert_uint_eq(st.resets, 0);
    ck_assert_int_eq(st.in_use, 0);

    c = tu_pool_acquire(pool);
    ck_assert_int_ne(tu_backend_pid(c), pid);
    tu_expect_value(c, "SELECT 'replaced'", 0, NULL, "replaced");
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).created, 2);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(max_lifetime_evicts_idle_and_returned_connections)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.max_lifetime_ms = 100;
    cfg.max_lifetime_jitter = 0.0;
    myappctx_pool *pool = tu_pool_new(&cfg);

    /* Idle: replaced in the background. */
    myappctx_conn *c = tu_pool_acquire(pool);
    int first = tu_backend_pid(c);
    myappctx_pool_release(pool, c);
    TU_EVENTUALLY(tu_pool_stats(pool).evicted >= 1 && tu_pool_stats(pool).idle == 1, 20000,
                  "old idle connection replaced");
    TU_EVENTUALLY(!tu_backend_alive(first), 10000, "old backend closed");

    /* Borrowed: never taken away, closed when it comes back too old. */
    c = tu_pool_acquire(pool);
    int second = tu_backend_pid(c);
    ck_assert_int_ne(second, first);
    tu_sleep_ms(150);                   /* outlive max_lifetime while borrowed */
    tu_expect_value(c, "SELECT 'still usable'", 0, NULL, "still usable");
    myappctx_pool_stats before = tu_pool_stats(pool);
    myappctx_pool_release(pool, c);
    myappctx_pool_stats after = tu_pool_stats(pool);
    ck_assert_uint_eq(after.evicted, before.evicted + 1);
    ck_assert_uint_eq(after.resets, before.resets);   /* no point resetting it */
    TU_EVENTUALLY(!tu_backend_alive(second), 10000, "expired backend closed");
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(idle_connections_above_min_are_evicted)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 3);
    cfg.max_idle_ms = 30;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = tu_pool_acquire(pool);
    for (int i = 0; i < 3; i++)
        myappctx_pool_release(pool, c[i]);
    TU_EVENTUALLY(tu_pool_stats(pool).size == 1, 20000, "shrunk to min_size");
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.evicted, 2);
    ck_assert_int_eq(st.idle, 1);
    /* min_size is a floor: the last one stays however long it idles. */
    tu_sleep_ms(150);
    ck_assert_int_eq(tu_pool_stats(pool).size, 1);
    ck_assert_uint_eq(tu_pool_stats(pool).evicted, 2);
    myappctx_pool_free(pool);
}
END_TEST

static void
database_name(char *buf, size_t len, const char *prefix)
{
    char u[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, u);
    snprintf(buf, len, "%s_%ld_%.8s", prefix, (long)getpid(), u);
}

/* Test-only DDL on a name we generated ourselves (letters, digits, _). */
static void
database_ddl(const char *verb, const char *name, const char *suffix)
{
    char sql[200];
    snprintf(sql, sizeof sql, "%s DATABASE %s%s", verb, name, suffix);
    myappctx_conn *su = tu_connect();
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}

START_TEST(recovers_when_the_server_comes_back)
{
    char name[80], conninfo[120];
    database_name(name, sizeof name, "pool_recover");
    snprintf(conninfo, sizeof conninfo, "dbname=%s", name);
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 2);
    cfg.init_connection = 0;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;

    /* A missing database is not cured by waiting: reported at once, with
     * its SQLSTATE, while the pool keeps retrying in the background. */
    tu_expect_state(myappctx_pool_acquire(pool, &c, 20000, &err), MYAPPCTX_ECONNECT, err, "3D000");
    ck_assert_msg(strstr(err.message, "does not exist") != NULL, "%s", err.message);
    uint64_t errors = tu_pool_stats(pool).errors;
    ck_assert_uint_ge(errors, 1);

    /* Once it exists, the first successful connect ends the refusals. */
    database_ddl("CREATE", name, "");
    TU_EVENTUALLY(myappctx_pool_wait_ready(pool, 100, &err) == MYAPPCTX_OK, 20000,
                  "the pool connects once the database exists");
    c = tu_pool_acquire(pool);
    tu_expect_value(c, "SELECT current_database()", 0, NULL, name);
    myappctx_pool_release(pool, c);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_ge(st.errors, errors);
    ck_assert_uint_eq(st.created, 1);
    myappctx_pool_free(pool);
    database_ddl("DROP", name, " WITH (FORCE)");
}
END_TEST

static char probe_key[] = "pool_probe";

START_TEST(failing_init_connection_is_retried_until_the_schema_exists)
{
    char name[80], conninfo[120];
    database_name(name, sizeof name, "pool_noschema");
    snprintf(conninfo, sizeof conninfo, "dbname=%s", name);
    database_ddl("CREATE", name, "");
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);   /* default on_connect */
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;

    tu_assert_rc(myappctx_pool_acquire(pool, &c, 200, &err), MYAPPCTX_ETIMEOUT, err);
    ck_assert_msg(strstr(err.message, "api.init_connection()") != NULL, "%s", err.message);
    ck_assert_uint_ge(tu_pool_stats(pool).errors, 1);     /* and retried: it recovers below */
    ck_assert_uint_eq(tu_pool_stats(pool).created, 0);

    /* Install the schema and one setting: the pool recovers on its own. */
    myappctx_conn *su = tu_connect_opts(conninfo, NULL);
    tu_assert_ok(myappctx_schema_install(su, NULL, NULL, &err), err);
    const char *kv[] = { probe_key, "v1" };
    tu_exec(su, "SELECT api.set_app_setting($1, $2)", 2, kv);

    c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    tu_expect_value(c, "SELECT current_setting('myapp.pool_probe')", 0, NULL, "v1");
    tu_expect_value(c, "SELECT current_setting('TimeZone')", 0, NULL, "UTC");
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *pp[] = { p };
    tu_expect_value(su, "SELECT count(*) FROM data.connection_log WHERE backend_pid = $1::int", 1, pp,
                    "1");

    /* The targeted reset loads the settings again: fresh values, and the
     * borrower's own change is gone. */
    tu_exec(c, "SELECT set_config('myapp.pool_probe', 'changed by borrower', false)", 0, NULL);
    const char *kv2[] = { probe_key, "v2" };
    tu_exec(su, "SELECT api.set_app_setting($1, $2)", 2, kv2);
    myappctx_pool_release(pool, c);
    c = tu_pool_acquire(pool);
    ck_assert_int_eq(tu_backend_pid(c), pid);
    tu_expect_value(c, "SELECT current_setting('myapp.pool_probe')", 0, NULL, "v2");
    tu_expect_value(c, "SELECT current_setting('TimeZone')", 0, NULL, "UTC");
    myappctx_pool_release(pool, c);

    myappctx_conn_close(su);
    myappctx_pool_free(pool);
    database_ddl("DROP", name, " WITH (FORCE)");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool_health");
    TCase *tc = tcase_create("pool_health");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, killed_idle_connections_found_by_health_check);
    tcase_add_test(tc, killed_idle_connections_found_by_ping_validation);
    tcase_add_test(tc, ping_validation_waits_for_the_idle_threshold);
    tcase_add_test(tc, killed_while_borrowed);
    tcase_add_test(tc, max_lifetime_evicts_idle_and_returned_connections);
    tcase_add_test(tc, idle_connections_above_min_are_evicted);
    tcase_add_test(tc, recovers_when_the_server_comes_back);
    tcase_add_test(tc, failing_init_connection_is_retried_until_the_schema_exists);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
