/* lib/conn: the connection handle and the checks every call makes before it
 * talks to the server.
 *
 * A connection knows nothing of pools.  An owner (lib/pool) that lends it
 * out attaches a table of hooks and its own per-connection state; the
 * layers below the owner reach it only through that table, so no lower
 * layer calls an upper one (docs/design.md, "Layers"). */
#ifndef MXI_CONN_H
#define MXI_CONN_H

#include "core/core.h"

/* What an owner wants done for a unit of work (lib/pipeline/unit.c):
 * filled by mxi_conn_owner.unit_begin. */
struct mxi_conn_unit {
    /* Non-NULL: the unit sets application_name to this value, transaction-
     * locally (the session's differs from what the owner's baseline is). */
    const char *app_name;
    /* The session's baseline of other myapp.* variables (role and database
     * defaults, loaded settings), which the unit restores for itself when a
     * value differs: nbaseline name/value pairs in baseline[2 * i], [2 * i +
     * 1], and the same as two text[] literals. */
    int nbaseline;
    const char *const *baseline;
    const char *baseline_names, *baseline_values;
};

/* The hooks of a connection's owner.  Every hook may be NULL. */
struct mxi_conn_owner {
    /* Before the library's next statement outside a transaction block
     * (mxi_conn_ready) and before raw access (myappctx_conn_pg): settle what
     * the owner deferred. */
    int (*prepare)(myappctx_conn *conn, const char *what, myappctx_error *err);
    /* myappctx_conn_close() on an owned connection: the owner takes it back. */
    void (*give_back)(myappctx_conn *conn);
    /* A unit of work is about to be sent. */
    void (*unit_begin)(myappctx_conn *conn, struct mxi_conn_unit *out);
    /* The unit's context statement ran; @dirty: the session carried state
     * of its own (a role, context or impersonation) that the unit had to
     * clear for itself. */
    void (*unit_done)(myappctx_conn *conn, bool dirty);
};

struct myappctx_conn {
    PGconn *pg;
    bool    owns_pg;       /* close the PGconn in myappctx_conn_close() */
    bool    txn_pooler;    /* refuse session-scoped state; no named statements */
    /* Set by every call that may talk to the server and by raw access: a
     * connection untouched since its owner last reset it needs no reset. */
    bool    touched;
    /* The library started an impersonation on this session and has not seen
     * it end (lib/context/impersonation.c). */
    bool    impersonating;
    /* Which of the library's named statements this session has prepared
     * (bits of lib/pipeline/unit.c); cleared when the session drops them. */
    unsigned prepared;
    /* session_authorization as the server reported it at connect: the role
     * a unit of work runs as. */
    char   *login_role;
    const struct mxi_conn_owner *owner;   /* NULL unless lent by an owner */
    void   *owner_data;                   /* the owner's per-connection state */

    /* Observability and failover (trace.c).  The tracer: the pool's for a
     * pooled connection, myappctx_conn_set_tracer()'s otherwise; NULL:
     * none, and every event site costs one test of it. */
    const myappctx_tracer *tracer;
    /* trace.c's notice receiver is installed (instead of libpq's default). */
    bool    notice_hooked;
    /* A statement failed with 25006 (read_only_sql_transaction) on this
     * session: a pool that wants a primary closes it. */
    bool    read_only_failed;
    struct mxi_seal *seal;                /* sealed mode (seal.c); NULL: not sealed */
};

/* Checks that the connection can run a statement now: not NULL, not broken,
 * not in pipeline mode, no query in progress.  Marks it touched. */
int mxi_conn_check(myappctx_conn *conn, const char *what, myappctx_error *err);

/* mxi_conn_check(), then, outside a transaction block, the owner's prepare
 * hook.  (Inside one the owner has nothing to settle: a unit of work starts
 * from a clean state by itself, and any other block began with this call.) */
int mxi_conn_ready(myappctx_conn *conn, const char *what, myappctx_error *err);

/* mxi_conn_ready(), then MYAPPCTX_ENOTXN unless inside an open transaction
 * block (SET LOCAL outside one is silently discarded), MYAPPCTX_ETXNFAILED in
 * an aborted one. */
int mxi_conn_require_txn(myappctx_conn *conn, const char *what, myappctx_error *err);

/* MYAPPCTX_ESESSIONSTATE on a connection behind a transaction pooler. */
int mxi_conn_require_session_state(myappctx_conn *conn, const char *what,
                                   myappctx_error *err);

/* ---- trace.c ------------------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds (for the durations of events). */
uint64_t mxi_trace_now_ns(void);

/* Installs trace.c's notice receiver when conn->tracer wants notices, or
 * gives the PGconn libpq's default back when it no longer does.
 * MYAPPCTX_EINVAL (nothing changed) when the PGconn has a receiver of the
 * application's, which could not be chained to. */
int mxi_trace_notices(myappctx_conn *conn, const char *what, myappctx_error *err);

/* Before the handle is freed: gives a wrapped PGconn its receiver back. */
void mxi_trace_detach(myappctx_conn *conn);

/* After a failed statement (@sqlstate may be NULL or ""): notes what the
 * owner acts on (25006 sets conn->read_only_failed). */
void mxi_trace_note_failure(myappctx_conn *conn, const char *sqlstate);

/* ---- seal.c: the connection's side of sealed mode ------------------------
 * (extension/README.md, "The client side").  The stream is opened by one
 * statement, MXI_SEAL_OPEN_SQL, sent alone (mxi_seal_open()) or inside the
 * pool's on_connect pipeline (mxi_seal_open_params() + mxi_seal_open_done()). */

struct mxi_seal {
    struct mxi_hmac_key *key;  /* keyed once (lib/core/hmac.c) */
    char key_id[MXI_HMAC_KEY_ID_SIZE];
    bool bind;                 /* stream bound to the backend: not behind a txn pooler */
    bool open;                 /* the server issued the stream below */
    unsigned char stream[MXI_HMAC_STREAM_LEN];
    char stream_param[MXI_HMAC_BYTEA_SIZE(MXI_HMAC_STREAM_LEN)];
    int64_t counter;           /* the last one signed (0: none yet) */
    /* The server saw a replay on this stream (MX002): someone used one of
     * its MACs first.  Nothing is signed on this connection again. */
    bool burned;
};

/* open_stream() and status() of one stream, in one statement: columns
 * stream, key_id, mode. */
#define MXI_SEAL_OPEN_SQL                                                       \
    "SELECT myappctx_seal.open_stream($1::boolean, $2::bytea), s.key_id, s.mode " \
    "FROM myappctx_seal.status() AS s"

/* The parameters of MXI_SEAL_OPEN_SQL for one connection. */
struct mxi_seal_open {
    char mac[MXI_HMAC_BYTEA_SIZE(MXI_HMAC_LEN)];
    const char *params[2];
};

/* The parameters of a set_context() call a caller binds: the stream is
 * conn->seal->stream_param. */
struct mxi_seal_call {
    char counter[24];
    char mac[MXI_HMAC_BYTEA_SIZE(MXI_HMAC_LEN)];
};

/* Key length in MYAPPCTX_SEAL_KEY_MIN..MYAPPCTX_SEAL_KEY_MAX and key not NULL. */
bool mxi_seal_key_valid(const unsigned char *key, size_t len);

/* Makes @conn sealed with a copy of @key (stream not open yet; bound to the
 * backend unless conn->txn_pooler).  EINVAL for a bad key. */
int mxi_seal_attach(myappctx_conn *conn, const unsigned char *key, size_t len,
                    const char *what, myappctx_error *err);

/* Wipes and frees the sealed state (NULL allowed). */
void mxi_seal_free(struct mxi_seal *seal);

/* Fills the parameters of MXI_SEAL_OPEN_SQL. */
int mxi_seal_open_params(myappctx_conn *conn, struct mxi_seal_open *o, const char *what,
                         myappctx_error *err);

/* Takes the stream from a successful MXI_SEAL_OPEN_SQL result: the key id
 * must be ours and the mode shared or backend (else MYAPPCTX_ESCHEMA).  A
 * new stream starts at counter 0. */
int mxi_seal_open_done(myappctx_conn *conn, const PGresult *res, const char *what,
                       myappctx_error *err);

/* Turns the error of MXI_SEAL_OPEN_SQL (@inner, as the server sent it) into
 * the caller's, with what to do (extension missing: ESCHEMA; a key that is
 * not the server's: ESEAL naming both fingerprints). */
int mxi_seal_open_failed(myappctx_conn *conn, const myappctx_error *inner, const char *what,
                         myappctx_error *err);

/* Opens a new stream in one round trip (MXI_SEAL_OPEN_SQL). */
int mxi_seal_open(myappctx_conn *conn, const char *what, myappctx_error *err);

/* Before a sealed call: ESEAL on a burnt connection; opens a stream when
 * none is open (one round trip: the first unit behind a transaction pooler,
 * or after MX004). */
int mxi_seal_ready(myappctx_conn *conn, const char *what, myappctx_error *err);

/* Signs one set_context() call: counter + 1 (spent whatever happens next),
 * the MAC over stream, counter, scope and the seven fields ('' for absent
 * ones, never NULL).  ESEAL on a burnt connection or one without a stream. */
int mxi_seal_sign(myappctx_conn *conn, bool local, const char *const fields[MXI_HMAC_CONTEXT_FIELDS],
                  struct mxi_seal_call *out, const char *what, myappctx_error *err);

/* After a sealed call failed with @sqlstate: true when it may be sent once
 * more on a new stream (MX004: nothing of it ran; the stream is marked
 * closed, the caller reopens it).  MX002 burns the connection. */
bool mxi_seal_retry(myappctx_conn *conn, const char *sqlstate);

/* From the server's ParameterStatus reports, without a query: some
 * session-level context (any context variable but loaded_settings) is not
 * empty.  Only sealed servers report them; elsewhere false. */
bool mxi_seal_session_context(const myappctx_conn *conn);

#endif /* MXI_CONN_H */
