/* The pool's core API against a real server: configuration checks,
 * acquire/release, release-time rollback and reset, timeouts, FIFO order,
 * the waiter cap, close, free and resize. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ------------------------------------------------------------ config */

static void
expect_bad_config(const myappctx_pool_config *cfg, const char *field)
{
    myappctx_pool *pool = (myappctx_pool *)0x1;
    myappctx_error err;
    int rc = myappctx_pool_new(&pool, cfg, &err);
    tu_assert_rc(rc, MYAPPCTX_EINVAL, err);
    ck_assert_ptr_null(pool);
    ck_assert_msg(strstr(err.message, field) != NULL, "'%s' not named in: %s", field,
                  err.message);
}

static int
ok_hook(myappctx_conn *conn, void *ud)
{
    (void)conn;
    (void)ud;
    return 0;
}

START_TEST(config_is_validated_field_by_field)
{
    myappctx_pool_config base = tu_pool_config("", 0, 2), c;
    myappctx_pool *pool;
    myappctx_error err;

    ck_assert_int_eq(myappctx_pool_new(NULL, &base, &err), MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "out") != NULL, "%s", err.message);
    expect_bad_config(NULL, "cfg");
    c = base; c.version = 1;                       expect_bad_config(&c, "version");
    c = base; c.version = 2;                       expect_bad_config(&c, "version");
    c = base; c.version = MYAPPCTX_POOL_CONFIG_VERSION + 1; expect_bad_config(&c, "version");
    c = base; c.conninfo = NULL;                   expect_bad_config(&c, "conninfo");
    c = base; c.min_size = -1;                     expect_bad_config(&c, "min_size");
    c = base; c.max_size = 0;                      expect_bad_config(&c, "max_size");
    c = base; c.min_size = 3;                      expect_bad_config(&c, "min_size");
    c = base; c.max_waiters = -1;                  expect_bad_config(&c, "max_waiters");
    c = base; c.acquire_timeout_ms = -1;           expect_bad_config(&c, "acquire_timeout_ms");
    c = base; c.max_lifetime_ms = -5;              expect_bad_config(&c, "max_lifetime_ms");
    c = base; c.max_idle_ms = -1;                  expect_bad_config(&c, "max_idle_ms");
    c = base; c.health_check_period_ms = -1;       expect_bad_config(&c, "health_check_period_ms");
    c = base; c.validate_idle_ms = -1;             expect_bad_config(&c, "validate_idle_ms");
    c = base; c.max_lifetime_jitter = -0.1;        expect_bad_config(&c, "max_lifetime_jitter");
    c = base; c.max_lifetime_jitter = 1.5;         expect_bad_config(&c, "max_lifetime_jitter");
    c = base; c.max_lifetime_jitter = 0.0 / 0.0;   expect_bad_config(&c, "max_lifetime_jitter");
    c = base; c.reconnect_min_ms = 0;              expect_bad_config(&c, "reconnect_min_ms");
    c = base; c.reconnect_max_ms = 1;              expect_bad_config(&c, "reconnect_max_ms");
    c = base; c.validation = (myappctx_pool_validation)7;  expect_bad_config(&c, "validation");
    c = base; c.reset = (myappctx_pool_reset)-1;            expect_bad_config(&c, "reset");
    c = base; c.validation = MYAPPCTX_POOL_VALIDATE_HOOK;   expect_bad_config(&c, "on_acquire");
    c = base; c.on_acquire = ok_hook;                       expect_bad_config(&c, "on_acquire");
    c = base; c.reset = MYAPPCTX_POOL_RESET_HOOK;           expect_bad_config(&c, "on_release");
    c = base; c.on_release = ok_hook;                       expect_bad_config(&c, "on_release");
    myappctx_tracer bad_tracer = MYAPPCTX_TRACER_INIT;
    bad_tracer.version = 0;
    c = base; c.tracer = &bad_tracer;              expect_bad_config(&c, "tracer");
    c = base; c.leak_detection_ms = -1;            expect_bad_config(&c, "leak_detection_ms");
    c = base; c.ping_timeout_ms = -1;              expect_bad_config(&c, "ping_timeout_ms");

    /* Oversized conninfo: refused before anything is allocated. */
    size_t n = 70000;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    c = base; c.conninfo = big;                    expect_bad_config(&c, "conninfo");
    free(big);

    /* The defaults themselves are valid, and the edges are accepted. */
    myappctx_pool_config d = MYAPPCTX_POOL_CONFIG_INIT;
    d.min_size = 0;
    tu_assert_ok(myappctx_pool_new(&pool, &d, &err), err);
    myappctx_pool_free(pool);
    c = base; c.max_lifetime_jitter = 1.0; c.acquire_timeout_ms = 0; c.max_size = 1;
    tu_assert_ok(myappctx_pool_new(&pool, &c, &err), err);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(null_and_foreign_arguments)
{
    myappctx_pool_config cfg = tu_pool_config("", 0, 2);
    myappctx_pool *pool = tu_pool_new(&cfg), *other = tu_pool_new(&cfg);
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;

    tu_assert_rc(myappctx_pool_acquire(NULL, &c, 0, &err), MYAPPCTX_EINVAL, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.message, "pool") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_pool_acquire(pool, NULL, 0, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "out") != NULL, "%s", err.message);

    c = tu_pool_acquire(pool);
    ck_assert_int_eq(myappctx_pool_release(NULL, c), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_pool_release(pool, NULL), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_pool_release(other, c), MYAPPCTX_EINVAL);   /* wrong pool */
    myappctx_conn *plain = tu_connect();
    ck_assert_int_eq(myappctx_pool_release(pool, plain), MYAPPCTX_EINVAL); /* never pooled */
    myappctx_conn_close(plain);
    ck_assert_int_eq(myappctx_pool_release(pool, c), MYAPPCTX_OK);
    ck_assert_int_eq(myappctx_pool_release(pool, c), MYAPPCTX_EINVAL);   /* twice: still idle */
    ck_assert_int_eq(tu_pool_stats(pool).idle, 1);

    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    ck_assert_int_eq(myappctx_pool_stats_get(NULL, &st), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_pool_stats_get(pool, NULL), MYAPPCTX_EINVAL);
    st.version = 0;
    ck_assert_int_eq(myappctx_pool_stats_get(pool, &st), MYAPPCTX_EINVAL);
    tu_assert_rc(myappctx_pool_resize(NULL, 0, 1, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_pool_wait_ready(NULL, 0, &err), MYAPPCTX_EINVAL, err);
    myappctx_pool_close(NULL);
    myappctx_pool_free(NULL);
    myappctx_pool_free(other);
    myappctx_pool_free(pool);
}
END_TEST

/* ------------------------------------------------------ acquire/release */

START_TEST(acquire_release_and_stats)
{
    myappctx_pool_config cfg = tu_pool_config("", 2, 3);
    myappctx_pool *pool = tu_pool_start(&cfg);

    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_int_eq(st.size, 2);
    ck_assert_int_eq(st.idle, 2);
    ck_assert_int_eq(st.in_use, 0);
    ck_assert_int_eq(st.min_size, 2);
    ck_assert_int_eq(st.max_size, 3);
    ck_assert_uint_eq(st.created, 2);
    ck_assert_uint_eq(st.acquires, 0);

    myappctx_conn *a = tu_pool_acquire(pool), *b = tu_pool_acquire(pool);
    ck_assert_ptr_ne(a, b);
    ck_assert_int_ne(tu_backend_pid(a), tu_backend_pid(b));
    ck_assert_int_eq(myappctx_conn_is_txn_pooler(a), 0);
    tu_expect_value(a, "SELECT 40 + 2", 0, NULL, "42");
    st = tu_pool_stats(pool);
    ck_assert_int_eq(st.in_use, 2);
    ck_assert_int_eq(st.idle, 0);
    ck_assert_uint_eq(st.acquires, 2);

    /* A third one is opened on demand, up to max_size. */
    myappctx_conn *c = tu_pool_acquire(pool);
    st = tu_pool_stats(pool);
    ck_assert_int_eq(st.size, 3);
    ck_assert_uint_eq(st.created, 3);
    ck_assert_uint_ge(st.acquire_wait_max_us, 1);
    ck_assert_uint_ge(st.acquire_wait_total_us, st.acquire_wait_max_us);

    ck_assert_int_eq(myappctx_pool_release(pool, a), MYAPPCTX_OK);
    ck_assert_int_eq(myappctx_pool_release(pool, b), MYAPPCTX_OK);
    ck_assert_int_eq(myappctx_pool_release(pool, c), MYAPPCTX_OK);
    st = tu_pool_stats(pool);
    ck_assert_int_eq(st.in_use, 0);
    ck_assert_int_eq(st.idle, 3);
    ck_assert_uint_eq(st.resets, 2);          /* a ran SQL, b had raw access (pid), c nothing */
    ck_assert_uint_eq(st.timeouts + st.rejected + st.errors + st.lost + st.discarded +
                      st.evicted, 0);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(untouched_connection_needs_no_reset)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    ck_assert_int_eq(myappctx_pool_release(pool, c), MYAPPCTX_OK);
    ck_assert_uint_eq(tu_pool_stats(pool).resets, 0);

    c = tu_pool_acquire(pool);
    tu_exec(c, "SELECT 1", 0, NULL);
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).resets, 1);

    /* Raw libpq access counts as use: the caller may have changed anything. */
    c = tu_pool_acquire(pool);
    ck_assert_ptr_nonnull(myappctx_conn_pg(c));
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).resets, 2);

    c = tu_pool_acquire(pool);
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).resets, 2);
    ck_assert_uint_eq(tu_pool_stats(pool).created, 1);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(release_rolls_back_open_and_failed_transactions)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    char id[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, id);
    const char *p[] = { id };

    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_exec(c, "CREATE TEMP TABLE pool_rollback_probe (v text)", 0, NULL);
    tu_exec(c, "SELECT set_config('myapp.current_user_id', $1, true)", 1, p);
    myappctx_pool_release(pool, c);

    c = tu_pool_acquire(pool);
    ck_assert_int_eq(tu_backend_pid(c), pid);                 /* same backend, clean state */
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    tu_expect_value(c, "SELECT to_regclass('pg_temp.pool_rollback_probe') IS NULL", 0, NULL, "t");
    tu_expect_value(c, "SELECT NULLIF(current_setting('myapp.current_user_id', true), '')", 0, NULL,
                    NULL);

    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), MYAPPCTX_OK);
    ck_assert_int_eq(PQtransactionStatus(myappctx_conn_pg(c)), PQTRANS_INERROR);
    myappctx_pool_release(pool, c);

    c = tu_pool_acquire(pool);
    ck_assert_int_eq(tu_backend_pid(c), pid);
    tu_expect_value(c, "SELECT 'usable'", 0, NULL, "usable");
    myappctx_pool_release(pool, c);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.resets, 3);
    ck_assert_uint_eq(st.discarded + st.lost, 0);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(targeted_reset_clears_context_role_and_keeps_other_state)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    char user[MYAPPCTX_UUID_BUFSIZE], tenant[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, user);
    tu_random_uuid(NULL, tenant);
    const char *p[] = { user, tenant, "it's; a \\ \"session\"\nid" };

    myappctx_conn *c = tu_pool_acquire(pool);
    char *appname = tu_value(c, "SELECT current_setting('application_name')", 0, NULL);
    tu_exec(c, "SELECT api.set_context($1::uuid, $2::uuid, 'user', $3)", 3, p);
    tu_expect_value(c, "SELECT current_setting('myapp.session_id')", 0, NULL, p[2]);
    tu_exec(c, "SELECT set_config('myapp.unknown_to_schema', 'kept', false)", 0, NULL);
    tu_exec(c, "SET ROLE app_service", 0, NULL);
    tu_expect_value(c, "SELECT current_user", 0, NULL, "app_service");
    myappctx_pool_release(pool, c);

    c = tu_pool_acquire(pool);
    tu_expect_value(c, "SELECT current_user = session_user", 0, NULL, "t");
    tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, NULL);
    tu_expect_value(c, "SELECT api.get_context()->>'session_id'", 0, NULL, NULL);
    tu_expect_value(c, "SELECT current_setting('application_name')", 0, NULL, appname);
    free(appname);
    /* Targeted means targeted: a variable the schema does not know stays. */
    tu_expect_value(c, "SELECT current_setting('myapp.unknown_to_schema', true)", 0, NULL, "kept");
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(discard_all_reset_drops_all_session_state)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.reset = MYAPPCTX_POOL_RESET_DISCARD_ALL;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    char user[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, user);
    const char *p[] = { user };

    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    tu_exec(c, "SELECT api.set_context($1::uuid)", 1, p);
    tu_exec(c, "SELECT set_config('myapp.unknown_to_schema', 'gone', false)", 0, NULL);
    tu_exec(c, "PREPARE pool_probe AS SELECT 1", 0, NULL);
    tu_assert_ok(myappctx_begin(c, &err), err);   /* rolled back before DISCARD ALL */
    myappctx_pool_release(pool, c);

    c = tu_pool_acquire(pool);
    ck_assert_int_eq(tu_backend_pid(c), pid);
    tu_expect_value(c, "SELECT NULLIF(current_setting('myapp.current_user_id', true), '')", 0, NULL,
                    NULL);
    tu_expect_value(c, "SELECT NULLIF(current_setting('myapp.unknown_to_schema', true), '')", 0,
                    NULL, NULL);
    tu_expect_value(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL, "0");
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).resets, 2);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(pending_results_and_pipeline_mode_are_discarded)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);

    myappctx_conn *c = tu_pool_acquire(pool);
    int pid1 = tu_backend_pid(c);
    ck_assert_int_eq(PQsendQuery(myappctx_conn_pg(c), "SELECT pg_sleep(0)"), 1);
    myappctx_pool_release(pool, c);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.discarded, 1);

    c = tu_pool_acquire(pool);
    int pid2 = tu_backend_pid(c);
    ck_assert_int_ne(pid2, pid1);
    ck_assert_int_eq(PQenterPipelineMode(myappctx_conn_pg(c)), 1);
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).discarded, 2);

    c = tu_pool_acquire(pool);
    ck_assert_int_ne(tu_backend_pid(c), pid2);
    tu_expect_value(c, "SELECT 'fresh'", 0, NULL, "fresh");
    myappctx_pool_release(pool, c);
    st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.created, 3);
    ck_assert_uint_eq(st.lost, 0);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(conninfo_is_passed_verbatim)
{
    /* libpq quoting: \' and \\ inside a single-quoted value. */
    const char *conninfo = "application_name='it\\'s; a \\\\ name'";
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    tu_expect_value(c, "SELECT current_setting('application_name')", 0, NULL, "it's; a \\ name");
    tu_exec(c, "SET application_name = 'changed'", 0, NULL);
    myappctx_pool_release(pool, c);
    c = tu_pool_acquire(pool);
    /* clear_context() resets application_name to the connection's own. */
    tu_expect_value(c, "SELECT current_setting('application_name')", 0, NULL, "it's; a \\ name");
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

/* ------------------------------------------------------------ waiting */

START_TEST(acquire_times_out_with_pool_state)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *held = tu_pool_acquire(pool), *c = (myappctx_conn *)0x1;
    myappctx_error err;

    tu_assert_rc(myappctx_pool_acquire(pool, &c, 30, &err), MYAPPCTX_ETIMEOUT, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.message, "size=1 in_use=1 waiting=1 max=1") != NULL, "%s",
                  err.message);
    ck_assert_msg(strstr(err.message, "30 ms") != NULL, "%s", err.message);
    /* 0: do not wait at all. */
    tu_assert_rc(myappctx_pool_acquire(pool, &c, 0, &err), MYAPPCTX_ETIMEOUT, err);
    ck_assert_msg(strstr(err.message, "waiting=0") != NULL, "%s", err.message);

    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.timeouts, 2);
    ck_assert_int_eq(st.waiting, 0);
    ck_assert_uint_eq(st.acquires, 1);
    myappctx_pool_release(pool, held);
    c = tu_pool_acquire(pool);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

struct fifo_arg {
    myappctx_pool *pool;
    int index;
    int *order;
    int *next;
    pthread_mutex_t *mu;
    int rc;
};

static void *
fifo_waiter(void *p)
{
    struct fifo_arg *a = p;
    myappctx_conn *c;
    a->rc = myappctx_pool_acquire(a->pool, &c, 30000, NULL);
    if (a->rc != MYAPPCTX_OK)
        return NULL;
    pthread_mutex_lock(a->mu);
    a->order[(*a->next)++] = a->index;
    pthread_mutex_unlock(a->mu);
    myappctx_pool_release(a->pool, c);
    return NULL;
}

START_TEST(waiters_are_served_in_arrival_order)
{
    enum { N = 8 };
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *held = tu_pool_acquire(pool);
    pthread_t th[N];
    struct fifo_arg args[N];
    int order[N], next = 0;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

    for (int i = 0; i < N; i++) {
        args[i] = (struct fifo_arg){ pool, i, order, &next, &mu, -99 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, fifo_waiter, &args[i]), 0);
        /* The next thread starts only once this one is queued. */
        TU_EVENTUALLY(tu_pool_stats(pool).waiting == i + 1, 10000, "waiter queued");
    }
    myappctx_pool_release(pool, held);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].rc, MYAPPCTX_OK);
    }
    ck_assert_int_eq(next, N);
    for (int i = 0; i < N; i++)
        ck_assert_msg(order[i] == i, "served %d as number %d", order[i], i);
    ck_assert_uint_eq(tu_pool_stats(pool).created, 1);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(full_waiter_queue_is_refused_at_once)
{
    enum { N = 2 };
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.max_waiters = N;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *held = tu_pool_acquire(pool), *c = (myappctx_conn *)0x1;
    pthread_t th[N];
    struct fifo_arg args[N];
    int order[N], next = 0;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    myappctx_error err;

    for (int i = 0; i < N; i++) {
        args[i] = (struct fifo_arg){ pool, i, order, &next, &mu, -99 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, fifo_waiter, &args[i]), 0);
    }
    TU_EVENTUALLY(tu_pool_stats(pool).waiting == N, 10000, "waiters queued");
    /* A long timeout must not matter: the refusal is immediate. */
    tu_assert_rc(myappctx_pool_acquire(pool, &c, 600000, &err), MYAPPCTX_EFULL, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.message, "waiting=2") != NULL, "%s", err.message);
    ck_assert_uint_eq(tu_pool_stats(pool).rejected, 1);

    myappctx_pool_release(pool, held);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].rc, MYAPPCTX_OK);
    }
    myappctx_pool_free(pool);
}
END_TEST

/* ------------------------------------------------------- close / free */

START_TEST(close_while_borrowed)
{
    myappctx_pool_config cfg = tu_pool_config("", 2, 2);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_error err;
    myappctx_conn *c = tu_pool_acquire(pool), *d = (myappctx_conn *)0x1;
    int pid = tu_backend_pid(c);

    myappctx_pool_close(pool);
    myappctx_pool_close(pool);      /* idempotent */
    tu_assert_rc(myappctx_pool_acquire(pool, &d, 1000, &err), MYAPPCTX_ECLOSED, err);
    ck_assert_ptr_null(d);
    tu_assert_rc(myappctx_pool_resize(pool, 0, 5, &err), MYAPPCTX_ECLOSED, err);
    tu_assert_rc(myappctx_pool_wait_ready(pool, 1000, &err), MYAPPCTX_ECLOSED, err);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_int_eq(st.closed, 1);
    ck_assert_int_eq(st.size, 1);               /* the idle one is closed now */
    ck_assert_int_eq(st.idle, 0);

    tu_expect_value(c, "SELECT 'still mine'", 0, NULL, "still mine");
    ck_assert_int_eq(myappctx_pool_release(pool, c), MYAPPCTX_OK);
    st = tu_pool_stats(pool);
    ck_assert_int_eq(st.size, 0);
    ck_assert_int_eq(st.in_use, 0);
    ck_assert_uint_eq(st.resets, 0);            /* closed, not reset */
    TU_EVENTUALLY(!tu_backend_alive(pid), 10000, "returned connection closed");
    myappctx_pool_free(pool);
}
END_TEST

static void *
closed_waiter(void *p)
{
    struct fifo_arg *a = p;
    myappctx_conn *c = NULL;
    a->rc = myappctx_pool_acquire(a->pool, &c, 60000, NULL);
    return NULL;
}

START_TEST(close_wakes_waiters)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *held = tu_pool_acquire(pool);
    pthread_t th[3];
    struct fifo_arg args[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (struct fifo_arg){ .pool = pool, .rc = -99 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, closed_waiter, &args[i]), 0);
    }
    TU_EVENTUALLY(tu_pool_stats(pool).waiting == 3, 10000, "waiters queued");
    myappctx_pool_close(pool);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].rc, MYAPPCTX_ECLOSED);
    }
    ck_assert_int_eq(tu_pool_stats(pool).waiting, 0);
    myappctx_pool_release(pool, held);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(release_after_free_is_safe)
{
    myappctx_pool_config cfg = tu_pool_config("", 2, 2);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *a = tu_pool_acquire(pool), *b = tu_pool_acquire(pool);
    int pid = tu_backend_pid(a);
    myappctx_pool_free(pool);       /* memory stays until both come back */
    tu_expect_value(a, "SELECT 'after free'", 0, NULL, "after free");
    ck_assert_int_eq(myappctx_pool_release(pool, a), MYAPPCTX_OK);
    ck_assert_int_eq(myappctx_pool_release(pool, b), MYAPPCTX_OK);   /* the last frees it */
    TU_EVENTUALLY(!tu_backend_alive(pid), 10000, "connection closed");
}
END_TEST

/* -------------------------------------------------------------- resize */

START_TEST(resize_up_and_down)
{
    myappctx_pool_config cfg = tu_pool_config("", 0, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;

    tu_assert_rc(myappctx_pool_resize(pool, -1, 2, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "min_size") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_pool_resize(pool, 0, 0, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "max_size") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_pool_resize(pool, 3, 2, &err), MYAPPCTX_EINVAL, err);

    /* A waiter blocked by max_size=1 gets a new connection when it grows. */
    myappctx_conn *a = tu_pool_acquire(pool);
    pthread_t th;
    struct fifo_arg arg = { .pool = pool, .rc = -99 };
    int order[1], next = 0;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    arg.order = order;
    arg.next = &next;
    arg.mu = &mu;
    ck_assert_int_eq(pthread_create(&th, NULL, fifo_waiter, &arg), 0);
    TU_EVENTUALLY(tu_pool_stats(pool).waiting == 1, 10000, "waiter queued");
    tu_assert_ok(myappctx_pool_resize(pool, 3, 4, &err), err);
    pthread_join(th, NULL);
    ck_assert_int_eq(arg.rc, MYAPPCTX_OK);
    tu_assert_ok(myappctx_pool_wait_ready(pool, 20000, &err), err);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_int_ge(st.size, 3);
    ck_assert_int_eq(st.min_size, 3);
    ck_assert_int_eq(st.max_size, 4);

    /* Down: idle surplus closed now, borrowed surplus when returned. */
    myappctx_conn *b = tu_pool_acquire(pool), *c = tu_pool_acquire(pool);
    tu_assert_ok(myappctx_pool_resize(pool, 0, 1, &err), err);
    st = tu_pool_stats(pool);
    ck_assert_int_eq(st.idle, 0);
    ck_assert_int_eq(st.size, 3);
    myappctx_pool_release(pool, a);
    myappctx_pool_release(pool, b);
    st = tu_pool_stats(pool);
    ck_assert_int_eq(st.size, 1);
    ck_assert_int_eq(st.idle, 0);
    myappctx_pool_release(pool, c);
    st = tu_pool_stats(pool);
    ck_assert_int_eq(st.size, 1);
    ck_assert_int_eq(st.idle, 1);
    ck_assert_uint_ge(st.evicted, 2);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(unreachable_server_times_out_with_the_reason)
{
    myappctx_pool_config cfg = tu_pool_config("host=/nonexistent/pooltest port=1", 1, 2);
    myappctx_pool *pool = tu_pool_new(&cfg);      /* lazy: succeeds without a server */
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;

    tu_assert_rc(myappctx_pool_wait_ready(pool, 100, &err), MYAPPCTX_ETIMEOUT, err);
    ck_assert_msg(strstr(err.message, "0 of min_size 1") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "last connection error") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_pool_acquire(pool, &c, 100, &err), MYAPPCTX_ETIMEOUT, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.message, "/nonexistent/pooltest") != NULL, "%s", err.message);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_ge(st.errors, 2);            /* retried */
    ck_assert_uint_eq(st.created, 0);
    ck_assert_int_eq(st.size, 0);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, config_is_validated_field_by_field);
    tcase_add_test(tc, null_and_foreign_arguments);
    tcase_add_test(tc, acquire_release_and_stats);
    tcase_add_test(tc, untouched_connection_needs_no_reset);
    tcase_add_test(tc, release_rolls_back_open_and_failed_transactions);
    tcase_add_test(tc, targeted_reset_clears_context_role_and_keeps_other_state);
    tcase_add_test(tc, discard_all_reset_drops_all_session_state);
    tcase_add_test(tc, pending_results_and_pipeline_mode_are_discarded);
    tcase_add_test(tc, conninfo_is_passed_verbatim);
    tcase_add_test(tc, acquire_times_out_with_pool_state);
    tcase_add_test(tc, waiters_are_served_in_arrival_order);
    tcase_add_test(tc, full_waiter_queue_is_refused_at_once);
    tcase_add_test(tc, close_while_borrowed);
    tcase_add_test(tc, close_wakes_waiters);
    tcase_add_test(tc, release_after_free_is_safe);
    tcase_add_test(tc, resize_up_and_down);
    tcase_add_test(tc, unreachable_server_times_out_with_the_reason);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
