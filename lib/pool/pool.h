/* lib/pool: the connection pool.  Files, lowest first: clock.c (monotonic
 * time), metrics.c (histograms), tracer.c (the tracer's events and leak
 * detection), failover.c (primary or not: target_session_attrs), list.c
 * (idle list, borrowed list and waiter queue), ledger.c (counts, handovers
 * and the pool's end, under the lock), reset.c (what a connection carries
 * from one borrower to the next, and the connection-owner hooks), slot.c
 * (I/O on one pooled connection), config.c, stats.c, export.c (Prometheus
 * text), maintenance.c (the background thread), acquire.c (lending and
 * taking back), pool.c (creation, resize, close).  No file calls one listed
 * after it except pool.c's creation of the thread.
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

    /* Observability (tracer.c, metrics.c); under the lock unless noted. */
    uint64_t opened_ns;                 /* immutable: when it was connected */
    uint64_t connect_us;                /* immutable: how long that took */
    int backend_pid;                    /* immutable */
    uint64_t borrowed_ns;               /* when it was last lent (check_out) */
    const void *acquired_from;          /* the caller of that acquire */
    /* pool->borrowed while BORROWED, with leak detection on (list.c) */
    TAILQ_ENTRY(mxi_slot) borrowed_link;
    /* This borrow was reported as a leak (or is not yet timed): exchanged
     * atomically by the background thread and release. */
    bool leak_reported;
    /* Why the pool closes it (myappctx_evict_reason), 0 until it decides:
     * set by whoever holds the slot, settled by mxi_ledger_drop_locked(). */
    int drop_reason;
    bool dropped;                       /* counted in pool->closing until destroyed */

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
    /* Immutable: &tracer_copy, or NULL without a tracer (cfg.tracer too). */
    const myappctx_tracer *tracer;
    myappctx_tracer tracer_copy;
    uint64_t leak_ns;                   /* immutable: cfg.leak_detection_ms; 0 = off */
    int want;                           /* immutable: enum mxi_failover_want */
    int min_size, max_size;             /* current limits (resize) */

    struct mxi_slot_list idle;          /* head: most recently used */
    int nidle;
    struct mxi_slot_list borrowed;      /* leak detection only (borrowed_link) */
    struct mxi_acquire_queue waiters;
    int nwaiting;
    int size;                           /* open connections, in any state */
    int in_use;
    int connecting;
    int users;                          /* threads inside acquire / wait_ready */
    int closing;                        /* dropped slots not yet destroyed */

    int closed;                         /* written under the lock, atomically (release peeks) */
    int freed;                          /* the owner called myappctx_pool_free() */

    myappctx_pool_stats counters;       /* only the counters and histograms are used */

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

/* ---- metrics.c ----------------------------------------------------------- */
/* The bucket bounds in microseconds, MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1 of them. */
extern const uint64_t mxi_metrics_bounds_us[MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1];

/* Counts one observation of @us microseconds (lock held): a few compares
 * (most observations fall in the first buckets) and three increments,
 * inline on acquire's and release's paths. */
static inline void
mxi_metrics_add_locked(myappctx_pool_histogram *h, uint64_t us)
{
    size_t i = 0;
    while (i < MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1 && us > mxi_metrics_bounds_us[i])
        i++;
    h->buckets[i]++;
    h->count++;
    h->sum_us += us;
}

/* ---- tracer.c (lock NOT held unless noted) -------------------------------- */
/* Checks cfg.tracer and cfg.leak_detection_ms (myappctx_pool_new). */
int mxi_tracer_check(const myappctx_pool_config *cfg, myappctx_error *err);
/* Copies the tracer into the pool (pool->tracer, pool->cfg.tracer). */
void mxi_tracer_setup(myappctx_pool *pool);
/* The events; each tests for its callback.  @err may be NULL on success. */
void mxi_tracer_connect(myappctx_pool *pool, const struct mxi_slot *slot, int rc,
                        const myappctx_error *err, uint64_t duration_ns);
void mxi_tracer_acquire(myappctx_pool *pool, myappctx_conn *conn, int rc,
                        const myappctx_error *err, uint64_t wait_ns, uint64_t duration_ns);
void mxi_tracer_release(myappctx_pool *pool, const struct mxi_slot *slot, uint64_t held_ns,
                        int reset);
void mxi_tracer_reset_failed(myappctx_pool *pool, const struct mxi_slot *slot, int rc,
                             const myappctx_error *err, int at_release);
void mxi_tracer_evict(myappctx_pool *pool, const struct mxi_slot *slot);
/* At release, held @held_ns: reports the borrow as a leak if it is one not
 * yet reported (on_leak, released=1).  Returns non-zero if it did (the
 * caller counts stats.leaks under the lock). */
int mxi_tracer_leak_at_release(myappctx_pool *pool, struct mxi_slot *slot, uint64_t held_ns);
/* Background thread, lock held: reports one borrow held past
 * leak_detection_ms (unlocking around on_leak).  Non-zero if it did. */
int mxi_tracer_scan_leaks_locked(myappctx_pool *pool, uint64_t now);
/* Lock held: when the next borrow becomes a leak (UINT64_MAX: never). */
uint64_t mxi_tracer_next_leak_locked(const myappctx_pool *pool);

/* ---- failover.c ------------------------------------------------------------ */
/* What the conninfo's target_session_attrs asks for. */
enum mxi_failover_want {
    MXI_FAILOVER_ANY,            /* anything (absent, any, standby ...) */
    MXI_FAILOVER_PRIMARY,        /* primary: not in hot standby */
    MXI_FAILOVER_READ_WRITE      /* read-write: not in hot standby, not read-only */
};
/* Checks cfg.ping_timeout_ms and what the conninfo asks for; *want gets it. */
int mxi_failover_check(const myappctx_pool_config *cfg, int *want, myappctx_error *err);
/* The decision, from what the server reports (ParameterStatus; NULL when
 * it does not, e.g. before PostgreSQL 14): non-zero when a session with
 * these values is not what @want asks for. */
int mxi_failover_unwanted(int want, const char *in_hot_standby, const char *default_read_only);
/* The same for a pooled connection, counting a statement on it that failed
 * with 25006 as "not a primary" too (the pool then closes it). */
int mxi_failover_conn_unwanted(const myappctx_pool *pool, const myappctx_conn *conn);

/* ---- list.c (lock held) -------------------------------------------------- */
void mxi_list_idle_push(myappctx_pool *pool, struct mxi_slot *slot);
void mxi_list_idle_remove(myappctx_pool *pool, struct mxi_slot *slot);
/* The borrowed list, kept only with leak detection on (pool->leak_ns; the
 * callers test it, so that a pool without pays nothing): a slot is in it
 * while BORROWED. */
void mxi_list_borrowed_add(myappctx_pool *pool, struct mxi_slot *slot);
void mxi_list_borrowed_remove(myappctx_pool *pool, struct mxi_slot *slot);
void mxi_list_waiter_add(myappctx_pool *pool, struct mxi_acquire_waiter *w, int at_head);
void mxi_list_waiter_remove(myappctx_pool *pool, struct mxi_acquire_waiter *w);

/* ---- ledger.c (lock held unless noted) ----------------------------------- */
/* Hands @slot (not in the idle list) to the first waiter, or puts it in the
 * idle list as idle since @idle_since. */
void mxi_ledger_give_locked(myappctx_pool *pool, struct mxi_slot *slot, uint64_t idle_since);
/* Forgets @slot (already out of the idle list): counts it (by
 * slot->drop_reason if set, else by @why), lowers size (and in_use for a
 * borrowed one) and asks the background thread to refill.  The caller
 * closes the connection with mxi_slot_destroy() after unlocking; until then
 * the pool counts it in `closing` and is not freed. */
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
int mxi_reset_on_release(myappctx_pool *pool, struct mxi_slot *slot, int in_txn,
                         myappctx_error *err);
/* A health check or ping: runs the deferred reset, if any, within
 * @timeout_ms (<= 0: no limit).  MYAPPCTX_OK when none was pending. */
int mxi_reset_run_pending(struct mxi_slot *slot, long timeout_ms, myappctx_error *err);
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
/* Closes the connection and frees the slot; for a dropped slot, raises
 * on_evict first and then lets the pool go if that was its last reference. */
void mxi_slot_destroy(struct mxi_slot *slot);
/* Cheap round trip (the deferred reset if one is pending, else an empty
 * query), within cfg.ping_timeout_ms; MYAPPCTX_OK if the server answered
 * and the session is still what the pool wants (failover.c).  On failure
 * slot->drop_reason says why when it is not just broken. */
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
