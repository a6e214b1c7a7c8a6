/* No borrower ever sees another borrower's context: 16 threads share 4
 * pooled connections; each borrow leaves some state behind (session and
 * transaction context, open and failed transactions, SET ROLE, SET SESSION
 * AUTHORIZATION, audit context, loaded settings, impersonation), and every
 * acquire checks that nothing of it is visible. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { THREADS = 16, CONNS = 4, ITERATIONS = 30, ACTIONS = 8 };

struct shared {
    myappctx_pool *pool;
    const char *login;          /* expected session_user */
    int superuser;
    char admin[MYAPPCTX_UUID_BUFSIZE], target[MYAPPCTX_UUID_BUFSIZE];
    pthread_mutex_t mu;
    char failure[512];          /* first failure; threads cannot use ck_assert */
    int pids[THREADS * ITERATIONS];
    int npids;
};

struct worker {
    struct shared *sh;
    unsigned seed;
};

static void note_failure(struct shared *sh, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note_failure(struct shared *sh, const char *fmt, ...)
{
    pthread_mutex_lock(&sh->mu);
    if (sh->failure[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sh->failure, sizeof sh->failure, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&sh->mu);
}

/* Runs a statement; on failure records it.  Returns the rc. */
static int
run(struct shared *sh, myappctx_conn *c, const char *sql, int n, const char *const *p,
    int expect_ok)
{
    myappctx_error err;
    int rc = myappctx_exec(c, sql, n, p, NULL, &err);
    if ((rc == MYAPPCTX_OK) != expect_ok)
        note_failure(sh, "%s: %s", sql, rc == MYAPPCTX_OK ? "unexpectedly succeeded" : err.message);
    return rc;
}

/* Column 0 of row 0 must equal @want (NULL: SQL NULL). */
static void
expect(struct shared *sh, myappctx_conn *c, const char *sql, int n, const char *const *p,
       const char *want)
{
    PGresult *res;
    myappctx_error err;
    if (myappctx_exec(c, sql, n, p, &res, &err) != MYAPPCTX_OK) {
        note_failure(sh, "%s: %s", sql, err.message);
        return;
    }
    const char *got = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
    if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0))
        note_failure(sh, "%s: got %s", sql, got ? got : "NULL");
    PQclear(res);
}

static const char CLEAN_SQL[] =
    "SELECT jsonb_strip_nulls(api.get_context() - 'is_impersonating') = '{}'::jsonb"
    " AND NOT (api.get_context()->>'is_impersonating')::boolean"
    " AND current_user = session_user AND session_user = $1"
    " AND current_setting('role') = 'none'"
    " AND NULLIF(current_setting('myapp.audit_context', true), '') IS NULL"
    " AND NULLIF(current_setting('myapp.original_role', true), '') IS NULL"
    " AND current_setting('application_name') NOT LIKE 'borrower %'"
    " AND current_setting('application_name') NOT LIKE 'myapp[%'";

static void
check_clean(struct shared *sh, myappctx_conn *c)
{
    if (PQtransactionStatus(myappctx_conn_pg(c)) != PQTRANS_IDLE)
        note_failure(sh, "lent inside a transaction");
    const char *p[] = { sh->login };
    PGresult *res;
    myappctx_error err;
    if (myappctx_exec(c, CLEAN_SQL, 1, p, &res, &err) != MYAPPCTX_OK) {
        note_failure(sh, "clean check failed: %s", err.message);
        return;
    }
    int clean = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!clean &&
        myappctx_exec(c, "SELECT api.get_context()::text || ' as ' || current_user", 0, NULL,
                      &res, &err) == MYAPPCTX_OK) {
        note_failure(sh, "borrower saw leftover state: %s (login %s)", PQgetvalue(res, 0, 0), sh->login);
        PQclear(res);
    }
}

/* Leaves one kind of state behind; verifies it took effect first. */
static void
dirty(struct shared *sh, myappctx_conn *c, int action, const char *user, const char *tenant)
{
    const char *ut[] = { user, tenant, "sess'ion;\\ \"id\"\n--" };
    const char *u[] = { user };
    switch (action) {
    case 0:     /* session context with a hostile session id */
        run(sh, c, "SELECT api.set_context($1::uuid, $2::uuid, 'user', $3)", 3, ut, 1);
        expect(sh, c, "SELECT api.get_context()->>'session_id'", 0, NULL, ut[2]);
        break;
    case 1:     /* transaction context, transaction left open */
        run(sh, c, "BEGIN", 0, NULL, 1);
        run(sh, c, "SELECT api.set_transaction_context($1::uuid, $2::uuid)", 2, ut, 1);
        expect(sh, c, "SELECT api.get_context()->>'tenant_id'", 0, NULL, tenant);
        break;
    case 2:     /* transaction context, transaction left failed */
        run(sh, c, "BEGIN", 0, NULL, 1);
        run(sh, c, "SELECT api.set_transaction_context($1::uuid, $2::uuid)", 2, ut, 1);
        run(sh, c, "SELECT 1/0", 0, NULL, 0);
        break;
    case 3:     /* SET ROLE, then context as that role */
        run(sh, c, "SET ROLE app_service", 0, NULL, 1);
        run(sh, c, "SELECT api.set_context($1::uuid, $2::uuid)", 2, ut, 1);
        expect(sh, c, "SELECT current_user", 0, NULL, "app_service");
        break;
    case 4:     /* audit context in an open transaction over a session context */
        run(sh, c, "SELECT api.set_context($1::uuid)", 1, u, 1);
        run(sh, c, "BEGIN", 0, NULL, 1);
        run(sh, c, "SELECT api.set_audit_context('leak?', 'T-1')", 0, NULL, 1);
        expect(sh, c, "SELECT api.get_context()->'audit'->>'ticket'", 0, NULL, "T-1");
        break;
    case 5:     /* settings loaded, raw context variables set directly */
        run(sh, c, "SELECT api.load_app_settings()", 0, NULL, 1);
        run(sh, c, "SELECT set_config('myapp.current_user_id', $1, false),"
                   " set_config('myapp.current_tenant_id', $2, false)", 2, ut, 1);
        run(sh, c, "SELECT set_config('application_name', 'borrower ' || $1, false)", 1, u, 1);
        break;
    case 6: {   /* impersonation left active */
        const char *adm[] = { sh->admin };
        const char *tgt[] = { sh->target };
        run(sh, c, "SELECT api.set_context($1::uuid, NULL, 'admin')", 1, adm, 1);
        run(sh, c, "SELECT api.impersonate_user($1::uuid)", 1, tgt, 1);
        expect(sh, c, "SELECT api.get_context()->>'original_user_id'", 0, NULL, sh->admin);
        break;
    }
    default:    /* SET SESSION AUTHORIZATION needs a superuser login */
        if (sh->superuser) {
            run(sh, c, "SET SESSION AUTHORIZATION app_service", 0, NULL, 1);
            expect(sh, c, "SELECT session_user", 0, NULL, "app_service");
        }
        run(sh, c, "SELECT api.set_context($1::uuid, $2::uuid, 'admin')", 2, ut, 1);
        break;
    }
}

static void *
worker_main(void *p)
{
    struct worker *w = p;
    struct shared *sh = w->sh;
    for (int i = 0; i < ITERATIONS; i++) {
        myappctx_conn *c;
        myappctx_error err;
        if (myappctx_pool_acquire(sh->pool, &c, 60000, &err) != MYAPPCTX_OK) {
            note_failure(sh, "acquire: %s", err.message);
            return NULL;
        }
        pthread_mutex_lock(&sh->mu);
        sh->pids[sh->npids++] = tu_backend_pid(c);
        pthread_mutex_unlock(&sh->mu);
        check_clean(sh, c);
        char user[MYAPPCTX_UUID_BUFSIZE], tenant[MYAPPCTX_UUID_BUFSIZE];
        tu_random_uuid(NULL, user);
        tu_random_uuid(NULL, tenant);
        dirty(sh, c, rand_r(&w->seed) % ACTIONS, user, tenant);
        myappctx_pool_release(sh->pool, c);
    }
    return NULL;
}

static void
seed_users(struct shared *sh)
{
    tu_random_uuid(NULL, sh->admin);
    tu_random_uuid(NULL, sh->target);
    myappctx_conn *su = tu_connect();
    const char *p[] = { sh->admin, sh->target };
    tu_exec(su, "INSERT INTO data.users (id, email, name, role) VALUES"
                " ($1::uuid, 'pool-admin@example.com', 'Pool Admin', 'admin'),"
                " ($2::uuid, 'pool-user@example.com', 'Pool User', 'user')", 2, p);
    myappctx_conn_close(su);
}

static void
drop_users(struct shared *sh)
{
    myappctx_conn *su = tu_connect();
    const char *p[] = { sh->admin, sh->target };
    tu_exec(su, "DELETE FROM data.users WHERE id IN ($1::uuid, $2::uuid)", 2, p);
    myappctx_conn_close(su);
}

static int
distinct_pids(const struct shared *sh)
{
    int n = 0;
    for (int i = 0; i < sh->npids; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = sh->pids[j] == sh->pids[i];
        n += !seen;
    }
    return n;
}

static void
run_isolation(const char *conninfo, const char *login, int superuser, myappctx_pool_reset reset)
{
    static struct shared sh;
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.mu, NULL);
    sh.login = login;
    sh.superuser = superuser;
    seed_users(&sh);

    myappctx_pool_config cfg = tu_pool_config(conninfo, CONNS, CONNS);
    cfg.reset = reset;
    sh.pool = tu_pool_new(&cfg);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ &sh, (unsigned)(i * 7919 + 17) };
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    ck_assert_msg(sh.failure[0] == '\0', "login %s, %s reset: %s", login,
                  reset == MYAPPCTX_POOL_RESET_DISCARD_ALL ? "DISCARD ALL" : "targeted",
                  sh.failure);
    myappctx_pool_stats st = tu_pool_stats(sh.pool);
    ck_assert_uint_eq(st.acquires, THREADS * ITERATIONS);
    ck_assert_uint_eq(st.resets, THREADS * ITERATIONS);   /* every borrow was used */
    ck_assert_uint_eq(st.discarded + st.lost + st.timeouts + st.errors, 0);
    ck_assert_uint_eq(st.created, CONNS);
    ck_assert_int_eq(distinct_pids(&sh), CONNS);          /* heavily shared */
    ck_assert_uint_gt(st.acquire_wait_total_us, 0);
    myappctx_pool_free(sh.pool);
    drop_users(&sh);
    pthread_mutex_destroy(&sh.mu);
}

/* Each login (which decides what a borrower can change: only a superuser
 * can SET SESSION AUTHORIZATION) with each reset. */
static const struct {
    const char *conninfo, *login;
    int superuser;
    myappctx_pool_reset reset;
} isolation_rows[] = {
    { "", "postgres", 1, MYAPPCTX_POOL_RESET_TARGETED },
    { "user=app_service", "app_service", 0, MYAPPCTX_POOL_RESET_TARGETED },
    { "", "postgres", 1, MYAPPCTX_POOL_RESET_DISCARD_ALL },
    { "user=app_service", "app_service", 0, MYAPPCTX_POOL_RESET_DISCARD_ALL },
};

START_TEST(no_borrower_sees_another_borrowers_state)
{
    run_isolation(isolation_rows[_i].conninfo, isolation_rows[_i].login,
                  isolation_rows[_i].superuser, isolation_rows[_i].reset);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool_isolation");
    TCase *tc = tcase_create("pool_isolation");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, no_borrower_sees_another_borrowers_state, 0,
                        (int)(sizeof isolation_rows / sizeof isolation_rows[0]));
    suite_add_tcase(s, tc);
    return tu_run(s);
}
