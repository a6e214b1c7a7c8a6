/* `make failover`: the primary goes away, the HA manager promotes the
 * secondary, and the pool resumes writes by itself -- without losing an
 * acknowledged commit.
 *
 *   failover CONNINFO VERIFY_CONNINFO NEW_PRIMARY_PORT
 *       (run by tests/stress/run-failover.sh, against pg_auto_failover)
 *
 * CONNINFO names both servers (the formation's URI: both hosts,
 * target_session_attrs=read-write) as app_service; the secondary is
 * synchronous, so every commit the primary acknowledged is on it.  WORKERS
 * threads write through one pool: context-scoped units that insert a token
 * (alternately myappctx_run_in_context and myappctx_begin_in_context +
 * commit), with the same leak check at every acquire as `make stress`.
 * After FAILOVER_SECONDS (default 4) the program runs FAILOVER_STOP_CMD (the
 * primary fails, or a switchover starts) and FAILOVER_PROMOTE_CMD (returns
 * once the HA manager has the new primary accept writes), waits for the
 * first commit on NEW_PRIMARY_PORT (at most FAILOVER_BOUND_SECONDS, default
 * 60, from the stop), writes FAILOVER_AFTER_SECONDS (default 3) more, and
 * checks every token against the new primary (VERIFY_CONNINFO, superuser).
 * Nothing here reconnects the pool: it must find the new primary itself.
 *
 * Prints name=value figures (failover_seconds: stop command started ->
 * first commit on the new primary; primary_stop_seconds and
 * promote_seconds: how long the two commands took); exits 1 on a violation
 * (writes did not resume, an acknowledged commit is missing, a leak, an
 * unexpected error), 2 when the setup fails, 3 when a thread hangs. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress_util.h"

enum { WORKERS = 4, POOL_SIZE = 4 };

static const char LOGIN[] = "app_service";
static const long ACQUIRE_TIMEOUT_MS = 2000;
static const long ACQUIRE_SLACK_MS = 10000;
static const long HANG_MS = 90000;

struct run;

struct worker {
    struct run *run;
    int id;
    pthread_t thread;
    uint64_t rng;
    uint64_t seq;
    struct su_ledger ledger;
    long committed[SU_TENANTS];
    unsigned long before, after;       /* commits on the old / new primary */
    unsigned long conn_errors, acquire_timeouts;
};

struct run {
    myappctx_pool *pool;
    struct su_world world;
    const char *new_port;
    int failing;                       /* atomic: the primary is being stopped */
    int stop;                          /* atomic */
    uint64_t first_new_commit_ns;      /* atomic min */
    uint64_t max_acquire_ns;           /* atomic max */
    struct worker w[WORKERS];
    struct su_beat beat[WORKERS];
};

/* An error is tolerated only once the failover has begun, and only the
 * kinds a failover causes: a broken connection, an acquire timeout. */
static void
failed(struct worker *w, const char *step, int rc, const myappctx_error *err)
{
    if (__atomic_load_n(&w->run->failing, __ATOMIC_RELAXED)) {
        if (rc == MYAPPCTX_ECONNECT) {
            w->conn_errors++;
            return;
        }
        if (rc == MYAPPCTX_ETIMEOUT) {
            w->acquire_timeouts++;
            return;
        }
    }
    su_violation(rc == MYAPPCTX_EACCESS ? "leak_rls" : "unexpected",
                 "worker %d, %s: %s (%d) [%s] %s", w->id, step, myappctx_strerror(rc), rc,
                 err->sqlstate, err->message);
}

/* One context-scoped unit that writes a token; returns the verdict. */
static enum su_outcome
write_token(struct worker *w, myappctx_conn *c, const myappctx_txn_context *ctx, int tenant,
            const char *const *insert, const char *const *visible)
{
    myappctx_stmt st[2] = {
        { SU_INSERT_SQL, 4, insert },
        { SU_VISIBLE_SQL, 2, visible },
    };
    long min_own = w->committed[tenant] + 1;
    PGresult *res[2] = { NULL, NULL };
    myappctx_error err;
    int rc;
    if (w->seq % 2 == 0) {
        rc = myappctx_run_in_context(c, ctx, st, 2, res, &err);
        if (rc == MYAPPCTX_OK)
            su_check_visible(res[1], min_own, "failover fast path");
        myappctx_results_free(res, 2);
    } else {
        rc = myappctx_begin_in_context(c, ctx, &st[0], NULL, &err);
        if (rc != MYAPPCTX_OK) {
            failed(w, "begin_in_context", rc, &err);
            return SU_ABSENT;           /* rolled back by the library */
        }
        rc = myappctx_exec(c, st[1].sql, st[1].nparams, st[1].params, &res[1], &err);
        if (rc != MYAPPCTX_OK) {
            failed(w, "visibility check", rc, &err);
            return SU_ABSENT;           /* COMMIT never sent */
        }
        su_check_visible(res[1], min_own, "failover begin_in_context");
        PQclear(res[1]);
        rc = myappctx_commit(c, &err);
    }
    if (rc != MYAPPCTX_OK)
        failed(w, w->seq % 2 == 0 ? "pipeline" : "commit", rc, &err);
    return su_commit_outcome(rc);
}

static void
run_unit(struct worker *w)
{
    struct run *run = w->run;
    const struct su_world *world = &run->world;
    int user = (int)su_rand_below(&w->rng, SU_USERS);
    int tenant = world->user[user].tenants[su_rand_below(&w->rng,
                                                         (unsigned)world->user[user].ntenants)];
    int role = (int)su_rand_below(&w->rng, SU_NROLES);
    int audited = (int)su_rand_below(&w->rng, 2);
    int64_t token = su_token(w->id, ++w->seq);
    char token_text[24], worker_text[12], ticket[32];
    snprintf(token_text, sizeof token_text, "%lld", (long long)token);
    snprintf(worker_text, sizeof worker_text, "%d", w->id);
    snprintf(ticket, sizeof ticket, "T-%lld", (long long)token);
    const char *insert[] = { token_text, world->tenant_text[tenant], worker_text, "failover" };
    const char *visible[] = { world->tenant_text[tenant], worker_text };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &world->user[user].id;
    ctx.tenant_id = &world->tenant[tenant];
    ctx.role_label = su_role_names[role];
    if (audited) {
        ctx.audit_reason = "failover";
        ctx.audit_ticket = ticket;
    }

    myappctx_conn *c;
    myappctx_error err;
    uint64_t t0 = tu_now_ns();
    int rc = myappctx_pool_acquire(run->pool, &c, ACQUIRE_TIMEOUT_MS, &err);
    su_atomic_max(&run->max_acquire_ns, tu_now_ns() - t0);
    su_beat(&run->beat[w->id - 1]);
    if (rc != MYAPPCTX_OK) {
        failed(w, "acquire", rc, &err);
        return;
    }
    int leaked;
    rc = su_check_clean(c, LOGIN, &leaked, &err);
    if (rc != MYAPPCTX_OK) {
        failed(w, "check at acquire", rc, &err);
        myappctx_pool_release(run->pool, c);
        return;
    }

    enum su_outcome out = write_token(w, c, &ctx, tenant, insert, visible);
    su_ledger_add(&w->ledger, token, out, tenant, user, role, audited);
    if (out == SU_COMMITTED) {
        w->committed[tenant]++;
        /* Which server acknowledged it: the port libpq connected to. */
        PGconn *pg = myappctx_conn_pg(c);
        if (pg != NULL && strcmp(PQport(pg), run->new_port) == 0) {
            w->after++;
            su_atomic_min(&run->first_new_commit_ns, tu_now_ns());
        } else {
            w->before++;
        }
    }
    myappctx_pool_release(run->pool, c);
    su_beat(&run->beat[w->id - 1]);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    while (!__atomic_load_n(&w->run->stop, __ATOMIC_RELAXED))
        run_unit(w);
    su_beat_done(&w->run->beat[w->id - 1]);
    return NULL;
}

static uint64_t
seconds_ns(double s)
{
    return (uint64_t)(s * 1e9);
}

int
main(int argc, char **argv)
{
    static struct run run;
    if (argc != 4)
        su_die("usage: failover CONNINFO VERIFY_CONNINFO NEW_PRIMARY_PORT");
    const char *conninfo = argv[1], *verify_conninfo = argv[2];
    run.new_port = argv[3];
    const char *stop_cmd = su_env("FAILOVER_STOP_CMD");
    const char *promote_cmd = su_env("FAILOVER_PROMOTE_CMD");
    double warmup = su_env_num("FAILOVER_SECONDS", 4);
    double after = su_env_num("FAILOVER_AFTER_SECONDS", 3);
    double bound = su_env_num("FAILOVER_BOUND_SECONDS", 60);
    uint64_t rng = tu_now_ns() | 1u;
    setvbuf(stdout, NULL, _IOLBF, 0);

    myappctx_conn *su = su_connect("");       /* the primary, from PG* */
    su_seed(su, &run.world, &rng);
    myappctx_conn_close(su);

    myappctx_pool_config cfg = su_pool_config(conninfo, POOL_SIZE, ACQUIRE_TIMEOUT_MS, 500);
    run.pool = su_pool_start(&cfg);
    for (int i = 0; i < WORKERS; i++) {
        struct worker *w = &run.w[i];
        w->run = &run;
        w->id = i + 1;
        w->rng = su_rand(&rng) | 1u;
        su_beat(&run.beat[i]);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            su_die("cannot start worker %d", i);
    }

    su_watch_until(run.beat, WORKERS, tu_now_ns() + seconds_ns(warmup), HANG_MS);
    uint64_t t_stop = tu_now_ns();
    __atomic_store_n(&run.failing, 1, __ATOMIC_RELAXED);
    int st = su_shell(stop_cmd);
    uint64_t t_stopped = tu_now_ns();
    if (st != 0)
        su_violation("harness", "stopping the primary failed (status %d)", st);
    st = su_shell(promote_cmd);
    uint64_t t_promoted = tu_now_ns();
    if (st != 0)
        su_violation("harness", "waiting for the new primary failed (status %d)", st);

    uint64_t deadline = t_stop + seconds_ns(bound);
    while (__atomic_load_n(&run.first_new_commit_ns, __ATOMIC_RELAXED) == 0 &&
           tu_now_ns() < deadline)
        su_watch_until(run.beat, WORKERS, tu_now_ns() + 10000000u, HANG_MS);
    uint64_t first = __atomic_load_n(&run.first_new_commit_ns, __ATOMIC_RELAXED);
    if (first != 0)
        su_watch_until(run.beat, WORKERS, tu_now_ns() + seconds_ns(after), HANG_MS);
    __atomic_store_n(&run.stop, 1, __ATOMIC_RELAXED);
    su_watch_done(run.beat, WORKERS, HANG_MS);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(run.w[i].thread, NULL);

    unsigned long before = 0, after_n = 0, conn_errors = 0, timeouts = 0;
    for (int i = 0; i < WORKERS; i++) {
        before += run.w[i].before;
        after_n += run.w[i].after;
        conn_errors += run.w[i].conn_errors;
        timeouts += run.w[i].acquire_timeouts;
    }
    su_figure("primary_stop_seconds", "%.2f", su_ns_s(t_stopped - t_stop));
    su_figure("promote_seconds", "%.2f", su_ns_s(t_promoted - t_stopped));
    if (first != 0) {
        su_figure("failover_seconds", "%.2f", su_ns_s(first - t_stop));
        su_figure("failover_after_promote_seconds", "%.2f",
                  first > t_promoted ? su_ns_s(first - t_promoted) : 0.0);
    } else {
        su_figure("failover_seconds", "none");
        su_violation("no_recovery", "no commit on the new primary within %.0f s", bound);
    }
    su_figure("writes_before", "%lu", before);
    su_figure("writes_after", "%lu", after_n);
    su_figure("connection_errors", "%lu", conn_errors);
    su_figure("acquire_timeouts", "%lu", timeouts);
    su_figure("max_acquire_ms", "%.1f", su_ns_ms(run.max_acquire_ns));
    if (run.max_acquire_ns > (uint64_t)(ACQUIRE_TIMEOUT_MS + ACQUIRE_SLACK_MS) * 1000000u)
        su_violation("hang", "an acquire took %.0f ms (timeout %ld ms)",
                     su_ns_ms(run.max_acquire_ns), ACQUIRE_TIMEOUT_MS);
    su_pool_figures(run.pool, "pool");
    myappctx_pool_free(run.pool);

    struct su_ledger ledgers[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        ledgers[i] = run.w[i].ledger;
    struct su_verify_result vr;
    su = su_connect(verify_conninfo);
    PGresult *res;
    myappctx_error err;
    if (myappctx_exec(su, "SELECT pg_is_in_recovery()", 0, NULL, &res, &err) != MYAPPCTX_OK)
        su_die("verify: %s", err.message);
    if (strcmp(PQgetvalue(res, 0, 0), "f") != 0)
        su_violation("harness", "the server verified is still a standby");
    PQclear(res);
    su_verify(su, &run.world, ledgers, WORKERS, &vr);
    myappctx_conn_close(su);
    su_verify_figures(&vr);
    for (int i = 0; i < WORKERS; i++)
        su_ledger_free(&ledgers[i]);

    unsigned long all = su_violations(NULL);
    printf("summary: writes_before=%lu writes_after=%lu failover_seconds=%.2f leaks=%lu "
           "false_success=%lu false_failure=%lu unexpected=%lu violations=%lu\n",
           before, after_n, first != 0 ? su_ns_s(first - t_stop) : -1.0, su_leaks(),
           vr.committed_missing, vr.absent_present, su_violations("unexpected"), all);
    return all == 0 ? 0 : 1;
}
