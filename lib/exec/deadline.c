/* The library's own fixed SQL with a deadline: for the pool's ping and the
 * reset a health check runs, which must not wait forever on a server that
 * hangs -- a node frozen by SIGSTOP, or behind a network partition that
 * drops packets: its kernel (or nobody) ACKs what we send, and nothing ever
 * answers, so a blocking PQexec() would never return.
 *
 * The query is sent in non-blocking mode (a full send buffer must not block
 * either), then the socket is polled with what is left of the time,
 * consuming input until libpq has every result.  On timeout the query is
 * still in flight (PQtransactionStatus() is PQTRANS_ACTIVE): the caller
 * closes the connection; nothing else can be sent on it. */
#include "config.h"

#include <errno.h>
#include <poll.h>

#include "exec/exec.h"

/* Waits for @events on the socket until @deadline; 0 on timeout, -1 on
 * error, else > 0. */
static int
wait_socket(PGconn *pg, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = mxi_trace_now_ns();
        if (now >= deadline)
            return 0;
        uint64_t left_ms = (deadline - now + 999999u) / 1000000u;
        struct pollfd p = { .fd = PQsocket(pg), .events = events };
        int r = poll(&p, 1, left_ms > 60000 ? 60000 : (int)left_ms);
        if (r > 0 || (r < 0 && errno != EINTR))
            return r;
    }
}

/* Messages are "<what>: ...", or without a prefix when @what is NULL
 * (text to be nested in another message), as mxi_error_from_pg()'s. */
static int
timed_out(myappctx_error *err, const char *what, long timeout_ms)
{
    return mxi_error_set(err, MYAPPCTX_ETIMEOUT, NULL, "%s%sno answer from the server within %ld ms",
                         what ? what : "", what ? ": " : "", timeout_ms);
}

static int
broken(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    return mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s%sconnection lost: %s",
                         what ? what : "", what ? ": " : "", PQerrorMessage(conn->pg));
}

int
mxi_deadline_script(myappctx_conn *conn, const char *what, const char *sql, long timeout_ms,
                    myappctx_error *err)
{
    if (timeout_ms <= 0)
        return mxi_exec_script_unchecked(conn, what, sql, err);
    PGconn *pg = conn->pg;
    uint64_t deadline = mxi_trace_now_ns() + (uint64_t)timeout_ms * 1000000u;

    if (PQsetnonblocking(pg, 1) != 0)
        return broken(conn, what, err);
    int rc = PQsendQuery(pg, sql) ? MYAPPCTX_OK : broken(conn, what, err);
    int f;
    while (rc == MYAPPCTX_OK && (f = PQflush(pg)) != 0) {
        int w = f < 0 ? -1 : wait_socket(pg, POLLIN | POLLOUT, deadline);
        if (w == 0)
            rc = timed_out(err, what, timeout_ms);
        else if (w < 0 || !PQconsumeInput(pg))
            rc = broken(conn, what, err);
    }
    /* Every result, until PQgetResult() says there are no more; the first
     * failure is the answer. */
    int failed = MYAPPCTX_OK;
    myappctx_error first;
    while (rc == MYAPPCTX_OK) {
        while (rc == MYAPPCTX_OK && PQisBusy(pg)) {
            int w = wait_socket(pg, POLLIN, deadline);
            if (w == 0)
                rc = timed_out(err, what, timeout_ms);
            else if (w < 0 || !PQconsumeInput(pg))
                rc = broken(conn, what, err);
        }
        PGresult *res = rc == MYAPPCTX_OK ? PQgetResult(pg) : NULL;
        if (res == NULL)
            break;
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY &&
            failed == MYAPPCTX_OK) {
            failed = mxi_error_from_pg(&first, what, pg, res);
            mxi_trace_note_failure(conn, first.sqlstate);
        }
        PQclear(res);
    }
    if (rc == MYAPPCTX_OK && failed != MYAPPCTX_OK)
        rc = mxi_error_wrap(err, failed, &first, "%s", first.message);
    if (PQstatus(pg) == CONNECTION_OK)
        PQsetnonblocking(pg, 0);
    return rc;
}
