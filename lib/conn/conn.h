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

/* Number of values bound after the context in a unit whose owner asked for
 * the clean check (struct mxi_conn_unit). */
#define MXI_CONN_CLEAN_NPARAMS 5

/* What an owner wants done around a one-round-trip unit of work
 * (lib/pipeline): filled by mxi_conn_owner.unit_begin. */
struct mxi_conn_unit {
    /* Statements (no parameters) to send ahead of the unit, inside its
     * implicit transaction; nlead may be 0. */
    const char *const *lead;
    int nlead;
    /* Non-NULL: start the unit with private.begin_pooled_unit() bound to
     * these MXI_CONN_CLEAN_NPARAMS values instead of leading statements. */
    const char *const *clean_params;
};

/* The hooks of a connection's owner.  Every hook may be NULL. */
struct mxi_conn_owner {
    /* Before the library's next statement (mxi_conn_ready) and before raw
     * access (myappctx_conn_pg): settle what the owner deferred. */
    int (*prepare)(myappctx_conn *conn, const char *what, myappctx_error *err);
    /* myappctx_conn_close() on an owned connection: the owner takes it back. */
    void (*give_back)(myappctx_conn *conn);
    /* A one-round-trip unit is about to be sent. */
    void (*unit_begin)(myappctx_conn *conn, struct mxi_conn_unit *out);
    /* The unit's context statement failed and nothing of the unit ran:
     * make the session clean in a round trip of its own so that the unit
     * can be sent once more.  Returns MYAPPCTX_OK to send it again, 1 when
     * the owner has nothing to try, or a negative code with @err filled. */
    int (*unit_retry)(myappctx_conn *conn, const char *what, myappctx_error *err);
    /* The unit committed. */
    void (*unit_done)(myappctx_conn *conn);
};

struct myappctx_conn {
    PGconn *pg;
    bool    owns_pg;       /* close the PGconn in myappctx_conn_close() */
    bool    txn_pooler;    /* refuse session-scoped state */
    /* Set by every call that may talk to the server and by raw access: a
     * connection untouched since its owner last reset it needs no reset. */
    bool    touched;
    const struct mxi_conn_owner *owner;   /* NULL unless lent by an owner */
    void   *owner_data;                   /* the owner's per-connection state */
};

/* Checks that the connection can run a statement now: not NULL, not broken,
 * not in pipeline mode, no query in progress.  Marks it touched. */
int mxi_conn_check(myappctx_conn *conn, const char *what, myappctx_error *err);

/* mxi_conn_check(), then the owner's prepare hook. */
int mxi_conn_ready(myappctx_conn *conn, const char *what, myappctx_error *err);

/* mxi_conn_ready(), then MYAPPCTX_ENOTXN unless inside an open transaction
 * block (SET LOCAL outside one is silently discarded), MYAPPCTX_ETXNFAILED in
 * an aborted one. */
int mxi_conn_require_txn(myappctx_conn *conn, const char *what, myappctx_error *err);

/* MYAPPCTX_ESESSIONSTATE on a connection behind a transaction pooler. */
int mxi_conn_require_session_state(myappctx_conn *conn, const char *what,
                                   myappctx_error *err);

#endif /* MXI_CONN_H */
