/* The pool's side of the tracer (myappctx/tracer.h): its copy of the
 * application's callbacks, the events raised by the pool's files, and leak
 * detection.
 *
 * Every event is raised without the pool's lock and tests for its callback
 * first, so a pool without a tracer pays one pointer test per site; the
 * clock reads that events need beyond the pool's own are made only when the
 * callback is set (acquire.c).  Events that name a connection the raising
 * thread does not own give it as identity only.
 *
 * Leak detection needs no timer per borrow: with leak_detection_ms set,
 * borrowed slots are kept in pool->borrowed (list.c, under the lock acquire
 * and release already take), and the background thread, which wakes up for
 * the earliest deadline anyway, reports each borrow held too long once
 * while it is still held.  A release that comes first (the background
 * thread busy with a slow connect) reports it itself.  slot->leak_reported
 * is exchanged atomically by both, so a borrow is reported once. */
#include "config.h"

#include "pool/pool.h"

int
mxi_tracer_check(const myappctx_pool_config *cfg, myappctx_error *err)
{
    if (cfg->tracer != NULL && cfg->tracer->version != MYAPPCTX_TRACER_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "myappctx_pool_new: config 'tracer' has version %d, not %d "
                             "(use MYAPPCTX_TRACER_INIT)",
                             cfg->tracer->version, MYAPPCTX_TRACER_VERSION);
    if (cfg->leak_detection_ms < 0)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "myappctx_pool_new: config 'leak_detection_ms' must be >= 0 (0: off)");
    return MYAPPCTX_OK;
}

void
mxi_tracer_setup(myappctx_pool *pool)
{
    if (pool->cfg.tracer != NULL) {
        pool->tracer_copy = *pool->cfg.tracer;
        pool->tracer = &pool->tracer_copy;
    }
    pool->cfg.tracer = pool->tracer;
    pool->leak_ns = mxi_clock_ms_to_ns(pool->cfg.leak_detection_ms);
}

void
mxi_tracer_connect(myappctx_pool *pool, const struct mxi_slot *slot, int rc,
                   const myappctx_error *err, uint64_t duration_ns)
{
    const myappctx_tracer *t = pool->tracer;
    if (t == NULL || t->on_connect == NULL)
        return;
    PGconn *pg = slot != NULL ? slot->conn->pg : NULL;
    myappctx_trace_connect ev = {
        .version = MYAPPCTX_TRACE_EVENT_VERSION,
        .pool = pool,
        .conn = slot != NULL ? slot->conn : NULL,
        .status = rc,
        .sqlstate = rc != MYAPPCTX_OK ? err->sqlstate : "",
        .message = rc != MYAPPCTX_OK ? err->message : "",
        .duration_ns = duration_ns,
        .host = pg != NULL ? PQhost(pg) : NULL,
        .port = pg != NULL ? PQport(pg) : NULL,
        .backend_pid = slot != NULL ? slot->backend_pid : 0,
    };
    t->on_connect(t->userdata, &ev);
}

void
mxi_tracer_acquire(myappctx_pool *pool, myappctx_conn *conn, int rc, const myappctx_error *err,
                   uint64_t wait_ns, uint64_t duration_ns)
{
    const myappctx_tracer *t = pool->tracer;
    if (t == NULL || t->on_acquire == NULL)
        return;
    myappctx_trace_acquire ev = {
        .version = MYAPPCTX_TRACE_EVENT_VERSION,
        .pool = pool,
        .conn = conn,
        .status = rc,
        .message = rc != MYAPPCTX_OK ? err->message : "",
        .wait_ns = wait_ns,
        .duration_ns = duration_ns,
    };
    t->on_acquire(t->userdata, &ev);
}

void
mxi_tracer_release(myappctx_pool *pool, const struct mxi_slot *slot, uint64_t held_ns, int reset)
{
    const myappctx_tracer *t = pool->tracer;
    if (t == NULL || t->on_release == NULL)
        return;
    myappctx_trace_release ev = {
        .version = MYAPPCTX_TRACE_EVENT_VERSION,
        .pool = pool,
        .conn = slot->conn,
        .held_ns = held_ns,
        .reset = reset,
    };
    t->on_release(t->userdata, &ev);
}

void
mxi_tracer_reset_failed(myappctx_pool *pool, const struct mxi_slot *slot, int rc,
                        const myappctx_error *err, int at_release)
{
    const myappctx_tracer *t = pool->tracer;
    if (t == NULL || t->on_reset_failed == NULL)
        return;
    myappctx_trace_reset_failed ev = {
        .version = MYAPPCTX_TRACE_EVENT_VERSION,
        .pool = pool,
        .conn = slot->conn,
        .status = rc,
        .sqlstate = err != NULL ? err->sqlstate : "",
        .message = err != NULL ? err->message : "",
        .at_release = at_release,
    };
    t->on_reset_failed(t->userdata, &ev);
}

void
mxi_tracer_evict(myappctx_pool *pool, const struct mxi_slot *slot)
{
    const myappctx_tracer *t = pool->tracer;
    if (t == NULL || t->on_evict == NULL)
        return;
    myappctx_trace_evict ev = {
        .version = MYAPPCTX_TRACE_EVENT_VERSION,
        .pool = pool,
        .conn = slot->conn,
        .reason = (myappctx_evict_reason)slot->drop_reason,
        .reason_name = myappctx_trace_reason_name((myappctx_evict_reason)slot->drop_reason),
        .age_ns = mxi_clock_now_ns() - slot->opened_ns,
        .backend_pid = slot->backend_pid,
    };
    t->on_evict(t->userdata, &ev);
}

static void
raise_leak(myappctx_pool *pool, const myappctx_conn *conn, uint64_t held_ns, int released,
           const void *from)
{
    const myappctx_tracer *t = pool->tracer;
    if (t == NULL || t->on_leak == NULL)
        return;
    myappctx_trace_leak ev = {
        .version = MYAPPCTX_TRACE_EVENT_VERSION,
        .pool = pool,
        .conn = conn,
        .held_ns = held_ns,
        .released = released,
        .acquired_from = from,
    };
    t->on_leak(t->userdata, &ev);
}

int
mxi_tracer_leak_at_release(myappctx_pool *pool, struct mxi_slot *slot, uint64_t held_ns)
{
    if (pool->leak_ns == 0 || held_ns < pool->leak_ns ||
        __atomic_exchange_n(&slot->leak_reported, true, __ATOMIC_RELAXED))
        return 0;
    raise_leak(pool, slot->conn, held_ns, 1, slot->acquired_from);
    return 1;
}

int
mxi_tracer_scan_leaks_locked(myappctx_pool *pool, uint64_t now)
{
    if (pool->leak_ns == 0)
        return 0;
    struct mxi_slot *s;
    TAILQ_FOREACH(s, &pool->borrowed, borrowed_link) {
        if (__atomic_load_n(&s->leak_reported, __ATOMIC_RELAXED) || s->borrowed_ns > now ||
            now - s->borrowed_ns < pool->leak_ns ||
            __atomic_exchange_n(&s->leak_reported, true, __ATOMIC_RELAXED))
            continue;
        pool->counters.leaks++;
        /* Copied now: the slot may come back while the lock is released. */
        const myappctx_conn *conn = s->conn;
        const void *from = s->acquired_from;
        uint64_t held = now - s->borrowed_ns;
        pthread_mutex_unlock(&pool->mu);
        raise_leak(pool, conn, held, 0, from);
        pthread_mutex_lock(&pool->mu);
        return 1;
    }
    return 0;
}

uint64_t
mxi_tracer_next_leak_locked(const myappctx_pool *pool)
{
    uint64_t next = UINT64_MAX;
    if (pool->leak_ns == 0)
        return next;
    const struct mxi_slot *s;
    TAILQ_FOREACH(s, &pool->borrowed, borrowed_link)
        if (!__atomic_load_n(&s->leak_reported, __ATOMIC_RELAXED) &&
            s->borrowed_ns + pool->leak_ns < next)
            next = s->borrowed_ns + pool->leak_ns;
    return next;
}
