/* What a connection reports to its tracer and its owner: the tracer of a
 * connection of its own (myappctx_conn_set_tracer()), the server's notices
 * forwarded to on_notice, and the failures the owner acts on (a pool that
 * wants a primary closes a connection whose statement failed with 25006).
 *
 * Notices: conn.c gives every connection the library opens a notice
 * processor that drops them (a library must not print).  libpq hands a
 * notice first to the notice *receiver* (with the whole PGresult: severity,
 * SQLSTATE, message, detail, hint), whose default calls that processor.  So
 * only when a tracer wants notices is a receiver of ours installed; it
 * forwards the notice and then calls libpq's default receiver, so that what
 * happened before (dropped, or a wrapped PGconn's own notice processor)
 * still happens.  libpq has no getter for a receiver's argument, so only its
 * default receiver (which ignores it) can be chained to and put back: a
 * wrapped PGconn with a receiver of the application's is refused.  Ours is
 * removed with the tracer and before the handle is freed (a wrapped PGconn
 * outlives it). */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "conn/conn.h"

uint64_t
mxi_trace_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* libpq's default notice receiver, read from a PGconn that never reached
 * the network (an unknown option stops PQconnectStart() while parsing); a
 * NULL receiver only reads the current one. */
static PQnoticeReceiver default_receiver;
static pthread_once_t default_receiver_once = PTHREAD_ONCE_INIT;

static void
find_default_receiver(void)
{
    PGconn *probe = PQconnectStart("myappctx_no_such_option=1");
    if (probe != NULL)
        default_receiver = PQsetNoticeReceiver(probe, NULL, NULL);
    PQfinish(probe);
}

static const char *
field(const PGresult *res, int code, const char *none)
{
    const char *v = PQresultErrorField(res, code);
    return v != NULL ? v : none;
}

static void
receive_notice(void *arg, const PGresult *res)
{
    myappctx_conn *conn = arg;
    const myappctx_tracer *t = conn->tracer;
    if (t != NULL && t->on_notice != NULL) {
        myappctx_trace_notice ev = {
            .version = MYAPPCTX_TRACE_EVENT_VERSION,
            .conn = conn,
            .severity = field(res, PG_DIAG_SEVERITY_NONLOCALIZED,
                              field(res, PG_DIAG_SEVERITY, "NOTICE")),
            .sqlstate = field(res, PG_DIAG_SQLSTATE, ""),
            .message = field(res, PG_DIAG_MESSAGE_PRIMARY, ""),
            .detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
            .hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
        };
        t->on_notice(t->userdata, &ev);
    }
    default_receiver(NULL, res);
}

int
mxi_trace_notices(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    bool want = conn->tracer != NULL && conn->tracer->on_notice != NULL;
    if (want && !conn->notice_hooked) {
        pthread_once(&default_receiver_once, find_default_receiver);
        if (default_receiver == NULL ||
            PQsetNoticeReceiver(conn->pg, NULL, NULL) != default_receiver)
            return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                                 "%s: the PGconn has a notice receiver of its own; on_notice "
                                 "cannot chain to it (use a notice processor, or forward "
                                 "notices yourself)", what);
        PQsetNoticeReceiver(conn->pg, receive_notice, conn);
        conn->notice_hooked = true;
    } else if (!want) {
        mxi_trace_detach(conn);
    }
    return MYAPPCTX_OK;
}

void
mxi_trace_detach(myappctx_conn *conn)
{
    if (!conn->notice_hooked)
        return;
    PQsetNoticeReceiver(conn->pg, default_receiver, NULL);
    conn->notice_hooked = false;
}

/* read_only_sql_transaction: on a standby, or on a primary in read-only
 * mode (default_transaction_read_only, which pg_auto_failover and others
 * set while demoting), or in a transaction the caller declared READ ONLY. */
void
mxi_trace_note_failure(myappctx_conn *conn, const char *sqlstate)
{
    if (sqlstate != NULL && strcmp(sqlstate, "25006") == 0)
        conn->read_only_failed = true;
}

MYAPPCTX_API int
myappctx_conn_set_tracer(myappctx_conn *conn, const myappctx_tracer *tracer, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, conn);
    if (conn->owner != NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: the connection belongs to a pool; set the tracer in "
                             "myappctx_pool_config", __func__);
    if (tracer != NULL && tracer->version != MYAPPCTX_TRACER_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: tracer->version %d is not %d (use MYAPPCTX_TRACER_INIT)",
                             __func__, tracer->version, MYAPPCTX_TRACER_VERSION);
    const myappctx_tracer *old = conn->tracer;
    conn->tracer = tracer;
    int rc = mxi_trace_notices(conn, __func__, err);
    if (rc != MYAPPCTX_OK)
        conn->tracer = old;
    return rc;
}

MYAPPCTX_API const char *
myappctx_trace_reason_name(myappctx_evict_reason reason)
{
    switch (reason) {
    case MYAPPCTX_EVICT_LIFETIME:     return "lifetime";
    case MYAPPCTX_EVICT_IDLE:         return "idle";
    case MYAPPCTX_EVICT_RESIZE:       return "resize";
    case MYAPPCTX_EVICT_BROKEN:       return "broken";
    case MYAPPCTX_EVICT_PING_TIMEOUT: return "ping_timeout";
    case MYAPPCTX_EVICT_REFUSED:      return "refused";
    case MYAPPCTX_EVICT_RESET_FAILED: return "reset_failed";
    case MYAPPCTX_EVICT_UNUSABLE:     return "unusable";
    case MYAPPCTX_EVICT_NOT_PRIMARY:  return "not_primary";
    case MYAPPCTX_EVICT_CLOSED:       return "closed";
    }
    return "unknown";
}
