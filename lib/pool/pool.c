/* The pool object: creation, resize, close and the deferred free that makes
 * releasing a connection after myappctx_pool_free() safe. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"

/* What every pooled connection calls back into (lib/conn/conn.h). */
static const struct mxi_conn_owner owner_hooks = {
    .prepare = mxi_reset_prepare,
    .give_back = mxi_acquire_give_back,
    .unit_begin = mxi_reset_unit_begin,
    .unit_done = mxi_reset_unit_done,
};

static int
init_sync(myappctx_pool *pool)
{
    if (pthread_mutex_init(&pool->mu, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&pool->condattr) != 0 ||
        pthread_condattr_setclock(&pool->condattr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&pool->maint_cond, &pool->condattr) != 0 ||
        pthread_cond_init(&pool->ready_cond, &pool->condattr) != 0)
        return -1;
    return 0;
}

/* The background thread must not take the application's signals: block
 * them all while it is created (it inherits the mask), then restore ours. */
static int
start_thread(myappctx_pool *pool)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&pool->maint_thread, NULL, mxi_maintenance_main, pool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

MYAPPCTX_API int
myappctx_pool_new(myappctx_pool **out, const myappctx_pool_config *cfg, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    int want = MXI_FAILOVER_ANY;
    int rc = mxi_config_check(cfg, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_tracer_check(cfg, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_failover_check(cfg, &want, err);
    if (rc == MYAPPCTX_OK && cfg->seal_key != NULL &&
        !mxi_seal_key_valid(cfg->seal_key, cfg->seal_key_len))
        rc = mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                           "myappctx_pool_new: config 'seal_key_len' is %zu, not %d..%d",
                           cfg->seal_key_len, MYAPPCTX_SEAL_KEY_MIN, MYAPPCTX_SEAL_KEY_MAX);
    if (rc != MYAPPCTX_OK)
        return rc;

    myappctx_pool *pool = calloc(1, sizeof *pool);
    char *conninfo = strdup(cfg->conninfo);
    unsigned char *key = cfg->seal_key != NULL ? malloc(cfg->seal_key_len) : NULL;
    if (pool == NULL || conninfo == NULL || (cfg->seal_key != NULL && key == NULL)) {
        free(pool);
        free(conninfo);
        free(key);
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "myappctx_pool_new: out of memory");
    }
    pool->cfg = *cfg;
    pool->cfg.conninfo = conninfo;
    if (key != NULL)
        memcpy(key, cfg->seal_key, cfg->seal_key_len);
    pool->cfg.seal_key = key;          /* wiped by mxi_ledger_destroy() */
    pool->owner = &owner_hooks;
    mxi_tracer_setup(pool);
    pool->want = want;
    TAILQ_INIT(&pool->idle);
    TAILQ_INIT(&pool->borrowed);
    TAILQ_INIT(&pool->waiters);
    pool->min_size = cfg->min_size;
    pool->max_size = cfg->max_size;
    pool->backoff_ms = cfg->reconnect_min_ms;
    /* Lifetime jitter only needs to differ between connections and pools. */
    pool->rng = (mxi_clock_now_ns() ^ (uint64_t)(uintptr_t)pool) | 1u;
    pool->counters.version = MYAPPCTX_POOL_STATS_VERSION;

    if (init_sync(pool) != 0) {
        mxi_ledger_destroy(pool);
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "myappctx_pool_new: cannot create its locks");
    }
    pool->maint_running = 1;
    if (start_thread(pool) != 0) {
        mxi_ledger_destroy(pool);
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL,
                             "myappctx_pool_new: cannot start the background thread");
    }
    *out = pool;
    return MYAPPCTX_OK;
}

/* Takes idle slots out (oldest first, counted as closed or evicted) into
 * @gone until @keep remain. */
static void
take_idle_locked(myappctx_pool *pool, int keep, struct mxi_slot_list *gone)
{
    while (pool->nidle > keep) {
        struct mxi_slot *slot = TAILQ_LAST(&pool->idle, mxi_slot_list);
        mxi_list_idle_remove(pool, slot);
        mxi_ledger_drop_locked(pool, slot, pool->closed ? MXI_SLOT_DROP_CLOSED : MXI_SLOT_DROP_EVICTED);
        TAILQ_INSERT_TAIL(gone, slot, link);
    }
}

static void
destroy_list(struct mxi_slot_list *list)
{
    struct mxi_slot *slot;
    while ((slot = TAILQ_FIRST(list)) != NULL) {
        TAILQ_REMOVE(list, slot, link);
        mxi_slot_destroy(slot);
    }
}

MYAPPCTX_API int
myappctx_pool_resize(myappctx_pool *pool, int min_size, int max_size, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, pool);
    if (min_size < 0)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "myappctx_pool_resize: 'min_size' must be >= 0");
    if (max_size < 1)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "myappctx_pool_resize: 'max_size' must be >= 1");
    if (min_size > max_size)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "myappctx_pool_resize: 'min_size' must be <= 'max_size'");
    pthread_mutex_lock(&pool->mu);
    if (pool->closed) {
        pthread_mutex_unlock(&pool->mu);
        return mxi_error_set(err, MYAPPCTX_ECLOSED, NULL, "myappctx_pool_resize: the pool is closed");
    }
    pool->min_size = min_size;
    pool->max_size = max_size;
    /* Idle surplus goes now; borrowed surplus when it comes back. */
    int surplus = pool->size - max_size;
    int drop = surplus <= 0 ? 0 : surplus < pool->nidle ? surplus : pool->nidle;
    struct mxi_slot_list gone = TAILQ_HEAD_INITIALIZER(gone);
    take_idle_locked(pool, pool->nidle - drop, &gone);
    mxi_ledger_wake_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    destroy_list(&gone);
    return MYAPPCTX_OK;
}

MYAPPCTX_API void
myappctx_pool_close(myappctx_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->mu);
    if (pool->closed) {
        pthread_mutex_unlock(&pool->mu);
        return;
    }
    __atomic_store_n(&pool->closed, 1, __ATOMIC_RELAXED);
    struct mxi_acquire_waiter *w;
    while ((w = TAILQ_FIRST(&pool->waiters)) != NULL) {
        mxi_list_waiter_remove(pool, w);
        w->status = MYAPPCTX_ECLOSED;
        pthread_cond_signal(&w->cond);
    }
    pthread_cond_signal(&pool->maint_cond);
    pthread_cond_broadcast(&pool->ready_cond);
    pthread_mutex_unlock(&pool->mu);

    /* Only the first close gets here, so only one thread joins. */
    pthread_join(pool->maint_thread, NULL);

    pthread_mutex_lock(&pool->mu);
    pool->maint_running = 0;
    struct mxi_slot_list gone = TAILQ_HEAD_INITIALIZER(gone);
    take_idle_locked(pool, 0, &gone);
    int last = mxi_ledger_unused_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    destroy_list(&gone);
    if (last)       /* free() ran in another thread while we were joining */
        mxi_ledger_destroy(pool);
}

MYAPPCTX_API void
myappctx_pool_free(myappctx_pool *pool)
{
    if (pool == NULL)
        return;
    myappctx_pool_close(pool);
    pthread_mutex_lock(&pool->mu);
    pool->freed = 1;
    int last = mxi_ledger_unused_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    if (last)
        mxi_ledger_destroy(pool);
}
