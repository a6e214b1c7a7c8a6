/**
 * @file myappctx/pool.h
 * A thread-safe connection pool with validation hooks and a reset on
 * release: a pooled connection never reaches the next borrower with the
 * previous borrower's context.
 *
 * Threading: every function here may be called from any thread at any time,
 * except that myappctx_pool_free() must be the last call on a pool (it may
 * still be followed by myappctx_pool_release() of connections borrowed
 * before it).  A borrowed connection is used like any myappctx_conn: by one
 * thread at a time.
 *
 * Ownership: myappctx_pool_new() gives the caller a pool to free with
 * myappctx_pool_free().  A connection from myappctx_pool_acquire() stays the
 * pool's: give it back with myappctx_pool_release() (myappctx_conn_close()
 * does the same) and do not use it afterwards.
 *
 * The tracer hooks of a pool (myappctx_pool_config.tracer) and the thread
 * each of them runs in are described in myappctx/tracer.h.
 *
 * Connections are opened by a background thread (all signals blocked) that
 * myappctx_pool_new() starts and myappctx_pool_close() stops: it keeps
 * min_size open, opens more up to max_size for waiting acquirers, retries
 * failed connects with exponential backoff, health-checks idle connections
 * and closes idle ones that are too old or idle for too long.  Acquire and
 * release never open a connection themselves.
 *
 * A unit of work (myappctx_run_in_context(), myappctx_begin_in_context(),
 * myappctx_begin_as_user()) starts clean by itself, whatever an earlier
 * borrower left (myappctx/pipeline.h).  The reset of a returned connection
 * (myappctx_pool_reset) is for everything else: with
 * MYAPPCTX_POOL_RESET_TARGETED it runs before the next call that is not a
 * unit, or before raw access (myappctx_conn_pg()); at release instead when
 * an impersonation the library saw start, or a state a unit found, must go
 * now; and before a connection is closed, so that an impersonation always
 * ends in the log.  If it fails before a call, that call fails with its
 * error ("resetting the pooled connection before use ...") and runs none of
 * its statements; the connection is closed when it is released.
 *
 * What reaches the next borrower (README.md has the same table):
 *
 * | state a borrower leaves    | in units (all modes)         | other calls, TARGETED | DISCARD_ALL            | behind a txn pooler |
 * |----------------------------|------------------------------|-----------------------|------------------------|---------------------|
 * | open / failed transaction  | rolled back at release       | rolled back           | rolled back            | rolled back         |
 * | SET ROLE                   | cleared for the unit         | reset                 | reset                  | cleared in units    |
 * | SET SESSION AUTHORIZATION  | restored for the unit        | reset                 | reset                  | restored in units   |
 * | context variables          | the unit's own or cleared    | reset                 | reset                  | cleared in units    |
 * | active impersonation       | cleared; ended, logged later | ended, logged         | ended, logged          | refused             |
 * | application_name           | restored for the unit        | reset                 | reset                  | restored in units   |
 * | myapp.* defaults, settings | restored (TARGETED)          | reset, reloaded       | reset, not reloaded    | kept                |
 * | other myapp.* variables    | kept                         | kept                  | reset                  | kept                |
 * | search_path, other GUCs    | kept                         | kept                  | reset                  | kept                |
 * | temp tables, cursors       | kept                         | kept                  | dropped                | kept                |
 * | prepared statements        | kept                         | kept                  | dropped                | (unnamed only)      |
 * | LISTEN                     | kept until the reset         | UNLISTEN *            | UNLISTEN *             | kept                |
 * | notifications libpq read   | dropped at release           | dropped               | dropped                | dropped             |
 * | session advisory locks     | kept                         | kept                  | released               | kept                |
 *
 * Each function lists only its own codes; see myappctx/error.h for the
 * common ones.
 */
#ifndef MYAPPCTX_POOL_H
#define MYAPPCTX_POOL_H

#include <stdint.h>

#include <myappctx/conn.h>
#include <myappctx/pipeline.h>
#include <myappctx/tracer.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A connection pool (opaque). */
typedef struct myappctx_pool myappctx_pool;

/**
 * A pool hook.  Called without any pool lock held, in the thread that
 * triggered it (on_connect: the pool's background thread), with a connection
 * that nobody else uses at that moment.  The hook may run statements on it
 * (myappctx_exec() ...) but must not close it, give it to a pool, or call
 * any myappctx_pool_* function on the same pool (on_connect runs in the
 * pool's own thread, which an acquire there would wait for).
 * @return 0 to accept the connection; any other value refuses it: the pool
 *         closes it and counts it (see myappctx_pool_stats).
 */
typedef int (*myappctx_pool_hook)(myappctx_conn *conn, void *userdata);

/** What the pool checks before it lends out a connection. */
typedef enum myappctx_pool_validation {
    /** Nothing: the connection is lent out as it is. */
    MYAPPCTX_POOL_VALIDATE_NONE = 0,
    /** An empty query (one cheap round trip) when the connection has been
     *  idle for at least validate_idle_ms since it was last known good. */
    MYAPPCTX_POOL_VALIDATE_PING = 1,
    /** `SELECT api.validate_connection()` under the same condition; the
     *  connection is refused unless its user_id and tenant_id are unset. */
    MYAPPCTX_POOL_VALIDATE_SERVER = 2,
    /** The on_acquire hook, on every acquire (it is then required). */
    MYAPPCTX_POOL_VALIDATE_HOOK = 3
} myappctx_pool_validation;

/** How a returned connection is cleaned before the next borrower gets it. */
typedef enum myappctx_pool_reset {
    /** `RESET SESSION AUTHORIZATION; RESET ROLE; UNLISTEN *; SELECT
     *  api.clear_context()` (which also ends an impersonation), then `SELECT
     *  api.load_app_settings()` when the default on_connect step is in use,
     *  so every borrower starts from the same state; deferred until a call
     *  that is not a unit of work needs it, so units pay nothing for it.
     *  Other session state (search_path, temporary tables, prepared
     *  statements, advisory locks, custom variables the schema does not
     *  know) is kept. */
    MYAPPCTX_POOL_RESET_TARGETED = 0,
    /** `DISCARD ALL`, at release, after ending an impersonation (logged), in
     *  one round trip: the session goes back to its login state, including
     *  what on_connect had set up (the default on_connect is not run again). */
    MYAPPCTX_POOL_RESET_DISCARD_ALL = 1,
    /** The on_release hook is the reset (it is then required); the pool
     *  itself only rolls back an open transaction. */
    MYAPPCTX_POOL_RESET_HOOK = 2
} myappctx_pool_reset;

/** Pool options; initialise with MYAPPCTX_POOL_CONFIG_INIT so that fields
 *  added later get their defaults.  Times are in milliseconds. */
typedef struct myappctx_pool_config {
    int version;                 /**< MYAPPCTX_POOL_CONFIG_VERSION */
    /** libpq connection string ("" uses the PG* environment); copied. */
    const char *conninfo;
    int min_size;                /**< connections kept open (default 1) */
    int max_size;                /**< at most this many open (default 10, >= 1) */
    /** Default acquire timeout (default 30000; 0 = fail at once when no
     *  connection is free). */
    long acquire_timeout_ms;
    /** At most this many acquirers wait at once; one more gets
     *  MYAPPCTX_EFULL at once (default 0 = no limit). */
    int max_waiters;
    /** A connection older than this is closed when idle or when returned
     *  (default 3600000; 0 = no limit). */
    long max_lifetime_ms;
    /** Each connection's lifetime is shortened by a random fraction in
     *  [0, max_lifetime_jitter] so they do not all expire together
     *  (default 0.1; 0 to 1). */
    double max_lifetime_jitter;
    /** Idle connections above min_size are closed after this long unused
     *  (default 600000; 0 = never). */
    long max_idle_ms;
    /** Idle connections are pinged when not known good for this long
     *  (default 30000; 0 = no health checks). */
    long health_check_period_ms;
    myappctx_pool_validation validation; /**< default MYAPPCTX_POOL_VALIDATE_PING */
    /** Idle time after which PING/SERVER validation runs (default 1000;
     *  0 = at every acquire). */
    long validate_idle_ms;
    myappctx_pool_reset reset;   /**< default MYAPPCTX_POOL_RESET_TARGETED */
    /** Non-zero: behind a transaction pooler (PgBouncer pool_mode=transaction).
     *  Every connection is opened with myappctx_conn_options.txn_pooler
     *  (session-scoped calls fail with MYAPPCTX_ESESSIONSTATE), the default
     *  on_connect step is skipped, and the targeted reset only rolls back.
     *  The pool never uses named prepared statements. */
    int txn_pooler;
    /** Non-zero (default): when on_connect is NULL, each new connection runs
     *  `SELECT api.init_connection()` (settings, timezone, connection log),
     *  except behind a transaction pooler.  0: no on_connect step at all. */
    int init_connection;
    long reconnect_min_ms;       /**< first retry delay after a failed connect (default 100) */
    long reconnect_max_ms;       /**< retry delay cap; doubles up to it (default 10000) */
    /** Runs once on each new connection instead of the default step.
     *  Refusal (or a transaction left open) counts as a failed connect:
     *  stats.errors, retried with backoff. */
    myappctx_pool_hook on_connect;
    void *on_connect_userdata;   /**< passed to on_connect */
    /** With MYAPPCTX_POOL_VALIDATE_HOOK (and only then): runs at every
     *  acquire; refusal discards the connection and the acquirer gets
     *  another one within its timeout. */
    myappctx_pool_hook on_acquire;
    void *on_acquire_userdata;   /**< passed to on_acquire */
    /** With MYAPPCTX_POOL_RESET_HOOK (and only then): runs at release after
     *  the rollback, when the borrower used the connection; refusal
     *  discards it. */
    myappctx_pool_hook on_release;
    void *on_release_userdata;   /**< passed to on_release */
    /** DANGEROUS.  Non-zero: the pool's connections accept a session user
     *  that is a superuser or has BYPASSRLS (myappctx_conn_options
     *  .allow_privileged, which says what that costs).  Default 0: such a
     *  server login fails every connect with MYAPPCTX_EPRIVILEGED, which
     *  myappctx_pool_wait_ready() and myappctx_pool_acquire() report at
     *  once. */
    int allow_privileged;
    /** Non-zero: each new connection first checks that the schema installed
     *  in the database is the version this library embeds, as
     *  myappctx_schema_check() does (one query, before on_connect); a
     *  schema that is missing, older or newer, or that the role may not
     *  read, fails the connect with MYAPPCTX_ESCHEMA (hint: run 'myappctx
     *  schema install'), which myappctx_pool_wait_ready() and
     *  myappctx_pool_acquire() report at once.  Default 0. */
    int check_schema;
    /* ---- version 3 ---- */
    /** Tracer hooks (myappctx/tracer.h), or NULL (default): copied; its
     *  userdata is kept as given. */
    const myappctx_tracer *tracer;
    /** A connection borrowed for longer than this raises the tracer's
     *  on_leak once per borrow, while still borrowed, and counts in
     *  stats.leaks (default 0 = off). */
    long leak_detection_ms;
    /** A ping (PING validation, health checks) that gets no answer within
     *  this long closes the connection as lost: a server that hangs (frozen,
     *  or behind a partition that drops packets) must not hold up an
     *  acquire or the background thread (default 5000; 0 = no limit). */
    long ping_timeout_ms;
    /* ---- version 4 ---- */
    /** Sealed mode (myappctx/seal.h): every connection is opened with this
     *  key (myappctx_conn_options.seal_key), its stream opened in the
     *  round trip of the default on_connect step (before a user's
     *  on_connect, in one of its own); the reset uses the sealed
     *  counterparts, and a borrower's session-level context, which the
     *  server then reports, is reset at release.  Copied; wiped when the
     *  pool is freed.  NULL (default): not sealed. */
    const unsigned char *seal_key;
    /** Length of seal_key: MYAPPCTX_SEAL_KEY_MIN..MYAPPCTX_SEAL_KEY_MAX bytes. */
    size_t seal_key_len;
} myappctx_pool_config;

/** The version of myappctx_pool_config this header describes (2:
 *  allow_privileged and check_schema; 3: tracer, leak_detection_ms,
 *  ping_timeout_ms; 4: seal_key and seal_key_len). */
#define MYAPPCTX_POOL_CONFIG_VERSION 4
/** Initialiser of myappctx_pool_config with every default. */
#define MYAPPCTX_POOL_CONFIG_INIT                                              \
    { MYAPPCTX_POOL_CONFIG_VERSION, "", 1, 10, 30000L, 0, 3600000L, 0.1,       \
      600000L, 30000L, MYAPPCTX_POOL_VALIDATE_PING, 1000L,                     \
      MYAPPCTX_POOL_RESET_TARGETED, 0, 1, 100L, 10000L,                        \
      NULL, NULL, NULL, NULL, NULL, NULL, 0, 0,                                \
      NULL, 0L, 5000L, NULL, 0 }

/** Buckets of a myappctx_pool_histogram: the bounds below, then +Inf. */
#define MYAPPCTX_POOL_HISTOGRAM_BUCKETS 13
/** The upper bounds of the first MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1
 *  buckets, in microseconds (an initialiser of a uint64_t array). */
#define MYAPPCTX_POOL_HISTOGRAM_BOUNDS_US                                       \
    { 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000 }

/** A histogram of durations with fixed buckets, in microseconds. */
typedef struct myappctx_pool_histogram {
    uint64_t count;              /**< observations */
    uint64_t sum_us;             /**< their sum */
    /** buckets[i]: observations above bound i-1 and at most bound i of
     *  MYAPPCTX_POOL_HISTOGRAM_BOUNDS_US (not cumulative); the last, above
     *  every bound. */
    uint64_t buckets[MYAPPCTX_POOL_HISTOGRAM_BUCKETS];
} myappctx_pool_histogram;

/** A snapshot of the pool; initialise with MYAPPCTX_POOL_STATS_INIT.
 *  Counters only grow; they count since myappctx_pool_new(). */
typedef struct myappctx_pool_stats {
    int version;        /**< MYAPPCTX_POOL_STATS_VERSION */
    int size;           /**< open connections (idle + in use + being checked or reset) */
    int idle;           /**< ready to lend */
    int in_use;         /**< borrowed (including those being reset on release) */
    int waiting;        /**< acquirers waiting */
    int connecting;     /**< connects in progress */
    int min_size;       /**< current limits (after myappctx_pool_resize()) */
    int max_size;       /**< see min_size */
    int closed;         /**< non-zero after myappctx_pool_close() */
    uint64_t acquires;              /**< successful acquires */
    uint64_t acquire_wait_total_us; /**< time acquirers spent queued (0 when a connection was idle) */
    uint64_t acquire_wait_max_us;   /**< longest single queued wait */
    uint64_t timeouts;  /**< acquires that ended in MYAPPCTX_ETIMEOUT */
    uint64_t rejected;  /**< acquires refused with MYAPPCTX_EFULL */
    uint64_t errors;    /**< failed connects (libpq or on_connect) */
    uint64_t created;   /**< connections opened successfully */
    uint64_t lost;      /**< connections found broken (validation, health check, release)
                             or unresponsive (no answer to a ping within ping_timeout_ms) */
    uint64_t discarded; /**< closed because a hook refused them, validation or reset
                             failed, the borrower left results pending or pipeline mode on,
                             or they were not the primary target_session_attrs asks for */
    uint64_t evicted;   /**< closed as too old, idle too long, or above max_size after a resize */
    uint64_t resets;    /**< returned connections that needed a reset (counted at
                             release, whenever the reset runs) */
    /* ---- version 2 ---- */
    uint64_t leaks;     /**< borrows held longer than leak_detection_ms */
    /** Per successful acquire, the time queued for a connection (0 when
     *  one was idle; validation not included). */
    myappctx_pool_histogram acquire_wait;
    /** Per release, the time since the acquire that lent the connection. */
    myappctx_pool_histogram use_time;
    /** Per connection opened, the time its connect and on_connect step took. */
    myappctx_pool_histogram create_time;
} myappctx_pool_stats;

/** The version of myappctx_pool_stats this header describes (2: leaks and
 *  the three histograms). */
#define MYAPPCTX_POOL_STATS_VERSION 2
/** Initialiser of myappctx_pool_stats (sets the version). */
#define MYAPPCTX_POOL_STATS_INIT { MYAPPCTX_POOL_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, \
                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             \
                                   0, { 0 }, { 0 }, { 0 } }

/**
 * @anchor myappctx_pool_incurable
 * <b>Failing fast.</b>  Some connect failures cannot be cured by retrying
 * until someone acts: an authentication failure (SQLSTATE 28P01, 28000:
 * wrong or missing password, unknown role, a role without LOGIN, pg_hba.conf),
 * a database that does not exist (3D000) or that the role may not connect
 * to (42501), a privileged session user (MYAPPCTX_EPRIVILEGED) and, with
 * check_schema, a schema missing or of another version (MYAPPCTX_ESCHEMA).
 * When the last connect failed that way, myappctx_pool_wait_ready() and --
 * if no connection is open -- myappctx_pool_acquire() return that error at
 * once, waiters included: its code, its SQLSTATE in err->sqlstate, its
 * detail and hint, and the message "myappctx_pool_...: cannot connect
 * (size=N in_use=N waiting=N max=N): CAUSE".  The background thread
 * keeps retrying with backoff (the fix may come: the schema gets
 * installed, the password reset), and the first connect that succeeds
 * ends it.  Every other failure (the server down or starting up, too many
 * connections) is waited out until the timeout, whose message quotes it.
 * The SQLSTATE of a failed connect is recovered from libpq's message
 * (myappctx/error.h, "Failed connects"): with a server whose messages are
 * not in English, such failures are waited out as well.
 */

/**
 * Creates a pool and starts its background thread, which opens min_size
 * connections right away: the call does not wait for the server, and a
 * server that is down is retried with backoff until it comes back.  Use
 * myappctx_pool_wait_ready() to wait for min_size connections (and to see a
 * connection error early).
 * @param[out] out  receives the pool (NULL on failure); free it with
 *                  myappctx_pool_free()
 * @param cfg       options (copied, conninfo included; hooks' userdata are
 *                  stored as given and must outlive the pool)
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EINVAL also for an invalid field of @p cfg
 *         (named in the message), including a conninfo libpq cannot parse
 *         ("myappctx_pool_new: conninfo: " and libpq's message); MYAPPCTX_ENOMEM
 *         also when the locks or the background thread cannot be created.
 */
MYAPPCTX_API int myappctx_pool_new(myappctx_pool **out, const myappctx_pool_config *cfg,
                                   myappctx_error *err);

/**
 * Borrows a connection.  An idle connection is taken at once when no one is
 * waiting (no round trip, unless validation is due); otherwise the caller
 * queues, and waiters are served strictly first come, first served.  A
 * connection that fails validation is closed and the caller keeps its place
 * for the next one.
 * @param pool        the pool
 * @param[out] out    receives the connection (NULL on failure); give it back
 *                    with myappctx_pool_release()
 * @param timeout_ms  how long to wait; < 0 uses cfg.acquire_timeout_ms,
 *                    0 fails at once when none is free
 * @param err         error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ECLOSED (the pool is closed, also for
 *         waiters when it closes); MYAPPCTX_EFULL (max_waiters already
 *         waiting, returned at once); MYAPPCTX_ETIMEOUT (message:
 *         "size=N in_use=N waiting=N max=N" and the last connection error,
 *         if any, with its SQLSTATE); the last connection error's own code
 *         (see @ref myappctx_pool_incurable "causes retrying cannot cure"),
 *         at once, when no connection is open and the last connect failed
 *         that way.
 */
MYAPPCTX_API int myappctx_pool_acquire(myappctx_pool *pool, myappctx_conn **out,
                                       long timeout_ms, myappctx_error *err);

/**
 * Gives a borrowed connection back.  Never fails for a connection borrowed
 * from @p pool: an open or failed transaction is rolled back; a connection
 * that is broken, has results pending or is in pipeline mode is closed; a
 * connection the borrower used is reset (myappctx_pool_reset; one never
 * used since it was lent needs none); one whose reset fails, that is too
 * old, above max_size, not the primary the conninfo's target_session_attrs
 * asks for (in hot standby, read-only, or a statement failed with 25006),
 * or returned after myappctx_pool_close() (or _free()) is closed.  Then
 * the connection goes to the first waiter or back to the idle list.  @p conn
 * must not be used afterwards.
 * @return MYAPPCTX_OK, or MYAPPCTX_EINVAL when @p pool or @p conn is NULL or
 *         @p conn is not currently borrowed from @p pool (then nothing is done).
 */
MYAPPCTX_API int myappctx_pool_release(myappctx_pool *pool, myappctx_conn *conn);

/**
 * Changes min_size and max_size.  Growing lets the background thread open
 * connections for waiters and up to the new minimum; shrinking closes
 * surplus idle connections now and surplus borrowed ones when returned.
 * @param pool      the pool
 * @param min_size  0 .. @p max_size
 * @param max_size  >= 1
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ECLOSED (the pool is closed).
 */
MYAPPCTX_API int myappctx_pool_resize(myappctx_pool *pool, int min_size, int max_size,
                                      myappctx_error *err);

/**
 * Waits until at least min_size connections are open.
 * @param pool        the pool
 * @param timeout_ms  < 0 uses cfg.acquire_timeout_ms
 * @param err         error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ECLOSED (the pool is closed, also while
 *         waiting); the last connection error's own code, at once, when it
 *         is a cause retrying cannot cure (see @ref myappctx_pool_incurable
 *         "below"); MYAPPCTX_ETIMEOUT otherwise (message with the pool state
 *         and the last connection error, e.g. the server being down).
 */
MYAPPCTX_API int myappctx_pool_wait_ready(myappctx_pool *pool, long timeout_ms,
                                          myappctx_error *err);

/**
 * Fills @p out with a consistent snapshot.  Callable until myappctx_pool_free(),
 * also after myappctx_pool_close().
 * @param pool      the pool
 * @param[out] out  caller-owned, initialised with MYAPPCTX_POOL_STATS_INIT
 * @return MYAPPCTX_OK, or MYAPPCTX_EINVAL (also when out->version is not
 *         MYAPPCTX_POOL_STATS_VERSION).
 */
MYAPPCTX_API int myappctx_pool_stats_get(myappctx_pool *pool, myappctx_pool_stats *out);

/**
 * Writes the pool's statistics in the Prometheus text exposition format
 * (version 0.0.4), named after the OpenTelemetry semantic conventions for
 * database client connection metrics (db.client.connection.*: dots become
 * underscores, durations are histograms in seconds, counters end in
 * _total), each sample labelled pool_name="@p pool_name":
 *
 * | metric                                         | type      | from myappctx_pool_stats |
 * |------------------------------------------------|-----------|--------------------------|
 * | db_client_connection_count{state="idle"\|"used"} | gauge     | size - in_use, in_use    |
 * | db_client_connection_max                       | gauge     | max_size                 |
 * | db_client_connection_pending_requests          | gauge     | waiting                  |
 * | db_client_connection_timeouts_total            | counter   | timeouts                 |
 * | db_client_connection_wait_time_seconds         | histogram | acquire_wait             |
 * | db_client_connection_use_time_seconds          | histogram | use_time                 |
 * | db_client_connection_create_time_seconds       | histogram | create_time              |
 * | myappctx_pool_acquires_total, _rejected_total, _connect_errors_total, _connections_created_total, _lost_total, _discarded_total, _evicted_total, _resets_total, _leaks_total | counter | the counters of the same names |
 *
 * One snapshot (myappctx_pool_stats_get()) is written, so the figures are
 * consistent with each other.  The output is plain ASCII (pool_name
 * escaped as the format requires) and locale-independent.  For several
 * pools in one scrape, give each pool its own endpoint or job: the text of
 * two pools must not be concatenated (each metric family may appear once).
 * @param pool           the pool
 * @param[out] buf       receives the text, NUL-terminated (may be NULL when
 *                       @p size is 0); 16 KiB is enough for any pool_name
 * @param size           size of @p buf
 * @param[out] out_len   receives the length of the whole text (without
 *                       the NUL), also when it did not fit; may be NULL
 * @param pool_name      the pool_name label: 1..128 bytes of UTF-8
 * @param err            error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EINVAL also when the text does not fit in
 *         @p size bytes (then *out_len says how many are needed, and @p buf
 *         holds as much as fits, NUL-terminated).
 */
MYAPPCTX_API int myappctx_pool_metrics_write(myappctx_pool *pool, char *buf, size_t size,
                                             size_t *out_len, const char *pool_name,
                                             myappctx_error *err);

/**
 * Closes the pool: waiting and later acquirers get MYAPPCTX_ECLOSED, the
 * background thread is stopped (this waits for a connect or health check in
 * progress: put connect_timeout, and keepalives for TCP, in the conninfo so
 * that an unreachable server cannot hold it up), idle connections are
 * closed now, borrowed ones when they are released.
 * Idempotent; NULL is allowed.  Stats stay readable until myappctx_pool_free().
 */
MYAPPCTX_API void myappctx_pool_close(myappctx_pool *pool);

/**
 * Closes the pool (if not yet closed) and gives up the caller's handle.  The
 * memory is freed when the last borrowed connection comes back, so
 * releasing a connection after this call is still safe; nothing else may be
 * called on @p pool afterwards.  NULL is allowed.
 */
MYAPPCTX_API void myappctx_pool_free(myappctx_pool *pool);

/**
 * The common case in one call: acquires a connection (waiting at most
 * @p timeout_ms, < 0 for the pool's default), runs myappctx_run_in_context()
 * on it and releases it, whatever the outcome.
 * @param pool        the pool
 * @param ctx         the unit's context, as for myappctx_run_in_context()
 * @param stmts       the statements, as for myappctx_run_in_context()
 * @param nstmts      their number
 * @param[out] results  as for myappctx_run_in_context(); all NULL on failure
 * @param timeout_ms  as for myappctx_pool_acquire()
 * @param err         error details, or NULL (the server's diagnostics kept)
 * @return as myappctx_pool_acquire() and myappctx_run_in_context(); the
 *         message starts with this function's name, then the failing call's.
 */
MYAPPCTX_API int myappctx_pool_run_in_context(myappctx_pool *pool,
                                              const myappctx_txn_context *ctx,
                                              const myappctx_stmt *stmts, size_t nstmts,
                                              PGresult **results, long timeout_ms,
                                              myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_POOL_H */
