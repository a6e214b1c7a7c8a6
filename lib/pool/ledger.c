/* The pool's books, kept under its mutex: handing a connection to the next
 * waiter or back to the idle list, forgetting one (with the counter that
 * says why), waking the background thread, and the pool's end -- the last
 * of free(), close and the threads still inside the pool frees it. */
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
    if (w == NULL) {
        slot->idle_since_ns = idle_since;
        mxi_list_idle_push(pool, slot);
        return;
    }
    mxi_list_waiter_remove(pool, w);
    mxi_slot_set_state(slot, MXI_SLOT_BORROWED);
    pool->in_use++;
    w->slot = slot;
    pthread_cond_signal(&w->cond);
}

void
mxi_ledger_drop_locked(myappctx_pool *pool, struct mxi_slot *slot,
                     enum mxi_slot_drop why)
{
    if (slot->state == MXI_SLOT_BORROWED)
        pool->in_use--;
    pool->size--;
    switch (why) {
    case MXI_SLOT_DROP_LOST:      pool->counters.lost++; break;
    case MXI_SLOT_DROP_DISCARDED: pool->counters.discarded++; break;
    case MXI_SLOT_DROP_EVICTED:   pool->counters.evicted++; break;
    case MXI_SLOT_DROP_CLOSED:    break;
    }
    if (!pool->closed)
        mxi_ledger_wake_locked(pool);
}

int
mxi_ledger_unused_locked(const myappctx_pool *pool)
{
    return pool->freed && pool->size == 0 && pool->connecting == 0 &&
           pool->users == 0 && !pool->maint_running;
}

int
mxi_ledger_state_error(myappctx_pool *pool, myappctx_error *err, int code, const char *what)
{
    return mxi_error_set(err, code, NULL, "%s (size=%d in_use=%d waiting=%d max=%d)%s%s",
                         what, pool->size, pool->in_use, pool->nwaiting, pool->max_size,
                         pool->last_error[0] ? "; last connection error: " : "",
                         pool->last_error);
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

