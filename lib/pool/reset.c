/* What a pooled connection carries from one borrower to the next, and how
 * the pool takes it away (docs/design.md, "The pool's reset").
 *
 * A unit of work clears every earlier state for itself (lib/pipeline/
 * unit.c), so the session-level reset is needed only before what is not a
 * unit: the library's other calls and raw access.  It is therefore deferred
 * at release and run (prepare hook) before the connection's next statement
 * outside a transaction block -- or not at all while the connection serves
 * only units.  It runs at release instead when it matters then: a
 * transaction left open (it holds locks), an impersonation the library saw
 * start (its log row must be closed now), or a unit that found the session
 * dirty (someone left state on it; clear it once rather than in every unit).
 * Before a connection is closed, a reset still pending or a borrower's
 * state not yet reset is cleared first, so that an impersonation is always
 * ended and logged. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"
#include "pipeline/pipeline.h"

/* The targeted reset, in one simple-query round trip.  Order matters:
 * session authorization and role first, so that api.clear_context() runs
 * with the login role's rights whatever SET ROLE the borrower left behind;
 * clear_context() ends an impersonation (logged) and resets every context
 * variable and loaded setting.  UNLISTEN: the next borrower must not receive
 * notifications for channels this one listened to. */
#define RESET_SQL "RESET SESSION AUTHORIZATION; RESET ROLE; UNLISTEN *; SELECT api.clear_context()"
/* clear_context() also resets the app settings api.init_connection()
 * loaded; loading them again gives every borrower the same start. */
#define RELOAD_SQL "; SELECT api.load_app_settings()"

/* Sealed (myappctx/seal.h): the same with the extension's counterparts,
 * as api.clear_context() and api.load_app_settings() write variables only
 * the seal may set. */
#define SEALED_RESET_SQL \
    "RESET SESSION AUTHORIZATION; RESET ROLE; UNLISTEN *; SELECT myappctx_seal.clear_context()"
#define SEALED_RELOAD_SQL "; SELECT myappctx_seal.load_app_settings()"

static const char *const reset_sql[2][2] = {
    /* [sealed][reload settings] */
    { RESET_SQL, RESET_SQL RELOAD_SQL },
    { SEALED_RESET_SQL, SEALED_RESET_SQL SEALED_RELOAD_SQL },
};
static const char *const rollback_reset_sql[2][2] = {
    { "ROLLBACK; " RESET_SQL, "ROLLBACK; " RESET_SQL RELOAD_SQL },
    { "ROLLBACK; " SEALED_RESET_SQL, "ROLLBACK; " SEALED_RESET_SQL SEALED_RELOAD_SQL },
};

int
mxi_reset_default_init(const myappctx_pool *pool)
{
    return pool->cfg.on_connect == NULL && pool->cfg.init_connection &&
           !pool->cfg.txn_pooler;
}

/* libpq queues the notifications it reads along with any result; those
 * read on a borrower's behalf must not reach the next one. */
static void
drop_notifications(myappctx_conn *conn)
{
    PGnotify *n;
    while ((n = PQnotifies(conn->pg)) != NULL)
        PQfreemem(n);
}

/* Runs @sql now, within @timeout_ms (<= 0: no limit); the connection is
 * clean afterwards (or unfit). */
static int
reset_within(struct mxi_slot *slot, const char *sql, long timeout_ms, myappctx_error *err)
{
    int rc = mxi_deadline_script(slot->conn, NULL, sql, timeout_ms, err);
    drop_notifications(slot->conn);
    if (rc == MYAPPCTX_OK) {
        slot->pending_reset = NULL;
        slot->reset_at_release = false;
        slot->conn->impersonating = false;
    }
    return rc;
}

static int
reset_now(struct mxi_slot *slot, const char *sql, myappctx_error *err)
{
    return reset_within(slot, sql, 0, err);
}

int
mxi_reset_run_pending(struct mxi_slot *slot, long timeout_ms, myappctx_error *err)
{
    if (slot->pending_reset == NULL)
        return MYAPPCTX_OK;
    int rc = reset_within(slot, slot->pending_reset, timeout_ms, err);
    if (rc != MYAPPCTX_OK)
        slot->reset_failed = true;
    return rc;
}

/* Runs the reset deferred at the last release, before anything else the
 * next borrower sends outside a unit.  A failure leaves the connection unfit
 * to be lent again: it is closed when it comes back. */
int
mxi_reset_prepare(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    struct mxi_slot *slot = conn->owner_data;
    if (slot->pending_reset == NULL)
        return MYAPPCTX_OK;
    myappctx_error inner;
    int rc = reset_now(slot, slot->pending_reset, &inner);
    if (rc != MYAPPCTX_OK) {
        mxi_error_wrap(err, rc, &inner,
                       "%s: resetting the pooled connection before use failed: %s",
                       what, inner.message);
        slot->reset_failed = true;
        mxi_tracer_reset_failed(slot->pool, slot, rc, &inner, 0);
    }
    return rc;
}

/* The unit restores application_name for itself when the session's (the
 * server reports every change) is not the one the connection started with,
 * and the other myapp.* variables when they left the baseline. */
void
mxi_reset_unit_begin(myappctx_conn *conn, struct mxi_conn_unit *out)
{
    struct mxi_slot *slot = conn->owner_data;
    const char *app = PQparameterStatus(conn->pg, "application_name");
    out->app_name = app != NULL && strcmp(app, slot->initial_app_name) != 0
                        ? slot->initial_app_name : NULL;
    if (slot->baseline != NULL) {
        out->nbaseline = slot->nbaseline;
        out->baseline = (const char *const *)slot->baseline;
        out->baseline_names = slot->baseline_names;
        out->baseline_values = slot->baseline_values;
    }
}

/* A unit compares the session's other myapp.* variables with this baseline
 * and restores them for itself when a borrower changed one: role and
 * database defaults and the settings on_connect loaded, read once (a
 * session's defaults are fixed when it starts).  Without the schema function
 * (an older schema) units do without. */
void
mxi_reset_read_baseline(myappctx_pool *pool, struct mxi_slot *slot)
{
    if (pool->cfg.reset != MYAPPCTX_POOL_RESET_TARGETED || pool->cfg.txn_pooler)
        return;
    PGresult *res;
    if (mxi_exec_params(slot->conn, "private.session_baseline()",
                        "SELECT b.names::text, b.\"values\"::text, u.n, u.v "
                        "FROM private.session_baseline() AS b "
                        "LEFT JOIN LATERAL unnest(b.names, b.\"values\") AS u(n, v) ON true",
                        0, NULL, &res, NULL) != MYAPPCTX_OK)
        return;
    int rows = PQntuples(res);
    int n = rows > 0 && !PQgetisnull(res, 0, 2) ? rows : 0;
    /* One block: the pointers, then the strings they point to. */
    size_t size = (size_t)(2 * n) * sizeof(char *);
    for (int i = 0; i < n; i++)
        size += (size_t)PQgetlength(res, i, 2) + (size_t)PQgetlength(res, i, 3) + 2;
    char **pairs = rows > 0 ? malloc(size ? size : 1) : NULL;
    if (rows > 0 && pairs != NULL && !PQgetisnull(res, 0, 0) && !PQgetisnull(res, 0, 1) &&
        (slot->baseline_names = strdup(PQgetvalue(res, 0, 0))) != NULL &&
        (slot->baseline_values = strdup(PQgetvalue(res, 0, 1))) != NULL) {
        char *str = (char *)(pairs + 2 * n);
        for (int i = 0; i < 2 * n; i++) {
            const char *v = PQgetvalue(res, i / 2, 2 + i % 2);
            size_t len = strlen(v) + 1;
            pairs[i] = memcpy(str, v, len);
            str += len;
        }
        slot->baseline = pairs;
        slot->nbaseline = n;
    } else {
        free(pairs);
        free(slot->baseline_names);
        slot->baseline_names = NULL;
    }
    PQclear(res);
}

void
mxi_reset_unit_done(myappctx_conn *conn, bool dirty)
{
    struct mxi_slot *slot = conn->owner_data;
    if (dirty)
        slot->reset_at_release = true;
}

/* DISCARD ALL refuses to run inside any transaction block, even the
 * implicit one of several statements: it gets a segment of its own, after
 * the one that ends an impersonation (closing its log row; DISCARD ALL would
 * only forget it) -- one round trip for both. */
#define IF_IMPERSONATING                                                          \
    " WHERE COALESCE(current_setting('myapp.is_impersonating', true), '') <> '' "    \
    "OR COALESCE(current_setting('myapp.original_user_id', true), '') <> ''"

static int
discard_all(struct mxi_slot *slot, myappctx_error *err)
{
    static const struct mxi_pipeline_step steps[2][6] = {
        /* [sealed] */
        {
            { .op = MXI_PIPELINE_EXEC, .sql = "RESET SESSION AUTHORIZATION", .index = -1 },
            { .op = MXI_PIPELINE_EXEC, .sql = "RESET ROLE", .index = -1 },
            { .op = MXI_PIPELINE_EXEC, .sql = "SELECT api.clear_context()" IF_IMPERSONATING,
              .index = -1 },
            { .op = MXI_PIPELINE_SYNC, .index = -1 },
            { .op = MXI_PIPELINE_EXEC, .sql = "DISCARD ALL", .index = -1 },
            { .op = MXI_PIPELINE_SYNC, .index = -1 },
        },
        {
            { .op = MXI_PIPELINE_EXEC, .sql = "RESET SESSION AUTHORIZATION", .index = -1 },
            { .op = MXI_PIPELINE_EXEC, .sql = "RESET ROLE", .index = -1 },
            { .op = MXI_PIPELINE_EXEC,
              .sql = "SELECT myappctx_seal.clear_context()" IF_IMPERSONATING, .index = -1 },
            { .op = MXI_PIPELINE_SYNC, .index = -1 },
            { .op = MXI_PIPELINE_EXEC, .sql = "DISCARD ALL", .index = -1 },
            { .op = MXI_PIPELINE_SYNC, .index = -1 },
        },
    };
    size_t failed;
    myappctx_error inner;
    const struct mxi_pipeline_step *s = steps[slot->conn->seal != NULL];
    int rc = mxi_pipeline_run(slot->conn, s, sizeof steps[0] / sizeof steps[0][0], &failed,
                              &inner, "myappctx_pool_release", err);
    slot->conn->prepared = 0;          /* DISCARD ALL deallocates them */
    drop_notifications(slot->conn);
    if (rc == MYAPPCTX_OK) {
        slot->reset_at_release = false;
        slot->conn->impersonating = false;
    }
    return rc;
}

int
mxi_reset_on_release(myappctx_pool *pool, struct mxi_slot *slot, int in_txn,
                     myappctx_error *err)
{
    const myappctx_pool_config *cfg = &pool->cfg;
    myappctx_conn *conn = slot->conn;
    int settings = mxi_reset_default_init(pool);
    int sealed = conn->seal != NULL;
    int rc = MYAPPCTX_OK;

    if (cfg->reset == MYAPPCTX_POOL_RESET_TARGETED) {
        /* Behind a transaction pooler there is no session of ours: the
         * next statement may run on another server connection; units clear
         * what they find for themselves. */
        if (cfg->txn_pooler) {
            rc = in_txn ? mxi_exec_script_unchecked(conn, NULL, "ROLLBACK", err) : MYAPPCTX_OK;
            drop_notifications(conn);
            return rc;
        }
        if (in_txn)
            return reset_now(slot, rollback_reset_sql[sealed][settings], err);
        /* Sealed, the server reports every context variable: a borrower's
         * session-level context is known without a query, and cleared now
         * rather than left for the next borrower's first call. */
        if (slot->reset_at_release || conn->impersonating || mxi_seal_session_context(conn))
            return reset_now(slot, reset_sql[sealed][settings], err);
        slot->pending_reset = reset_sql[sealed][settings];
        drop_notifications(conn);
        return MYAPPCTX_OK;
    }
    slot->pending_reset = NULL;
    if (in_txn)
        rc = mxi_exec_script_unchecked(conn, NULL, "ROLLBACK", err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (cfg->reset == MYAPPCTX_POOL_RESET_DISCARD_ALL)
        return discard_all(slot, err);
    int r = cfg->on_release(conn, cfg->on_release_userdata);
    rc = r != 0 ? mxi_error_set(err, MYAPPCTX_EHOOK, NULL,
                                "the on_release hook refused the connection (returned %d)", r)
                : MYAPPCTX_OK;
    drop_notifications(conn);
    return rc;
}

/* A connection about to be closed may still carry a borrower's state that
 * no reset cleared (deferred, or the borrower's own when the pool closes it
 * on release); an impersonation in it must end, logged, before the session
 * goes.  Best effort: a broken connection has nothing left to end, and a
 * server that does not answer within ping_timeout_ms is not waited for
 * longer (the session ends with the connection anyway). */
void
mxi_reset_before_close(myappctx_pool *pool, struct mxi_slot *slot)
{
    myappctx_conn *conn = slot->conn;
    if (conn->owner == NULL || pool->cfg.txn_pooler ||
        pool->cfg.reset == MYAPPCTX_POOL_RESET_HOOK || slot->reset_failed ||
        slot->drop_reason == MYAPPCTX_EVICT_PING_TIMEOUT ||
        PQstatus(conn->pg) != CONNECTION_OK ||
        (slot->pending_reset == NULL && !conn->touched && !conn->impersonating))
        return;
    if (PQtransactionStatus(conn->pg) == PQTRANS_ACTIVE || PQpipelineStatus(conn->pg) != PQ_PIPELINE_OFF)
        return;         /* results still pending: nothing can be sent */
    int sealed = conn->seal != NULL;
    (void)reset_within(slot, PQtransactionStatus(conn->pg) == PQTRANS_IDLE
                                 ? reset_sql[sealed][0] : rollback_reset_sql[sealed][0],
                       pool->cfg.ping_timeout_ms, NULL);
}

void
mxi_reset_free(struct mxi_slot *slot)
{
    free(slot->initial_app_name);
    free(slot->baseline_names);
    free(slot->baseline_values);
    free(slot->baseline);
}
