/* Network I/O on one pooled connection: opening it (with the on_connect
 * step), validating it before it is lent, pinging it within
 * ping_timeout_ms, and cleaning it when it comes back (the reset itself is
 * reset.c's).  Called without the pool mutex: the caller holds the slot out
 * of the idle list, so nobody else touches the connection meanwhile. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "pool/pool.h"
#include "pipeline/pipeline.h"

/* Sealed with the default on_connect step: myappctx_seal.init_connection()
 * and the stream (open_stream() and status()) in one pipeline, the round
 * trip the unsealed step pays for api.init_connection(). */
static int
open_sealed_with_init(myappctx_conn *conn, myappctx_error *err)
{
    struct mxi_seal_open o;
    int rc = mxi_seal_open_params(conn, &o, "opening a pooled connection", err);
    if (rc != MYAPPCTX_OK)
        return rc;
    PGresult *res = NULL;
    const struct mxi_pipeline_step steps[] = {
        { .op = MXI_PIPELINE_EXEC, .sql = "SELECT myappctx_seal.init_connection()",
          .label = "myappctx_seal.init_connection()", .index = -1 },
        { .op = MXI_PIPELINE_EXEC, .sql = MXI_SEAL_OPEN_SQL, .nparams = 2, .params = o.params,
          .label = "opening the stream", .index = -1, .out = &res },
        { .op = MXI_PIPELINE_SYNC, .label = "opening the stream", .index = -1 },
    };
    size_t failed;
    myappctx_error inner;
    rc = mxi_pipeline_run(conn, steps, sizeof steps / sizeof steps[0], &failed, &inner,
                          "opening a pooled connection", NULL);
    if (rc == MYAPPCTX_OK)
        rc = mxi_seal_open_done(conn, res, "opening a pooled connection", err);
    else if (failed == 0)
        rc = mxi_error_wrap(err, rc, &inner, "myappctx_seal.init_connection() failed: %s",
                            inner.message);
    else
        rc = mxi_seal_open_failed(conn, &inner, "opening a pooled connection", err);
    PQclear(res);
    return rc;
}

/* What the default on_connect step's errors are labelled with (they are
 * quoted by the pool's wait_ready and acquire, with their own prefix). */
#define INIT "api.init_connection()"

static int
run_on_connect(myappctx_pool *pool, myappctx_conn *conn, myappctx_error *err)
{
    /* Sealed: the stream with the default step, or on its own before a
     * user's on_connect (which may make sealed calls). */
    if (conn->seal != NULL) {
        int rc = mxi_reset_default_init(pool)
                     ? open_sealed_with_init(conn, err)
                     : mxi_seal_open(conn, "opening a pooled connection", err);
        if (rc != MYAPPCTX_OK)
            return rc;
    }
    if (pool->cfg.on_connect != NULL) {
        int r = pool->cfg.on_connect(conn, pool->cfg.on_connect_userdata);
        if (r != 0)
            return mxi_error_set(err, MYAPPCTX_EHOOK, NULL,
                                 "the on_connect hook refused the connection (returned %d)", r);
    } else if (conn->seal == NULL && mxi_reset_default_init(pool)) {
        myappctx_error e;
        int rc = mxi_exec_params(conn, INIT, "SELECT api.init_connection()", 0, NULL, NULL, &e);
        if (rc != MYAPPCTX_OK)
            return mxi_error_wrap(err, rc, &e, INIT " failed: %s", mxi_error_cause(&e, INIT));
    }
    if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        return mxi_error_set(err, MYAPPCTX_EHOOK, NULL,
                             "the on_connect step left a transaction open");
    return MYAPPCTX_OK;
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
    double life = (double)mxi_clock_ms_to_ns(pool->cfg.max_lifetime_ms);
    life *= 1.0 - pool->cfg.max_lifetime_jitter * next_unit_random(pool);
    return now + (uint64_t)life;
}

static const char *
reported(PGconn *pg, const char *name)
{
    const char *v = PQparameterStatus(pg, name);
    return v != NULL ? v : "?";
}

/* libpq already refused a server that does not match target_session_attrs;
 * one that changed before on_connect ended is refused here the same way (a
 * failed connect: counted in errors, retried with backoff). */
static int
check_role(myappctx_pool *pool, myappctx_conn *conn, myappctx_error *err)
{
    if (!mxi_failover_conn_unwanted(pool, conn))
        return MYAPPCTX_OK;
    return mxi_error_set(err, MYAPPCTX_ECONNECT, NULL,
                         "the server at %s:%s is not a primary (in_hot_standby=%s, "
                         "default_transaction_read_only=%s) but target_session_attrs asks for one",
                         PQhost(conn->pg), PQport(conn->pg), reported(conn->pg, "in_hot_standby"),
                         reported(conn->pg, "default_transaction_read_only"));
}

static int
open_slot(myappctx_pool *pool, struct mxi_slot **out, myappctx_error *err)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    myappctx_conn *conn;
    opts.txn_pooler = pool->cfg.txn_pooler;
    opts.allow_privileged = pool->cfg.allow_privileged;
    int rc = myappctx_conn_open(&conn, pool->cfg.conninfo, &opts, err);
    if (rc != MYAPPCTX_OK)    /* quoted later by wait_ready and acquire: no prefix */
        return mxi_error_wrap(err, rc, err, "%s", mxi_error_cause(err, "myappctx_conn_open"));
    /* Sealed: the stream is opened with the on_connect step. */
    if (pool->cfg.seal_key != NULL &&
        (rc = mxi_seal_attach(conn, pool->cfg.seal_key, pool->cfg.seal_key_len,
                              "opening a pooled connection", err)) != MYAPPCTX_OK) {
        myappctx_conn_close(conn);
        return rc;
    }
    /* Before on_connect, whose default step would fail on a missing schema
     * with a less telling error. */
    if (pool->cfg.check_schema &&
        (rc = mxi_schema_version_check(conn, "check_schema", err)) != MYAPPCTX_OK) {
        mxi_error_wrap(err, rc, err, "%s", mxi_error_cause(err, "check_schema"));
        myappctx_conn_close(conn);
        return rc;
    }
    struct mxi_slot *slot = calloc(1, sizeof *slot);
    if (slot == NULL) {
        myappctx_conn_close(conn);
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "out of memory opening a pooled connection");
    }
    slot->conn = conn;
    slot->pool = pool;
    slot->backend_pid = PQbackendPID(conn->pg);
    /* The pool's tracer from the start: notices of on_connect reach it too. */
    conn->tracer = pool->tracer;
    (void)mxi_trace_notices(conn, "myappctx_pool", NULL);   /* ours: libpq's default receiver */
    rc = run_on_connect(pool, conn, err);
    if (rc == MYAPPCTX_OK)
        rc = check_role(pool, conn, err);
    /* What on_connect set up is the baseline every borrower starts from;
     * application_name as the server reports it now is the one a unit
     * restores for itself when a borrower changed it. */
    const char *app = PQparameterStatus(conn->pg, "application_name");
    if (rc == MYAPPCTX_OK && (slot->initial_app_name = strdup(app ? app : "")) == NULL)
        rc = mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "out of memory opening a pooled connection");
    if (rc != MYAPPCTX_OK) {
        mxi_slot_destroy(slot);
        return rc;
    }
    mxi_reset_read_baseline(pool, slot);
    uint64_t now = mxi_clock_now_ns();
    conn->touched = false;
    conn->owner = pool->owner;
    conn->owner_data = slot;
    /* Drawn once, here: the jitter of this connection's lifetime. */
    slot->expires_ns = expiry(pool, now);
    slot->last_ok_ns = now;
    slot->opened_ns = now;
    *out = slot;
    return MYAPPCTX_OK;
}

int
mxi_slot_open(myappctx_pool *pool, struct mxi_slot **out, myappctx_error *err)
{
    uint64_t start = mxi_clock_now_ns();
    struct mxi_slot *slot = NULL;
    int rc = open_slot(pool, &slot, err);
    uint64_t took = mxi_clock_now_ns() - start;
    if (rc == MYAPPCTX_OK)
        slot->connect_us = took / 1000u;
    mxi_tracer_connect(pool, slot, rc, err, took);
    *out = slot;
    return rc;
}

void
mxi_slot_destroy(struct mxi_slot *slot)
{
    if (slot == NULL)
        return;
    myappctx_pool *pool = slot->pool;
    bool dropped = slot->dropped;
    if (dropped)
        mxi_tracer_evict(pool, slot);
    mxi_reset_before_close(pool, slot);
    slot->conn->owner = NULL;       /* closing it now really closes it */
    slot->conn->owner_data = NULL;
    myappctx_conn_close(slot->conn);
    mxi_reset_free(slot);
    free(slot);
    if (!dropped)
        return;
    /* A dropped slot held the pool (ledger.c): the pool may go with it. */
    pthread_mutex_lock(&pool->mu);
    pool->closing--;
    int last = mxi_ledger_unused_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    if (last)
        mxi_ledger_destroy(pool);
}

/* The deferred reset if one is pending (its answer proves the server is
 * there), else an empty query, within ping_timeout_ms; then whether the
 * session is still what the pool wants, from what the server reported with
 * the answer.  A check that changes no session state must not make release
 * reset. */
int
mxi_slot_ping(myappctx_conn *conn)
{
    struct mxi_slot *slot = conn->owner_data;
    myappctx_pool *pool = slot->pool;
    long timeout = pool->cfg.ping_timeout_ms;
    bool touched = conn->touched;
    myappctx_error e;
    int rc = mxi_conn_check(conn, "ping", &e);
    bool reset = rc == MYAPPCTX_OK && slot->pending_reset != NULL &&
                 PQtransactionStatus(conn->pg) == PQTRANS_IDLE;
    if (reset)
        rc = mxi_reset_run_pending(slot, timeout, &e);
    else if (rc == MYAPPCTX_OK)
        rc = mxi_deadline_script(conn, "ping", "", timeout, &e);
    conn->touched = touched;
    if (rc == MYAPPCTX_ETIMEOUT) {
        slot->drop_reason = MYAPPCTX_EVICT_PING_TIMEOUT;
    } else if (rc != MYAPPCTX_OK && reset && PQstatus(conn->pg) == CONNECTION_OK) {
        slot->drop_reason = MYAPPCTX_EVICT_RESET_FAILED;
        mxi_tracer_reset_failed(pool, slot, rc, &e, 0);
    } else if (rc == MYAPPCTX_OK && mxi_failover_conn_unwanted(pool, conn)) {
        slot->drop_reason = MYAPPCTX_EVICT_NOT_PRIMARY;
        rc = MYAPPCTX_ECONNECT;
    }
    return rc;
}

static int
server_validate(myappctx_conn *conn)
{
    bool touched = conn->touched;
    PGresult *res;
    const char *value;
    int rc = mxi_exec_one(conn, "validation", "SELECT api.validate_connection()", 0, NULL, &res, &value, NULL);
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

static enum mxi_slot_drop
failure_reason(const myappctx_conn *conn)
{
    return PQstatus(conn->pg) == CONNECTION_OK ? MXI_SLOT_DROP_DISCARDED : MXI_SLOT_DROP_LOST;
}

/* A reason for the tracer when the counter alone does not say it. */
static void
set_reason(struct mxi_slot *slot, int reason)
{
    if (slot->drop_reason == 0)
        slot->drop_reason = reason;
}

int
mxi_slot_validate(myappctx_pool *pool, struct mxi_slot *slot, uint64_t now,
                  enum mxi_slot_drop *why)
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
        rc = mxi_slot_ping(conn);
        break;
    case MYAPPCTX_POOL_VALIDATE_SERVER:
        rc = server_validate(conn);
        break;
    }
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        rc = MYAPPCTX_EHOOK;        /* a hook left a transaction open */
    if (rc != MYAPPCTX_OK) {
        *why = failure_reason(conn);
        set_reason(slot, *why == MXI_SLOT_DROP_LOST ? MYAPPCTX_EVICT_BROKEN : MYAPPCTX_EVICT_REFUSED);
        return rc;
    }
    slot->last_ok_ns = now;
    return MYAPPCTX_OK;
}

/* Borrower left the connection in a state no statement can follow, or
 * (failover.c) it is not the primary the pool wants. */
static int
unusable(myappctx_pool *pool, struct mxi_slot *slot, enum mxi_slot_drop *why)
{
    PGconn *pg = slot->conn->pg;
    if (PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) == PQTRANS_UNKNOWN) {
        *why = MXI_SLOT_DROP_LOST;
        set_reason(slot, MYAPPCTX_EVICT_BROKEN);
        return 1;
    }
    if (slot->reset_failed) {      /* it cannot be made safe for the next one */
        *why = MXI_SLOT_DROP_DISCARDED;
        set_reason(slot, MYAPPCTX_EVICT_RESET_FAILED);
        return 1;
    }
    /* Sealed, and the server saw a replay on its stream (MX002): someone
     * else used one of its MACs; no borrower gets it again. */
    if (slot->conn->seal != NULL && slot->conn->seal->burned) {
        *why = MXI_SLOT_DROP_DISCARDED;
        return 1;
    }
    /* ACTIVE also covers results sent but not yet read (and COPY). */
    if (PQpipelineStatus(pg) != PQ_PIPELINE_OFF || PQtransactionStatus(pg) == PQTRANS_ACTIVE) {
        *why = MXI_SLOT_DROP_DISCARDED;
        set_reason(slot, MYAPPCTX_EVICT_UNUSABLE);
        return 1;
    }
    if (pool->want != MXI_FAILOVER_ANY && mxi_failover_conn_unwanted(pool, slot->conn)) {
        *why = MXI_SLOT_DROP_DISCARDED;
        set_reason(slot, MYAPPCTX_EVICT_NOT_PRIMARY);
        return 1;
    }
    return 0;
}

int
mxi_slot_clean(myappctx_pool *pool, struct mxi_slot *slot,
               enum mxi_slot_drop *why, int *did_reset)
{
    myappctx_conn *conn = slot->conn;
    *did_reset = 0;
    if (unusable(pool, slot, why))
        return MYAPPCTX_EBUSY;
    int in_txn = PQtransactionStatus(conn->pg) != PQTRANS_IDLE;
    if (!conn->touched && !in_txn)
        return MYAPPCTX_OK;        /* never used since the last reset */

    myappctx_error e;
    int rc = mxi_reset_on_release(pool, slot, in_txn, &e);
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        rc = mxi_error_set(&e, MYAPPCTX_EHOOK, NULL,
                           "on_release left a transaction open");
    if (rc != MYAPPCTX_OK) {
        *why = failure_reason(conn);
        if (*why == MXI_SLOT_DROP_LOST) {
            set_reason(slot, MYAPPCTX_EVICT_BROKEN);
        } else {
            set_reason(slot, MYAPPCTX_EVICT_RESET_FAILED);
            mxi_tracer_reset_failed(pool, slot, rc, &e, 1);
        }
        return rc;
    }
    conn->touched = false;
    *did_reset = 1;                 /* run now or deferred: counted here */
    return MYAPPCTX_OK;
}
