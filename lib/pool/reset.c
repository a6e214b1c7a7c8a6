/* What a pooled connection carries from one borrower to the next, and how
 * the pool takes it away: the targeted reset (run at release inside an open
 * transaction, otherwise deferred to the connection's next use), and the
 * hooks by which the connection and the fast path reach that state
 * (struct mxi_conn_owner; see docs/design.md, "The deferred reset" and
 * "The clean check"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"

/* The targeted reset, in one simple-query round trip.  Order matters:
 * session authorization and role first, so that api.clear_context() runs
 * with the login role's rights whatever SET ROLE the borrower left behind.
 * A leading ROLLBACK ends an open or failed transaction block, after which
 * the rest runs in its own implicit transaction. */
#define RESET_SQL "RESET SESSION AUTHORIZATION; RESET ROLE; SELECT api.clear_context()"
/* clear_context() also resets the app settings api.init_connection()
 * loaded; loading them again gives every borrower the same start. */
#define RELOAD_SQL "; SELECT api.load_app_settings()"

static const char *const rollback_reset_sql[2] = {
    /* [reload settings] */
    "ROLLBACK; " RESET_SQL, "ROLLBACK; " RESET_SQL RELOAD_SQL,
};

/* The same reset, deferred: when a borrower returns an idle connection it
 * used, the reset is not run at release but at the head of the
 * connection's next use -- a separate round trip before an ordinary call,
 * and no extra round trip at all in front of a one-round-trip pipeline
 * (lib/pipeline), which commits it together with the next unit of work or,
 * if that unit fails, leaves it pending.  Either way nothing reaches the
 * server from the next borrower before it. */
static const char *const deferred_stmts[] = {
    "RESET SESSION AUTHORIZATION", "RESET ROLE", "SELECT api.clear_context()",
    "SELECT api.load_app_settings()",
};
static const struct mxi_reset_script deferred[2] = {
    /* [reload settings] */
    { RESET_SQL, deferred_stmts, 3 },
    { RESET_SQL RELOAD_SQL, deferred_stmts, 4 },
};

int
mxi_reset_default_init(const myappctx_pool *pool)
{
    return pool->cfg.on_connect == NULL && pool->cfg.init_connection &&
           !pool->cfg.txn_pooler;
}

/* Runs the reset deferred at the last release, before anything else the
 * next borrower sends.  A failure leaves the connection unfit to be lent
 * again: it is closed when it comes back. */
int
mxi_reset_prepare(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    struct mxi_slot *slot = conn->owner_data;
    if (slot->pending_reset == NULL)
        return MYAPPCTX_OK;
    myappctx_error inner;
    int rc = mxi_exec_script_unchecked(conn, slot->pending_reset->script, &inner);
    if (rc != MYAPPCTX_OK) {
        mxi_error_set(err, rc, inner.sqlstate,
                      "%s: resetting the pooled connection before use failed: %s",
                      what, inner.message);
        slot->reset_failed = true;
    } else {
        slot->pending_reset = NULL;
    }
    return rc;
}

/* With the clean check, private.begin_pooled_unit() resets a dirty session
 * inside the unit's own transaction; otherwise the deferred reset's
 * statements lead the unit and commit (or roll back) with it. */
void
mxi_reset_unit_begin(myappctx_conn *conn, struct mxi_conn_unit *out)
{
    struct mxi_slot *slot = conn->owner_data;
    memset(out, 0, sizeof *out);
    if (slot->clean != MXI_RESET_CLEAN_OFF) {
        out->clean_params = slot->clean_params;
    } else if (slot->pending_reset != NULL) {
        out->lead = slot->pending_reset->stmts;
        out->nlead = slot->pending_reset->nstmts;
    }
}

/* The context statement itself can fail on a dirty session, e.g. under a
 * role SET earlier (by the previous borrower, or by this one in an earlier
 * unit) that may not use schema private.  Nothing of the unit ran: reset in
 * a round trip of its own so that it can be sent once more. */
int
mxi_reset_unit_retry(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    struct mxi_slot *slot = conn->owner_data;
    const struct mxi_reset_script *fallback =
        slot->pool_reset != NULL ? slot->pool_reset : slot->pending_reset;
    if (fallback == NULL || PQstatus(conn->pg) != CONNECTION_OK)
        return 1;
    if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        (void)mxi_exec_script(conn, "ROLLBACK", NULL);
    slot->pending_reset = fallback;
    return mxi_conn_ready(conn, what, err);
}

/* The unit committed: the previous borrower's state is gone with it. */
void
mxi_reset_unit_done(myappctx_conn *conn)
{
    struct mxi_slot *slot = conn->owner_data;
    slot->pending_reset = NULL;
}

/* Lets the fast path skip the reset of a session it finds clean (see
 * private.session_is_clean()).  Without the schema function (an older
 * schema) the connection is simply always reset. */
void
mxi_reset_enable_clean_check(myappctx_pool *pool, struct mxi_slot *slot)
{
    PGresult *res;
    if (mxi_exec_params(slot->conn,
                        "SELECT names::text, \"values\"::text FROM private.session_baseline()",
                        0, NULL, &res, NULL) != MYAPPCTX_OK)
        return;
    if (PQntuples(res) == 1) {
        slot->clean_names = strdup(PQgetvalue(res, 0, 0));
        slot->clean_values = strdup(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    if (slot->clean_names == NULL || slot->clean_values == NULL)
        return;
    int settings = mxi_reset_default_init(pool);
    slot->clean = settings ? MXI_RESET_CLEAN_SETTINGS : MXI_RESET_CLEAN_ON;
    slot->pool_reset = &deferred[settings];
    /* The order of private.begin_pooled_unit()'s parameters after the context. */
    slot->clean_params[0] = settings ? "true" : "false";
    slot->clean_params[1] = slot->clean_names;
    slot->clean_params[2] = slot->clean_values;
    slot->clean_params[3] = slot->initial_session_auth;
    slot->clean_params[4] = slot->initial_app_name;
}

int
mxi_reset_on_release(myappctx_pool *pool, struct mxi_slot *slot, int in_txn)
{
    const myappctx_pool_config *cfg = &pool->cfg;
    myappctx_conn *conn = slot->conn;
    int rc = MYAPPCTX_OK;

    if (cfg->reset == MYAPPCTX_POOL_RESET_TARGETED) {
        /* Behind a transaction pooler there is no session of ours: the
         * next statement may run on another server connection. */
        if (cfg->txn_pooler)
            return in_txn ? mxi_exec_script(conn, "ROLLBACK", NULL) : MYAPPCTX_OK;
        /* An open transaction holds locks and snapshots: end it now. */
        if (in_txn) {
            slot->pending_reset = NULL;
            return mxi_exec_script(conn, rollback_reset_sql[mxi_reset_default_init(pool)], NULL);
        }
        slot->pending_reset = &deferred[mxi_reset_default_init(pool)];
        return MYAPPCTX_OK;
    }
    /* DISCARD ALL refuses to run inside any transaction block, even the
     * implicit one of a multi-statement query: separate round trips. */
    slot->pending_reset = NULL;
    if (in_txn)
        rc = mxi_exec_script(conn, "ROLLBACK", NULL);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (cfg->reset == MYAPPCTX_POOL_RESET_DISCARD_ALL)
        return mxi_exec_script(conn, "DISCARD ALL", NULL);
    return cfg->on_release(conn, cfg->on_release_userdata) != 0 ? MYAPPCTX_EHOOK : MYAPPCTX_OK;
}

void
mxi_reset_free(struct mxi_slot *slot)
{
    free(slot->clean_names);
    free(slot->clean_values);
    free(slot->initial_app_name);
    free(slot->initial_session_auth);
}
