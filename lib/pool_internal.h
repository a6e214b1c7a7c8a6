/* Internal declarations of the connection pool (lib/pool*.c).
 *
 * Locking: one mutex per pool guards every field below except those marked
 * "immutable" and the connection inside a slot, which belongs to whoever
 * holds the slot out of the idle list (a borrower, a releasing thread, the
 * background thread during a check).  The mutex is never held across
 * network I/O: a slot is taken out under the lock, used without it, and put
 * back (or dropped) under it again. */
#ifndef MYAPPCTX_POOL_INTERNAL_H
#define MYAPPCTX_POOL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "internal.h"

enum mxi_slot_state {
    MXI_SLOT_IDLE,       /* in the idle list */
    MXI_SLOT_BORROWED,   /* lent out (or being validated / reset for a borrower) */
    MXI_SLOT_CHECKING    /* out of the idle list for a health check */
};

/* One pooled connection; conn->pool_slot points back here. */
struct mxi_pool_slot {
    myappctx_conn *conn;
    myappctx_pool *pool;             /* immutable */
    struct mxi_pool_slot *prev, *next;  /* idle list links */
    enum mxi_slot_state state;       /* written under the lock with mxi_pool_slot_set_state() */
    uint64_t expires_ns;             /* immutable; UINT64_MAX: never */
    uint64_t idle_since_ns;          /* when it last entered the idle list */
    uint64_t last_ok_ns;             /* when it last talked to the server successfully */
};

/* An acquirer waiting in the FIFO queue (lives on its stack). */
struct mxi_pool_waiter {
    pthread_cond_t cond;
    struct mxi_pool_waiter *prev, *next;
    struct mxi_pool_slot *slot;      /* set by the thread that hands one over */
    int status;                      /* MYAPPCTX_ECLOSED when woken by close */
};

struct myappctx_pool {
    pthread_mutex_t mu;
    pthread_condattr_t condattr;     /* CLOCK_MONOTONIC, for every cond here */
    pthread_cond_t maint_cond;       /* wakes the background thread */
    pthread_cond_t ready_cond;       /* wakes myappctx_pool_wait_ready() */
    pthread_t maint_thread;
    int maint_running;               /* joined by close when non-zero */

    myappctx_pool_config cfg;        /* immutable copy; cfg.conninfo is ours */
    int min_size, max_size;          /* current limits (resize) */

    struct mxi_pool_slot *idle_head, *idle_tail;  /* head: most recently used */
    int nidle;
    struct mxi_pool_waiter *wait_head, *wait_tail;
    int nwaiting;
    int size;                        /* open connections, in any state */
    int in_use;
    int connecting;
    int users;                       /* threads inside acquire / wait_ready */

    int closed;                      /* written under the lock, atomically (release peeks) */
    int freed;                       /* the owner called myappctx_pool_free() */

    myappctx_pool_stats counters;    /* only the uint64_t counters are used */

    /* Background thread only (no lock needed). */
    uint64_t rng;
    long backoff_ms;

    uint64_t next_connect_ns;        /* no connect attempt before this */
    char last_error[MYAPPCTX_ERROR_MESSAGE_SIZE];  /* last failed connect, "" if none */
};

/* Release checks a slot's state without the lock (to keep the fast path at
 * one lock round); every write is atomic so that peek is well defined. */
static inline void
mxi_pool_slot_set_state(struct mxi_pool_slot *slot, enum mxi_slot_state state)
{
    __atomic_store_n(&slot->state, state, __ATOMIC_RELAXED);
}

/* ---- time (pool_time.c) ------------------------------------------------ */
uint64_t mxi_pool_now_ns(void);
/* Absolute CLOCK_MONOTONIC deadline for pthread_cond_timedwait(). */
void mxi_pool_timespec(uint64_t ns, struct timespec *ts);
uint64_t mxi_pool_ms_to_ns(long ms);

/* ---- lists, lock held (pool_list.c) ---------------------------------- */
void mxi_pool_idle_push(myappctx_pool *pool, struct mxi_pool_slot *slot);
void mxi_pool_idle_remove(myappctx_pool *pool, struct mxi_pool_slot *slot);
void mxi_pool_waiter_add(myappctx_pool *pool, struct mxi_pool_waiter *w, int at_head);
void mxi_pool_waiter_remove(myappctx_pool *pool, struct mxi_pool_waiter *w);

/* ---- accounting, lock held (pool_acquire.c) ------------------------- */
/* Hands @slot (not in the idle list) to the first waiter, or puts it in the
 * idle list as idle since @idle_since. */
void mxi_pool_give_locked(myappctx_pool *pool, struct mxi_pool_slot *slot, uint64_t idle_since);

/* Why the pool closes a connection: picks the counter. */
enum mxi_drop_reason { MXI_DROP_LOST, MXI_DROP_DISCARDED, MXI_DROP_EVICTED, MXI_DROP_CLOSED };

/* Forgets @slot (already out of the idle list): counts it, lowers size (and
 * in_use for a borrowed one) and asks the background thread to refill.  The
 * caller closes the connection with mxi_pool_slot_destroy() after unlocking. */
void mxi_pool_drop_locked(myappctx_pool *pool, struct mxi_pool_slot *slot,
                          enum mxi_drop_reason why);

/* Wakes the background thread if it has something to do. */
void mxi_pool_wake_maint_locked(myappctx_pool *pool);

/* Non-zero when the pool may be destroyed now: freed and nothing refers to it. */
int mxi_pool_unused_locked(const myappctx_pool *pool);

/* Frees the pool's memory (lock not held, nothing refers to it). */
void mxi_pool_destroy(myappctx_pool *pool);

/* The state part of error messages: "size=N in_use=N waiting=N max=N". */
int mxi_pool_state_error(myappctx_pool *pool, myappctx_error *err, int code,
                         const char *what);

/* ---- connection I/O, lock NOT held (pool_conn.c) --------------------- */
/* Opens a connection and runs the on_connect step.  On failure fills @err. */
int mxi_pool_slot_open(myappctx_pool *pool, struct mxi_pool_slot **out, myappctx_error *err);
/* Closes the connection and frees the slot. */
void mxi_pool_slot_destroy(struct mxi_pool_slot *slot);
/* Cheap round trip; MYAPPCTX_OK if the server answered. */
int mxi_pool_ping(myappctx_conn *conn);
/* The validation step of acquire; MYAPPCTX_OK or the reason to drop it. */
int mxi_pool_validate(myappctx_pool *pool, struct mxi_pool_slot *slot, uint64_t now,
                      enum mxi_drop_reason *why);
/* The release step: rollback and reset.  MYAPPCTX_OK to keep the
 * connection, otherwise @why says how to count it. */
int mxi_pool_clean(myappctx_pool *pool, struct mxi_pool_slot *slot,
                   enum mxi_drop_reason *why, int *did_reset);

/* ---- configuration (pool_config.c) ----------------------------------- */
int mxi_pool_config_check(const myappctx_pool_config *cfg, myappctx_error *err);

/* ---- background thread (pool_maintenance.c) -------------------------- */
void *mxi_pool_maint_main(void *arg);

#endif /* MYAPPCTX_POOL_INTERNAL_H */
