/* The pool's lists (<sys/queue.h> tail queues): idle connections, most
 * recently used at the head so that the tail ages out; with leak detection
 * on, the borrowed ones (for the background thread's scan); and the FIFO
 * queue of waiting acquirers.  These keep the counts beside the lists.
 * Callers hold the pool mutex. */
#include "config.h"

#include "pool/pool.h"

void
mxi_list_idle_push(myappctx_pool *pool, struct mxi_slot *slot)
{
    mxi_slot_set_state(slot, MXI_SLOT_IDLE);
    TAILQ_INSERT_HEAD(&pool->idle, slot, link);
    pool->nidle++;
}

void
mxi_list_idle_remove(myappctx_pool *pool, struct mxi_slot *slot)
{
    TAILQ_REMOVE(&pool->idle, slot, link);
    pool->nidle--;
}

/* Not yet timed: check_out() sets borrowed_ns and clears leak_reported. */
void
mxi_list_borrowed_add(myappctx_pool *pool, struct mxi_slot *slot)
{
    __atomic_store_n(&slot->leak_reported, true, __ATOMIC_RELAXED);
    TAILQ_INSERT_TAIL(&pool->borrowed, slot, borrowed_link);
}

void
mxi_list_borrowed_remove(myappctx_pool *pool, struct mxi_slot *slot)
{
    TAILQ_REMOVE(&pool->borrowed, slot, borrowed_link);
}

/* @at_head: an acquirer whose connection was refused keeps its turn. */
void
mxi_list_waiter_add(myappctx_pool *pool, struct mxi_acquire_waiter *w, int at_head)
{
    if (at_head)
        TAILQ_INSERT_HEAD(&pool->waiters, w, link);
    else
        TAILQ_INSERT_TAIL(&pool->waiters, w, link);
    pool->nwaiting++;
}

void
mxi_list_waiter_remove(myappctx_pool *pool, struct mxi_acquire_waiter *w)
{
    TAILQ_REMOVE(&pool->waiters, w, link);
    pool->nwaiting--;
}
