/* Observing the pool: statistics and waiting for it to be ready. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "pool/pool.h"

MYAPPCTX_API int
myappctx_pool_stats_get(myappctx_pool *pool, myappctx_pool_stats *out)
{
    if (pool == NULL || out == NULL || out->version != MYAPPCTX_POOL_STATS_VERSION)
        return MYAPPCTX_EINVAL;
    pthread_mutex_lock(&pool->mu);
    *out = pool->counters;
    out->version = MYAPPCTX_POOL_STATS_VERSION;
    out->size = pool->size;
    out->idle = pool->nidle;
    out->in_use = pool->in_use;
    out->waiting = pool->nwaiting;
    out->connecting = pool->connecting;
    out->min_size = pool->min_size;
    out->max_size = pool->max_size;
    out->closed = pool->closed;
    pthread_mutex_unlock(&pool->mu);
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_pool_wait_ready(myappctx_pool *pool, long timeout_ms, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, pool);
    if (timeout_ms < 0)
        timeout_ms = pool->cfg.acquire_timeout_ms;
    pthread_mutex_lock(&pool->mu);
    pool->users++;
    struct timespec ts;
    mxi_clock_timespec(mxi_clock_now_ns() + mxi_clock_ms_to_ns(timeout_ms), &ts);
    int timed_out = 0;
    /* A connect that failed in a way retrying cannot cure ends the wait:
     * min_size cannot be reached until someone acts. */
    while (!pool->closed && pool->size < pool->min_size && !timed_out &&
           !mxi_ledger_blocked_locked(pool))
        timed_out = pthread_cond_timedwait(&pool->ready_cond, &pool->mu, &ts) == ETIMEDOUT;

    int rc = MYAPPCTX_OK;
    if (pool->closed) {
        rc = mxi_error_set(err, MYAPPCTX_ECLOSED, NULL, "myappctx_pool_wait_ready: the pool is closed");
    } else if (pool->size < pool->min_size && mxi_ledger_blocked_locked(pool)) {
        rc = mxi_ledger_cause_error(pool, err, "myappctx_pool_wait_ready");
    } else if (pool->size < pool->min_size) {
        char what[160];
        snprintf(what, sizeof what,
                 "myappctx_pool_wait_ready: not ready after %ld ms: %d of min_size %d connections open",
                 timeout_ms, pool->size, pool->min_size);
        rc = mxi_ledger_state_error(pool, err, MYAPPCTX_ETIMEOUT, what);
    }
    pool->users--;
    int last = mxi_ledger_unused_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    if (last)
        mxi_ledger_destroy(pool);
    return rc;
}
