/* Context-scoped units of work in one round trip (libpq pipeline mode).
 *
 * Everything up to one Sync runs as one implicit transaction (PostgreSQL's
 * extended-protocol rule), so set_config(..., true) issued first is visible
 * to the statements after it, and the first error aborts the rest and rolls
 * the whole unit back at the Sync -- no BEGIN, no COMMIT, no extra round
 * trip on either path.  The variant that leaves a transaction open sends an
 * explicit BEGIN and, on error, pays one more round trip for the ROLLBACK. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/pipeline.h"

/* Most statements an owner may lead a unit with (struct mxi_conn_unit). */
#define MAX_LEAD_STMTS 8

struct pl_query {
    const char *sql;
    int nparams;
    const char *const *params;
};

/* The context statement and its parameters (storage for the UUID text). */
struct pl_context {
    char user[MYAPPCTX_UUID_BUFSIZE];
    char tenant[MYAPPCTX_UUID_BUFSIZE];
    const char *params[10];
    struct pl_query query;
};

/* [audit][pooled]: a pooled connection starts its unit with
 * private.begin_pooled_unit(), which resets a dirty session inside the
 * unit's transaction before setting the context (sql/009_session_check.sql). */
static const char *const context_sql[2][2] = {
    { "SELECT api.set_transaction_context($1::uuid, $2::uuid, $3::text)",
      "SELECT private.begin_pooled_unit($1::uuid, $2::uuid, $3::text, $4::boolean, "
      "$5::text[], $6::text[], $7::text, $8::text)" },
    { "SELECT api.set_transaction_context($1::uuid, $2::uuid, $3::text), "
      "api.set_audit_context($4::text, $5::text)",
      "SELECT private.begin_pooled_unit($1::uuid, $2::uuid, $3::text, $4::boolean, "
      "$5::text[], $6::text[], $7::text, $8::text), api.set_audit_context($9::text, $10::text)" },
};

/* @clean: the owner's clean-check values (struct mxi_conn_unit), or NULL. */
static int
build_context(const myappctx_txn_context *ctx, const char *const *clean,
              struct pl_context *pc, const char *what, myappctx_error *err)
{
    if (ctx == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'ctx' is NULL", what);
    if (ctx->version != MYAPPCTX_TXN_CONTEXT_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: ctx->version %d is not %d (use MYAPPCTX_TXN_CONTEXT_INIT)",
                             what, ctx->version, MYAPPCTX_TXN_CONTEXT_VERSION);
    int rc = mxi_codec_check_uuid(ctx->user_id, false, "ctx->user_id", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_uuid(ctx->tenant_id, true, "ctx->tenant_id", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_label(ctx->role, MYAPPCTX_ROLE_MAX, "ctx->role", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(ctx->audit_reason, MYAPPCTX_AUDIT_TEXT_MAX, true,
                            "ctx->audit_reason", what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(ctx->audit_ticket, MYAPPCTX_AUDIT_TEXT_MAX, true,
                            "ctx->audit_ticket", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    bool audit = ctx->audit_reason != NULL || ctx->audit_ticket != NULL;
    int n = 0;
    pc->params[n++] = myappctx_uuid_format(ctx->user_id, pc->user);
    pc->params[n++] = mxi_codec_uuid_param(ctx->tenant_id, pc->tenant);
    /* As myappctx_context_set_local(): a NULL role is '' (no role in this
     * transaction), never the session's role showing through. */
    pc->params[n++] = ctx->role != NULL ? ctx->role : "";
    for (int i = 0; clean != NULL && i < MXI_CONN_CLEAN_NPARAMS; i++)
        pc->params[n++] = clean[i];
    if (audit) {
        pc->params[n++] = ctx->audit_reason;
        pc->params[n++] = ctx->audit_ticket;
    }
    pc->query.sql = context_sql[audit][clean != NULL];
    pc->query.nparams = n;
    pc->query.params = pc->params;
    return MYAPPCTX_OK;
}

static int
check_stmt(const myappctx_stmt *s, size_t index, const char *what, myappctx_error *err)
{
    if (s->sql == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: stmts[%zu].sql is NULL", what, index);
    if (s->nparams < 0 || s->nparams > 65535 || (s->nparams > 0 && s->params == NULL))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: stmts[%zu] has %d parameters with %s array",
                             what, index, s->nparams, s->params ? "an" : "no");
    return MYAPPCTX_OK;
}

/* Flushes the queued pipeline without blocking on a full socket while the
 * server waits for us to read: a large pipeline in blocking mode can
 * deadlock with both sides writing. */
static int
flush_pipeline(PGconn *pg)
{
    int r;
    while ((r = PQflush(pg)) == 1) {
        struct pollfd p = { .fd = PQsocket(pg), .events = POLLIN | POLLOUT };
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return -1;
        if ((p.revents & POLLIN) && !PQconsumeInput(pg))
            return -1;
    }
    return r;
}

/* Reads the results of @nq queries and the Sync.  Keeps the first error in
 * @err (with the query's label) and stores successful results of queries
 * >= @first_user into @results (else clears them). */
static int
read_results(PGconn *pg, size_t nq, size_t nreset, size_t first_user, PGresult **results,
             size_t *failed, const char *what, myappctx_error *err)
{
    int rc = MYAPPCTX_OK;
    *failed = SIZE_MAX;
    for (size_t i = 0; i < nq; i++) {
        PGresult *res = PQgetResult(pg);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED &&
            rc == MYAPPCTX_OK) {
            myappctx_error inner;
            rc = mxi_error_from_pg(&inner, pg, res);
            *failed = i;
            if (i < nreset)
                mxi_error_set(err, rc, inner.sqlstate,
                              "%s: resetting the pooled connection before use: %s",
                              what, inner.message);
            else if (i < first_user)
                mxi_error_set(err, rc, inner.sqlstate, "%s: setting the context: %s", what, inner.message);
            else
                mxi_error_set(err, rc, inner.sqlstate, "%s: statement %zu: %s", what,
                              i - first_user, inner.message);
        }
        if (i >= first_user && results != NULL &&
            (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
            results[i - first_user] = res;
        else
            PQclear(res);
        if (res == NULL || PQstatus(pg) == CONNECTION_BAD)
            return rc != MYAPPCTX_OK ? rc
                   : mxi_error_set(err, MYAPPCTX_ECONNECT, NULL,
                                   "%s: connection lost; the outcome is unknown", what);
        /* Each query's results end with a NULL. */
        while ((res = PQgetResult(pg)) != NULL)
            PQclear(res);
    }
    /* Then the Sync.  A failure to commit the implicit transaction arrives
     * as an error result just before it. */
    for (;;) {
        PGresult *res = PQgetResult(pg);
        if (res == NULL) {
            if (PQstatus(pg) == CONNECTION_BAD)
                return mxi_error_set(err, MYAPPCTX_ECONNECT, NULL,
                                     "%s: connection lost before the commit was confirmed; "
                                     "the outcome is unknown", what);
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            return rc;
        }
        if (st == PGRES_FATAL_ERROR && rc == MYAPPCTX_OK) {
            myappctx_error inner;
            rc = mxi_error_from_pg(&inner, pg, res);
            mxi_error_set(err, rc, inner.sqlstate, "%s: commit: %s", what, inner.message);
        }
        PQclear(res);
        if (PQstatus(pg) == CONNECTION_BAD)
            return rc;
    }
}

/* Sends @nq queries and a Sync as one pipeline and reads everything back.
 * *failed receives the index of the query that failed (SIZE_MAX if none). */
static int
run_pipeline(myappctx_conn *conn, const struct pl_query *q, size_t nq, size_t nreset,
             size_t first_user, PGresult **results, size_t *failed, const char *what,
             myappctx_error *err)
{
    size_t ignored;
    if (failed == NULL)
        failed = &ignored;
    *failed = SIZE_MAX;
    PGconn *pg = conn->pg;
    int rc;

    if (!PQenterPipelineMode(pg))
        return mxi_error_set(err, MYAPPCTX_EBUSY, NULL, "%s: cannot enter pipeline mode: %s",
                             what, PQerrorMessage(pg));
    if (PQsetnonblocking(pg, 1) != 0) {
        PQexitPipelineMode(pg);
        return mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s: %s", what, PQerrorMessage(pg));
    }
    size_t sent = 0;
    for (; sent < nq; sent++)
        if (!PQsendQueryParams(pg, q[sent].sql, q[sent].nparams, NULL, q[sent].params,
                               NULL, NULL, 0))
            break;
    bool synced = PQpipelineSync(pg) == 1;
    int flushed = synced ? flush_pipeline(pg) : -1;
    PQsetnonblocking(pg, 0);

    if (sent < nq || !synced || flushed != 0) {
        rc = mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s: sending the pipeline failed: %s",
                           what, PQerrorMessage(pg));
        if (synced && flushed == 0)   /* the connection still works: drain it */
            (void)read_results(pg, sent, nreset, nq, NULL, failed, what, NULL);
    } else {
        rc = read_results(pg, nq, nreset, first_user, results, failed, what, err);
    }
    if (PQstatus(pg) == CONNECTION_OK && !PQexitPipelineMode(pg) && rc == MYAPPCTX_OK)
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: cannot leave pipeline mode: %s",
                           what, PQerrorMessage(pg));
    /* An error followed by the loss of the connection (a backend terminated
     * right after it) is a lost connection to the caller: nothing can be
     * retried on it. */
    if (rc != MYAPPCTX_OK && rc != MYAPPCTX_ECONNECT && PQstatus(pg) == CONNECTION_BAD) {
        myappctx_error first;
        if (err != NULL)
            first = *err;
        rc = mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s: connection lost (after: %s)",
                           what, err != NULL ? first.message : myappctx_strerror(rc));
    }
    return rc;
}

/* @defer_reset: leave a pending pool reset to be sent at the head of the
 * pipeline instead of running it now. */
static int
require_idle(myappctx_conn *conn, bool defer_reset, const char *what, myappctx_error *err)
{
    int rc = defer_reset ? mxi_conn_check(conn, what, err) : mxi_conn_ready(conn, what, err);
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        rc = mxi_error_set(err, MYAPPCTX_EBUSY, NULL,
                           "%s: the connection is inside a transaction; this call "
                           "runs its own", what);
    return rc;
}

MYAPPCTX_API void
myappctx_results_free(PGresult **results, size_t n)
{
    if (results == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        PQclear(results[i]);
        results[i] = NULL;
    }
}

MYAPPCTX_API int
myappctx_run_in_context(myappctx_conn *conn, const myappctx_txn_context *ctx,
                        const myappctx_stmt *stmts, size_t nstmts,
                        PGresult **results, myappctx_error *err)
{
    const char *const what = __func__;
    struct pl_context pc;
    struct pl_query q[MAX_LEAD_STMTS + 1 + MYAPPCTX_PIPELINE_MAX_STMTS];

    if (results != NULL)
        for (size_t i = 0; i < nstmts && i < MYAPPCTX_PIPELINE_MAX_STMTS; i++)
            results[i] = NULL;
    MXI_ERROR_REQUIRE_ARG(err, stmts);
    if (nstmts == 0 || nstmts > MYAPPCTX_PIPELINE_MAX_STMTS)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: nstmts is %zu (1..%d)",
                             what, nstmts, MYAPPCTX_PIPELINE_MAX_STMTS);
    int rc = require_idle(conn, true, what, err);
    struct mxi_conn_unit unit = { NULL, 0, NULL };
    if (rc == MYAPPCTX_OK && conn->owner != NULL && conn->owner->unit_begin != NULL)
        conn->owner->unit_begin(conn, &unit);
    if (rc == MYAPPCTX_OK)
        rc = build_context(ctx, unit.clean_params, &pc, what, err);
    for (size_t i = 0; rc == MYAPPCTX_OK && i < nstmts; i++)
        rc = check_stmt(&stmts[i], i, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    /* What the owner leads the unit with (the pool: a deferred reset) shares
     * the unit's implicit transaction: committed with it, or rolled back
     * with it and still pending. */
    size_t nq = 0, nlead = (size_t)unit.nlead;
    if (nlead > MAX_LEAD_STMTS)
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: deferred reset too long", what);
    for (size_t i = 0; i < nlead; i++)
        q[nq++] = (struct pl_query){ unit.lead[i], 0, NULL };
    q[nq++] = pc.query;
    for (size_t i = 0; i < nstmts; i++)
        q[nq++] = (struct pl_query){ stmts[i].sql, stmts[i].nparams, stmts[i].params };
    size_t failed;
    rc = run_pipeline(conn, q, nq, nlead, nlead + 1, results, &failed, what, err);
    /* The context statement failed, so nothing of the unit ran: the owner
     * may make the session clean in a round trip of its own, and the unit
     * is sent once more. */
    if (rc != MYAPPCTX_OK && failed == nlead && conn->owner != NULL &&
        conn->owner->unit_retry != NULL) {
        int retry = conn->owner->unit_retry(conn, what, err);
        if (retry <= 0)
            rc = retry == MYAPPCTX_OK
                     ? run_pipeline(conn, q, nq, nlead, nlead + 1, results, NULL, what, err)
                     : retry;
    }
    if (rc != MYAPPCTX_OK)
        myappctx_results_free(results, nstmts);
    else if (conn->owner != NULL && conn->owner->unit_done != NULL)
        conn->owner->unit_done(conn);
    return rc;
}

MYAPPCTX_API int
myappctx_begin_in_context(myappctx_conn *conn, const myappctx_txn_context *ctx,
                          const myappctx_stmt *first, PGresult **out_first,
                          myappctx_error *err)
{
    const char *const what = __func__;
    struct pl_context pc;
    struct pl_query q[3];
    PGresult *res[1] = { NULL };

    if (out_first != NULL)
        *out_first = NULL;
    int rc = build_context(ctx, NULL, &pc, what, err);
    if (rc == MYAPPCTX_OK && first != NULL)
        rc = check_stmt(first, 0, what, err);
    /* A deferred pool reset runs first, in its own round trip: inside the
     * transaction it would be undone by the caller's ROLLBACK. */
    if (rc == MYAPPCTX_OK)
        rc = require_idle(conn, false, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    size_t nq = 0;
    q[nq++] = (struct pl_query){ "BEGIN", 0, NULL };
    q[nq++] = pc.query;
    if (first != NULL)
        q[nq++] = (struct pl_query){ first->sql, first->nparams, first->params };
    /* Results are labelled from the first statement on (index 2). */
    rc = run_pipeline(conn, q, nq, 0, 2, first ? res : NULL, NULL, what, err);
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_INTRANS)
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                           "%s: the transaction is not open after BEGIN", what);
    if (rc != MYAPPCTX_OK) {
        PQclear(res[0]);
        if (PQstatus(conn->pg) == CONNECTION_OK &&
            PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
            (void)mxi_exec_params(conn, "ROLLBACK", 0, NULL, NULL, NULL);
        return rc;
    }
    if (out_first != NULL)
        *out_first = res[0];
    else
        PQclear(res[0]);
    return MYAPPCTX_OK;
}
