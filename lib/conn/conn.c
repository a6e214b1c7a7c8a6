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

/* ---- failed connects ------------------------------------------------------
 *
 * A connect the server refused carries a SQLSTATE in its ErrorResponse, but
 * libpq gives no way to read it: the error PGresult it builds during the
 * startup is internal (PQgetResult() returns nothing on a connection that
 * failed), and PQresultErrorField() needs a result.  Its error fields only
 * reach the text of PQerrorMessage(), formatted with the connection's
 * verbosity, which cannot be changed before PQconnectdb() formats it
 * (PQsetErrorVerbosity() needs the PGconn; doing it between
 * PQconnectStart() and PQreset() would make every connect open and drop an
 * extra socket -- a backend fork and a "connection received" log line on
 * the server -- and driving PQconnectPoll() ourselves would lose libpq's
 * connect_timeout handling, which moves on to the next host or address).
 *
 * So the SQLSTATE is recovered, as a documented best effort, from the
 * server's primary message as libpq prints it: the English texts below, of
 * PostgreSQL 9.6 to 17 and PgBouncer, each verified against a real server
 * by tests/integration/test_conn.c.  With a server whose lc_messages is
 * not English none matches and err->sqlstate stays "" (the pool then
 * treats the failure as transient: it waits and times out with the
 * message, as before).  When libpq tried several hosts or addresses, the
 * last server error in the text wins. */
static const struct {
    const char *prefix;     /* the message contains prefix ... suffix */
    const char *suffix;     /* NULL: prefix alone */
    const char *sqlstate;
} connect_errors[] = {
    { "password authentication failed for user \"", NULL, "28P01" },  /* invalid_password */
    /* The server asked for a password and libpq had none to send. */
    { "no password supplied", NULL, "28P01" },
    { "role \"", "\" does not exist", "28000" },       /* invalid_authorization_specification */
    { "role \"", "\" is not permitted to log in", "28000" },
    { "no pg_hba.conf entry for ", NULL, "28000" },
    { "pg_hba.conf rejects connection for ", NULL, "28000" },
    { "database \"", "\" does not exist", "3D000" },   /* invalid_catalog_name */
    { "no such database: ", NULL, "3D000" },          /* PgBouncer */
    { "permission denied for database \"", NULL, "42501" },   /* no CONNECT privilege */
    { "\" is not currently accepting connections", NULL, "55000" },
    { "too many connections for role \"", NULL, "53300" },
    { "too many connections for database \"", NULL, "53300" },
    { "sorry, too many clients already", NULL, "53300" },
    { "remaining connection slots are reserved", NULL, "53300" },
    { "the database system is starting up", NULL, "57P03" },   /* cannot_connect_now */
    { "the database system is shutting down", NULL, "57P03" },
    { "the database system is in recovery mode", NULL, "57P03" },
    { "the database system is not yet accepting connections", NULL, "57P03" },
    { "the database system is not accepting connections", NULL, "57P03" },
};

/* The offset just past the last "prefix...suffix" of @msg on one line, or
 * 0 when there is none. */
static size_t
last_match(const char *msg, const char *prefix, const char *suffix)
{
    size_t end = 0;
    for (const char *p = strstr(msg, prefix); p != NULL; p = strstr(p + 1, prefix)) {
        const char *after = p + strlen(prefix);
        if (suffix != NULL) {
            const char *s = strstr(after, suffix);
            if (s == NULL || memchr(after, '\n', (size_t)(s - after)) != NULL)
                continue;
            after = s + strlen(suffix);
        }
        end = (size_t)(after - msg);
    }
    return end;
}

static const char *
connect_sqlstate(const char *msg)
{
    const char *state = NULL;
    size_t best = 0;
    for (size_t i = 0; i < sizeof connect_errors / sizeof connect_errors[0]; i++) {
        size_t at = last_match(msg, connect_errors[i].prefix, connect_errors[i].suffix);
        if (at > best) {
            best = at;
            state = connect_errors[i].sqlstate;
        }
    }
    return state;
}

/* ECONNECT for a failed connect: libpq's message on one line (one line
 * per host or attempt, joined with "; "), its DETAIL and HINT lines in
 * err->detail and err->hint, and the SQLSTATE as above. */
static int
connect_failed(PGconn *pg, const char *what, myappctx_error *err)
{
    const char *msg = PQerrorMessage(pg);
    char text[MYAPPCTX_ERROR_MESSAGE_SIZE] = "", detail[MYAPPCTX_ERROR_DETAIL_SIZE] = "",
         hint[MYAPPCTX_ERROR_HINT_SIZE] = "";
    size_t used = 0;
    for (const char *p = msg; *p != '\0';) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, "\r\n");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 9 && strncmp(p, "DETAIL:  ", 9) == 0)
            snprintf(detail, sizeof detail, "%.*s", (int)(n - 9), p + 9);
        else if (n > 7 && strncmp(p, "HINT:  ", 7) == 0)
            snprintf(hint, sizeof hint, "%.*s", (int)(n - 7), p + 7);
        else if (n > 0 && used < sizeof text - 1)
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%.*s",
                                     used > 0 ? "; " : "", (int)n, p);
        p += strcspn(p, "\r\n");
        p += strspn(p, "\r\n");
    }
    int rc = mxi_error_set(err, MYAPPCTX_ECONNECT, connect_sqlstate(msg), "%s: %s", what,
                           text[0] ? text : "connection failed");
    if (err != NULL) {
        snprintf(err->detail, sizeof err->detail, "%s", detail);
        if (hint[0] != '\0')
            mxi_error_hint(err, hint);
    }
    return rc;
}

/* What the library's refusal of a privileged session tells to do. */
#define PRIVILEGED_HINT "connect as a role without SUPERUSER and BYPASSRLS (such as the " \
                        "application role 'myappctx schema install --app-role' sets up), " \
                        "or set allow_privileged to accept that row-level security does not apply"

static int
refuse_privileged(const char *what, const char *user, const char *attribute, myappctx_error *err)
{
    mxi_error_set(err, MYAPPCTX_EPRIVILEGED, NULL,
                  "%s: the session user \"%s\" %s, so row-level security does not apply "
                  "to it; %s", what, user, attribute, PRIVILEGED_HINT);
    mxi_error_hint(err, PRIVILEGED_HINT);
    return MYAPPCTX_EPRIVILEGED;
}

/* Row-level security, which the context exists for, does not apply to a
 * superuser nor to a role with BYPASSRLS: refuse such a session unless the
 * caller opted in.  Superuser status comes for free (the server reports
 * is_superuser at connect and whenever session_authorization changes);
 * BYPASSRLS is not reported, so it takes one query -- once per connection,
 * at connect, never on the hot path, and none at all for a superuser or
 * with allow_privileged.  The query also reads rolsuper, for a pooler that
 * does not pass is_superuser on.  session_user is the role the session
 * runs as (behind a transaction pooler: the pooler's server login, which is
 * what the server reports and what RLS sees). */
static int
check_privileges(PGconn *pg, const myappctx_conn_options *opts, const char *what,
                 myappctx_error *err)
{
    if (opts != NULL && opts->allow_privileged)
        return MYAPPCTX_OK;
    const char *su = PQparameterStatus(pg, "is_superuser");
    const char *auth = PQparameterStatus(pg, "session_authorization");
    if (su != NULL && strcmp(su, "on") == 0)
        return refuse_privileged(what, auth != NULL ? auth : PQuser(pg), "is a superuser", err);

    PGresult *res = PQexecParams(pg, "SELECT r.rolsuper, r.rolbypassrls, session_user "
                                     "FROM pg_catalog.pg_roles AS r WHERE r.rolname = session_user",
                                 0, NULL, NULL, NULL, NULL, 0);
    int rc = MYAPPCTX_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        myappctx_error inner;
        rc = mxi_error_from_pg(&inner, NULL, pg, res);
        mxi_error_wrap(err, rc, &inner, "%s: reading the session user's attributes failed: %s",
                       what, inner.message);
    } else if (PQntuples(res) != 1) {
        rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                           "%s: the session user is not in pg_roles (dropped while connected?)",
                           what);
    } else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
        rc = refuse_privileged(what, PQgetvalue(res, 0, 2), "is a superuser", err);
    } else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        rc = refuse_privileged(what, PQgetvalue(res, 0, 2), "has the BYPASSRLS attribute", err);
    }
    PQclear(res);
    return rc;
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
        rc = connect_failed(pg, __func__, err);
        PQfinish(pg);
        return rc;
    }
    PQsetNoticeProcessor(pg, discard_notice, NULL);
    rc = check_privileges(pg, opts, __func__, err);
    if (rc == MYAPPCTX_OK)
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
    rc = check_privileges(pg, opts, __func__, err);
    if (rc != MYAPPCTX_OK)
        return rc;
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
    mxi_trace_detach(conn);             /* a wrapped PGconn outlives us (trace.c) */
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
