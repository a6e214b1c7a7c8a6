/* The connection handle: open, wrap, close and state checks. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conn/conn.h"

/* libpq's default notice processor writes to stderr; a library must not
 * print, so connections the library opens drop notices (warnings from the
 * server still reach the server log).  Wrapped connections keep theirs. */
static void
discard_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int
conn_new(myappctx_conn **out, PGconn *pg, bool owns,
         const myappctx_conn_options *opts, const char *what, myappctx_error *err)
{
    myappctx_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    const char *auth = PQparameterStatus(pg, "session_authorization");
    c->login_role = strdup(auth != NULL ? auth : "");
    if (c->login_role == NULL) {
        free(c);
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    }
    c->pg = pg;
    c->owns_pg = owns;
    c->txn_pooler = opts != NULL && opts->txn_pooler;
    /* Sealed mode (seal.c): the stream is opened now, in one round trip. */
    if (opts != NULL && opts->seal_key != NULL) {
        int rc = mxi_seal_attach(c, opts->seal_key, opts->seal_key_len, what, err);
        if (rc == MYAPPCTX_OK)
            rc = mxi_seal_open(c, what, err);
        if (rc != MYAPPCTX_OK) {
            mxi_seal_free(c->seal);
            free(c->login_role);
            free(c);
            return rc;
        }
    }
    *out = c;
    return MYAPPCTX_OK;
}

static int
check_options(const myappctx_conn_options *opts, const char *what, myappctx_error *err)
{
    if (opts != NULL && opts->version != MYAPPCTX_CONN_OPTIONS_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: options version %d is not %d (use MYAPPCTX_CONN_OPTIONS_INIT)",
                             what, opts->version, MYAPPCTX_CONN_OPTIONS_VERSION);
    if (opts != NULL && opts->seal_key != NULL && !mxi_seal_key_valid(opts->seal_key, opts->seal_key_len))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: opts->seal_key_len is %zu, not %d..%d", what,
                             opts->seal_key_len, MYAPPCTX_SEAL_KEY_MIN, MYAPPCTX_SEAL_KEY_MAX);
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_conn_open(myappctx_conn **out, const char *conninfo,
                   const myappctx_conn_options *opts, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, conninfo);
    int rc = check_options(opts, __func__, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    PGconn *pg = PQconnectdb(conninfo);
    if (pg == NULL)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", __func__);
    if (PQstatus(pg) != CONNECTION_OK) {
        rc = mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s: %s", __func__, PQerrorMessage(pg));
        PQfinish(pg);
        return rc;
    }
    PQsetNoticeProcessor(pg, discard_notice, NULL);
    rc = conn_new(out, pg, true, opts, __func__, err);
    if (rc != MYAPPCTX_OK)
        PQfinish(pg);
    return rc;
}

MYAPPCTX_API int
myappctx_conn_wrap(myappctx_conn **out, PGconn *pg,
                   const myappctx_conn_options *opts, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, pg);
    int rc = check_options(opts, __func__, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (PQstatus(pg) != CONNECTION_OK)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: the PGconn to wrap is not connected", __func__);
    return conn_new(out, pg, false, opts, __func__, err);
}

MYAPPCTX_API PGconn *
myappctx_conn_pg(myappctx_conn *conn)
{
    if (conn == NULL)
        return NULL;
    conn->touched = true;      /* the caller may change session state directly */
    /* Raw access bypasses the library: let the owner settle what it
     * deferred (the pool: the previous borrower's reset) first, and hand out
     * nothing that still carries another borrower's state. */
    if (conn->owner != NULL && conn->owner->prepare != NULL &&
        PQstatus(conn->pg) == CONNECTION_OK &&
        PQtransactionStatus(conn->pg) == PQTRANS_IDLE &&
        conn->owner->prepare(conn, "myappctx_conn_pg", NULL) != MYAPPCTX_OK &&
        PQstatus(conn->pg) == CONNECTION_OK)
        return NULL;
    return conn->pg;
}

MYAPPCTX_API int
myappctx_conn_is_txn_pooler(const myappctx_conn *conn)
{
    return conn != NULL && conn->txn_pooler;
}

MYAPPCTX_API int
myappctx_conn_in_transaction(const myappctx_conn *conn)
{
    if (conn == NULL || conn->pg == NULL)
        return 0;
    PGTransactionStatusType ts = PQtransactionStatus(conn->pg);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

MYAPPCTX_API void
myappctx_conn_close(myappctx_conn *conn)
{
    if (conn == NULL)
        return;
    if (conn->owner != NULL && conn->owner->give_back != NULL) {
        conn->owner->give_back(conn);   /* borrowed: closing means giving it back */
        return;
    }
    if (conn->owns_pg)
        PQfinish(conn->pg);
    mxi_seal_free(conn->seal);
    free(conn->login_role);
    free(conn);
}

int
mxi_conn_check(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    if (conn == NULL || conn->pg == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: connection is NULL", what);
    conn->touched = true;
    if (PQstatus(conn->pg) != CONNECTION_OK)
        return mxi_error_set(err, MYAPPCTX_ECONNECT, NULL, "%s: connection is broken: %s",
                             what, PQerrorMessage(conn->pg));
    if (PQpipelineStatus(conn->pg) != PQ_PIPELINE_OFF)
        return mxi_error_set(err, MYAPPCTX_EBUSY, NULL,
                             "%s: connection is in pipeline mode", what);
    if (PQtransactionStatus(conn->pg) == PQTRANS_ACTIVE)
        return mxi_error_set(err, MYAPPCTX_EBUSY, NULL,
                             "%s: a query is already in progress on this connection", what);
    return MYAPPCTX_OK;
}

int
mxi_conn_ready(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    int rc = mxi_conn_check(conn, what, err);
    if (rc == MYAPPCTX_OK && conn->owner != NULL && conn->owner->prepare != NULL &&
        PQtransactionStatus(conn->pg) == PQTRANS_IDLE)
        rc = conn->owner->prepare(conn, what, err);
    return rc;
}

int
mxi_conn_require_txn(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    int rc = mxi_conn_ready(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    switch (PQtransactionStatus(conn->pg)) {
    case PQTRANS_INTRANS:
        return MYAPPCTX_OK;
    case PQTRANS_INERROR:
        return mxi_error_set(err, MYAPPCTX_ETXNFAILED, "25P02",
                             "%s: the current transaction is aborted; roll it back first", what);
    default:
        return mxi_error_set(err, MYAPPCTX_ENOTXN, NULL,
                             "%s: not inside a transaction block; transaction-scoped "
                             "settings would be discarded at the end of the statement "
                             "(call myappctx_begin() first)", what);
    }
}

int
mxi_conn_require_session_state(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    if (conn != NULL && conn->txn_pooler)
        return mxi_error_set(err, MYAPPCTX_ESESSIONSTATE, NULL,
                             "%s: session-scoped state is not allowed on a connection "
                             "behind a transaction pooler (it would leak to other clients); "
                             "use the transaction-scoped variant", what);
    return MYAPPCTX_OK;
}
