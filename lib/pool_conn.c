/* Network I/O on one pooled connection: opening it (with the on_connect
 * step), validating it before it is lent, and cleaning it when it comes
 * back.  Called without the pool mutex: the caller holds the slot out of
 * the idle list, so nobody else touches the connection meanwhile. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* The targeted reset, in one simple-query round trip.  Order matters:
 * session authorization and role first, so that api.clear_context() runs
 * with the login role's rights whatever SET ROLE the borrower left behind.
 * A leading ROLLBACK ends an open or failed transaction block, after which
 * the rest runs in its own implicit transaction. */
#define MXI_RESET_SQL "RESET SESSION AUTHORIZATION; RESET ROLE; SELECT api.clear_context()"
/* clear_context() also resets the app settings api.init_connection()
 * loaded; loading them again gives every borrower the same start. */
#define MXI_RELOAD_SQL "; SELECT api.load_app_settings()"

static const char *const rollback_reset_sql[2] = {
    /* [reload settings] */
    "ROLLBACK; " MXI_RESET_SQL, "ROLLBACK; " MXI_RESET_SQL MXI_RELOAD_SQL,
};

/* The same reset, deferred: when a borrower returns an idle connection it
 * used, the reset is not run at release but at the head of the
 * connection's next use -- a separate round trip before an ordinary call,
 * and no extra round trip at all in front of a one-round-trip pipeline
 * (lib/pipeline.c), which commits it together with the next unit of work
 * or, if that unit fails, leaves it pending.  Either way nothing reaches the
 * server from the next borrower before it. */
static const char *const deferred_stmts[] = {
    "RESET SESSION AUTHORIZATION", "RESET ROLE", "SELECT api.clear_context()",
    "SELECT api.load_app_settings()",
};
static const struct mxi_deferred_reset deferred[2] = {
    /* [reload settings] */
    { MXI_RESET_SQL, deferred_stmts, 3 },
    { MXI_RESET_SQL MXI_RELOAD_SQL, deferred_stmts, 4 },
};

/* The default on_connect step is in effect (and sets session state). */
static int
default_init_active(const myappctx_pool *pool)
{
    return pool->cfg.on_connect == NULL && pool->cfg.init_connection &&
           !pool->cfg.txn_pooler;
}

static int
run_on_connect(myappctx_pool *pool, myappctx_conn *conn, myappctx_error *err)
{
    if (pool->cfg.on_connect != NULL) {
        int r = pool->cfg.on_connect(conn, pool->cfg.on_connect_userdata);
        if (r != 0)
            return mxi_error_set(err, MYAPPCTX_EHOOK, NULL,
                                 "pool: the on_connect hook refused the connection (returned %d)", r);
    } else if (default_init_active(pool)) {
        myappctx_error e;
        int rc = mxi_exec(conn, "SELECT api.init_connection()", 0, NULL, NULL, &e);
        if (rc != MYAPPCTX_OK)
            return mxi_error_set(err, rc, e.sqlstate, "pool: api.init_connection() failed: %s",
                                 e.message);
    }
    if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        return mxi_error_set(err, MYAPPCTX_EHOOK, NULL,
                             "pool: the on_connect step left a transaction open");
    return MYAPPCTX_OK;
}

/* Lets the fast path skip the reset of a session it finds clean (see
 * private.session_is_clean()).  Without the schema function (an older
 * schema) the connection is simply always reset. */
static void
enable_clean_check(myappctx_pool *pool, myappctx_conn *conn)
{
    PGresult *res;
    if (mxi_exec(conn, "SELECT names::text, \"values\"::text FROM private.session_baseline()",
                 0, NULL, &res, NULL) != MYAPPCTX_OK)
        return;
    if (PQntuples(res) == 1) {
        conn->clean_default_names = strdup(PQgetvalue(res, 0, 0));
        conn->clean_default_values = strdup(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    if (conn->clean_default_names != NULL && conn->clean_default_values != NULL) {
        conn->clean_check = default_init_active(pool) ? MXI_CLEAN_CHECK_SETTINGS
                                                      : MXI_CLEAN_CHECK_ON;
        conn->pool_reset = &deferred[default_init_active(pool)];
    }
}

/* xorshift64*: the background thread is the only caller, so no lock. */
static double
next_unit_random(myappctx_pool *pool)
{
    uint64_t x = pool->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    pool->rng = x;
    return (double)((x * 2685821657736338717ull) >> 11) / (double)(1ull << 53);
}

static uint64_t
expiry(myappctx_pool *pool, uint64_t now)
{
    if (pool->cfg.max_lifetime_ms == 0)
        return UINT64_MAX;
    double life = (double)mxi_pool_ms_to_ns(pool->cfg.max_lifetime_ms);
    life *= 1.0 - pool->cfg.max_lifetime_jitter * next_unit_random(pool);
    return now + (uint64_t)life;
}

int
mxi_pool_slot_open(myappctx_pool *pool, struct mxi_pool_slot **out, myappctx_error *err)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    myappctx_conn *conn;
    opts.txn_pooler = pool->cfg.txn_pooler;
    int rc = myappctx_conn_open(&conn, pool->cfg.conninfo, &opts, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = run_on_connect(pool, conn, err);
    struct mxi_pool_slot *slot = NULL;
    if (rc == MYAPPCTX_OK && (slot = calloc(1, sizeof *slot)) == NULL)
        rc = mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "pool: out of memory");
    if (rc != MYAPPCTX_OK) {
        myappctx_conn_close(conn);
        return rc;
    }
    uint64_t now = mxi_pool_now_ns();
    if (pool->cfg.reset == MYAPPCTX_POOL_RESET_TARGETED && !pool->cfg.txn_pooler)
        enable_clean_check(pool, conn);
    conn->touched = false;          /* what on_connect set up is the baseline */
    conn->pool_slot = slot;
    slot->conn = conn;
    slot->pool = pool;
    slot->expires_ns = expiry(pool, now);
    slot->last_ok_ns = now;
    *out = slot;
    return MYAPPCTX_OK;
}

void
mxi_pool_slot_destroy(struct mxi_pool_slot *slot)
{
    if (slot == NULL)
        return;
    slot->conn->pool_slot = NULL;
    myappctx_conn_close(slot->conn);
    free(slot);
}

/* A check that changes no session state must not make release reset. */
int
mxi_pool_ping(myappctx_conn *conn)
{
    bool touched = conn->touched;
    int rc = mxi_exec_script(conn, "", NULL);
    conn->touched = touched;
    return rc;
}

static int
server_validate(myappctx_conn *conn)
{
    bool touched = conn->touched;
    PGresult *res;
    const char *value;
    int rc = mxi_exec_one(conn, "SELECT api.validate_connection()", 0, NULL, &res, &value, NULL);
    conn->touched = touched;
    if (rc != MYAPPCTX_OK)
        return rc;
    json_t *doc = value != NULL ? json_loads(value, 0, NULL) : NULL;
    /* A context on a connection about to be lent means a reset was
     * bypassed: refuse it rather than hand it on. */
    if (doc == NULL || !json_is_object(doc) ||
        !json_is_null(json_object_get(doc, "user_id")) ||
        !json_is_null(json_object_get(doc, "tenant_id")))
        rc = MYAPPCTX_EPROTO;
    json_decref(doc);
    PQclear(res);
    return rc;
}

static enum mxi_drop_reason
failure_reason(const myappctx_conn *conn)
{
    return PQstatus(conn->pg) == CONNECTION_OK ? MXI_DROP_DISCARDED : MXI_DROP_LOST;
}

int
mxi_pool_validate(myappctx_pool *pool, struct mxi_pool_slot *slot, uint64_t now,
                  enum mxi_drop_reason *why)
{
    const myappctx_pool_config *cfg = &pool->cfg;
    myappctx_conn *conn = slot->conn;
    int rc = MYAPPCTX_OK;

    switch (cfg->validation) {
    case MYAPPCTX_POOL_VALIDATE_NONE:
        return MYAPPCTX_OK;
    case MYAPPCTX_POOL_VALIDATE_HOOK:
        if (cfg->on_acquire(conn, cfg->on_acquire_userdata) != 0)
            rc = MYAPPCTX_EHOOK;
        break;
    case MYAPPCTX_POOL_VALIDATE_PING:
        rc = mxi_pool_ping(conn);
        break;
    case MYAPPCTX_POOL_VALIDATE_SERVER:
        rc = server_validate(conn);
        break;
    }
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        rc = MYAPPCTX_EHOOK;        /* a hook left a transaction open */
    if (rc != MYAPPCTX_OK) {
        *why = failure_reason(conn);
        return rc;
    }
    slot->last_ok_ns = now;
    return MYAPPCTX_OK;
}

/* Borrower left the connection in a state no statement can follow. */
static int
unusable(const myappctx_conn *conn, enum mxi_drop_reason *why)
{
    PGconn *pg = conn->pg;
    if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) == PQTRANS_UNKNOWN) {
        *why = MXI_DROP_LOST;
        return 1;
    }
    if (conn->reset_failed) {      /* it cannot be made safe for the next one */
        *why = MXI_DROP_DISCARDED;
        return 1;
    }
    /* ACTIVE also covers results sent but not yet read (and COPY). */
    if (PQpipelineStatus(pg) != PQ_PIPELINE_OFF || PQtransactionStatus(pg) == PQTRANS_ACTIVE) {
        *why = MXI_DROP_DISCARDED;
        return 1;
    }
    return 0;
}

/* Resets now, or defers the targeted reset to the connection's next use. */
static int
reset(myappctx_pool *pool, myappctx_conn *conn, int in_txn)
{
    const myappctx_pool_config *cfg = &pool->cfg;
    int rc = MYAPPCTX_OK;

    if (cfg->reset == MYAPPCTX_POOL_RESET_TARGETED) {
        /* Behind a transaction pooler there is no session of ours: the
         * next statement may run on another server connection. */
        if (cfg->txn_pooler)
            return in_txn ? mxi_exec_script(conn, "ROLLBACK", NULL) : MYAPPCTX_OK;
        /* An open transaction holds locks and snapshots: end it now. */
        if (in_txn) {
            conn->pending_reset = NULL;
            return mxi_exec_script(conn, rollback_reset_sql[default_init_active(pool)], NULL);
        }
        conn->pending_reset = &deferred[default_init_active(pool)];
        return MYAPPCTX_OK;
    }
    /* DISCARD ALL refuses to run inside any transaction block, even the
     * implicit one of a multi-statement query: separate round trips. */
    conn->pending_reset = NULL;
    if (in_txn)
        rc = mxi_exec_script(conn, "ROLLBACK", NULL);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (cfg->reset == MYAPPCTX_POOL_RESET_DISCARD_ALL)
        return mxi_exec_script(conn, "DISCARD ALL", NULL);
    return cfg->on_release(conn, cfg->on_release_userdata) != 0 ? MYAPPCTX_EHOOK : MYAPPCTX_OK;
}

int
mxi_pool_clean(myappctx_pool *pool, struct mxi_pool_slot *slot,
               enum mxi_drop_reason *why, int *did_reset)
{
    myappctx_conn *conn = slot->conn;
    *did_reset = 0;
    if (unusable(conn, why))
        return MYAPPCTX_EBUSY;
    int in_txn = PQtransactionStatus(conn->pg) != PQTRANS_IDLE;
    if (!conn->touched && !in_txn)
        return MYAPPCTX_OK;        /* never used since the last reset */

    int rc = reset(pool, conn, in_txn);
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        rc = MYAPPCTX_EHOOK;        /* on_release left a transaction open */
    if (rc != MYAPPCTX_OK) {
        *why = failure_reason(conn);
        return rc;
    }
    conn->touched = false;
    *did_reset = 1;                 /* run now or deferred: counted here */
    return MYAPPCTX_OK;
}
