/* Pool hooks and the steps they replace: on_connect (and the default
 * api.init_connection() step), on_acquire and server-side validation,
 * on_release; refusals are counted, retried or replaced. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Hooks run in other threads (on_connect: the background thread). */
struct hook_state {
    pthread_mutex_t mu;
    int calls;
    int refuse_first;       /* refuse this many calls, then accept */
    int refuse_always;
    int open_txn_first;     /* leave a transaction open on the first call */
    int saw_txn;            /* a call found the connection inside a transaction */
    int run_clear;          /* on_release: run api.clear_context() */
};

#define HOOK_STATE_INIT { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0 }

static int
counting_hook(myappctx_conn *conn, void *ud)
{
    struct hook_state *h = ud;
    pthread_mutex_lock(&h->mu);
    int n = ++h->calls;
    if (myappctx_conn_in_transaction(conn))
        h->saw_txn = 1;
    pthread_mutex_unlock(&h->mu);
    if (h->run_clear &&
        myappctx_exec(conn, "SELECT api.clear_context()", 0, NULL, NULL, NULL) != MYAPPCTX_OK)
        return 2;
    if (myappctx_exec(conn, "SELECT set_config('myapp.hooked', 'yes', false)", 0, NULL, NULL,
                      NULL) != MYAPPCTX_OK)
        return 3;
    if (h->open_txn_first && n == 1)
        return myappctx_begin(conn, NULL) == MYAPPCTX_OK ? 0 : 4;
    return h->refuse_always || n <= h->refuse_first;
}

static int
hook_calls(struct hook_state *h)
{
    pthread_mutex_lock(&h->mu);
    int n = h->calls;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* A pool config (tu_pool_config("", @min, @max)) with counting_hook as
 * the given hook, and the mode that makes the pool call it. */
enum which_hook { ON_CONNECT, ON_ACQUIRE, ON_RELEASE };

static myappctx_pool_config
hook_config(struct hook_state *h, enum which_hook which, int min_size, int max_size)
{
    myappctx_pool_config cfg = tu_pool_config("", min_size, max_size);
    switch (which) {
    case ON_CONNECT:
        cfg.on_connect = counting_hook;
        cfg.on_connect_userdata = h;
        break;
    case ON_ACQUIRE:
        cfg.validation = MYAPPCTX_POOL_VALIDATE_HOOK;
        cfg.on_acquire = counting_hook;
        cfg.on_acquire_userdata = h;
        break;
    case ON_RELEASE:
        cfg.reset = MYAPPCTX_POOL_RESET_HOOK;
        cfg.on_release = counting_hook;
        cfg.on_release_userdata = h;
        break;
    }
    return cfg;
}

/* Rows the default on_connect step wrote for this backend (pids are
 * reused over time, so only rows since the backend started count). */
static int
logged_rows(int pid)
{
    myappctx_conn *su = tu_connect();
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[] = { p };
    int n = (int)tu_int(su, "SELECT count(*) FROM data.connection_log AS l"
                            " JOIN pg_stat_activity AS a ON a.pid = l.backend_pid"
                            " WHERE l.backend_pid = $1::int AND l.connected_at >= a.backend_start",
                        1, params);
    myappctx_conn_close(su);
    return n;
}

/* ------------------------------------------------------------ on_connect */

START_TEST(default_on_connect_runs_init_connection)
{
    myappctx_pool_config cfg = tu_pool_config("user=app_service", 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    ck_assert_int_eq(logged_rows(tu_backend_pid(c)), 1);
    tu_expect_value(c, "SELECT current_setting('DateStyle')", 0, NULL, "ISO, MDY");
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);

    cfg.init_connection = 0;
    pool = tu_pool_new(&cfg);
    c = tu_pool_acquire(pool);
    ck_assert_int_eq(logged_rows(tu_backend_pid(c)), 0);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(txn_pooler_flag_marks_connections_and_skips_session_setup)
{
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.txn_pooler = 1;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    ck_assert_int_eq(myappctx_conn_is_txn_pooler(c), 1);
    ck_assert_int_eq(logged_rows(pid), 0);         /* no init_connection() */
    int n = -1;
    tu_assert_rc(myappctx_settings_load(c, &n, &err), MYAPPCTX_ESESSIONSTATE, err);

    /* The reset only ends the transaction: there is no session of ours. */
    char user[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, user);
    const char *p[] = { user };
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_exec(c, "SELECT api.set_transaction_context($1::uuid)", 1, p);
    tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, user);
    myappctx_pool_release(pool, c);
    c = tu_pool_acquire(pool);
    ck_assert_int_eq(tu_backend_pid(c), pid);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, NULL);
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).resets, 2);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(on_connect_replaces_the_default_step)
{
    struct hook_state h = HOOK_STATE_INIT;
    myappctx_pool_config cfg = hook_config(&h, ON_CONNECT, 2, 2);
    myappctx_pool *pool = tu_pool_start(&cfg);
    ck_assert_int_eq(hook_calls(&h), 2);
    myappctx_conn *c = tu_pool_acquire(pool);
    tu_expect_value(c, "SELECT current_setting('myapp.hooked')", 0, NULL, "yes");
    ck_assert_int_eq(logged_rows(tu_backend_pid(c)), 0);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(hook_calls(&h), 2);           /* once per connection */
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.created, 2);
    ck_assert_uint_eq(st.errors, 0);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(on_connect_refusals_are_errors_and_retried)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.refuse_first = 3;
    myappctx_pool_config cfg = hook_config(&h, ON_CONNECT, 1, 1);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.errors, 3);
    ck_assert_uint_eq(st.created, 1);
    ck_assert_int_eq(hook_calls(&h), 4);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(on_connect_always_refusing_times_out)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.refuse_always = 1;
    myappctx_pool_config cfg = hook_config(&h, ON_CONNECT, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;
    tu_assert_rc(myappctx_pool_acquire(pool, &c, 150, &err), MYAPPCTX_ETIMEOUT, err);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.message, "on_connect hook refused the connection (returned 1)"),
                  "%s", err.message);
    myappctx_pool_close(pool);          /* stops the retries: counts are final */
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_ge(st.errors, 1);
    ck_assert_uint_eq(st.errors, (uint64_t)hook_calls(&h));
    ck_assert_uint_eq(st.created, 0);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(on_connect_leaving_a_transaction_open_is_refused)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.open_txn_first = 1;
    myappctx_pool_config cfg = hook_config(&h, ON_CONNECT, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    myappctx_pool_release(pool, c);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.errors, 1);
    ck_assert_uint_eq(st.created, 1);
    myappctx_pool_free(pool);
}
END_TEST

/* ------------------------------------------------------- on_acquire */

START_TEST(on_acquire_refusal_discards_and_tries_another)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.refuse_first = 1;
    myappctx_pool_config cfg = hook_config(&h, ON_ACQUIRE, 2, 2);
    myappctx_pool *pool = tu_pool_start(&cfg);

    myappctx_conn *c = tu_pool_acquire(pool);
    ck_assert_int_eq(hook_calls(&h), 2);
    tu_expect_value(c, "SELECT current_setting('myapp.hooked')", 0, NULL, "yes");
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.discarded, 1);
    ck_assert_uint_eq(st.acquires, 1);
    myappctx_pool_release(pool, c);

    c = tu_pool_acquire(pool);                           /* runs on every acquire */
    ck_assert_int_eq(hook_calls(&h), 3);
    myappctx_pool_release(pool, c);
    /* The hook ran SQL, so its connections count as used and are reset. */
    ck_assert_uint_eq(tu_pool_stats(pool).resets, 2);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(on_acquire_always_refusing_times_out)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.refuse_always = 1;
    myappctx_pool_config cfg = hook_config(&h, ON_ACQUIRE, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;
    tu_assert_rc(myappctx_pool_acquire(pool, &c, 150, &err), MYAPPCTX_ETIMEOUT, err);
    ck_assert_ptr_null(c);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_ge(st.discarded, 1);
    ck_assert_uint_eq(st.discarded, (uint64_t)hook_calls(&h));
    ck_assert_uint_eq(st.acquires, 0);
    ck_assert_uint_eq(st.timeouts, 1);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(server_validation_refuses_a_connection_with_context)
{
    /* An on_release that cleans nothing lets a context through; the
     * server-side validation must catch it. */
    struct hook_state h = HOOK_STATE_INIT;
    myappctx_pool_config cfg = hook_config(&h, ON_RELEASE, 1, 1);
    cfg.validation = MYAPPCTX_POOL_VALIDATE_SERVER;
    cfg.validate_idle_ms = 0;
    myappctx_pool *pool = tu_pool_new(&cfg);
    char user[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, user);
    const char *p[] = { user };

    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    myappctx_pool_release(pool, c);                 /* clean: validated and lent */
    c = tu_pool_acquire(pool);
    ck_assert_int_eq(tu_backend_pid(c), pid);
    tu_exec(c, "SELECT api.set_context($1::uuid)", 1, p);
    myappctx_pool_release(pool, c);

    c = tu_pool_acquire(pool);
    ck_assert_int_ne(tu_backend_pid(c), pid);
    tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, NULL);
    myappctx_pool_release(pool, c);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.discarded, 1);
    ck_assert_uint_eq(st.lost, 0);
    myappctx_pool_free(pool);
}
END_TEST

/* ------------------------------------------------------- on_release */

START_TEST(on_release_is_the_reset)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.run_clear = 1;
    myappctx_pool_config cfg = hook_config(&h, ON_RELEASE, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    char user[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, user);
    const char *p[] = { user };

    myappctx_conn *c = tu_pool_acquire(pool);
    myappctx_pool_release(pool, c);                 /* unused: no hook */
    ck_assert_int_eq(hook_calls(&h), 0);

    c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    tu_exec(c, "SELECT api.set_context($1::uuid)", 1, p);
    tu_assert_ok(myappctx_begin(c, &err), err);     /* rolled back before the hook */
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(hook_calls(&h), 1);
    ck_assert_int_eq(h.saw_txn, 0);

    c = tu_pool_acquire(pool);
    ck_assert_int_eq(tu_backend_pid(c), pid);
    tu_expect_value(c, "SELECT api.get_context()->>'user_id'", 0, NULL, NULL);
    myappctx_pool_release(pool, c);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.resets, 2);
    ck_assert_uint_eq(st.discarded, 0);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(on_release_refusal_discards)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.refuse_first = 1;
    myappctx_pool_config cfg = hook_config(&h, ON_RELEASE, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);

    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).discarded, 1);
    TU_EVENTUALLY(!tu_backend_alive(pid), 10000, "refused connection closed");

    c = tu_pool_acquire(pool);
    ck_assert_int_ne(tu_backend_pid(c), pid);
    myappctx_pool_release(pool, c);                 /* second call accepts */
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.discarded, 1);
    ck_assert_uint_eq(st.resets, 1);
    ck_assert_uint_eq(st.created, 2);
    myappctx_pool_free(pool);
}
END_TEST

START_TEST(on_release_leaving_a_transaction_open_discards)
{
    struct hook_state h = HOOK_STATE_INIT;
    h.open_txn_first = 1;
    myappctx_pool_config cfg = hook_config(&h, ON_RELEASE, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    tu_exec(c, "SELECT 1", 0, NULL);
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).discarded, 1);
    c = tu_pool_acquire(pool);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool_hooks");
    TCase *tc = tcase_create("pool_hooks");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, default_on_connect_runs_init_connection);
    tcase_add_test(tc, txn_pooler_flag_marks_connections_and_skips_session_setup);
    tcase_add_test(tc, on_connect_replaces_the_default_step);
    tcase_add_test(tc, on_connect_refusals_are_errors_and_retried);
    tcase_add_test(tc, on_connect_always_refusing_times_out);
    tcase_add_test(tc, on_connect_leaving_a_transaction_open_is_refused);
    tcase_add_test(tc, on_acquire_refusal_discards_and_tries_another);
    tcase_add_test(tc, on_acquire_always_refusing_times_out);
    tcase_add_test(tc, server_validation_refuses_a_connection_with_context);
    tcase_add_test(tc, on_release_is_the_reset);
    tcase_add_test(tc, on_release_refusal_discards);
    tcase_add_test(tc, on_release_leaving_a_transaction_open_discards);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
