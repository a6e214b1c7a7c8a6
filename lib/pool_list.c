/* The pool's two intrusive lists: idle connections (most recently used at
 * the head, so the tail ages out) and the FIFO queue of waiting acquirers.
 * Callers hold the pool mutex. */
#include "config.h"

#include "pool_internal.h"

void
mxi_pool_idle_push(myappctx_pool *pool, struct mxi_pool_slot *slot)
{
    mxi_pool_slot_set_state(slot, MXI_SLOT_IDLE);
    slot->prev = NULL;
    slot->next = pool->idle_head;
    if (pool->idle_head != NULL)
        pool->idle_head->prev = slot;
    else
        pool->idle_tail = slot;
    pool->idle_head = slot;
    pool->nidle++;
}

void
mxi_pool_idle_remove(myappctx_pool *pool, struct mxi_pool_slot *slot)
{
    if (slot->prev != NULL)
        slot->prev->next = slot->next;
    else
        pool->idle_head = slot->next;
    if (slot->next != NULL)
        slot->next->prev = slot->prev;
    else
        pool->idle_tail = slot->prev;
    slot->prev = slot->next = NULL;
    pool->nidle--;
}

void
mxi_pool_waiter_add(myappctx_pool *pool, struct mxi_pool_waiter *w, int at_head)
{
    if (at_head) {
        w->prev = NULL;
        w->next = pool->wait_head;
        if (pool->wait_head != NULL)
            pool->wait_head->prev = w;
        else
            pool->wait_tail = w;
        pool->wait_head = w;
    } else {
        w->next = NULL;
        w->prev = pool->wait_tail;
        if (pool->wait_tail != NULL)
            pool->wait_tail->next = w;
        else
            pool->wait_head = w;
        pool->wait_tail = w;
    }
    pool->nwaiting++;
}

void
mxi_pool_waiter_remove(myappctx_pool *pool, struct mxi_pool_waiter *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        pool->wait_head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        pool->wait_tail = w->prev;
    w->prev = w->next = NULL;
    pool->nwaiting--;
}
