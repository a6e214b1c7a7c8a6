/* `make stress`: no request ever runs with another request's identity, and
 * faults give clear errors, never silent wrong answers -- under load.
 *
 *   stress            (run by tests/stress/run-stress.sh inside the harness)
 *
 * WORKERS threads share a pool of POOL_SIZE connections logged in as
 * app_service.  Each loops over units of work: acquire, check that nothing
 * of an earlier borrower is visible, do one kind of unit for a random user
 * in one of its tenants, release.  The check is a statement of its own
 * (su_check_clean), except in one-round-trip units, where it is the first
 * statement of the pipeline (SU_ASSERT_CLEAN_SQL): the pool may defer its
 * reset to the head of that pipeline, and what the unit sees after it is
 * what counts.  The kinds mix session context left set on purpose,
 * transaction context committed, rolled back, left open or left failed, the
 * one-round-trip fast path (with a division by zero in the middle, cancelled
 * with PQcancel from another thread, or leaving session state behind through
 * its own statements), statement_timeout set locally, audit context,
 * impersonation and SET ROLE left behind.  Every unit that writes inserts a token row into
 * data.stress_events (RLS by tenant) and reads back what RLS lets it see;
 * the library's verdict on each token goes into a ledger that is checked
 * against the table at the end (no false success, no false failure, right
 * identity on every row).
 *
 * Phases (STRESS_SECONDS, default 60, split 40/25/35 %):
 *   mixed    no faults: any error other than the injected ones is a violation
 *   kill     a superuser connection terminates a random app_service backend
 *            every ~50 ms
 *   restart  the server is stopped (fast) and started again mid-phase
 *            (STRESS_STOP_CMD, STRESS_START_CMD from run-stress.sh)
 *
 * Prints name=value figures and a summary line with leaks=N; exits 1 on any
 * violation (leak, false success or failure, unexpected result, hang, no
 * recovery), 2 when the setup fails, 3 when a thread hangs.
 *
 * STRESS_SELFCHECK_NO_RESET=1 proves the checks can fail: the pool's reset
 * becomes a hook that does nothing (the pool still rolls back), so the run
 * must report leaks and exit 1. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress_util.h"

enum { WORKERS = 16, POOL_SIZE = 6 };

static const char LOGIN[] = "app_service";
static const char CONNINFO[] = "user=app_service connect_timeout=5";
static const long ACQUIRE_TIMEOUT_MS = 5000;
/* An acquire that takes longer than its timeout plus this is a hang. */
static const long ACQUIRE_SLACK_MS = 10000;
/* A worker that makes no progress for this long is hung (statement_timeout
 * of the application role is 30 s). */
static const long HANG_MS = 90000;
/* The restart phase fails if no commit follows the restart within this. */
static const long RECOVERY_BOUND_MS = 60000;
static const long CANCEL_DELAY_MS = 30;

enum phase { PH_MIXED, PH_KILL, PH_RESTART, NPHASES };
static const char *const phase_names[NPHASES] = { "mixed", "kill", "restart" };
static const double phase_share[NPHASES] = { 0.40, 0.25, 0.35 };

enum kind {
    K_FAST,          /* fast path: insert + visibility check, committed */
    K_FAST_DIV0,     /* fast path: insert, 1/0, check -- nothing may remain */
    K_FAST_CANCEL,   /* fast path: insert, pg_sleep, cancelled by PQcancel */
    K_FAST_DIRTY,    /* fast path: insert, check, then session-level state left behind */
    K_BEGIN_CTX,     /* myappctx_begin_in_context + check + commit */
    K_TXN,           /* context_begin + audit + insert + check + commit */
    K_TXN_ROLLBACK,  /* context_begin + insert + rollback */
    K_TXN_OPEN,      /* context_begin + audit + insert, released open */
    K_TXN_FAILED,    /* context_begin + insert + 1/0, released failed */
    K_TXN_TIMEOUT,   /* context_begin + local statement_timeout + pg_sleep */
    K_SESSION,       /* session context + dirty settings + insert, left set */
    K_IMPERSONATE,   /* admin impersonates a member, inserts, left active */
    K_SET_ROLE,      /* session context + SET ROLE, left set */
    NKINDS
};

static const struct {
    const char *name;
    int weight;
    int injected;    /* counts as an injected fault or leftover */
} kinds[NKINDS] = {
    [K_FAST]        = { "fast_path", 28, 0 },
    [K_FAST_DIV0]   = { "fast_path_div0", 6, 1 },
    [K_FAST_CANCEL] = { "fast_path_pqcancel", 2, 1 },
    [K_FAST_DIRTY]  = { "fast_path_left_session_state", 6, 1 },
    [K_BEGIN_CTX]   = { "begin_in_context", 8, 0 },
    [K_TXN]         = { "txn_commit", 14, 0 },
    [K_TXN_ROLLBACK]= { "txn_rollback", 5, 1 },
    [K_TXN_OPEN]    = { "txn_left_open", 5, 1 },
    [K_TXN_FAILED]  = { "txn_left_failed", 5, 1 },
    [K_TXN_TIMEOUT] = { "statement_timeout", 2, 1 },
    [K_SESSION]     = { "session_left_set", 12, 1 },
    [K_IMPERSONATE] = { "impersonation_left", 5, 1 },
    [K_SET_ROLE]    = { "set_role_left", 5, 1 },
};

enum cancel_state { CS_IDLE, CS_ARMED, CS_FIRING, CS_FIRED };

struct phase_stats {
    unsigned long units, commits, conn_errors, acquire_timeouts, dead_at_acquire;
    unsigned long recoveries;
    uint64_t recovery_sum_ns, recovery_max_ns;
};

struct run;

struct worker {
    struct run *run;
    int id;
    pthread_t thread;
    uint64_t rng;
    uint64_t seq;
    struct su_ledger ledger;
    long committed[SU_TENANTS];   /* rows of this worker reported committed, per tenant */
    uint64_t lost_at_ns;          /* first connection error not yet followed by a commit */
    struct phase_stats ph[NPHASES];
    unsigned long injected[NKINDS];
    unsigned long cancel_missed;
    /* PQcancel request handed to the canceller thread (under run->cancel_mu). */
    PGcancel *cancel;
    uint64_t cancel_at_ns;
    enum cancel_state cancel_state;
};

struct run {
    myappctx_pool *pool;
    struct su_world world;
    int phase;                    /* atomic */
    int stop;                     /* atomic: workers finish their unit and leave */
    int stop_helpers;             /* atomic: canceller leaves */
    uint64_t down_ns;             /* atomic: the server was seen stopped (restart) */
    uint64_t first_commit_after_down_ns;   /* atomic min */
    uint64_t max_acquire_ns;      /* atomic max */
    unsigned long kills;          /* killer thread only */
    pthread_mutex_t cancel_mu;
    pthread_cond_t cancel_cond;
    struct worker w[WORKERS];
    struct su_beat beat[WORKERS];
};

/* One unit of work in progress. */
struct unit {
    struct worker *w;
    myappctx_conn *c;
    int kind, user, tenant, role, audited, phase;
    uint64_t t0;                  /* when the acquire began */
    int64_t token;
    char token_text[24], worker_text[12], ticket[32];
    const char *insert_params[4];
    const char *visible_params[2];
    const char *clean_params[5];   /* SU_ASSERT_CLEAN_SQL: this unit's own context */
};

static int
load_int(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
progress(struct worker *w)
{
    su_beat(&w->run->beat[w->id - 1]);
}

/* ------------------------------------------------------------- errors */

/* A step that should have succeeded failed with @rc.  A broken connection
 * is tolerated in the fault phases; anything else is a violation. */
static void
step_failed(struct unit *u, const char *step, int rc, const myappctx_error *err)
{
    struct worker *w = u->w;
    int ph = load_int(&w->run->phase);
    if (rc == MYAPPCTX_ECONNECT && ph != PH_MIXED) {
        w->ph[ph].conn_errors++;
        if (w->lost_at_ns == 0)
            w->lost_at_ns = tu_now_ns();
        return;
    }
    /* State of an earlier borrower seen inside a unit, a refused tenant
     * check (P0052), or a permission error (42501: another role is in
     * effect) mean the server saw another identity. */
    const char *kind = strcmp(err->sqlstate, SU_LEFTOVER_STATE) == 0 ? "leak_acquire"
                       : rc == MYAPPCTX_EACCESS ? "leak_rls"
                       : strcmp(err->sqlstate, "42501") == 0 ? "leak_identity" : "unexpected";
    su_violation(kind, "phase %s, worker %d, %s, %s: %s (%d) [%s] %s", phase_names[ph], w->id,
                 kinds[u->kind].name, step, myappctx_strerror(rc), rc, err->sqlstate,
                 err->message);
}

/* The step was expected to fail with @want_rc / @want_state (the injected
 * fault).  Returns 1 when it did. */
static int
expect_failure(struct unit *u, const char *step, int rc, const myappctx_error *err,
               int want_rc, const char *want_state)
{
    if (rc == want_rc && (want_state == NULL || strcmp(err->sqlstate, want_state) == 0)) {
        u->w->injected[u->kind]++;
        return 1;
    }
    if (rc == MYAPPCTX_OK) {
        su_violation("unexpected", "worker %d, %s, %s: succeeded, expected %s",
                     u->w->id, kinds[u->kind].name, step, myappctx_strerror(want_rc));
        return 0;
    }
    step_failed(u, step, rc, err);
    return 0;
}

/* Records the library's verdict on the unit's token. */
static void
record(struct unit *u, enum su_outcome outcome)
{
    su_ledger_add(&u->w->ledger, u->token, outcome, u->tenant, u->user, u->role, u->audited);
}

/* The unit's commit was confirmed: count it (and the recovery it ends). */
static void
committed(struct unit *u)
{
    struct worker *w = u->w;
    struct run *run = w->run;
    uint64_t now = tu_now_ns();
    int ph = load_int(&run->phase);
    record(u, SU_COMMITTED);
    w->committed[u->tenant]++;
    w->ph[ph].commits++;
    if (w->lost_at_ns != 0) {
        uint64_t d = now - w->lost_at_ns;
        w->ph[ph].recoveries++;
        w->ph[ph].recovery_sum_ns += d;
        if (d > w->ph[ph].recovery_max_ns)
            w->ph[ph].recovery_max_ns = d;
        w->lost_at_ns = 0;
    }
    /* Recovery after the restart: the first commit of a unit that began
     * once the server had been seen down. */
    uint64_t down = __atomic_load_n(&run->down_ns, __ATOMIC_ACQUIRE);
    if (down != 0 && u->t0 >= down)
        su_atomic_min(&run->first_commit_after_down_ns, now);
}

/* The result of a commit (or of a whole pipeline) decides the token. */
static void
settle(struct unit *u, const char *step, int rc, const myappctx_error *err)
{
    if (rc == MYAPPCTX_OK) {
        committed(u);
        return;
    }
    step_failed(u, step, rc, err);
    record(u, su_commit_outcome(rc));
}

/* ---------------------------------------------------------- cancelling */

static void
cancel_arm(struct unit *u, long delay_ms)
{
    struct worker *w = u->w;
    /* myappctx_conn_pg() runs a reset the pool deferred to this use (so this
     * kind's pipeline does not carry it), and gives NULL if that failed:
     * then nothing is armed and the unit just sleeps and commits. */
    PGconn *pg = myappctx_conn_pg(u->c);
    PGcancel *pc = pg != NULL ? PQgetCancel(pg) : NULL;
    pthread_mutex_lock(&w->run->cancel_mu);
    w->cancel = pc;
    w->cancel_at_ns = tu_now_ns() + (uint64_t)delay_ms * 1000000u;
    w->cancel_state = pc != NULL ? CS_ARMED : CS_IDLE;
    pthread_mutex_unlock(&w->run->cancel_mu);
}

/* Withdraws the request, or waits until the canceller has sent it, so that
 * a late cancel can never hit the next statement on this backend.  Returns
 * non-zero if it was sent. */
static int
cancel_disarm(struct worker *w)
{
    pthread_mutex_lock(&w->run->cancel_mu);
    while (w->cancel_state == CS_FIRING)
        pthread_cond_wait(&w->run->cancel_cond, &w->run->cancel_mu);
    int fired = w->cancel_state == CS_FIRED;
    PGcancel *pc = w->cancel;
    w->cancel = NULL;
    w->cancel_state = CS_IDLE;
    pthread_mutex_unlock(&w->run->cancel_mu);
    PQfreeCancel(pc);
    return fired;
}

static void *
canceller_main(void *arg)
{
    struct run *run = arg;
    pthread_mutex_lock(&run->cancel_mu);
    while (!load_int(&run->stop_helpers)) {
        uint64_t now = tu_now_ns();
        for (int i = 0; i < WORKERS; i++) {
            struct worker *w = &run->w[i];
            if (w->cancel_state != CS_ARMED || now < w->cancel_at_ns)
                continue;
            w->cancel_state = CS_FIRING;
            PGcancel *pc = w->cancel;
            pthread_mutex_unlock(&run->cancel_mu);
            char errbuf[256];
            (void)PQcancel(pc, errbuf, sizeof errbuf);
            pthread_mutex_lock(&run->cancel_mu);
            w->cancel_state = CS_FIRED;
            pthread_cond_broadcast(&run->cancel_cond);
        }
        pthread_mutex_unlock(&run->cancel_mu);
        tu_sleep_ms(2);
        pthread_mutex_lock(&run->cancel_mu);
    }
    pthread_mutex_unlock(&run->cancel_mu);
    return NULL;
}

/* ---------------------------------------------------------------- units */

static const myappctx_uuid *
user_id(struct unit *u)
{
    return &u->w->run->world.user[u->user].id;
}

static const myappctx_uuid *
tenant_id(struct unit *u)
{
    return &u->w->run->world.tenant[u->tenant];
}

static void
txn_context(struct unit *u, myappctx_txn_context *ctx)
{
    *ctx = (myappctx_txn_context)MYAPPCTX_TXN_CONTEXT_INIT;
    ctx->user_id = user_id(u);
    ctx->tenant_id = tenant_id(u);
    ctx->role_label = su_role_names[u->role];
    if (u->audited) {
        ctx->audit_reason = "stress";
        ctx->audit_ticket = u->ticket;
    }
}

/* Runs SU_VISIBLE_SQL and checks it; @inserted: this transaction's own
 * uncommitted row counts too. */
static int
check_visible(struct unit *u, int inserted)
{
    PGresult *res;
    myappctx_error err;
    int rc = myappctx_exec(u->c, SU_VISIBLE_SQL, 2, u->visible_params, &res, &err);
    if (rc != MYAPPCTX_OK) {
        step_failed(u, "visibility check", rc, &err);
        return rc;
    }
    su_check_visible(res, u->w->committed[u->tenant] + inserted, kinds[u->kind].name);
    PQclear(res);
    return MYAPPCTX_OK;
}

/* Session-level state a fast-path unit leaves behind with its own last
 * statement ($1: the unit's token, or another tenant). */
static const struct {
    const char *sql;
    int other_tenant;
} dirty_stmts[] = {
    { "SELECT set_config('myapp.stress_baseline', $1, false)", 0 },      /* a loaded setting */
    { "SELECT set_config('myapp.default_page_size', $1, false)", 0 },    /* a role default */
    { "SELECT set_config('myapp.session_id', $1, false)", 0 },           /* a context variable */
    { "SELECT set_config('myapp.current_tenant_id', $1, false)", 1 },    /* another tenant */
    { "SELECT set_config('application_name', 'myapp[' || $1 || ']', false)", 0 },
    { "SELECT set_config('role', 'stress_other', false) <> $1", 0 },     /* SET ROLE */
};

static void
unit_fast(struct unit *u)
{
    myappctx_txn_context ctx;
    txn_context(u, &ctx);
    myappctx_stmt st[4];
    const char *dirty_param[1];
    size_t n = 0;
    st[n++] = (myappctx_stmt){ SU_ASSERT_CLEAN_SQL, 5, u->clean_params };
    st[n++] = (myappctx_stmt){ SU_INSERT_SQL, 4, u->insert_params };
    if (u->kind == K_FAST_DIV0)
        st[n++] = (myappctx_stmt){ "SELECT 1/0", 0, NULL };
    else if (u->kind == K_FAST_CANCEL)
        st[n++] = (myappctx_stmt){ "SELECT pg_sleep(5)", 0, NULL };
    size_t visible = n;
    st[n++] = (myappctx_stmt){ SU_VISIBLE_SQL, 2, u->visible_params };
    if (u->kind == K_FAST_DIRTY) {
        size_t d = su_rand_below(&u->w->rng, sizeof dirty_stmts / sizeof dirty_stmts[0]);
        dirty_param[0] = dirty_stmts[d].other_tenant
                             ? u->w->run->world.tenant_text[(u->tenant + 1) % SU_TENANTS]
                             : u->token_text;
        st[n++] = (myappctx_stmt){ dirty_stmts[d].sql, 1, dirty_param };
    }
    PGresult *res[4] = { NULL, NULL, NULL, NULL };
    myappctx_error err;

    if (u->kind == K_FAST_CANCEL)
        cancel_arm(u, CANCEL_DELAY_MS);
    int rc = myappctx_run_in_context(u->c, &ctx, st, n, res, &err);
    int fired = u->kind == K_FAST_CANCEL && cancel_disarm(u->w);

    if (rc != MYAPPCTX_OK && strcmp(err.sqlstate, SU_LEFTOVER_STATE) == 0) {
        step_failed(u, "pipeline", rc, &err);       /* a leak, whatever the kind */
        record(u, SU_ABSENT);
        return;
    }
    switch (u->kind) {
    case K_FAST_DIV0:
        /* The error aborts the pipeline's implicit transaction whatever
         * else happens: the INSERT before it must never be committed. */
        expect_failure(u, "pipeline with 1/0", rc, &err, MYAPPCTX_ESERVER, "22012");
        record(u, SU_ABSENT);
        break;
    case K_FAST_CANCEL:
        if (rc == MYAPPCTX_OK && !fired) {
            u->w->cancel_missed++;      /* the cancel came too late: a normal commit */
            su_check_visible(res[visible], u->w->committed[u->tenant] + 1, kinds[u->kind].name);
            committed(u);
        } else if (rc == MYAPPCTX_ECONNECT) {
            settle(u, "cancelled pipeline", rc, &err);
        } else {
            expect_failure(u, "cancelled pipeline", rc, &err, MYAPPCTX_ECANCELED, "57014");
            record(u, SU_ABSENT);
        }
        break;
    default:
        if (rc == MYAPPCTX_OK) {
            su_check_visible(res[visible], u->w->committed[u->tenant] + 1, kinds[u->kind].name);
            if (u->kind == K_FAST_DIRTY)
                u->w->injected[u->kind]++;
        }
        settle(u, "pipeline", rc, &err);
        break;
    }
    myappctx_results_free(res, n);
}

static void
unit_begin_in_context(struct unit *u)
{
    myappctx_txn_context ctx;
    txn_context(u, &ctx);
    myappctx_stmt first = { SU_INSERT_SQL, 4, u->insert_params };
    myappctx_error err;
    int rc = myappctx_begin_in_context(u->c, &ctx, &first, NULL, &err);
    if (rc != MYAPPCTX_OK) {
        /* On failure the library has rolled back: nothing to commit. */
        step_failed(u, "begin_in_context", rc, &err);
        record(u, SU_ABSENT);
        return;
    }
    if (check_visible(u, 1) != MYAPPCTX_OK) {
        record(u, SU_ABSENT);
        return;
    }
    settle(u, "commit", myappctx_commit(u->c, &err), &err);
}

/* BEGIN with the transaction context, audit context, INSERT.  Returns 0
 * (and records the token absent) when a step failed. */
static int
txn_start(struct unit *u)
{
    myappctx_error err;
    const char *step = "context_begin";
    int rc = myappctx_begin_as_user(u->c, user_id(u), tenant_id(u), su_role_names[u->role], &err);
    if (rc == MYAPPCTX_OK && u->audited) {
        step = "audit_set";
        rc = myappctx_audit_set(u->c, "stress", u->ticket, &err);
    }
    if (rc == MYAPPCTX_OK) {
        step = "insert";
        rc = myappctx_exec(u->c, SU_INSERT_SQL, 4, u->insert_params, NULL, &err);
    }
    if (rc != MYAPPCTX_OK) {
        step_failed(u, step, rc, &err);
        record(u, SU_ABSENT);       /* COMMIT was never sent */
        return 0;
    }
    return 1;
}

static void
unit_txn(struct unit *u)
{
    myappctx_error err;
    int rc;
    if (u->kind == K_TXN_TIMEOUT) {
        /* Local statement_timeout: gone at the end of the transaction. */
        rc = myappctx_begin_as_user(u->c, user_id(u), tenant_id(u), su_role_names[u->role], &err);
        if (rc == MYAPPCTX_OK)
            rc = myappctx_config_set(u->c, "statement_timeout", "40ms", 1, &err);
        if (rc != MYAPPCTX_OK) {
            step_failed(u, "begin with statement_timeout", rc, &err);
            record(u, SU_ABSENT);
            return;
        }
        rc = myappctx_exec(u->c, SU_INSERT_SQL, 4, u->insert_params, NULL, &err);
        if (rc == MYAPPCTX_OK)
            rc = myappctx_exec(u->c, "SELECT pg_sleep(2)", 0, NULL, NULL, &err);
        expect_failure(u, "pg_sleep under statement_timeout", rc, &err, MYAPPCTX_ECANCELED, "57014");
        record(u, SU_ABSENT);       /* released in a failed transaction */
        return;
    }
    if (!txn_start(u))
        return;
    switch (u->kind) {
    case K_TXN:
        if (check_visible(u, 1) != MYAPPCTX_OK) {
            record(u, SU_ABSENT);
            return;
        }
        settle(u, "commit", myappctx_commit(u->c, &err), &err);
        break;
    case K_TXN_ROLLBACK:
        rc = myappctx_rollback(u->c, &err);
        if (rc != MYAPPCTX_OK)
            step_failed(u, "rollback", rc, &err);
        else
            u->w->injected[u->kind]++;
        record(u, SU_ABSENT);
        break;
    case K_TXN_OPEN:
        u->w->injected[u->kind]++;
        record(u, SU_ABSENT);       /* the pool must roll it back */
        break;
    default:    /* K_TXN_FAILED */
        rc = myappctx_exec(u->c, "SELECT 1/0", 0, NULL, NULL, &err);
        if (expect_failure(u, "1/0 in a transaction", rc, &err, MYAPPCTX_ESERVER, "22012")) {
            /* The library must refuse to work in the aborted transaction. */
            rc = myappctx_audit_set(u->c, "after the error", NULL, &err);
            if (rc != MYAPPCTX_ETXNFAILED)
                su_violation("unexpected", "audit_set in an aborted transaction returned %s",
                             myappctx_strerror(rc));
        }
        record(u, SU_ABSENT);
        break;
    }
}

/* Session-scoped context (left set on purpose), then an autocommit insert. */
static int
session_context(struct unit *u, const myappctx_uuid *user)
{
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    char session_id[40];
    snprintf(session_id, sizeof session_id, "sess-%s", u->token_text);
    ctx.user_id = *user;
    ctx.tenant_id = tenant_id(u);
    ctx.role_label = su_role_names[u->role];
    ctx.session_id = session_id;
    ctx.metadata = json_pack("{s:i, s:s}", "worker", u->w->id, "token", u->token_text);
    myappctx_error err;
    int rc = myappctx_context_set(u->c, &ctx, &err);
    json_decref(ctx.metadata);
    if (rc != MYAPPCTX_OK)
        step_failed(u, "context_set", rc, &err);
    return rc;
}

static void
autocommit_insert(struct unit *u)
{
    myappctx_error err;
    int rc = myappctx_exec(u->c, SU_INSERT_SQL, 4, u->insert_params, NULL, &err);
    settle(u, "autocommit insert", rc, &err);
    if (rc == MYAPPCTX_OK)
        check_visible(u, 0);
}

static void
unit_session(struct unit *u)
{
    struct run *run = u->w->run;
    myappctx_error err;
    int rc;
    switch (u->kind) {
    case K_SESSION:
        if (session_context(u, user_id(u)) != MYAPPCTX_OK) {
            record(u, SU_ABSENT);
            return;
        }
        /* A loaded setting and a role default overwritten for the session. */
        rc = myappctx_config_set(u->c, "myapp.stress_baseline", u->token_text, 0, &err);
        if (rc == MYAPPCTX_OK)
            rc = myappctx_config_set(u->c, "myapp.default_page_size", "99", 0, &err);
        if (rc != MYAPPCTX_OK) {
            step_failed(u, "config_set", rc, &err);
            record(u, SU_ABSENT);
            return;
        }
        autocommit_insert(u);
        u->w->injected[u->kind]++;
        break;
    case K_IMPERSONATE: {
        /* The tenant's admin acts as another member of the tenant. */
        int admin = u->tenant * SU_USERS_PER_TENANT;
        u->user = admin + 1 + (int)su_rand_below(&u->w->rng, SU_USERS_PER_TENANT - 1);
        u->role = SU_ROLE_ADMIN;
        if (session_context(u, &run->world.user[admin].id) != MYAPPCTX_OK) {
            record(u, SU_ABSENT);
            return;
        }
        rc = myappctx_impersonate(u->c, user_id(u), &err);
        myappctx_impersonation_status st;
        if (rc == MYAPPCTX_OK)
            rc = myappctx_impersonation_status_get(u->c, &st, &err);
        if (rc != MYAPPCTX_OK) {
            step_failed(u, "impersonate", rc, &err);
            record(u, SU_ABSENT);
            return;
        }
        if (!st.active || !myappctx_uuid_equal(&st.current_user_id, user_id(u)) ||
            !myappctx_uuid_equal(&st.original_user_id, &run->world.user[admin].id))
            su_violation("leak_identity", "impersonation status does not show the admin and "
                         "its target");
        /* The row is written as the target, with the target's role. */
        u->role = run->world.user[u->user].db_role;
        autocommit_insert(u);
        u->w->injected[u->kind]++;
        break;
    }
    default: {  /* K_SET_ROLE: no token */
        if (session_context(u, user_id(u)) != MYAPPCTX_OK)
            return;
        PGresult *res;
        rc = myappctx_config_set(u->c, "role", "stress_other", 0, &err);
        if (rc == MYAPPCTX_OK)
            rc = myappctx_exec(u->c, "SELECT current_user", 0, NULL, &res, &err);
        if (rc != MYAPPCTX_OK) {
            step_failed(u, "SET ROLE", rc, &err);
            return;
        }
        if (strcmp(PQgetvalue(res, 0, 0), "stress_other") != 0)
            su_violation("unexpected", "SET ROLE stress_other left current_user %s",
                         PQgetvalue(res, 0, 0));
        PQclear(res);
        u->w->injected[u->kind]++;
        break;
    }
    }
}

static int
pick_kind(uint64_t *rng)
{
    int total = 0;
    for (int k = 0; k < NKINDS; k++)
        total += kinds[k].weight;
    int r = (int)su_rand_below(rng, (unsigned)total);
    for (int k = 0; k < NKINDS; k++) {
        if (r < kinds[k].weight)
            return k;
        r -= kinds[k].weight;
    }
    return K_FAST;
}

static int
is_fast_path(int kind)
{
    return kind == K_FAST || kind == K_FAST_DIV0 || kind == K_FAST_CANCEL || kind == K_FAST_DIRTY;
}

static void
unit_prepare(struct worker *w, struct unit *u)
{
    const struct su_world *world = &w->run->world;
    memset(u, 0, sizeof *u);
    u->w = w;
    u->kind = pick_kind(&w->rng);
    u->user = (int)su_rand_below(&w->rng, SU_USERS);
    const struct su_user *user = &world->user[u->user];
    u->tenant = user->tenants[su_rand_below(&w->rng, (unsigned)user->ntenants)];
    /* The session context defaults a missing role to "user": use a real one. */
    u->role = (int)su_rand_below(&w->rng, SU_NROLES);
    if (u->kind == K_SESSION || u->kind == K_SET_ROLE)
        u->role = 1 + (int)su_rand_below(&w->rng, SU_NROLES - 1);
    u->audited = (is_fast_path(u->kind) || u->kind == K_BEGIN_CTX || u->kind == K_TXN ||
                  u->kind == K_TXN_OPEN) && su_rand_below(&w->rng, 2);
    u->token = su_token(w->id, ++w->seq);
    snprintf(u->token_text, sizeof u->token_text, "%lld", (long long)u->token);
    snprintf(u->worker_text, sizeof u->worker_text, "%d", w->id);
    snprintf(u->ticket, sizeof u->ticket, "T-%lld", (long long)u->token);
    u->insert_params[0] = u->token_text;
    u->insert_params[1] = world->tenant_text[u->tenant];
    u->insert_params[2] = u->worker_text;
    u->insert_params[3] = kinds[u->kind].name;
    u->visible_params[0] = world->tenant_text[u->tenant];
    u->visible_params[1] = u->worker_text;
    u->clean_params[0] = LOGIN;
    u->clean_params[1] = world->user[u->user].text;
    u->clean_params[2] = world->tenant_text[u->tenant];
    u->clean_params[3] = su_role_names[u->role];
    u->clean_params[4] = u->audited ? u->ticket : NULL;
}

static void
run_unit(struct worker *w)
{
    struct run *run = w->run;
    struct unit u;
    unit_prepare(w, &u);
    u.phase = load_int(&run->phase);

    myappctx_error err;
    u.t0 = tu_now_ns();
    int rc = myappctx_pool_acquire(run->pool, &u.c, ACQUIRE_TIMEOUT_MS, &err);
    su_atomic_max(&run->max_acquire_ns, tu_now_ns() - u.t0);
    progress(w);
    if (rc != MYAPPCTX_OK) {
        if (rc == MYAPPCTX_ETIMEOUT && u.phase != PH_MIXED)
            w->ph[u.phase].acquire_timeouts++;
        else
            su_violation("unexpected", "phase %s, worker %d: acquire: %s: %s",
                         phase_names[u.phase], w->id, myappctx_strerror(rc), err.message);
        return;
    }
    w->ph[u.phase].units++;

    /* One-round-trip units check inside their pipeline instead. */
    int leaked;
    rc = is_fast_path(u.kind) ? MYAPPCTX_OK : su_check_clean(u.c, LOGIN, &leaked, &err);
    if (rc != MYAPPCTX_OK) {
        if (rc == MYAPPCTX_ECONNECT)
            w->ph[u.phase].dead_at_acquire++;
        step_failed(&u, "check at acquire", rc, &err);
        myappctx_pool_release(run->pool, u.c);
        return;
    }

    switch (u.kind) {
    case K_FAST:
    case K_FAST_DIV0:
    case K_FAST_CANCEL:
    case K_FAST_DIRTY:
        unit_fast(&u);
        break;
    case K_BEGIN_CTX:
        unit_begin_in_context(&u);
        break;
    case K_SESSION:
    case K_IMPERSONATE:
    case K_SET_ROLE:
        unit_session(&u);
        break;
    default:
        unit_txn(&u);
        break;
    }
    myappctx_pool_release(run->pool, u.c);
    progress(w);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    while (!load_int(&w->run->stop))
        run_unit(w);
    su_beat_done(&w->run->beat[w->id - 1]);
    return NULL;
}

/* ------------------------------------------------------------ faults */

/* Terminates a random app_service backend every ~50 ms while the phase lasts. */
static void *
killer_main(void *arg)
{
    struct run *run = arg;
    myappctx_conn *su = su_connect("");
    const char *p[] = { LOGIN };
    while (!load_int(&run->stop) && load_int(&run->phase) == PH_KILL) {
        tu_sleep_ms(50);
        PGresult *res;
        myappctx_error err;
        if (myappctx_exec(su, "SELECT pg_terminate_backend(a.pid)"
                              " FROM (SELECT pid FROM pg_catalog.pg_stat_activity"
                              "       WHERE usename = $1 AND backend_type = 'client backend'"
                              "       ORDER BY random() LIMIT 1) AS a", 1, p, &res, &err)
            != MYAPPCTX_OK) {
            su_violation("unexpected", "killer: %s", err.message);
            break;
        }
        if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
            run->kills++;
        PQclear(res);
    }
    myappctx_conn_close(su);
    return NULL;
}

static void
watch_until(struct run *run, uint64_t until)
{
    su_watch_until(run->beat, WORKERS, until, HANG_MS);
}

/* Stops and starts the server; returns when a commit followed (or the
 * bound passed). */
static void
restart_server(struct run *run)
{
    const char *stop_cmd = su_env("STRESS_STOP_CMD");
    const char *start_cmd = su_env("STRESS_START_CMD");
    uint64_t t_stop = tu_now_ns();
    int st = su_shell(stop_cmd);
    uint64_t t_down = tu_now_ns();
    __atomic_store_n(&run->down_ns, t_down, __ATOMIC_RELEASE);
    if (st != 0)
        su_violation("harness", "stopping the server failed (status %d): %s", st, stop_cmd);
    st = su_shell(start_cmd);
    uint64_t t_up = tu_now_ns();
    if (st != 0)
        su_violation("harness", "starting the server failed (status %d): %s", st, start_cmd);

    uint64_t bound = t_up + (uint64_t)RECOVERY_BOUND_MS * 1000000u;
    while (__atomic_load_n(&run->first_commit_after_down_ns, __ATOMIC_RELAXED) == 0 &&
           tu_now_ns() < bound)
        watch_until(run, tu_now_ns() + 20000000u);
    uint64_t first = __atomic_load_n(&run->first_commit_after_down_ns, __ATOMIC_RELAXED);
    su_figure("restart_stop_seconds", "%.2f", su_ns_s(t_down - t_stop));
    su_figure("restart_downtime_seconds", "%.2f", su_ns_s(t_up - t_stop));
    if (first == 0) {
        su_violation("no_recovery", "no commit within %ld s after the server came back",
                     RECOVERY_BOUND_MS / 1000);
        su_figure("restart_recovery_seconds", "none");
        return;
    }
    su_figure("restart_recovery_seconds", "%.2f", su_ns_s(first - t_stop));
    su_figure("restart_recovery_after_start_seconds", "%.2f", su_ns_s(first - t_up));
}

/* ------------------------------------------------------------- report */

struct totals {
    unsigned long units, commits, injected;
};

static struct totals
report(struct run *run, const double *phase_seconds)
{
    unsigned long total_units = 0, total_commits = 0, total_injected = 0;
    unsigned long injected[NKINDS] = { 0 }, cancel_missed = 0;
    for (int p = 0; p < NPHASES; p++) {
        struct phase_stats s = { 0 };
        for (int i = 0; i < WORKERS; i++) {
            const struct phase_stats *x = &run->w[i].ph[p];
            s.units += x->units;
            s.commits += x->commits;
            s.conn_errors += x->conn_errors;
            s.acquire_timeouts += x->acquire_timeouts;
            s.dead_at_acquire += x->dead_at_acquire;
            s.recoveries += x->recoveries;
            s.recovery_sum_ns += x->recovery_sum_ns;
            if (x->recovery_max_ns > s.recovery_max_ns)
                s.recovery_max_ns = x->recovery_max_ns;
        }
        char name[64];
#define PHASE_FIGURE(field, fmt, value)                                        \
        do {                                                                   \
            snprintf(name, sizeof name, "phase_%s_%s", phase_names[p], field); \
            su_figure(name, fmt, value);                                       \
        } while (0)
        PHASE_FIGURE("seconds", "%.1f", phase_seconds[p]);
        PHASE_FIGURE("transactions", "%lu", s.units);
        PHASE_FIGURE("commits", "%lu", s.commits);
        PHASE_FIGURE("commits_per_second", "%.0f",
                     phase_seconds[p] > 0 ? (double)s.commits / phase_seconds[p] : 0.0);
        PHASE_FIGURE("connection_errors", "%lu", s.conn_errors);
        PHASE_FIGURE("acquire_timeouts", "%lu", s.acquire_timeouts);
        PHASE_FIGURE("dead_connection_lent", "%lu", s.dead_at_acquire);
        if (p != PH_MIXED) {
            /* A worker's connection error to its next commit. */
            PHASE_FIGURE("worker_recoveries", "%lu", s.recoveries);
            PHASE_FIGURE("worker_recovery_ms_mean", "%.1f",
                         s.recoveries ? su_ns_ms(s.recovery_sum_ns) / (double)s.recoveries : 0.0);
            PHASE_FIGURE("worker_recovery_ms_max", "%.1f", su_ns_ms(s.recovery_max_ns));
        }
#undef PHASE_FIGURE
        total_units += s.units;
        total_commits += s.commits;
    }
    for (int i = 0; i < WORKERS; i++) {
        for (int k = 0; k < NKINDS; k++)
            injected[k] += run->w[i].injected[k];
        cancel_missed += run->w[i].cancel_missed;
    }
    char name[64];
    for (int k = 0; k < NKINDS; k++) {
        if (!kinds[k].injected)
            continue;
        snprintf(name, sizeof name, "injected_%s", kinds[k].name);
        su_figure(name, "%lu", injected[k]);
        total_injected += injected[k];
    }
    su_figure("cancel_too_late", "%lu", cancel_missed);
    su_figure("kills", "%lu", run->kills);
    su_figure("max_acquire_ms", "%.1f", su_ns_ms(run->max_acquire_ns));
    su_figure("acquire_timeout_ms", "%ld", ACQUIRE_TIMEOUT_MS);
    su_figure("transactions", "%lu", total_units);
    su_figure("commits", "%lu", total_commits);
    su_figure("injected", "%lu", total_injected);
    return (struct totals){ total_units, total_commits, total_injected };
}

/* The reset of STRESS_SELFCHECK_NO_RESET: keeps everything. */
static int
no_reset(myappctx_conn *conn, void *userdata)
{
    (void)conn;
    (void)userdata;
    return 0;
}

int
main(void)
{
    static struct run run;
    double seconds = su_env_num("STRESS_SECONDS", 60);
    uint64_t rng = (uint64_t)tu_now_ns() | 1u;
    setvbuf(stdout, NULL, _IOLBF, 0);

    myappctx_conn *su = su_connect("");
    su_seed(su, &run.world, &rng);
    myappctx_conn_close(su);

    myappctx_pool_config cfg = su_pool_config(CONNINFO, POOL_SIZE, ACQUIRE_TIMEOUT_MS, 500);
    if (su_env_num("STRESS_SELFCHECK_NO_RESET", 0) != 0) {
        cfg.reset = MYAPPCTX_POOL_RESET_HOOK;
        cfg.on_release = no_reset;
        su_figure("selfcheck_no_reset", "1");
    }
    run.pool = su_pool_start(&cfg);
    pthread_mutex_init(&run.cancel_mu, NULL);
    pthread_cond_init(&run.cancel_cond, NULL);
    su_figure("workers", "%d", WORKERS);
    su_figure("pool_max_size", "%d", POOL_SIZE);
    su_figure("stress_seconds", "%.0f", seconds);

    pthread_t canceller, killer;
    if (pthread_create(&canceller, NULL, canceller_main, &run) != 0)
        su_die("cannot start the canceller thread");
    for (int i = 0; i < WORKERS; i++) {
        struct worker *w = &run.w[i];
        w->run = &run;
        w->id = i + 1;
        w->rng = su_rand(&rng) | 1u;
        progress(w);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            su_die("cannot start worker %d", i);
    }

    double phase_seconds[NPHASES];
    for (int p = 0; p < NPHASES; p++) {
        uint64_t start = tu_now_ns();
        uint64_t end = start + (uint64_t)(seconds * phase_share[p] * 1e9);
        __atomic_store_n(&run.phase, p, __ATOMIC_RELAXED);
        if (p == PH_KILL && pthread_create(&killer, NULL, killer_main, &run) != 0)
            su_die("cannot start the killer thread");
        if (p == PH_RESTART) {
            /* Let the phase run a little, then restart mid-load. */
            watch_until(&run, start + (end - start) / 4);
            restart_server(&run);
            uint64_t now = tu_now_ns();
            if (end < now + 1000000000u)
                end = now + 1000000000u;    /* some load after the recovery */
        }
        watch_until(&run, end);
        if (p == PH_KILL) {
            __atomic_store_n(&run.phase, PH_RESTART, __ATOMIC_RELAXED);
            pthread_join(killer, NULL);
        }
        phase_seconds[p] = su_ns_s(tu_now_ns() - start);
    }
    __atomic_store_n(&run.stop, 1, __ATOMIC_RELAXED);
    su_watch_done(run.beat, WORKERS, HANG_MS);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(run.w[i].thread, NULL);
    __atomic_store_n(&run.stop_helpers, 1, __ATOMIC_RELAXED);
    pthread_join(canceller, NULL);

    struct totals tot = report(&run, phase_seconds);
    if (run.max_acquire_ns > (uint64_t)(ACQUIRE_TIMEOUT_MS + ACQUIRE_SLACK_MS) * 1000000u)
        su_violation("hang", "an acquire took %.0f ms (timeout %ld ms)",
                     su_ns_ms(run.max_acquire_ns), ACQUIRE_TIMEOUT_MS);
    su_pool_figures(run.pool, "pool");
    myappctx_pool_free(run.pool);

    struct su_ledger ledgers[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        ledgers[i] = run.w[i].ledger;
    struct su_verify_result vr;
    su = su_connect("");
    su_verify(su, &run.world, ledgers, WORKERS, &vr);
    myappctx_conn_close(su);
    su_verify_figures(&vr);
    for (int i = 0; i < WORKERS; i++)
        su_ledger_free(&ledgers[i]);

    unsigned long leaks = su_leaks();
    su_figure("leaks_at_acquire", "%lu", su_violations("leak_acquire"));
    su_figure("leaks_rls", "%lu", su_violations("leak_rls"));
    su_figure("leaks_identity", "%lu", su_violations("leak_identity"));
    su_figure("unexpected", "%lu", su_violations("unexpected"));
    su_figure("hangs", "%lu", su_violations("hang"));
    unsigned long all = su_violations(NULL);
    printf("summary: transactions=%lu commits=%lu injected=%lu leaks=%lu false_success=%lu "
           "false_failure=%lu unexpected=%lu violations=%lu\n",
           tot.units, tot.commits, tot.injected, leaks,
           vr.committed_missing, vr.absent_present, su_violations("unexpected"), all);
    pthread_cond_destroy(&run.cancel_cond);
    pthread_mutex_destroy(&run.cancel_mu);
    return all == 0 ? 0 : 1;
}
