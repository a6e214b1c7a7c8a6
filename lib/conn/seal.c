/* The connection's side of sealed mode (extension/README.md, "The client
 * side: what libmyappctx sends"): the key, the stream the server issued to
 * this connection, and the counter of its MACs.
 *
 * A stream is 16 bytes the server returns from open_stream(), bound to the
 * backend on a direct connection and unbound behind a transaction pooler
 * (where the next transaction may run on another backend).  Every sealed
 * set_context() carries counter + 1, signed before it is sent and never
 * reused, whether the call then succeeds or not: the server accepts each
 * counter at most once and only upwards, which is what makes a captured MAC
 * worthless.  The connection layer only signs and keeps the state; the
 * statements that carry the MACs are built where the calls are (units in
 * lib/pipeline/unit.c, session calls in lib/context/sealed.c).
 *
 * The key goes into OpenSSL's keyed MAC context of the handle (lib/core/
 * hmac.c), which wipes it when the connection is closed (mxi_seal_free()). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn.h"
#include "core/context_vars.h"

bool
mxi_seal_key_valid(const unsigned char *key, size_t len)
{
    return key != NULL && len >= MYAPPCTX_SEAL_KEY_MIN && len <= MYAPPCTX_SEAL_KEY_MAX;
}

int
mxi_seal_attach(myappctx_conn *conn, const unsigned char *key, size_t len, const char *what,
                myappctx_error *err)
{
    if (!mxi_seal_key_valid(key, len))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: the seal key must be %d..%d bytes (got %zu%s)", what,
                             MYAPPCTX_SEAL_KEY_MIN, MYAPPCTX_SEAL_KEY_MAX, len,
                             key == NULL ? ", NULL" : "");
    struct mxi_seal *seal = calloc(1, sizeof *seal);
    if (seal == NULL)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    seal->bind = !conn->txn_pooler;
    if ((seal->key = mxi_hmac_key_new(key, len)) == NULL ||
        !mxi_hmac_key_id(seal->key, seal->key_id)) {
        mxi_seal_free(seal);
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: HMAC-SHA256 failed", what);
    }
    mxi_seal_free(conn->seal);
    conn->seal = seal;
    return MYAPPCTX_OK;
}

void
mxi_seal_free(struct mxi_seal *seal)
{
    if (seal == NULL)
        return;
    mxi_hmac_key_free(seal->key);
    mxi_hmac_wipe(seal, sizeof *seal);
    free(seal);
}

int
mxi_seal_open_params(myappctx_conn *conn, struct mxi_seal_open *o, const char *what,
                     myappctx_error *err)
{
    struct mxi_seal *seal = conn->seal;
    unsigned char mac[MXI_HMAC_LEN];
    if (!mxi_hmac_open(seal->key, seal->bind, mac))
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: HMAC-SHA256 failed", what);
    mxi_hmac_bytea(o->mac, mac, sizeof mac);
    mxi_hmac_wipe(mac, sizeof mac);
    o->params[0] = seal->bind ? "true" : "false";
    o->params[1] = o->mac;
    return MYAPPCTX_OK;
}

int
mxi_seal_open_done(myappctx_conn *conn, const PGresult *res, const char *what,
                   myappctx_error *err)
{
    struct mxi_seal *seal = conn->seal;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 3 ||
        PQgetisnull(res, 0, 0))
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                             "%s: myappctx_seal.open_stream() returned no stream", what);
    const char *key_id = PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1);
    const char *mode = PQgetvalue(res, 0, 2);
    /* open_stream() verified our MAC, so the server holds our key; a
     * fingerprint that differs means status() saw another key (reloaded in
     * between): refuse now rather than fail every unit. */
    if (strcmp(key_id, seal->key_id) != 0)
        return mxi_error_set(err, MYAPPCTX_ESCHEMA, NULL,
                             "%s: the server's seal key (key_id %s) is not this key (key_id %s)",
                             what, *key_id ? key_id : "none", seal->key_id);
    if (strcmp(mode, "shared") != 0 && strcmp(mode, "backend") != 0)
        return mxi_error_set(err, MYAPPCTX_ESCHEMA, NULL,
                             "%s: myappctx_seal is loaded in mode '%s', not shared or backend",
                             what, mode);
    size_t n = 0;
    unsigned char *stream = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &n);
    if (stream == NULL)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    if (n != MXI_HMAC_STREAM_LEN) {
        PQfreemem(stream);
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                             "%s: myappctx_seal.open_stream() returned %zu bytes, not %d",
                             what, n, MXI_HMAC_STREAM_LEN);
    }
    memcpy(seal->stream, stream, n);
    PQfreemem(stream);
    mxi_hmac_bytea(seal->stream_param, seal->stream, MXI_HMAC_STREAM_LEN);
    seal->counter = 0;
    seal->open = true;
    return MYAPPCTX_OK;
}

/* The server's key fingerprint, for the message of a key mismatch: one
 * more round trip, on the failure path only. */
static void
server_key_id(myappctx_conn *conn, char *out, size_t size)
{
    snprintf(out, size, "unknown");
    if (PQstatus(conn->pg) != CONNECTION_OK || PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        return;
    PGresult *res = PQexec(conn->pg, "SELECT COALESCE(key_id, 'none') FROM myappctx_seal.status()");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

int
mxi_seal_open_failed(myappctx_conn *conn, const myappctx_error *inner, const char *what,
                     myappctx_error *err)
{
    const char *state = inner->sqlstate;
    if (strcmp(state, "3F000") == 0 || strcmp(state, "42883") == 0)
        return mxi_error_wrap(err, MYAPPCTX_ESCHEMA, inner,
                              "%s: sealed mode: the extension myappctx_seal is not created in "
                              "this database (%s); run 'myappctx schema install' as a superuser "
                              "on a server that has it", what, mxi_error_cause(inner, what));
    if (strcmp(state, "MX001") == 0) {
        char theirs[32];
        server_key_id(conn, theirs, sizeof theirs);
        return mxi_error_wrap(err, MYAPPCTX_ESEAL, inner,
                              "%s: sealed mode: the server holds another key (key_id %s; this "
                              "key's is %s): %s", what, theirs, conn->seal->key_id,
                              mxi_error_cause(inner, what));
    }
    if (strcmp(state, "MX007") == 0)
        return mxi_error_wrap(err, MYAPPCTX_ESEAL, inner,
                              "%s: sealed mode: %s; add myappctx_seal to the server's "
                              "shared_preload_libraries", what, mxi_error_cause(inner, what));
    if (strcmp(state, "MX003") == 0)
        return mxi_error_wrap(err, MYAPPCTX_ESEAL, inner,
                              "%s: sealed mode: %s; set myappctx_seal.key_file on the server",
                              what, mxi_error_cause(inner, what));
    return mxi_error_wrap(err, inner->code, inner, "%s: sealed mode: opening the stream: %s",
                          what, mxi_error_cause(inner, what));
}

int
mxi_seal_open(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    struct mxi_seal_open o;
    int rc = mxi_seal_open_params(conn, &o, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    conn->seal->open = false;
    PGresult *res = PQexecParams(conn->pg, MXI_SEAL_OPEN_SQL, 2, NULL, o.params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        rc = mxi_seal_open_done(conn, res, what, err);
    } else {
        myappctx_error inner;
        mxi_error_from_pg(&inner, what, conn->pg, res);
        rc = mxi_seal_open_failed(conn, &inner, what, err);
    }
    PQclear(res);
    return rc;
}

static int
burned(const char *what, myappctx_error *err)
{
    return mxi_error_set(err, MYAPPCTX_ESEAL, "MX002",
                         "%s: sealed mode: a MAC of this connection's stream was used by "
                         "someone else (replay refused, MX002); close this connection", what);
}

int
mxi_seal_ready(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    if (conn->seal->burned)
        return burned(what, err);
    return conn->seal->open ? MYAPPCTX_OK : mxi_seal_open(conn, what, err);
}

int
mxi_seal_sign(myappctx_conn *conn, bool local, const char *const fields[MXI_HMAC_CONTEXT_FIELDS],
              struct mxi_seal_call *out, const char *what, myappctx_error *err)
{
    struct mxi_seal *seal = conn->seal;
    if (seal->burned)
        return burned(what, err);
    if (!seal->open)
        return mxi_error_set(err, MYAPPCTX_ESEAL, NULL,
                             "%s: sealed mode: the connection has no stream open", what);
    /* Spent now, sent or not: a counter is never signed twice. */
    int64_t counter = ++seal->counter;
    unsigned char mac[MXI_HMAC_LEN];
    if (!mxi_hmac_context(seal->key, seal->stream, counter, local, fields, mac))
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: HMAC-SHA256 failed", what);
    snprintf(out->counter, sizeof out->counter, "%" PRId64, counter);
    mxi_hmac_bytea(out->mac, mac, sizeof mac);
    mxi_hmac_wipe(mac, sizeof mac);
    return MYAPPCTX_OK;
}

bool
mxi_seal_retry(myappctx_conn *conn, const char *sqlstate)
{
    if (conn->seal == NULL || sqlstate == NULL)
        return false;
    if (strcmp(sqlstate, "MX002") == 0)
        conn->seal->burned = true;
    if (strcmp(sqlstate, "MX004") != 0 || PQstatus(conn->pg) != CONNECTION_OK)
        return false;
    conn->seal->open = false;
    return true;
}

bool
mxi_seal_session_context(const myappctx_conn *conn)
{
#define REPORTED(name, kind)                                                     \
    if (MXI_CONTEXT_VARS_##kind != MXI_CONTEXT_VARS_KEPT) {                        \
        const char *v = PQparameterStatus(conn->pg, "myapp." #name);               \
        if (v != NULL && v[0] != '\0')                                             \
            return true;                                                           \
    }
    MXI_CONTEXT_VARS(REPORTED)
#undef REPORTED
    return false;
}

MYAPPCTX_API int
myappctx_conn_is_sealed(const myappctx_conn *conn)
{
    return conn != NULL && conn->seal != NULL;
}
