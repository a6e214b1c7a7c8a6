/* The optional extension of sealed mode in a database: its state and its
 * SQL objects (myappctx/seal.h).  The extension is built and installed into
 * the server with PGXS (extension/README.md); this file only runs CREATE
 * EXTENSION, which is harmless where the server does not preload the
 * library (it is inert there). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "schema/schema.h"

/* One row: available, installed version; then, only where the extension
 * exists, the state from status() (a second statement: status() is a
 * function of the extension, unknown elsewhere). */
#define AVAILABLE_SQL                                                              \
    "SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'myappctx_seal'), " \
    "(SELECT extversion FROM pg_extension WHERE extname = 'myappctx_seal')"
#define STATUS_SQL "SELECT mode, key_loaded, COALESCE(key_id, '') FROM myappctx_seal.status()"

static void
copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

MYAPPCTX_API int
myappctx_seal_status_get(myappctx_conn *conn, myappctx_seal_status *out, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    MXI_ERROR_REQUIRE_ARG(err, out);
    if (out->version != MYAPPCTX_SEAL_STATUS_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: out->version %d is not %d (use MYAPPCTX_SEAL_STATUS_INIT)",
                             what, out->version, MYAPPCTX_SEAL_STATUS_VERSION);
    myappctx_seal_status st = MYAPPCTX_SEAL_STATUS_INIT;
    PGresult *res;
    int rc = mxi_exec_params(conn, what, AVAILABLE_SQL, 0, NULL, &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (PQntuples(res) != 1 || PQnfields(res) != 2) {
        PQclear(res);
        return mxi_error_set(err, MYAPPCTX_EPROTO, NULL, "%s: unexpected answer", what);
    }
    st.available = PQgetvalue(res, 0, 0)[0] == 't';
    st.installed = !PQgetisnull(res, 0, 1);
    if (st.installed)
        copy(st.installed_version, sizeof st.installed_version, PQgetvalue(res, 0, 1));
    PQclear(res);
    if (st.installed) {
        rc = mxi_exec_params(conn, what, STATUS_SQL, 0, NULL, &res, err);
        if (rc != MYAPPCTX_OK)
            return rc;
        if (PQntuples(res) != 1 || PQnfields(res) != 3) {
            PQclear(res);
            return mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                                 "%s: myappctx_seal.status() returned no row", what);
        }
        copy(st.mode, sizeof st.mode, PQgetvalue(res, 0, 0));
        st.key_loaded = PQgetvalue(res, 0, 1)[0] == 't';
        copy(st.key_id, sizeof st.key_id, PQgetvalue(res, 0, 2));
        PQclear(res);
    }
    *out = st;
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_seal_install(myappctx_conn *conn, myappctx_seal_status *out, myappctx_error *err)
{
    const char *const what = __func__;
    MXI_ERROR_REQUIRE_ARG(err, conn);
    if (out != NULL && out->version != MYAPPCTX_SEAL_STATUS_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: out->version %d is not %d (use MYAPPCTX_SEAL_STATUS_INIT)",
                             what, out->version, MYAPPCTX_SEAL_STATUS_VERSION);
    int rc = mxi_conn_check(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        return mxi_error_set(err, MYAPPCTX_EBUSY, NULL,
                             "%s: the connection is inside a transaction block", what);
    myappctx_seal_status st = MYAPPCTX_SEAL_STATUS_INIT;
    rc = myappctx_seal_status_get(conn, &st, err);
    if (rc == MYAPPCTX_OK && st.available && !st.installed) {
        myappctx_error e;
        rc = mxi_exec_script(conn, what, "CREATE EXTENSION IF NOT EXISTS myappctx_seal", &e);
        if (rc != MYAPPCTX_OK)
            return mxi_error_set(err, rc, e.sqlstate,
                                 "%s: CREATE EXTENSION myappctx_seal failed: %s", what, e.message);
        rc = myappctx_seal_status_get(conn, &st, err);
    }
    if (rc == MYAPPCTX_OK && out != NULL)
        *out = st;
    return rc;
}
