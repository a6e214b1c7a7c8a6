/* Lending and taking back: myappctx_pool_acquire() and
 * myappctx_pool_release() (and myappctx_conn_close() on a borrowed
 * connection, through the owner hook give_back).
 *
 * Fast path: an idle connection and nobody queued costs one lock round and
 * at most one clock read -- no allocation, no system call, no round trip
 * unless validation is due.  Otherwise the acquirer queues with its own
 * condition variable and whoever frees a connection hands it directly to
 * the head of the queue, which keeps service strictly first come, first
 * served (no thundering herd, no barging by late arrivals). */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "pool/pool.h"

/* Drops a slot we hold and closes its connection outside the lock. */
static void
drop_and_close(myappctx_pool *pool, struct mxi_slot *slot, enum mxi_slot_drop why)
{
    mxi_ledger_drop_locked(pool, slot, why);
    pthread_mutex_unlock(&pool->mu);
    mxi_slot_destroy(slot);
    pthread_mutex_lock(&pool->mu);
}

static void
count_wait(myappctx_pool *pool, uint64_t waited_ns)
{
    uint64_t us = waited_ns / 1000u;
    pool->counters.acquire_wait_total_us += us;
    if (us > pool->counters.acquire_wait_max_us)
        pool->counters.acquire_wait_max_us = us;
}

/* Nothing to wait for: no connection is open that could come back, and
 * the last connect failed in a way retrying cannot cure. */
static int
hopeless(const myappctx_pool *pool)
{
    return pool->size == 0 && mxi_ledger_blocked_locked(pool);
}

/* Queues the caller until a slot is handed over, the deadline passes, the
 * pool closes or waiting becomes hopeless.  @deadline is fixed at the
 * first wait of this acquire. */
static int
wait_for_slot(myappctx_pool *pool, long timeout_ms, uint64_t *deadline, int at_head,
              struct mxi_slot **out, myappctx_error *err)
{
    if (hopeless(pool))
        return mxi_ledger_cause_error(pool, err, "myappctx_pool_acquire");
    if (pool->cfg.max_waiters > 0 && pool->nwaiting >= pool->cfg.max_waiters) {
        pool->counters.rejected++;
        return mxi_ledger_state_error(pool, err, MYAPPCTX_EFULL, "myappctx_pool_acquire: too many acquirers waiting");
    }
    uint64_t start = mxi_clock_now_ns();
    if (*deadline == 0)
        *deadline = start + mxi_clock_ms_to_ns(timeout_ms);

    struct mxi_acquire_waiter w = { .slot = NULL, .status = 0 };
    struct timespec ts;
    int queued = start < *deadline;
    int timed_out = !queued;
    if (queued) {
        pthread_cond_init(&w.cond, &pool->condattr);
        mxi_list_waiter_add(pool, &w, at_head);
        mxi_ledger_wake_locked(pool);
        mxi_clock_timespec(*deadline, &ts);
        while (w.slot == NULL && w.status == 0 && !timed_out && !hopeless(pool))
            timed_out = pthread_cond_timedwait(&w.cond, &pool->mu, &ts) == ETIMEDOUT;
        pthread_cond_destroy(&w.cond);
        count_wait(pool, mxi_clock_now_ns() - start);
    }
    /* A handover that raced with the timeout still counts as success. */
    if (w.slot != NULL) {
        *out = w.slot;
        return MYAPPCTX_OK;
    }
    if (w.status != 0)     /* close() already took us off the queue */
        return mxi_error_set(err, w.status, NULL, "myappctx_pool_acquire: the pool was closed while waiting");
    if (hopeless(pool)) {
        if (queued)
            mxi_list_waiter_remove(pool, &w);
        return mxi_ledger_cause_error(pool, err, "myappctx_pool_acquire");
    }
    char what[96];
    snprintf(what, sizeof what, "myappctx_pool_acquire: timed out after %ld ms", timeout_ms);
    int rc = mxi_ledger_state_error(pool, err, MYAPPCTX_ETIMEOUT, what);
    if (queued)
        mxi_list_waiter_remove(pool, &w);
    pool->counters.timeouts++;
    return rc;
}

/* Lifetime and validation of a slot just taken (state BORROWED).  Returns
 * non-zero to lend it; otherwise the slot is gone. */
static int
check_out(myappctx_pool *pool, struct mxi_slot *slot)
{
    int validate = pool->cfg.validation != MYAPPCTX_POOL_VALIDATE_NONE;
    uint64_t now = 0;
    if (validate || slot->expires_ns != UINT64_MAX)
        now = mxi_clock_now_ns();
    if (slot->expires_ns <= now) {
        drop_and_close(pool, slot, MXI_SLOT_DROP_EVICTED);
        return 0;
    }
    if (!validate || (pool->cfg.validation != MYAPPCTX_POOL_VALIDATE_HOOK &&
                      now - slot->last_ok_ns < mxi_clock_ms_to_ns(pool->cfg.validate_idle_ms)))
        return 1;

    enum mxi_slot_drop why = MXI_SLOT_DROP_DISCARDED;
    pthread_mutex_unlock(&pool->mu);
    int rc = mxi_slot_validate(pool, slot, now, &why);
    pthread_mutex_lock(&pool->mu);
    if (rc == MYAPPCTX_OK && pool->closed) {
        rc = MYAPPCTX_ECLOSED;
        why = MXI_SLOT_DROP_CLOSED;
    }
    if (rc != MYAPPCTX_OK)
        drop_and_close(pool, slot, why);
    return rc == MYAPPCTX_OK;
}

static int
acquire_locked(myappctx_pool *pool, long timeout_ms, struct mxi_slot **out,
               myappctx_error *err)
{
    uint64_t deadline = 0;
    /* After a refused connection the caller keeps its turn. */
    for (int retry = 0;; retry = 1) {
        if (pool->closed)
            return mxi_error_set(err, MYAPPCTX_ECLOSED, NULL, "myappctx_pool_acquire: the pool is closed");
        struct mxi_slot *slot = TAILQ_FIRST(&pool->idle);
        if (slot != NULL && pool->nwaiting == 0) {
            mxi_list_idle_remove(pool, slot);
            mxi_slot_set_state(slot, MXI_SLOT_BORROWED);
            pool->in_use++;
        } else {
            int rc = wait_for_slot(pool, timeout_ms, &deadline, retry, &slot, err);
            if (rc != MYAPPCTX_OK)
                return rc;
        }
        if (check_out(pool, slot)) {
            *out = slot;
            return MYAPPCTX_OK;
        }
    }
}

MYAPPCTX_API int
myappctx_pool_acquire(myappctx_pool *pool, myappctx_conn **out, long timeout_ms,
                      myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    *out = NULL;
    MXI_ERROR_REQUIRE_ARG(err, pool);
    if (timeout_ms < 0)
        timeout_ms = pool->cfg.acquire_timeout_ms;

    struct mxi_slot *slot = NULL;
    pthread_mutex_lock(&pool->mu);
    pool->users++;
    int rc = acquire_locked(pool, timeout_ms, &slot, err);
    if (rc == MYAPPCTX_OK)
        pool->counters.acquires++;
    pool->users--;
    int last = mxi_ledger_unused_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    if (last)
        mxi_ledger_destroy(pool);
    if (rc == MYAPPCTX_OK)
        *out = slot->conn;
    return rc;
}

MYAPPCTX_API int
myappctx_pool_release(myappctx_pool *pool, myappctx_conn *conn)
{
    if (pool == NULL || conn == NULL)
        return MYAPPCTX_EINVAL;
    struct mxi_slot *slot = conn->owner_data;
    if (slot == NULL || slot->pool != pool || slot->conn != conn)
        return MYAPPCTX_EINVAL;

    /* Only the borrower may release, and it holds the slot: a relaxed peek
     * suffices to refuse a double release without taking the lock. */
    if (__atomic_load_n(&slot->state, __ATOMIC_RELAXED) != MXI_SLOT_BORROWED)
        return MYAPPCTX_EINVAL;
    /* A connection that will be closed anyway needs no reset. */
    int doomed = __atomic_load_n(&pool->closed, __ATOMIC_RELAXED);
    enum mxi_slot_drop why = doomed ? MXI_SLOT_DROP_CLOSED : MXI_SLOT_DROP_EVICTED;

    uint64_t now = mxi_clock_now_ns();
    int did_reset = 0;
    int keep = !doomed && slot->expires_ns > now &&
               mxi_slot_clean(pool, slot, &why, &did_reset) == MYAPPCTX_OK;

    pthread_mutex_lock(&pool->mu);
    if (did_reset) {
        pool->counters.resets++;
        slot->last_ok_ns = now;
    }
    if (keep && (pool->closed || pool->size > pool->max_size)) {
        keep = 0;
        why = pool->closed ? MXI_SLOT_DROP_CLOSED : MXI_SLOT_DROP_EVICTED;
    }
    if (keep) {
        pool->in_use--;
        mxi_ledger_give_locked(pool, slot, now);
    } else {
        mxi_ledger_drop_locked(pool, slot, why);
    }
    int last = mxi_ledger_unused_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    if (!keep)
        mxi_slot_destroy(slot);
    if (last)
        mxi_ledger_destroy(pool);
    return MYAPPCTX_OK;
}

void
mxi_acquire_give_back(myappctx_conn *conn)
{
    struct mxi_slot *slot = conn->owner_data;
    (void)myappctx_pool_release(slot->pool, conn);
}
