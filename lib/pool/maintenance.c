/* The pool's background thread: the only place connections are opened
 * (refill to min_size, growth for waiters, reconnect with exponential
 * backoff while the server is down), plus eviction of idle connections
 * that are too old, idle too long or above max_size, and health checks of
 * idle ones.  One step per loop turn, each with the lock released around
 * its I/O; then it sleeps until the next deadline or until signalled. */
#include "config.h"

#include <string.h>

#include "pool/pool.h"

static int
want_connect(const myappctx_pool *pool)
{
    int open = pool->size + pool->connecting;
    return open < pool->min_size || (pool->nwaiting > pool->connecting && open < pool->max_size);
}

/* Failed connects that retrying cannot cure: an administrator has to act
 * (a password, a role, a database, a grant, a privileged login, the
 * schema).  Acquire and wait_ready report them at once instead of waiting
 * for a timeout; this thread keeps retrying, with backoff, since someone
 * may act (the schema gets installed), and the first success clears it.
 * Anything else -- the server down or starting up (57P03), too many
 * connections (53300), a hook's refusal -- may pass by itself. */
static int
incurable(const myappctx_error *e)
{
    static const char *const states[] = {
        "28P01",    /* invalid_password */
        "28000",    /* invalid_authorization_specification: no such role, no login, pg_hba */
        "3D000",    /* invalid_catalog_name: no such database */
        "42501",    /* insufficient_privilege: no CONNECT on the database */
    };
    if (e->code == MYAPPCTX_EPRIVILEGED || e->code == MYAPPCTX_ESCHEMA)
        return 1;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(e->sqlstate, states[i]) == 0)
            return 1;
    return 0;
}

/* An incurable failure ends the waits of acquirers and wait_ready now. */
static void
wake_everyone(myappctx_pool *pool)
{
    struct mxi_acquire_waiter *w;
    TAILQ_FOREACH(w, &pool->waiters, link)
        pthread_cond_signal(&w->cond);
    pthread_cond_broadcast(&pool->ready_cond);
}

static void
connect_one(myappctx_pool *pool)
{
    struct mxi_slot *slot = NULL;
    myappctx_error e;
    pool->connecting++;
    pthread_mutex_unlock(&pool->mu);
    int rc = mxi_slot_open(pool, &slot, &e);
    pthread_mutex_lock(&pool->mu);
    pool->connecting--;
    uint64_t now = mxi_clock_now_ns();
    if (rc != MYAPPCTX_OK) {
        pool->counters.errors++;
        pool->last_error = e;
        pool->last_incurable = incurable(&e);
        pool->next_connect_ns = now + mxi_clock_ms_to_ns(pool->backoff_ms);
        pool->backoff_ms = pool->backoff_ms > pool->cfg.reconnect_max_ms / 2
                               ? pool->cfg.reconnect_max_ms : pool->backoff_ms * 2;
        if (pool->last_incurable)
            wake_everyone(pool);
        return;
    }
    pool->counters.created++;
    mxi_metrics_add_locked(&pool->counters.create_time, slot->connect_us);
    pool->backoff_ms = pool->cfg.reconnect_min_ms;
    mxi_error_clear(&pool->last_error);
    pool->last_incurable = 0;
    if (pool->closed) {
        pthread_mutex_unlock(&pool->mu);
        mxi_slot_destroy(slot);
        pthread_mutex_lock(&pool->mu);
        return;
    }
    pool->size++;
    mxi_ledger_give_locked(pool, slot, now);
    pthread_cond_broadcast(&pool->ready_cond);
}

/* Closes one idle connection that is expired, above max_size, or idle too
 * long above min_size.  Returns non-zero if it did. */
static int
evict_one(myappctx_pool *pool, uint64_t now)
{
    uint64_t max_idle = mxi_clock_ms_to_ns(pool->cfg.max_idle_ms);
    struct mxi_slot *s;
    TAILQ_FOREACH_REVERSE(s, &pool->idle, mxi_slot_list, link) {
        int idle_too_long = max_idle > 0 && pool->size > pool->min_size &&
                            now - s->idle_since_ns >= max_idle;
        if (s->expires_ns <= now || pool->size > pool->max_size || idle_too_long) {
            mxi_list_idle_remove(pool, s);
            mxi_ledger_drop_locked(pool, s, MXI_SLOT_DROP_EVICTED);
            pthread_mutex_unlock(&pool->mu);
            mxi_slot_destroy(s);
            pthread_mutex_lock(&pool->mu);
            return 1;
        }
    }
    return 0;
}

/* Pings one idle connection not known good for a health-check period.
 * Returns non-zero if it did. */
static int
check_one(myappctx_pool *pool, uint64_t now)
{
    uint64_t period = mxi_clock_ms_to_ns(pool->cfg.health_check_period_ms);
    if (period == 0)
        return 0;
    struct mxi_slot *s = TAILQ_LAST(&pool->idle, mxi_slot_list);
    while (s != NULL && now - s->last_ok_ns < period)
        s = TAILQ_PREV(s, mxi_slot_list, link);
    if (s == NULL)
        return 0;
    mxi_list_idle_remove(pool, s);
    mxi_slot_set_state(s, MXI_SLOT_CHECKING);
    pthread_mutex_unlock(&pool->mu);
    int rc = mxi_slot_ping(s->conn);
    pthread_mutex_lock(&pool->mu);
    if (rc == MYAPPCTX_OK && !pool->closed) {
        s->last_ok_ns = mxi_clock_now_ns();
        mxi_ledger_give_locked(pool, s, s->idle_since_ns);   /* still idle since then */
        return 1;
    }
    mxi_ledger_drop_locked(pool, s, rc == MYAPPCTX_OK ? MXI_SLOT_DROP_CLOSED : MXI_SLOT_DROP_LOST);
    pthread_mutex_unlock(&pool->mu);
    mxi_slot_destroy(s);
    pthread_mutex_lock(&pool->mu);
    return 1;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The longest sleep: short enough that a connection that became idle while
 * we slept is evicted or checked close to its deadline. */
static uint64_t
tick_ns(const myappctx_pool_config *cfg)
{
    uint64_t tick = 1000000000u;
    long periods[] = { cfg->max_idle_ms, cfg->health_check_period_ms, cfg->max_lifetime_ms };
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++)
        if (periods[i] > 0)
            tick = min_u64(tick, mxi_clock_ms_to_ns(periods[i]) / 2);
    return tick < 5000000u ? 5000000u : tick;
}

static uint64_t
next_deadline(const myappctx_pool *pool, uint64_t now, uint64_t tick)
{
    uint64_t next = now + tick;
    if (want_connect(pool))
        next = min_u64(next, pool->next_connect_ns);
    uint64_t max_idle = mxi_clock_ms_to_ns(pool->cfg.max_idle_ms);
    uint64_t period = mxi_clock_ms_to_ns(pool->cfg.health_check_period_ms);
    const struct mxi_slot *s;
    TAILQ_FOREACH(s, &pool->idle, link) {
        next = min_u64(next, s->expires_ns);
        if (max_idle > 0 && pool->size > pool->min_size)
            next = min_u64(next, s->idle_since_ns + max_idle);
        if (period > 0)
            next = min_u64(next, s->last_ok_ns + period);
    }
    next = min_u64(next, mxi_tracer_next_leak_locked(pool));
    return next > now + 1000000u ? next : now + 1000000u;   /* never spin */
}

void *
mxi_maintenance_main(void *arg)
{
    myappctx_pool *pool = arg;
    uint64_t tick = tick_ns(&pool->cfg);
    pthread_mutex_lock(&pool->mu);
    while (!pool->closed) {
        uint64_t now = mxi_clock_now_ns();
        if (want_connect(pool) && now >= pool->next_connect_ns) {
            connect_one(pool);
            continue;
        }
        if (evict_one(pool, now) || check_one(pool, now) ||
            mxi_tracer_scan_leaks_locked(pool, now))
            continue;
        struct timespec ts;
        mxi_clock_timespec(next_deadline(pool, now, tick), &ts);
        pthread_cond_timedwait(&pool->maint_cond, &pool->mu, &ts);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}
