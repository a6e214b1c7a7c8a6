/* The pool's books, kept under its mutex: handing a connection to the next
 * waiter or back to the idle list, forgetting one (with the reason and the
 * counter that says why), waking the background thread, and the pool's end
 * -- the last of free(), close, the threads still inside the pool and the
 * closing of a dropped connection frees it. */
#include "config.h"

#include <stdlib.h>

#include "pool/pool.h"

void
mxi_ledger_wake_locked(myappctx_pool *pool)
{
    int room = pool->size + pool->connecting < pool->max_size;
    if (pool->size + pool->connecting < pool->min_size ||
        (room && pool->nwaiting > pool->connecting))
        pthread_cond_signal(&pool->maint_cond);
}

void
mxi_ledger_give_locked(myappctx_pool *pool, struct mxi_slot *slot, uint64_t idle_since)
{
    struct mxi_acquire_waiter *w = TAILQ_FIRST(&pool->waiters);
    if (pool->leak_ns != 0 && slot->state == MXI_SLOT_BORROWED)   /* back from a release */
        mxi_list_borrowed_remove(pool, slot);
    slot->drop_reason = 0;                      /* kept: no reason holds */
    if (w == NULL) {
        slot->idle_since_ns = idle_since;
        mxi_list_idle_push(pool, slot);
        return;
    }
    mxi_list_waiter_remove(pool, w);
    mxi_slot_set_state(slot, MXI_SLOT_BORROWED);
    if (pool->leak_ns != 0)
        mxi_list_borrowed_add(pool, slot);
    pool->in_use++;
    w->slot = slot;
    pthread_cond_signal(&w->cond);
}

/* The reason a slot is dropped for, when its holder did not say: the
 * counter says what kind, the slot's state which one. */
static int
default_reason(const myappctx_pool *pool, const struct mxi_slot *slot, enum mxi_slot_drop why)
{
    switch (why) {
    case MXI_SLOT_DROP_LOST:
        return MYAPPCTX_EVICT_BROKEN;
    case MXI_SLOT_DROP_DISCARDED:
        return MYAPPCTX_EVICT_REFUSED;
    case MXI_SLOT_DROP_EVICTED:
        if (slot->expires_ns != UINT64_MAX && slot->expires_ns <= mxi_clock_now_ns())
            return MYAPPCTX_EVICT_LIFETIME;
        return pool->size > pool->max_size ? MYAPPCTX_EVICT_RESIZE : MYAPPCTX_EVICT_IDLE;
    case MXI_SLOT_DROP_CLOSED:
        break;
    }
    return MYAPPCTX_EVICT_CLOSED;
}

void
mxi_ledger_drop_locked(myappctx_pool *pool, struct mxi_slot *slot,
                     enum mxi_slot_drop why)
{
    if (slot->state == MXI_SLOT_BORROWED) {
        pool->in_use--;
        if (pool->leak_ns != 0)
            mxi_list_borrowed_remove(pool, slot);
    }
    /* The pool's closing wins; otherwise the holder's reason, if it gave
     * one, picks the counter. */
    if (why == MXI_SLOT_DROP_CLOSED || slot->drop_reason == 0)
        slot->drop_reason = default_reason(pool, slot, why);
    switch (slot->drop_reason) {
    case MYAPPCTX_EVICT_BROKEN:
    case MYAPPCTX_EVICT_PING_TIMEOUT:
        pool->counters.lost++;
        break;
    case MYAPPCTX_EVICT_REFUSED:
    case MYAPPCTX_EVICT_RESET_FAILED:
    case MYAPPCTX_EVICT_UNUSABLE:
    case MYAPPCTX_EVICT_NOT_PRIMARY:
        pool->counters.discarded++;
        break;
    case MYAPPCTX_EVICT_LIFETIME:
    case MYAPPCTX_EVICT_IDLE:
    case MYAPPCTX_EVICT_RESIZE:
        pool->counters.evicted++;
        break;
    default:
        break;
    }
    pool->size--;
    slot->dropped = true;
    pool->closing++;
    if (!pool->closed)
        mxi_ledger_wake_locked(pool);
}

int
mxi_ledger_unused_locked(const myappctx_pool *pool)
{
    return pool->freed && pool->size == 0 && pool->connecting == 0 &&
           pool->users == 0 && pool->closing == 0 && !pool->maint_running;
}

int
mxi_ledger_state_error(myappctx_pool *pool, myappctx_error *err, int code, const char *what)
{
    const myappctx_error *last = &pool->last_error;
    int has_last = last->code != MYAPPCTX_OK;
    return mxi_error_set(err, code, NULL, "%s (size=%d in_use=%d waiting=%d max=%d)%s%s%s%s%s",
                         what, pool->size, pool->in_use, pool->nwaiting, pool->max_size,
                         has_last ? "; last connection error: " : "",
                         has_last ? last->message : "",
                         has_last && last->sqlstate[0] ? " (SQLSTATE " : "",
                         has_last ? last->sqlstate : "",
                         has_last && last->sqlstate[0] ? ")" : "");
}

int
mxi_ledger_blocked_locked(const myappctx_pool *pool)
{
    return pool->last_error.code != MYAPPCTX_OK && pool->last_incurable;
}

int
mxi_ledger_cause_error(myappctx_pool *pool, myappctx_error *err, const char *what)
{
    const myappctx_error *last = &pool->last_error;
    /* The state before the cause, so that the cause's advice stays last. */
    return mxi_error_wrap(err, last->code, last,
                          "%s: cannot connect (size=%d in_use=%d waiting=%d max=%d): %s",
                          what, pool->size, pool->in_use, pool->nwaiting, pool->max_size,
                          last->message);
}

void
mxi_ledger_destroy(myappctx_pool *pool)
{
    pthread_cond_destroy(&pool->ready_cond);
    pthread_cond_destroy(&pool->maint_cond);
    pthread_condattr_destroy(&pool->condattr);
    pthread_mutex_destroy(&pool->mu);
    free((char *)pool->cfg.conninfo);
    if (pool->cfg.seal_key != NULL) {
        mxi_hmac_wipe((unsigned char *)pool->cfg.seal_key, pool->cfg.seal_key_len);
        free((unsigned char *)pool->cfg.seal_key);
    }
    free(pool);
}

