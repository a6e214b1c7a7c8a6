/* Failover-aware pooling against the one throwaway server: a pool whose
 * conninfo asks for a primary (target_session_attrs) closes a connection
 * whose statement failed with 25006 or that became read-only, and a ping
 * gives up on a server that hangs -- here a backend frozen with SIGSTOP
 * (its kernel still accepts what we send; nothing ever answers).  The
 * in_hot_standby decision itself is tests/unit/test_observe.c's (the
 * harness has no standby). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static const char RW[] = "user=app_service target_session_attrs=read-write";
static const char PRIMARY[] = "user=app_service target_session_attrs=primary";

/* The pool's evict events, by reason. */
struct evicts {
    pthread_mutex_t mu;
    int by_reason[16];
};

static void
on_evict(void *ud, const myappctx_trace_evict *ev)
{
    struct evicts *e = ud;
    pthread_mutex_lock(&e->mu);
    if (ev->reason > 0 && ev->reason < 16)
        e->by_reason[ev->reason]++;
    pthread_mutex_unlock(&e->mu);
}

static int
evicted_for(struct evicts *e, myappctx_evict_reason reason)
{
    pthread_mutex_lock(&e->mu);
    int n = e->by_reason[reason];
    pthread_mutex_unlock(&e->mu);
    return n;
}

static myappctx_tracer
evict_tracer(struct evicts *e)
{
    myappctx_tracer t = MYAPPCTX_TRACER_INIT;
    t.userdata = e;
    t.on_evict = on_evict;
    return t;
}

static const myappctx_stmt READ_ONLY_WRITE[2] = {
    { "SELECT set_config('transaction_read_only', 'on', true)", 0, NULL },
    { "CREATE TEMP TABLE failover_probe (i int)", 0, NULL },
};

/* 25006 in a unit: closed at release when the pool wants a primary, kept
 * otherwise (a READ ONLY transaction's write on a pool that does not care). */
START_TEST(read_only_failure_in_a_unit)
{
    static const struct { const char *conninfo; int closed; } rows[] = {
        { RW, 1 }, { PRIMARY, 1 }, { TU_APP_CONNINFO, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct evicts e = { PTHREAD_MUTEX_INITIALIZER, { 0 } };
        myappctx_tracer t = evict_tracer(&e);
        myappctx_pool_config cfg = tu_pool_config(rows[i].conninfo, 1, 1);
        cfg.tracer = &t;
        myappctx_pool *pool = tu_pool_start(&cfg);
        myappctx_conn *c = tu_pool_acquire(pool);
        int pid = tu_backend_pid(c);
        myappctx_uuid user;
        tu_random_uuid(&user, NULL);
        myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
        ctx.user_id = &user;
        myappctx_error err;
        tu_expect_state_row(rows[i].conninfo,
                            myappctx_run_in_context(c, &ctx, READ_ONLY_WRITE, 2, NULL, &err),
                            MYAPPCTX_ESERVER, err, "25006");
        myappctx_pool_release(pool, c);
        myappctx_pool_stats st = tu_pool_stats(pool);
        ck_assert_msg(st.discarded == (uint64_t)rows[i].closed, "%s: discarded %llu",
                      rows[i].conninfo, (unsigned long long)st.discarded);
        ck_assert_int_eq(evicted_for(&e, MYAPPCTX_EVICT_NOT_PRIMARY), rows[i].closed);
        c = tu_pool_acquire(pool);
        ck_assert_msg((tu_backend_pid(c) != pid) == rows[i].closed, "%s: pid", rows[i].conninfo);
        /* The next borrower's unit works (and a kept one is not closed later). */
        myappctx_stmt ok = { "SELECT 1", 0, NULL };
        tu_assert_ok(myappctx_run_in_context(c, &ctx, &ok, 1, NULL, &err), err);
        myappctx_pool_release(pool, c);
        ck_assert_uint_eq(tu_pool_stats(pool).discarded, (uint64_t)rows[i].closed);
        myappctx_pool_free(pool);
    }
}
END_TEST

/* The same through myappctx_exec() in a transaction of the caller's. */
START_TEST(read_only_failure_in_a_statement)
{
    myappctx_pool_config cfg = tu_pool_config(RW, 1, 1);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    myappctx_error err;
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_exec(c, "SET TRANSACTION READ ONLY", 0, NULL);
    tu_expect_state(myappctx_exec(c, READ_ONLY_WRITE[1].sql, 0, NULL, NULL, &err),
                    MYAPPCTX_ESERVER, err, "25006");
    myappctx_pool_release(pool, c);          /* closed, not reset for reuse */
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.discarded, 1);
    ck_assert_uint_eq(st.resets, 0);
    c = tu_pool_acquire(pool);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

/* default_transaction_read_only=on (what a demoted primary reports by
 * itself): read-write refuses it, primary does not (as libpq). */
START_TEST(read_only_by_default)
{
    static const struct { const char *conninfo; int closed; } rows[] = {
        { RW, 1 }, { PRIMARY, 0 }, { TU_APP_CONNINFO, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        myappctx_pool_config cfg = tu_pool_config(rows[i].conninfo, 1, 1);
        myappctx_pool *pool = tu_pool_start(&cfg);
        myappctx_conn *c = tu_pool_acquire(pool);
        int pid = tu_backend_pid(c);
        tu_exec(c, "SET default_transaction_read_only = on", 0, NULL);
        ck_assert_str_eq(PQparameterStatus(myappctx_conn_pg(c), "default_transaction_read_only"),
                         "on");
        myappctx_pool_release(pool, c);
        ck_assert_msg(tu_pool_stats(pool).discarded == (uint64_t)rows[i].closed, "%s",
                      rows[i].conninfo);
        c = tu_pool_acquire(pool);
        ck_assert_msg((tu_backend_pid(c) != pid) == rows[i].closed, "%s: pid", rows[i].conninfo);
        myappctx_pool_release(pool, c);
        myappctx_pool_free(pool);
    }
}
END_TEST

/* ---- a backend that hangs ------------------------------------------------ */

/* SIGSTOPs @pid, and forks a watchdog that SIGCONTs it after 60 s whatever
 * happens to this test (Check runs it in a child that may die on a failed
 * assertion); thaw() does it at once and stops the watchdog. */
static pid_t
freeze(int pid)
{
    pid_t dog = fork();
    ck_assert_int_ge(dog, 0);
    if (dog == 0) {
        sleep(60);
        kill(pid, SIGCONT);
        _exit(0);
    }
    if (kill(pid, SIGSTOP) != 0)
        ck_abort_msg("cannot SIGSTOP backend %d: %s (the test must run as root or as the "
                     "server's user)", pid, strerror(errno));
    return dog;
}

static void
thaw(int pid, pid_t dog)
{
    kill(pid, SIGCONT);
    kill(dog, SIGKILL);
    waitpid(dog, NULL, 0);
}

/* The background thread's health check gives up within ping_timeout_ms,
 * counts the connection lost and opens another. */
START_TEST(health_check_gives_up_on_a_frozen_backend)
{
    struct evicts e = { PTHREAD_MUTEX_INITIALIZER, { 0 } };
    myappctx_tracer t = evict_tracer(&e);
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.tracer = &t;
    cfg.health_check_period_ms = 50;
    cfg.ping_timeout_ms = 300;
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    myappctx_pool_release(pool, c);          /* touched: the check runs the deferred reset */

    pid_t dog = freeze(pid);
    TU_EVENTUALLY(tu_pool_stats(pool).lost == 1, 30000, "the frozen connection given up");
    ck_assert_int_eq(evicted_for(&e, MYAPPCTX_EVICT_PING_TIMEOUT), 1);
    TU_EVENTUALLY(tu_pool_stats(pool).idle == 1, 30000, "a new connection");
    c = tu_pool_acquire(pool);
    ck_assert_int_ne(tu_backend_pid(c), pid);
    tu_expect_value(c, "SELECT 'alive'", 0, NULL, "alive");
    myappctx_pool_release(pool, c);
    thaw(pid, dog);
    myappctx_pool_free(pool);
    TU_EVENTUALLY(!tu_backend_alive(pid), 20000, "the thawed backend ends");
}
END_TEST

/* PING validation at acquire: the acquirer is not held up beyond
 * ping_timeout_ms and gets a new connection within its own timeout. */
START_TEST(validation_gives_up_on_a_frozen_backend)
{
    struct evicts e = { PTHREAD_MUTEX_INITIALIZER, { 0 } };
    myappctx_tracer t = evict_tracer(&e);
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.tracer = &t;
    cfg.validation = MYAPPCTX_POOL_VALIDATE_PING;
    cfg.validate_idle_ms = 0;
    cfg.ping_timeout_ms = 300;
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    myappctx_pool_release(pool, c);

    pid_t dog = freeze(pid);
    c = tu_pool_acquire(pool);
    ck_assert_int_ne(tu_backend_pid(c), pid);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.lost, 1);
    ck_assert_uint_eq(st.discarded, 0);
    ck_assert_int_eq(evicted_for(&e, MYAPPCTX_EVICT_PING_TIMEOUT), 1);
    myappctx_pool_release(pool, c);
    thaw(pid, dog);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool_failover");
    TCase *tc = tcase_create("pool_failover");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, read_only_failure_in_a_unit);
    tcase_add_test(tc, read_only_failure_in_a_statement);
    tcase_add_test(tc, read_only_by_default);
    tcase_add_test(tc, health_check_gives_up_on_a_frozen_backend);
    tcase_add_test(tc, validation_gives_up_on_a_frozen_backend);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
