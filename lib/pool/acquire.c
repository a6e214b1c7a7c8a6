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
 * first wait of this acquire; *waited grows by the time spent queued. */
static int
wait_for_slot(myappctx_pool *pool, long timeout_ms, uint64_t *deadline, int at_head,
              struct mxi_slot **out, uint64_t *waited, myappctx_error *err)
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
        uint64_t ns = mxi_clock_now_ns() - start;
        count_wait(pool, ns);
        *waited += ns;
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

/* Lifetime, role (failover.c) and validation of a slot just taken (state
 * BORROWED).  Returns non-zero to lend it; otherwise the slot is gone.  The
 * one clock read of an acquire is here: lifetime, validation, and the start
 * of the borrow (use time, leak detection; without validation also the end
 * of the acquire for its event).  *validated is set when a round trip ran. */
static int
check_out(myappctx_pool *pool, struct mxi_slot *slot, bool *validated)
{
    int validate = pool->cfg.validation != MYAPPCTX_POOL_VALIDATE_NONE;
    uint64_t now = mxi_clock_now_ns();
    slot->borrowed_ns = now;
    if (pool->leak_ns != 0)
        __atomic_store_n(&slot->leak_reported, false, __ATOMIC_RELAXED);
    if (slot->expires_ns <= now) {
        slot->drop_reason = MYAPPCTX_EVICT_LIFETIME;
        drop_and_close(pool, slot, MXI_SLOT_DROP_EVICTED);
        return 0;
    }
    /* What the server reported since (no round trip): a failover made it
     * a standby, or read-only. */
    if (pool->want != MXI_FAILOVER_ANY && mxi_failover_conn_unwanted(pool, slot->conn)) {
        slot->drop_reason = MYAPPCTX_EVICT_NOT_PRIMARY;
        drop_and_close(pool, slot, MXI_SLOT_DROP_DISCARDED);
        return 0;
    }
    if (!validate || (pool->cfg.validation != MYAPPCTX_POOL_VALIDATE_HOOK &&
                      now - slot->last_ok_ns < mxi_clock_ms_to_ns(pool->cfg.validate_idle_ms)))
        return 1;

    enum mxi_slot_drop why = MXI_SLOT_DROP_DISCARDED;
    *validated = true;
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
               uint64_t *waited, bool *validated, myappctx_error *err)
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
            if (pool->leak_ns != 0)
                mxi_list_borrowed_add(pool, slot);
            pool->in_use++;
        } else {
            int rc = wait_for_slot(pool, timeout_ms, &deadline, retry, &slot, waited, err);
            if (rc != MYAPPCTX_OK)
                return rc;
        }
        if (check_out(pool, slot, validated)) {
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
    /* Clock reads and a message of our own only for a tracer's event. */
    int tracing = pool->tracer != NULL && pool->tracer->on_acquire != NULL;
    uint64_t start = 0;
    myappctx_error own;
    if (tracing) {
        start = mxi_clock_now_ns();
        if (err == NULL)
            err = &own;
    }

    struct mxi_slot *slot = NULL;
    uint64_t waited = 0, end = 0;
    bool validated = false;
    pthread_mutex_lock(&pool->mu);
    pool->users++;
    int rc = acquire_locked(pool, timeout_ms, &slot, &waited, &validated, err);
    if (rc == MYAPPCTX_OK) {
        pool->counters.acquires++;
        mxi_metrics_add_locked(&pool->counters.acquire_wait, waited / 1000u);
        if (pool->leak_ns != 0)
            slot->acquired_from = __builtin_return_address(0);
        end = slot->borrowed_ns;        /* check_out()'s clock read */
    } else if (tracing) {
        /* No slot keeps the pool alive: the event runs while this thread
         * still counts in users, so that a concurrent free() waits. */
        pthread_mutex_unlock(&pool->mu);
        mxi_tracer_acquire(pool, NULL, rc, err, waited, mxi_clock_now_ns() - start);
        pthread_mutex_lock(&pool->mu);
    }
    pool->users--;
    int last = mxi_ledger_unused_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    if (last)
        mxi_ledger_destroy(pool);
    if (rc == MYAPPCTX_OK) {
        *out = slot->conn;
        /* The borrowed slot keeps the pool alive.  Without a validation
         * round trip, check_out()'s clock read is the end (a clock read
         * costs as much as the rest of an uncontended acquire). */
        if (tracing)
            mxi_tracer_acquire(pool, slot->conn, rc, err, waited,
                               (validated ? mxi_clock_now_ns() : end) - start);
    }
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
    uint64_t held = now - slot->borrowed_ns;
    int did_reset = 0;
    int keep = !doomed && slot->expires_ns > now &&
               mxi_slot_clean(pool, slot, &why, &did_reset) == MYAPPCTX_OK;
    /* The events while this thread still holds the slot (and so the pool). */
    int leaked = pool->leak_ns != 0 && mxi_tracer_leak_at_release(pool, slot, held);
    if (pool->tracer != NULL)
        mxi_tracer_release(pool, slot, held, did_reset);

    pthread_mutex_lock(&pool->mu);
    mxi_metrics_add_locked(&pool->counters.use_time, held / 1000u);
    if (leaked)
        pool->counters.leaks++;
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
