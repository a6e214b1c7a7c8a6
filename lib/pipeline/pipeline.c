/* Sending several statements in one network round trip (libpq pipeline
 * mode) and reading every result back.
 *
 * Everything between two Syncs runs as one implicit transaction
 * (PostgreSQL's extended-protocol rule): set_config(..., true) issued first
 * is visible to the statements after it, and the first error aborts the rest
 * of the segment, which is rolled back at its Sync.  The next segment runs
 * on its own.  A failure to commit a segment's implicit transaction arrives
 * as an error just before its Sync and is reported against that Sync step. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>

#include "pipeline/pipeline.h"

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

static int
send_step(PGconn *pg, const struct mxi_pipeline_step *s)
{
    switch (s->op) {
    case MXI_PIPELINE_EXEC:
        return PQsendQueryParams(pg, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
    case MXI_PIPELINE_PREPARE:
        return PQsendPrepare(pg, s->name, s->sql, s->nparams, NULL);
    case MXI_PIPELINE_EXEC_PREPARED:
        return PQsendQueryPrepared(pg, s->name, s->nparams, s->params, NULL, NULL, 0);
    case MXI_PIPELINE_SYNC:
        return PQpipelineSync(pg);
    }
    return 0;
}

/* The connection died while results were outstanding: the caller cannot
 * know what committed. */
static int
lost(myappctx_error *err, const char *what)
{
    return mxi_error_set(err, MYAPPCTX_ECONNECT, NULL,
                         "%s: connection lost; the outcome is unknown", what);
}

/* Records the first failure: its step in *failed, the server's error in
 * @inner and, labelled with the step, in @err. */
static int
record(PGconn *pg, const PGresult *res, const struct mxi_pipeline_step *s, size_t i,
       size_t *failed, myappctx_error *inner, const char *what, myappctx_error *err)
{
    int rc = mxi_error_from_pg(inner, NULL, pg, res);
    *failed = i;
    if (s->label == NULL)
        mxi_error_wrap(err, rc, inner, "%s: %s", what, inner->message);
    else if (s->index >= 0)
        mxi_error_wrap(err, rc, inner, "%s: %s %ld: %s", what, s->label, s->index,
                       inner->message);
    else
        mxi_error_wrap(err, rc, inner, "%s: %s: %s", what, s->label, inner->message);
    return rc;
}

/* Reads up to the next Sync.  A commit failure of the segment comes as an
 * error first.  Returns false when the connection is lost. */
static bool
read_sync(PGconn *pg, int *rc, const struct mxi_pipeline_step *s, size_t i, size_t *failed,
          myappctx_error *inner, const char *what, myappctx_error *err)
{
    for (;;) {
        PGresult *res = PQgetResult(pg);
        if (res == NULL) {
            if (PQstatus(pg) == CONNECTION_BAD)
                return false;
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_FATAL_ERROR && *rc == MYAPPCTX_OK)
            *rc = record(pg, res, s, i, failed, inner, what, err);
        PQclear(res);
        if (st == PGRES_PIPELINE_SYNC)
            return true;
        if (PQstatus(pg) == CONNECTION_BAD)
            return false;
    }
}

/* Reads the results of steps [0, n); @keep: hand them to the steps' out. */
static int
read_results(PGconn *pg, const struct mxi_pipeline_step *steps, size_t n, bool keep,
             size_t *failed, myappctx_error *inner, const char *what, myappctx_error *err)
{
    int rc = MYAPPCTX_OK;
    for (size_t i = 0; i < n; i++) {
        if (steps[i].op == MXI_PIPELINE_SYNC) {
            if (!read_sync(pg, &rc, &steps[i], i, failed, inner, what, err))
                return rc != MYAPPCTX_OK ? rc : lost(err, what);
            continue;
        }
        PGresult *res = PQgetResult(pg);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
        if (!ok && st != PGRES_PIPELINE_ABORTED && rc == MYAPPCTX_OK)
            rc = record(pg, res, &steps[i], i, failed, inner, what, err);
        if (ok && keep && steps[i].out != NULL)
            *steps[i].out = res;
        else
            PQclear(res);
        if (res == NULL || PQstatus(pg) == CONNECTION_BAD)
            return rc != MYAPPCTX_OK ? rc : lost(err, what);
        while ((res = PQgetResult(pg)) != NULL)    /* each step's results end with a NULL */
            PQclear(res);
    }
    return rc;
}

int
mxi_pipeline_run(myappctx_conn *conn, const struct mxi_pipeline_step *steps, size_t n,
                 size_t *failed, myappctx_error *inner, const char *what, myappctx_error *err)
{
    PGconn *pg = conn->pg;
    *failed = SIZE_MAX;
    mxi_error_clear(inner);
    for (size_t i = 0; i < n; i++)
        if (steps[i].out != NULL)
            *steps[i].out = NULL;

    if (!PQenterPipelineMode(pg))
        return mxi_error_set(err, MYAPPCTX_EBUSY, NULL, "%s: cannot enter pipeline mode: %s",
                             what, PQerrorMessage(pg));
    if (PQsetnonblocking(pg, 1) != 0) {
        PQexitPipelineMode(pg);
        return mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s: %s", what, PQerrorMessage(pg));
    }
    size_t sent = 0;
    while (sent < n && send_step(pg, &steps[sent]) == 1)
        sent++;
    /* What was sent must end with a Sync, or its results never come. */
    bool synced = sent > 0 && steps[sent - 1].op == MXI_PIPELINE_SYNC;
    if (!synced && sent < n)
        synced = PQpipelineSync(pg) == 1;
    int flushed = synced ? flush_pipeline(pg) : -1;
    PQsetnonblocking(pg, 0);

    int rc;
    if (sent < n || flushed != 0) {
        rc = mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s: sending the pipeline failed: %s",
                           what, PQerrorMessage(pg));
        if (flushed == 0) {   /* the connection still works: drain what was sent */
            size_t ignored;
            myappctx_error discard;
            int drc = MYAPPCTX_OK;
            if (read_results(pg, steps, sent, false, &ignored, &discard, what, NULL) != MYAPPCTX_ECONNECT &&
                (sent == 0 || steps[sent - 1].op != MXI_PIPELINE_SYNC))
                (void)read_sync(pg, &drc, &steps[0], 0, &ignored, &discard, what, NULL);
        }
    } else {
        rc = read_results(pg, steps, n, true, failed, inner, what, err);
        if (rc != MYAPPCTX_OK)
            mxi_trace_note_failure(conn, inner->sqlstate);
    }
    if (PQstatus(pg) == CONNECTION_OK && !PQexitPipelineMode(pg) && rc == MYAPPCTX_OK)
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: cannot leave pipeline mode: %s",
                           what, PQerrorMessage(pg));
    /* An error followed by the loss of the connection (a backend terminated
     * right after it) is a lost connection to the caller: nothing can be
     * retried on it. */
    if (rc != MYAPPCTX_OK && rc != MYAPPCTX_ECONNECT && PQstatus(pg) == CONNECTION_BAD)
        rc = mxi_error_wrap(err, MYAPPCTX_ECONNECT, inner, "%s: connection lost (after: %s)",
                            what, inner->message[0] ? inner->message : myappctx_strerror(rc));
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
