/**
 * @file myappctx/tracer.h
 * Tracer hooks: callbacks the library calls where an application wants to
 * observe it -- to make spans, log lines or metrics of its own.  One
 * optional struct of callbacks with one userdata, set on a pool
 * (myappctx_pool_config.tracer: every event below) or on a plain connection
 * (myappctx_conn_set_tracer(): units of work and server notices, the events
 * that apply to a connection of its own).
 *
 * Cost: with no tracer, or with a callback left NULL, an event costs one
 * pointer test where it would be raised; no clock is read for it.
 *
 * Threading.  No callback is ever called with a lock of the library held,
 * and callbacks of one pool run concurrently, in whichever thread raised
 * them, so they must be thread-safe:
 *
 * | callback        | thread                                                           |
 * |-----------------|------------------------------------------------------------------|
 * | on_connect      | the pool's background thread, after each connect attempt         |
 * | on_acquire      | the acquiring thread, just before myappctx_pool_acquire() returns |
 * | on_release      | the releasing thread, after the connection was cleaned and before it goes back |
 * | on_unit         | the thread that ran the unit, just before the unit's call returns |
 * | on_reset_failed | the thread whose call or release ran the reset, or the background thread (health check) |
 * | on_evict        | the thread that closes the connection: the background thread (lifetime, idle time, health check), an acquirer (validation, lifetime), a releasing thread, or the caller of myappctx_pool_resize() / myappctx_pool_close() |
 * | on_notice       | the thread reading from the connection at that moment: its user, a releasing thread (reset), the background thread (on_connect step, health check) |
 * | on_leak         | the background thread while the connection is still borrowed, or the releasing thread when that came first |
 *
 * A callback may call myappctx_pool_stats_get() but no other function on the
 * pool (on_connect, on_evict and on_leak run in the pool's own thread, which
 * an acquire there would wait for), and must not use the connection an
 * event names: ev->conn identifies it (the same pointer from its connect to
 * its evict event, unique while it is open) -- only on_acquire's and
 * on_unit's belong to the calling thread at that moment.
 *
 * Ownership: an event and every string in it are valid during the callback
 * only.  The tracer of a pool is copied by myappctx_pool_new(); its userdata
 * must stay valid until the pool's memory is released (after
 * myappctx_pool_free() and the release of the last borrowed connection).
 * The tracer of a plain connection is not copied: it must stay valid until
 * the connection is closed or another tracer is set.
 */
#ifndef MYAPPCTX_TRACER_H
#define MYAPPCTX_TRACER_H

#include <stdint.h>

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

struct myappctx_pool;

/** The version of every event struct this header describes (ev->version):
 *  fields are only ever added at the end, and a later version says which. */
#define MYAPPCTX_TRACE_EVENT_VERSION 1

/** A connect attempt of a pool (its background thread).  The attempt
 *  covers libpq's connect, the on_connect step and the library's own reads
 *  after it: what db_client_connection_create_time measures. */
typedef struct myappctx_trace_connect {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    struct myappctx_pool *pool;  /**< the pool */
    /** The new connection (not yet lent; identity only), NULL on failure. */
    const myappctx_conn *conn;
    int status;                  /**< MYAPPCTX_OK or the failure's code */
    const char *sqlstate;        /**< the failure's SQLSTATE, "" if none */
    const char *message;         /**< the failure's message, "" on success */
    uint64_t duration_ns;        /**< how long the attempt took */
    /** The server connected to (PQhost(), PQport(): with a multi-host
     *  conninfo, the one libpq chose), NULL when the attempt failed. */
    const char *host;
    const char *port;            /**< see host */
    int backend_pid;             /**< the server process, 0 on failure */
} myappctx_trace_connect;

/** An acquire, successful or not. */
typedef struct myappctx_trace_acquire {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    struct myappctx_pool *pool;  /**< the pool */
    /** The connection lent (now the caller's), NULL on failure. */
    myappctx_conn *conn;
    int status;                  /**< what myappctx_pool_acquire() returns */
    const char *message;         /**< the failure's message, "" on success */
    /** Time spent queued for a connection: 0 when one was idle. */
    uint64_t wait_ns;
    /** The whole call, validation round trips included. */
    uint64_t duration_ns;
} myappctx_trace_acquire;

/** A release, after the connection was cleaned (rolled back, reset or the
 *  reset deferred) and before the pool takes it back.  If the pool closes
 *  it then, on_evict follows with the reason. */
typedef struct myappctx_trace_release {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    struct myappctx_pool *pool;  /**< the pool */
    const myappctx_conn *conn;   /**< identity only */
    /** Time between the acquire that lent it and this release. */
    uint64_t held_ns;
    /** Non-zero when the borrower used the connection, so that it needed a
     *  reset (run now or deferred: what myappctx_pool_stats.resets counts). */
    int reset;
} myappctx_trace_release;

/** A unit of work (myappctx_run_in_context(), myappctx_begin_in_context(),
 *  myappctx_begin_as_user()) that passed the library's own argument checks,
 *  successful or not. */
typedef struct myappctx_trace_unit {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    myappctx_conn *conn;         /**< the connection (the calling thread's) */
    const char *function;        /**< e.g. "myappctx_run_in_context" */
    /** The caller's statements in the unit (for begin_in_context 0 or 1). */
    size_t statements;
    int status;                  /**< what the call returns */
    const char *sqlstate;        /**< the failure's SQLSTATE, "" if none */
    const char *message;         /**< the failure's message, "" on success */
    /** The unit's round trip(s): sending, the server's work, reading back. */
    uint64_t duration_ns;
    /** The unit's tenant as canonical UUID text, NULL when it has none. */
    const char *tenant_id;
} myappctx_trace_unit;

/** The reset that clears a borrower's state failed: the connection will be
 *  closed (on_evict, MYAPPCTX_EVICT_RESET_FAILED, follows at release). */
typedef struct myappctx_trace_reset_failed {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    struct myappctx_pool *pool;  /**< the pool */
    const myappctx_conn *conn;   /**< identity only */
    int status;                  /**< the reset's code */
    const char *sqlstate;        /**< its SQLSTATE, "" if none */
    const char *message;         /**< its message */
    /** Non-zero: it ran at release; 0: before a call of the next borrower
     *  (deferred reset) or in a health check. */
    int at_release;
} myappctx_trace_reset_failed;

/** Why a pool closes a connection; each reason is counted in one field of
 *  myappctx_pool_stats (named below). */
typedef enum myappctx_evict_reason {
    MYAPPCTX_EVICT_LIFETIME = 1,     /**< evicted: older than max_lifetime_ms (its jitter drawn at connect) */
    MYAPPCTX_EVICT_IDLE = 2,         /**< evicted: idle longer than max_idle_ms above min_size */
    MYAPPCTX_EVICT_RESIZE = 3,       /**< evicted: above max_size after myappctx_pool_resize() */
    MYAPPCTX_EVICT_BROKEN = 4,       /**< lost: the connection is broken */
    MYAPPCTX_EVICT_PING_TIMEOUT = 5, /**< lost: no answer to a ping within ping_timeout_ms */
    MYAPPCTX_EVICT_REFUSED = 6,      /**< discarded: validation or the on_acquire hook refused it */
    MYAPPCTX_EVICT_RESET_FAILED = 7, /**< discarded: its reset (or on_release) failed */
    MYAPPCTX_EVICT_UNUSABLE = 8,     /**< discarded: returned with results pending or in pipeline mode */
    /** discarded: not a primary (in_hot_standby=on, or for read-write
     *  default_transaction_read_only=on, or a statement failed with 25006)
     *  while the conninfo's target_session_attrs asks for one */
    MYAPPCTX_EVICT_NOT_PRIMARY = 9,
    MYAPPCTX_EVICT_CLOSED = 10       /**< the pool is closed (not counted) */
} myappctx_evict_reason;

/** The pool closes a connection. */
typedef struct myappctx_trace_evict {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    struct myappctx_pool *pool;  /**< the pool */
    const myappctx_conn *conn;   /**< identity only (being closed) */
    myappctx_evict_reason reason; /**< why */
    const char *reason_name;     /**< myappctx_trace_reason_name(reason) */
    uint64_t age_ns;             /**< time since it was connected */
    int backend_pid;             /**< the server process it had */
} myappctx_trace_evict;

/** A notice or warning the server sent (NOTICE, WARNING, INFO, LOG ...;
 *  RAISE NOTICE in a function).  Without a tracer the library drops them. */
typedef struct myappctx_trace_notice {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    const myappctx_conn *conn;   /**< identity only */
    const char *severity;        /**< not localized: "NOTICE", "WARNING" ... */
    const char *sqlstate;        /**< e.g. "01000"; "" if none */
    const char *message;         /**< the primary message */
    const char *detail;          /**< NULL if none */
    const char *hint;            /**< NULL if none */
} myappctx_trace_notice;

/** A borrowed connection has been held longer than the pool's
 *  leak_detection_ms: raised once per borrow. */
typedef struct myappctx_trace_leak {
    int version;                 /**< MYAPPCTX_TRACE_EVENT_VERSION */
    struct myappctx_pool *pool;  /**< the pool */
    const myappctx_conn *conn;   /**< identity only (the borrower's) */
    uint64_t held_ns;            /**< held so far (at least leak_detection_ms) */
    /** 0: still borrowed (the background thread noticed); non-zero: noticed
     *  at its release. */
    int released;
    /** The return address of the myappctx_pool_acquire() call that borrowed
     *  it: resolve it with dladdr() or `addr2line -e PROGRAM`. */
    const void *acquired_from;
} myappctx_trace_leak;

/** The tracer: any callback may be NULL.  Initialise with
 *  MYAPPCTX_TRACER_INIT so that callbacks added later stay NULL. */
typedef struct myappctx_tracer {
    int version;                 /**< MYAPPCTX_TRACER_VERSION */
    void *userdata;              /**< passed to every callback */
    /** a connect attempt ended (the pool's background thread) */
    void (*on_connect)(void *userdata, const myappctx_trace_connect *ev);
    /** an acquire ended (the acquiring thread) */
    void (*on_acquire)(void *userdata, const myappctx_trace_acquire *ev);
    /** a connection came back (the releasing thread) */
    void (*on_release)(void *userdata, const myappctx_trace_release *ev);
    /** a unit of work ended (the thread that ran it) */
    void (*on_unit)(void *userdata, const myappctx_trace_unit *ev);
    /** a reset failed (the thread that ran it) */
    void (*on_reset_failed)(void *userdata, const myappctx_trace_reset_failed *ev);
    /** the pool closes a connection (the thread that closes it) */
    void (*on_evict)(void *userdata, const myappctx_trace_evict *ev);
    /** the server sent a notice (the thread reading the connection) */
    void (*on_notice)(void *userdata, const myappctx_trace_notice *ev);
    /** a borrowed connection was held past leak_detection_ms */
    void (*on_leak)(void *userdata, const myappctx_trace_leak *ev);
} myappctx_tracer;

/** The version of myappctx_tracer this header describes. */
#define MYAPPCTX_TRACER_VERSION 1
/** Initialiser of myappctx_tracer: no userdata, every callback NULL. */
#define MYAPPCTX_TRACER_INIT { MYAPPCTX_TRACER_VERSION, NULL, NULL, NULL, NULL, NULL, \
                               NULL, NULL, NULL, NULL }

/**
 * Sets the tracer of a connection of its own (myappctx_conn_open() or
 * myappctx_conn_wrap()): on_unit and on_notice apply; the other callbacks
 * are for pools.  With on_notice, the connection's notices are forwarded to
 * it and then, as before, to the PGconn's previous notice receiver (on a
 * wrapped connection, the application's; it gets it back when the wrapper
 * is closed or the tracer removed).
 * @param conn    a connection not borrowed from a pool (a pool's tracer
 *                is set in myappctx_pool_config)
 * @param tracer  the tracer (not copied: it must outlive its use), or NULL
 *                to remove it
 * @param err     error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EINVAL also when @p conn belongs to a pool
 *         or tracer->version is not MYAPPCTX_TRACER_VERSION.
 */
MYAPPCTX_API int myappctx_conn_set_tracer(myappctx_conn *conn, const myappctx_tracer *tracer,
                                          myappctx_error *err);

/** A short lower-case name of @p reason ("lifetime", "idle", "resize",
 *  "broken", "ping_timeout", "refused", "reset_failed", "unusable",
 *  "not_primary", "closed"; "unknown" otherwise), for tags and labels
 *  (static storage). */
MYAPPCTX_API const char *myappctx_trace_reason_name(myappctx_evict_reason reason);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_TRACER_H */
