/* lib/pool: the connection pool.  Files, lowest first: clock.c (monotonic
 * time), list.c (idle list and waiter queue), ledger.c (counts, handovers
 * and the pool's end, under the lock), reset.c (what a connection carries
 * from one borrower to the next, and the connection-owner hooks), slot.c
 * (I/O on one pooled connection), config.c, stats.c, maintenance.c (the
 * background thread), acquire.c (lending and taking back), pool.c
 * (creation, resize, close).  No file calls one listed after it except
 * pool.c's creation of the thread.
 *
 * Locking: one mutex per pool guards every field of struct myappctx_pool
 * except those marked "immutable", and the connection inside a slot belongs
 * to whoever holds the slot out of the idle list (a borrower, a releasing
 * thread, the background thread during a check).  The mutex is never held
 * across network I/O: a slot is taken out under the lock, used without it,
 * and put back (or dropped) under it again. */
#ifndef MXI_POOL_H
#define MXI_POOL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include "exec/exec.h"

enum mxi_slot_state {
    MXI_SLOT_IDLE,       /* in the idle list */
    MXI_SLOT_BORROWED,   /* lent out (or being validated / reset for a borrower) */
    MXI_SLOT_CHECKING    /* out of the idle list for a health check */
};

/* Why the pool closes a connection: picks the counter. */
enum mxi_slot_drop {
    MXI_SLOT_DROP_LOST, MXI_SLOT_DROP_DISCARDED, MXI_SLOT_DROP_EVICTED, MXI_SLOT_DROP_CLOSED
};

/* One pooled connection; slot->conn->owner_data points back here. */
struct mxi_slot {
    myappctx_conn *conn;
    myappctx_pool *pool;                /* immutable */
    TAILQ_ENTRY(mxi_slot) link;         /* idle list, or a private list once out */
    enum mxi_slot_state state;          /* written under the lock with mxi_slot_set_state() */
    uint64_t expires_ns;                /* immutable; UINT64_MAX: never */
    uint64_t idle_since_ns;             /* when it last entered the idle list */
    uint64_t last_ok_ns;                /* when it last talked to the server successfully */

    /* What reset.c keeps per connection; only the slot's holder touches it. */
    const char *pending_reset;          /* the reset deferred to the next use */
    bool reset_failed;                  /* cannot be made safe: close at release */
    bool reset_at_release;              /* a unit found the session dirty */
    char *initial_app_name;             /* application_name after on_connect */
    /* private.session_baseline(): nbaseline name/value pairs (one block),
     * and the same as two text[] literals; NULL without the schema function. */
    char **baseline;
    int nbaseline;
    char *baseline_names, *baseline_values;
};
TAILQ_HEAD(mxi_slot_list, mxi_slot);

/* An acquirer waiting in the FIFO queue (lives on its stack). */
struct mxi_acquire_waiter {
    pthread_cond_t cond;
    TAILQ_ENTRY(mxi_acquire_waiter) link;
    struct mxi_slot *slot;              /* set by the thread that hands one over */
    int status;                         /* MYAPPCTX_ECLOSED when woken by close */
};
TAILQ_HEAD(mxi_acquire_queue, mxi_acquire_waiter);

struct myappctx_pool {
    pthread_mutex_t mu;
    pthread_condattr_t condattr;        /* CLOCK_MONOTONIC, for every cond here */
    pthread_cond_t maint_cond;          /* wakes the background thread */
    pthread_cond_t ready_cond;          /* wakes myappctx_pool_wait_ready() */
    pthread_t maint_thread;
    int maint_running;                  /* joined by close when non-zero */

    myappctx_pool_config cfg;           /* immutable copy; cfg.conninfo is ours */
    const struct mxi_conn_owner *owner; /* immutable: the hooks set on every connection */
    int min_size, max_size;             /* current limits (resize) */

    struct mxi_slot_list idle;          /* head: most recently used */
    int nidle;
    struct mxi_acquire_queue waiters;
    int nwaiting;
    int size;                           /* open connections, in any state */
    int in_use;
    int connecting;
    int users;                          /* threads inside acquire / wait_ready */

    int closed;                         /* written under the lock, atomically (release peeks) */
    int freed;                          /* the owner called myappctx_pool_free() */

    myappctx_pool_stats counters;       /* only the uint64_t counters are used */

    /* Background thread only (no lock needed). */
    uint64_t rng;
    long backoff_ms;

    uint64_t next_connect_ns;           /* no connect attempt before this */
    /* The last failed connect (code MYAPPCTX_OK if none since the last
     * success; message without prefix), and whether retrying cannot cure it. */
    myappctx_error last_error;
    int last_incurable;
};

/* Release checks a slot's state without the lock (to keep the fast path at
 * one lock round); every write is atomic so that peek is well defined. */
static inline void
mxi_slot_set_state(struct mxi_slot *slot, enum mxi_slot_state state)
{
    __atomic_store_n(&slot->state, state, __ATOMIC_RELAXED);
}

/* ---- clock.c ------------------------------------------------------------- */
uint64_t mxi_clock_now_ns(void);
/* Absolute CLOCK_MONOTONIC deadline for pthread_cond_timedwait(). */
void mxi_clock_timespec(uint64_t ns, struct timespec *ts);
uint64_t mxi_clock_ms_to_ns(long ms);

/* ---- list.c (lock held) -------------------------------------------------- */
void mxi_list_idle_push(myappctx_pool *pool, struct mxi_slot *slot);
void mxi_list_idle_remove(myappctx_pool *pool, struct mxi_slot *slot);
void mxi_list_waiter_add(myappctx_pool *pool, struct mxi_acquire_waiter *w, int at_head);
void mxi_list_waiter_remove(myappctx_pool *pool, struct mxi_acquire_waiter *w);

/* ---- ledger.c (lock held unless noted) ----------------------------------- */
/* Hands @slot (not in the idle list) to the first waiter, or puts it in the
 * idle list as idle since @idle_since. */
void mxi_ledger_give_locked(myappctx_pool *pool, struct mxi_slot *slot, uint64_t idle_since);
/* Forgets @slot (already out of the idle list): counts it, lowers size (and
 * in_use for a borrowed one) and asks the background thread to refill.  The
 * caller closes the connection with mxi_slot_destroy() after unlocking. */
void mxi_ledger_drop_locked(myappctx_pool *pool, struct mxi_slot *slot, enum mxi_slot_drop why);
/* Wakes the background thread if it has something to do. */
void mxi_ledger_wake_locked(myappctx_pool *pool);
/* Non-zero when the pool may be destroyed now: freed and nothing refers to it. */
int mxi_ledger_unused_locked(const myappctx_pool *pool);
/* Frees the pool's memory (lock not held, nothing refers to it). */
void mxi_ledger_destroy(myappctx_pool *pool);
/* An error whose message ends with the pool's state: "size=N in_use=N ..."
 * and the last connection error, if any. */
int mxi_ledger_state_error(myappctx_pool *pool, myappctx_error *err, int code, const char *what);
/* Non-zero when the last connect failed in a way retrying cannot cure
 * (maintenance.c decides which) and nothing has connected since. */
int mxi_ledger_blocked_locked(const myappctx_pool *pool);
/* The last connect's error for @what: its code, SQLSTATE and diagnostics,
 * "<what>: cannot connect (size=N ...): <cause>". */
int mxi_ledger_cause_error(myappctx_pool *pool, myappctx_error *err, const char *what);

/* ---- reset.c (lock NOT held; the caller holds the slot) ------------------ */
/* The hooks every pooled connection carries (struct mxi_conn_owner), bar
 * give_back, which acquire.c adds. */
int mxi_reset_prepare(myappctx_conn *conn, const char *what, myappctx_error *err);
void mxi_reset_unit_begin(myappctx_conn *conn, struct mxi_conn_unit *out);
void mxi_reset_unit_done(myappctx_conn *conn, bool dirty);
/* After on_connect: the baseline units compare other myapp.* variables with. */
void mxi_reset_read_baseline(myappctx_pool *pool, struct mxi_slot *slot);
/* Release: roll back, then reset now or defer the reset to the next use. */
int mxi_reset_on_release(myappctx_pool *pool, struct mxi_slot *slot, int in_txn);
/* Before the connection is closed: clear a borrower's state not yet reset
 * (an impersonation ends, logged). */
void mxi_reset_before_close(myappctx_pool *pool, struct mxi_slot *slot);
/* The default on_connect step (api.init_connection()) is in effect. */
int mxi_reset_default_init(const myappctx_pool *pool);
/* Frees what reset.c allocated for @slot. */
void mxi_reset_free(struct mxi_slot *slot);

/* ---- slot.c (lock NOT held) ---------------------------------------------- */
/* Opens a connection and runs the on_connect step.  On failure fills @err
 * (not NULL) with the cause, without a function prefix: the pool quotes it. */
int mxi_slot_open(myappctx_pool *pool, struct mxi_slot **out, myappctx_error *err);
/* Closes the connection and frees the slot. */
void mxi_slot_destroy(struct mxi_slot *slot);
/* Cheap round trip; MYAPPCTX_OK if the server answered. */
int mxi_slot_ping(myappctx_conn *conn);
/* The validation step of acquire; MYAPPCTX_OK or the reason to drop it. */
int mxi_slot_validate(myappctx_pool *pool, struct mxi_slot *slot, uint64_t now,
                      enum mxi_slot_drop *why);
/* The release step: rollback and reset.  MYAPPCTX_OK to keep the
 * connection, otherwise @why says how to count it. */
int mxi_slot_clean(myappctx_pool *pool, struct mxi_slot *slot, enum mxi_slot_drop *why,
                   int *did_reset);

/* ---- config.c ------------------------------------------------------------ */
int mxi_config_check(const myappctx_pool_config *cfg, myappctx_error *err);

/* ---- maintenance.c ------------------------------------------------------- */
void *mxi_maintenance_main(void *arg);

/* ---- acquire.c ----------------------------------------------------------- */
/* myappctx_conn_close() on a borrowed connection: myappctx_pool_release(). */
void mxi_acquire_give_back(myappctx_conn *conn);

#endif /* MXI_POOL_H */
