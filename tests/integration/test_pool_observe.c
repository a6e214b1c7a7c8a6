/* Tracer hooks (myappctx/tracer.h) on a pool and on plain connections:
 * every event with its fields, notices (chained to a wrapped PGconn's own
 * processor), the reasons of evict events, leak detection, the stats'
 * histograms. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAX_REASONS 32

/* What a tracer saw; callbacks run in several threads. */
struct rec {
    pthread_mutex_t mu;
    int connects, connect_failures, acquires, acquire_failures, releases, units, resets_failed,
        evicts, notices, leaks;
    /* last connect */
    int connect_pid;
    char connect_host[128];
    uint64_t connect_ns;
    const myappctx_conn *connect_conn;
    /* last acquire */
    int acquire_status;
    char acquire_message[MYAPPCTX_ERROR_MESSAGE_SIZE];
    myappctx_conn *acquire_conn;
    /* last release */
    uint64_t held_ns;
    int release_reset;
    /* last unit */
    char unit_function[64], unit_sqlstate[6], unit_tenant[40], unit_message[MYAPPCTX_ERROR_MESSAGE_SIZE];
    size_t unit_statements;
    int unit_status;
    uint64_t unit_ns;
    /* last reset failure */
    int reset_at_release;
    char reset_message[MYAPPCTX_ERROR_MESSAGE_SIZE];
    /* evicts, in order */
    myappctx_evict_reason reasons[MAX_REASONS];
    int evict_pid;
    /* last notice */
    char severity[16], sqlstate[6], message[128], detail[128], hint[128];
    /* last leak */
    uint64_t leak_held_ns;
    int leak_released;
    const void *leak_from;
    const myappctx_conn *leak_conn;
};

static void
copy(char *dst, size_t size, const char *src)
{
    if (src == NULL)
        src = "(null)";
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void
on_connect(void *ud, const myappctx_trace_connect *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    ck_assert_int_eq(ev->version, MYAPPCTX_TRACE_EVENT_VERSION);
    if (ev->status == MYAPPCTX_OK) {
        r->connects++;
        r->connect_pid = ev->backend_pid;
        copy(r->connect_host, sizeof r->connect_host, ev->host);
        r->connect_ns = ev->duration_ns;
        r->connect_conn = ev->conn;
    } else {
        r->connect_failures++;
    }
    pthread_mutex_unlock(&r->mu);
}

static void
on_acquire(void *ud, const myappctx_trace_acquire *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    if (ev->status == MYAPPCTX_OK)
        r->acquires++;
    else
        r->acquire_failures++;
    r->acquire_status = ev->status;
    copy(r->acquire_message, sizeof r->acquire_message, ev->message);
    r->acquire_conn = ev->conn;
    pthread_mutex_unlock(&r->mu);
}

static void
on_release(void *ud, const myappctx_trace_release *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    r->releases++;
    r->held_ns = ev->held_ns;
    r->release_reset = ev->reset;
    pthread_mutex_unlock(&r->mu);
}

static void
on_unit(void *ud, const myappctx_trace_unit *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    r->units++;
    copy(r->unit_function, sizeof r->unit_function, ev->function);
    copy(r->unit_sqlstate, sizeof r->unit_sqlstate, ev->sqlstate);
    copy(r->unit_tenant, sizeof r->unit_tenant, ev->tenant_id);
    copy(r->unit_message, sizeof r->unit_message, ev->message);
    r->unit_statements = ev->statements;
    r->unit_status = ev->status;
    r->unit_ns = ev->duration_ns;
    pthread_mutex_unlock(&r->mu);
}

static void
on_reset_failed(void *ud, const myappctx_trace_reset_failed *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    r->resets_failed++;
    r->reset_at_release = ev->at_release;
    copy(r->reset_message, sizeof r->reset_message, ev->message);
    pthread_mutex_unlock(&r->mu);
}

static void
on_evict(void *ud, const myappctx_trace_evict *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    ck_assert_str_eq(ev->reason_name, myappctx_trace_reason_name(ev->reason));
    if (r->evicts < MAX_REASONS)
        r->reasons[r->evicts] = ev->reason;
    r->evicts++;
    r->evict_pid = ev->backend_pid;
    pthread_mutex_unlock(&r->mu);
}

static void
on_notice(void *ud, const myappctx_trace_notice *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    r->notices++;
    copy(r->severity, sizeof r->severity, ev->severity);
    copy(r->sqlstate, sizeof r->sqlstate, ev->sqlstate);
    copy(r->message, sizeof r->message, ev->message);
    copy(r->detail, sizeof r->detail, ev->detail);
    copy(r->hint, sizeof r->hint, ev->hint);
    pthread_mutex_unlock(&r->mu);
}

static void
on_leak(void *ud, const myappctx_trace_leak *ev)
{
    struct rec *r = ud;
    pthread_mutex_lock(&r->mu);
    r->leaks++;
    r->leak_held_ns = ev->held_ns;
    r->leak_released = ev->released;
    r->leak_from = ev->acquired_from;
    r->leak_conn = ev->conn;
    pthread_mutex_unlock(&r->mu);
}

static struct rec *
rec_new(void)
{
    struct rec *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

static myappctx_tracer
tracer_for(struct rec *r)
{
    myappctx_tracer t = MYAPPCTX_TRACER_INIT;
    t.userdata = r;
    t.on_connect = on_connect;
    t.on_acquire = on_acquire;
    t.on_release = on_release;
    t.on_unit = on_unit;
    t.on_reset_failed = on_reset_failed;
    t.on_evict = on_evict;
    t.on_notice = on_notice;
    t.on_leak = on_leak;
    return t;
}

/* A field of the record, read under its lock. */
#define GET(r, field) get_int(r, &(r)->field)
static int
get_int(struct rec *r, const int *field)
{
    pthread_mutex_lock(&r->mu);
    int v = *field;
    pthread_mutex_unlock(&r->mu);
    return v;
}

static int
saw_reason(struct rec *r, myappctx_evict_reason reason)
{
    pthread_mutex_lock(&r->mu);
    int n = 0;
    for (int i = 0; i < r->evicts && i < MAX_REASONS; i++)
        n += r->reasons[i] == reason;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static const char TENANT[] = "22222222-2222-4222-8222-222222222222";

static myappctx_txn_context
unit_ctx(myappctx_uuid *user, myappctx_uuid *tenant)
{
    tu_random_uuid(user, NULL);
    myappctx_uuid_parse(tenant, TENANT, NULL);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.tenant_id = tenant;
    return ctx;
}

START_TEST(events_of_a_borrow)
{
    struct rec *r = rec_new();
    myappctx_tracer t = tracer_for(r);
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 1);
    cfg.tracer = &t;
    myappctx_pool *pool = tu_pool_start(&cfg);
    t.on_connect = NULL;          /* copied: later changes do not matter */

    TU_EVENTUALLY(GET(r, connects) == 1, 10000, "the connect event");
    ck_assert_int_gt(r->connect_pid, 0);
    ck_assert_uint_gt(r->connect_ns, 0);
    ck_assert_str_ne(r->connect_host, "(null)");

    myappctx_conn *c = tu_pool_acquire(pool);
    ck_assert_int_eq(GET(r, acquires), 1);
    ck_assert_ptr_eq(r->acquire_conn, c);
    ck_assert_ptr_eq(r->connect_conn, c);     /* the same handle from its connect on */
    ck_assert_int_eq(r->connect_pid, tu_backend_pid(c));

    /* Units: function, statements, tenant, duration, and a failure's SQLSTATE. */
    myappctx_uuid user, tenant;
    myappctx_txn_context ctx = unit_ctx(&user, &tenant);
    myappctx_stmt two[2] = { { "SELECT 1", 0, NULL }, { "SELECT 2", 0, NULL } };
    myappctx_error err;
    tu_assert_ok(myappctx_run_in_context(c, &ctx, two, 2, NULL, &err), err);
    ck_assert_int_eq(GET(r, units), 1);
    ck_assert_str_eq(r->unit_function, "myappctx_run_in_context");
    ck_assert_uint_eq(r->unit_statements, 2);
    ck_assert_str_eq(r->unit_tenant, TENANT);
    ck_assert_str_eq(r->unit_sqlstate, "");
    ck_assert_int_eq(r->unit_status, MYAPPCTX_OK);
    ck_assert_uint_gt(r->unit_ns, 0);

    myappctx_stmt bad = { "SELECT 1 / 0", 0, NULL };
    ctx.tenant_id = NULL;
    /* No err of the caller's: the event still has the message. */
    ck_assert_int_eq(myappctx_run_in_context(c, &ctx, &bad, 1, NULL, NULL), MYAPPCTX_ESERVER);
    ck_assert_int_eq(GET(r, units), 2);
    ck_assert_str_eq(r->unit_sqlstate, "22012");
    ck_assert_int_eq(r->unit_status, MYAPPCTX_ESERVER);
    ck_assert_str_eq(r->unit_tenant, "(null)");
    ck_assert_msg(strstr(r->unit_message, "division by zero") != NULL, "%s", r->unit_message);

    tu_assert_ok(myappctx_begin_in_context(c, &ctx, &two[0], NULL, &err), err);
    ck_assert_str_eq(r->unit_function, "myappctx_begin_in_context");
    ck_assert_uint_eq(r->unit_statements, 1);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_ok(myappctx_begin_as_user(c, &user, &tenant, NULL, &err), err);
    ck_assert_str_eq(r->unit_function, "myappctx_begin_as_user");
    ck_assert_uint_eq(r->unit_statements, 0);
    ck_assert_str_eq(r->unit_tenant, TENANT);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    /* Refused in C before anything is sent: no event. */
    ck_assert_int_eq(myappctx_run_in_context(c, NULL, two, 1, NULL, NULL), MYAPPCTX_EINVAL);
    ck_assert_int_eq(GET(r, units), 4);

    /* A failed acquire (the only connection is out). */
    myappctx_conn *none = (myappctx_conn *)0x1;
    ck_assert_int_eq(myappctx_pool_acquire(pool, &none, 0, NULL), MYAPPCTX_ETIMEOUT);
    ck_assert_int_eq(GET(r, acquire_failures), 1);
    ck_assert_int_eq(r->acquire_status, MYAPPCTX_ETIMEOUT);
    ck_assert_ptr_null(r->acquire_conn);
    ck_assert_msg(strstr(r->acquire_message, "timed out") != NULL, "%s", r->acquire_message);

    ck_assert_int_eq(myappctx_pool_release(pool, c), MYAPPCTX_OK);
    ck_assert_int_eq(GET(r, releases), 1);
    ck_assert_int_eq(r->release_reset, 1);
    ck_assert_uint_gt(r->held_ns, 0);
    /* Untouched since it was lent: no reset needed. */
    c = tu_pool_acquire(pool);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(GET(r, releases), 2);
    ck_assert_int_eq(r->release_reset, 0);

    ck_assert_int_eq(GET(r, evicts), 0);
    myappctx_pool_free(pool);
    ck_assert_int_eq(GET(r, evicts), 1);
    ck_assert_int_eq(saw_reason(r, MYAPPCTX_EVICT_CLOSED), 1);
    ck_assert_int_eq(GET(r, connect_failures), 0);
    ck_assert_int_eq(GET(r, leaks), 0);
    free(r);
}
END_TEST

static const char WARN_SQL[] =
    "DO $$ BEGIN RAISE WARNING 'careful: %', 42 USING DETAIL = 'the detail', "
    "HINT = 'the hint', ERRCODE = '01007'; END $$";

START_TEST(notices_reach_the_tracer)
{
    struct rec *r = rec_new();
    myappctx_tracer t = tracer_for(r);
    myappctx_conn *c = tu_connect();
    myappctx_error err;

    tu_exec(c, WARN_SQL, 0, NULL);                 /* no tracer: dropped as before */
    tu_assert_ok(myappctx_conn_set_tracer(c, &t, &err), err);
    tu_exec(c, WARN_SQL, 0, NULL);
    ck_assert_int_eq(r->notices, 1);
    ck_assert_str_eq(r->severity, "WARNING");
    ck_assert_str_eq(r->sqlstate, "01007");
    ck_assert_str_eq(r->message, "careful: 42");
    ck_assert_str_eq(r->detail, "the detail");
    ck_assert_str_eq(r->hint, "the hint");
    tu_exec(c, "DO $$ BEGIN RAISE NOTICE 'plain'; END $$", 0, NULL);
    ck_assert_int_eq(r->notices, 2);
    ck_assert_str_eq(r->severity, "NOTICE");
    ck_assert_str_eq(r->detail, "(null)");

    /* Units report to a plain connection's tracer too. */
    myappctx_uuid user, tenant;
    myappctx_txn_context ctx = unit_ctx(&user, &tenant);
    myappctx_stmt st = { "SELECT 1", 0, NULL };
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &st, 1, NULL, &err), err);
    ck_assert_int_eq(r->units, 1);
    ck_assert_str_eq(r->unit_tenant, TENANT);

    /* Setting it twice changes nothing; removing it stops the events. */
    tu_assert_ok(myappctx_conn_set_tracer(c, &t, &err), err);
    tu_exec(c, WARN_SQL, 0, NULL);
    ck_assert_int_eq(r->notices, 3);
    tu_assert_ok(myappctx_conn_set_tracer(c, NULL, &err), err);
    tu_exec(c, WARN_SQL, 0, NULL);
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &st, 1, NULL, &err), err);
    ck_assert_int_eq(r->notices, 3);
    ck_assert_int_eq(r->units, 1);
    /* A tracer without on_notice installs nothing. */
    myappctx_tracer units_only = MYAPPCTX_TRACER_INIT;
    units_only.userdata = r;
    units_only.on_unit = on_unit;
    tu_assert_ok(myappctx_conn_set_tracer(c, &units_only, &err), err);
    tu_exec(c, WARN_SQL, 0, NULL);
    ck_assert_int_eq(r->notices, 3);
    myappctx_conn_close(c);

    /* A pooled connection: the pool's tracer, from on_connect on. */
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 1);
    cfg.tracer = &t;
    myappctx_pool *pool = tu_pool_start(&cfg);
    c = tu_pool_acquire(pool);
    tu_exec(c, "DO $$ BEGIN RAISE NOTICE 'pooled'; END $$", 0, NULL);
    ck_assert_int_eq(GET(r, notices), 4);
    ck_assert_str_eq(r->message, "pooled");
    tu_expect(myappctx_conn_set_tracer(c, NULL, &err), MYAPPCTX_EINVAL, err, "belongs to a pool");
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);
    free(r);
}
END_TEST

static void
count_notice(void *arg, const char *message)
{
    (void)message;
    ++*(int *)arg;
}

static void
own_receiver(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

/* A wrapped PGconn keeps its own notice processor: notices reach both, and
 * it gets libpq's receiver back when the wrapper goes. */
START_TEST(wrapped_connection_keeps_its_notice_processor)
{
    struct rec *r = rec_new();
    myappctx_tracer t = tracer_for(r);
    PGconn *pg = PQconnectdb(TU_APP_CONNINFO);
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    int processed = 0;
    PQsetNoticeProcessor(pg, count_notice, &processed);
    myappctx_conn *c;
    myappctx_error err;
    tu_assert_ok(myappctx_conn_wrap(&c, pg, NULL, &err), err);
    tu_assert_ok(myappctx_conn_set_tracer(c, &t, &err), err);
    tu_exec(c, WARN_SQL, 0, NULL);
    ck_assert_int_eq(r->notices, 1);
    ck_assert_int_eq(processed, 1);
    myappctx_conn_close(c);
    tu_sql(pg, WARN_SQL);              /* the wrapper is gone: nothing of ours runs */
    ck_assert_int_eq(processed, 2);
    ck_assert_int_eq(r->notices, 1);

    /* A receiver of the application's cannot be chained to: refused. */
    PQsetNoticeReceiver(pg, own_receiver, NULL);
    tu_assert_ok(myappctx_conn_wrap(&c, pg, NULL, &err), err);
    tu_expect(myappctx_conn_set_tracer(c, &t, &err), MYAPPCTX_EINVAL, err, "notice receiver");
    myappctx_tracer no_notices = MYAPPCTX_TRACER_INIT;
    tu_assert_ok(myappctx_conn_set_tracer(c, &no_notices, &err), err);   /* fine without */
    myappctx_conn_close(c);
    ck_assert_ptr_eq(PQsetNoticeReceiver(pg, NULL, NULL), own_receiver);
    PQfinish(pg);

    /* Other refusals. */
    tu_expect(myappctx_conn_set_tracer(NULL, &t, &err), MYAPPCTX_EINVAL, err, "'conn'");
    c = tu_connect();
    t.version = 0;
    tu_expect(myappctx_conn_set_tracer(c, &t, &err), MYAPPCTX_EINVAL, err, "MYAPPCTX_TRACER_INIT");
    myappctx_conn_close(c);
    free(r);
}
END_TEST

static int
refuse(myappctx_conn *conn, void *ud)
{
    (void)conn;
    (void)ud;
    return 7;
}

/* Each way the pool closes a connection raises on_evict with its reason,
 * counted where the stats say. */
START_TEST(evict_reasons)
{
    struct rec *r = rec_new();
    myappctx_tracer t = tracer_for(r);
    myappctx_pool_config cfg = tu_pool_config("", 2, 2);
    cfg.tracer = &t;
    myappctx_pool *pool = tu_pool_start(&cfg);

    /* unusable: returned in pipeline mode */
    myappctx_conn *c = tu_pool_acquire(pool);
    ck_assert_int_eq(PQenterPipelineMode(myappctx_conn_pg(c)), 1);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(saw_reason(r, MYAPPCTX_EVICT_UNUSABLE), 1);
    /* broken: its backend was terminated while borrowed */
    c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    tu_kill_backend(pid);
    myappctx_error err;
    tu_assert_rc(myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_ECONNECT, err);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(saw_reason(r, MYAPPCTX_EVICT_BROKEN), 1);
    ck_assert_int_eq(r->evict_pid, pid);
    /* resize: above the new max_size */
    tu_assert_ok(myappctx_pool_wait_ready(pool, 20000, &err), err);
    TU_EVENTUALLY(tu_pool_stats(pool).idle == 2, 20000, "both connections idle");
    tu_assert_ok(myappctx_pool_resize(pool, 0, 1, &err), err);
    ck_assert_int_eq(saw_reason(r, MYAPPCTX_EVICT_RESIZE), 1);
    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.discarded, 1);
    ck_assert_uint_eq(st.lost, 1);
    ck_assert_uint_eq(st.evicted, 1);
    ck_assert_int_eq(GET(r, evicts), 3);
    myappctx_pool_free(pool);
    ck_assert_int_eq(saw_reason(r, MYAPPCTX_EVICT_CLOSED), 1);

    /* lifetime and idle time, in the background */
    memset(r->reasons, 0, sizeof r->reasons);
    r->evicts = 0;
    cfg = tu_pool_config("", 1, 2);
    cfg.tracer = &t;
    cfg.max_lifetime_ms = 300;
    cfg.max_lifetime_jitter = 0.0;
    cfg.max_idle_ms = 30;
    pool = tu_pool_start(&cfg);
    myappctx_conn *a = tu_pool_acquire(pool), *b = tu_pool_acquire(pool);
    myappctx_pool_release(pool, a);
    myappctx_pool_release(pool, b);
    TU_EVENTUALLY(saw_reason(r, MYAPPCTX_EVICT_IDLE) >= 1, 20000, "an idle eviction");
    TU_EVENTUALLY(saw_reason(r, MYAPPCTX_EVICT_LIFETIME) >= 1, 20000, "a lifetime eviction");
    myappctx_pool_free(pool);

    /* reset failed: on_release refuses */
    r->evicts = 0;
    memset(r->reasons, 0, sizeof r->reasons);
    cfg = tu_pool_config("", 1, 1);
    cfg.tracer = &t;
    cfg.reset = MYAPPCTX_POOL_RESET_HOOK;
    cfg.on_release = refuse;
    pool = tu_pool_start(&cfg);
    c = tu_pool_acquire(pool);
    tu_exec(c, "SELECT 1", 0, NULL);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(GET(r, resets_failed), 1);
    ck_assert_int_eq(r->reset_at_release, 1);
    ck_assert_msg(strstr(r->reset_message, "on_release hook refused") != NULL, "%s",
                  r->reset_message);
    ck_assert_int_eq(saw_reason(r, MYAPPCTX_EVICT_RESET_FAILED), 1);
    ck_assert_uint_eq(tu_pool_stats(pool).discarded, 1);
    myappctx_pool_free(pool);
    free(r);
}
END_TEST

/* A deferred reset that fails before a call of the next borrower: here
 * because the backend went away in between. */
START_TEST(deferred_reset_failure_is_an_event)
{
    struct rec *r = rec_new();
    myappctx_tracer t = tracer_for(r);
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 1);
    cfg.tracer = &t;
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    int pid = tu_backend_pid(c);
    tu_exec(c, "SELECT 1", 0, NULL);                /* used: its reset is deferred */
    myappctx_pool_release(pool, c);
    tu_kill_backend(pid);
    c = tu_pool_acquire(pool);
    myappctx_error err;
    tu_expect(myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_ECONNECT, err,
              "resetting the pooled connection before use failed");
    ck_assert_int_eq(GET(r, resets_failed), 1);
    ck_assert_int_eq(r->reset_at_release, 0);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(saw_reason(r, MYAPPCTX_EVICT_BROKEN), 1);
    ck_assert_uint_eq(tu_pool_stats(pool).lost, 1);
    myappctx_pool_free(pool);
    free(r);
}
END_TEST

START_TEST(leak_is_reported_once_per_borrow_while_held)
{
    struct rec *r = rec_new();
    myappctx_tracer t = tracer_for(r);
    myappctx_pool_config cfg = tu_pool_config("", 1, 1);
    cfg.tracer = &t;
    cfg.leak_detection_ms = 100;
    myappctx_pool *pool = tu_pool_start(&cfg);

    myappctx_conn *c = tu_pool_acquire(pool);
    TU_EVENTUALLY(GET(r, leaks) == 1, 20000, "the leak reported while borrowed");
    ck_assert_int_eq(r->leak_released, 0);
    ck_assert_uint_ge(r->leak_held_ns, 100000000u);
    ck_assert_ptr_nonnull(r->leak_from);
    ck_assert_ptr_eq(r->leak_conn, c);
    tu_sleep_ms(300);                               /* several more scans: still once */
    ck_assert_int_eq(GET(r, leaks), 1);
    ck_assert_uint_eq(tu_pool_stats(pool).leaks, 1);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(GET(r, leaks), 1);

    /* A short borrow is none; the next long one is reported again. */
    c = tu_pool_acquire(pool);
    myappctx_pool_release(pool, c);
    c = tu_pool_acquire(pool);
    TU_EVENTUALLY(GET(r, leaks) == 2, 20000, "the second leak");
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).leaks, 2);
    myappctx_pool_free(pool);

    /* Off by default. */
    cfg.leak_detection_ms = 0;
    pool = tu_pool_start(&cfg);
    c = tu_pool_acquire(pool);
    tu_sleep_ms(150);
    myappctx_pool_release(pool, c);
    ck_assert_uint_eq(tu_pool_stats(pool).leaks, 0);
    ck_assert_int_eq(GET(r, leaks), 2);
    myappctx_pool_free(pool);
    free(r);
}
END_TEST

/* An on_connect hook that holds the background thread from its second call
 * on until the test lets it go. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int calls, open, waiting;
};

static int
gated_connect(myappctx_conn *conn, void *ud)
{
    (void)conn;
    struct gate *g = ud;
    pthread_mutex_lock(&g->mu);
    if (++g->calls >= 2) {
        g->waiting = 1;
        pthread_cond_broadcast(&g->cond);
        while (!g->open)
            pthread_cond_wait(&g->cond, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return 0;
}

/* The background thread is busy (here: held in on_connect) past the limit:
 * the release reports the leak itself, once. */
START_TEST(leak_is_reported_at_release_when_the_background_thread_is_busy)
{
    struct rec *r = rec_new();
    myappctx_tracer t = tracer_for(r);
    struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
    myappctx_pool_config cfg = tu_pool_config("", 1, 2);
    cfg.tracer = &t;
    cfg.leak_detection_ms = 50;
    cfg.on_connect = gated_connect;
    cfg.on_connect_userdata = &g;
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_error err;
    tu_assert_ok(myappctx_pool_resize(pool, 2, 2, &err), err);    /* a second connect */
    pthread_mutex_lock(&g.mu);
    while (!g.waiting)
        pthread_cond_wait(&g.cond, &g.mu);
    pthread_mutex_unlock(&g.mu);
    /* The background thread is held now; the borrow starts after. */
    myappctx_conn *c = tu_pool_acquire(pool);
    tu_sleep_ms(150);                   /* held past the limit, nobody scanning */
    ck_assert_int_eq(GET(r, leaks), 0);
    myappctx_pool_release(pool, c);
    ck_assert_int_eq(GET(r, leaks), 1);
    ck_assert_int_eq(r->leak_released, 1);
    ck_assert_uint_ge(r->leak_held_ns, 150000000u);
    ck_assert_uint_eq(tu_pool_stats(pool).leaks, 1);
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.mu);
    tu_assert_ok(myappctx_pool_wait_ready(pool, 20000, &err), err);
    tu_sleep_ms(100);                   /* the background thread scans again: nothing new */
    ck_assert_int_eq(GET(r, leaks), 1);
    myappctx_pool_free(pool);
    free(r);
}
END_TEST

static uint64_t
bucket_sum(const myappctx_pool_histogram *h)
{
    uint64_t n = 0;
    for (int i = 0; i < MYAPPCTX_POOL_HISTOGRAM_BUCKETS; i++)
        n += h->buckets[i];
    return n;
}

struct waiter {
    myappctx_pool *pool;
    myappctx_conn *conn;
};

static void *
waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->conn = tu_pool_acquire(w->pool);
    return NULL;
}

START_TEST(histograms_count_acquires_releases_and_connects)
{
    myappctx_pool_config cfg = tu_pool_config("", 2, 2);   /* no tracer: stats anyway */
    myappctx_pool *pool = tu_pool_start(&cfg);
    for (int i = 0; i < 20; i++)
        myappctx_pool_release(pool, tu_pool_acquire(pool));
    /* One acquire that has to queue. */
    myappctx_conn *a = tu_pool_acquire(pool), *b = tu_pool_acquire(pool);
    struct waiter w = { pool, NULL };
    pthread_t th;
    pthread_create(&th, NULL, waiter_main, &w);
    TU_EVENTUALLY(tu_pool_stats(pool).waiting == 1, 20000, "the acquirer queued");
    tu_sleep_ms(20);
    myappctx_pool_release(pool, a);
    pthread_join(th, NULL);
    myappctx_pool_release(pool, w.conn);
    myappctx_pool_release(pool, b);

    myappctx_pool_stats st = tu_pool_stats(pool);
    ck_assert_uint_eq(st.acquires, 23);
    ck_assert_uint_eq(st.acquire_wait.count, st.acquires);
    ck_assert_uint_eq(bucket_sum(&st.acquire_wait), st.acquire_wait.count);
    ck_assert_uint_eq(st.acquire_wait.sum_us, st.acquire_wait_total_us);
    ck_assert_uint_lt(st.acquire_wait.buckets[0], st.acquire_wait.count);  /* the queued one */
    ck_assert_uint_ge(st.acquire_wait.sum_us, 20000);
    ck_assert_uint_eq(st.use_time.count, 23);
    ck_assert_uint_eq(bucket_sum(&st.use_time), 23);
    ck_assert_uint_eq(st.create_time.count, st.created);
    ck_assert_uint_eq(bucket_sum(&st.create_time), st.created);
    ck_assert_uint_gt(st.create_time.sum_us, 0);
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool_observe");
    TCase *tc = tcase_create("pool_observe");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, events_of_a_borrow);
    tcase_add_test(tc, notices_reach_the_tracer);
    tcase_add_test(tc, wrapped_connection_keeps_its_notice_processor);
    tcase_add_test(tc, evict_reasons);
    tcase_add_test(tc, deferred_reset_failure_is_an_event);
    tcase_add_test(tc, leak_is_reported_once_per_borrow_while_held);
    tcase_add_test(tc, leak_is_reported_at_release_when_the_background_thread_is_busy);
    tcase_add_test(tc, histograms_count_acquires_releases_and_connects);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
