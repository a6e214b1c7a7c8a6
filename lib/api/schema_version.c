/* The schema installed in the database against the one this library
 * embeds, for myappctx_schema_check() and the pool's check_schema.
 *
 * It reads api.schema_version() (sql/011_schema_version.sql): one query,
 * which any role the installer set up may run -- unlike
 * myappctx.schema_migrations, which is closed to application roles.  The
 * library's own version comes from lib/core (generated from sql/), not
 * from lib/schema, which is a layer above the pool.  Only when the function
 * is missing does a second query, on the catalog, tell "not installed"
 * from "older than the function" (skipped when the failure aborted the
 * caller's transaction). */
#include "config.h"

#include <string.h>

#include "api/api.h"

#define INSTALL_HINT "run 'myappctx schema install'"
#define UPGRADE_HINT "run 'myappctx schema install' to upgrade it"
#define GRANT_HINT "run 'myappctx schema install --app-role <this role>' to grant it"
#define NEWER_HINT "upgrade the library (a library never downgrades a schema)"

/* The version that added api.schema_version(). */
#define FIRST_WITH_FUNCTION 11

static int
schema_error(myappctx_error *err, int rc, const char *hint)
{
    mxi_error_hint(err, hint);
    return rc;
}

/* api.schema_version() is missing: is anything of ours installed? */
static int
missing(myappctx_conn *conn, const char *what, const myappctx_error *cause, myappctx_error *err)
{
    PGresult *res;
    const char *value;
    int installed = -1;
    if (PQtransactionStatus(conn->pg) == PQTRANS_IDLE &&
        mxi_exec_one(conn, what,
                     "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'myappctx')",
                     0, NULL, &res, &value, NULL) == MYAPPCTX_OK) {
        installed = value != NULL && value[0] == 't';
        PQclear(res);
    }
    if (installed == 1)
        mxi_error_wrap(err, MYAPPCTX_ESCHEMA, cause,
                       "%s: the schema installed is older than version %d (it has no "
                       "api.schema_version()), this library needs %d; " UPGRADE_HINT,
                       what, FIRST_WITH_FUNCTION, mxi_embedded_version_core);
    else if (installed == 0)
        mxi_error_wrap(err, MYAPPCTX_ESCHEMA, cause,
                       "%s: the schema is not installed in this database; " INSTALL_HINT, what);
    else
        mxi_error_wrap(err, MYAPPCTX_ESCHEMA, cause,
                       "%s: the schema is not installed in this database, or is older than "
                       "version %d; " INSTALL_HINT, what, FIRST_WITH_FUNCTION);
    return schema_error(err, MYAPPCTX_ESCHEMA, installed == 1 ? UPGRADE_HINT : INSTALL_HINT);
}

int
mxi_schema_version_check(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    const int needed = mxi_embedded_version_core;
    myappctx_error e;
    long long installed;
    int rc = mxi_call_int(conn, what, "SELECT api.schema_version()", 0, NULL, &installed, &e);
    if (rc != MYAPPCTX_OK) {
        /* 42883: no such function (older than 11); 3F000: no schema api. */
        if (strcmp(e.sqlstate, "42883") == 0 || strcmp(e.sqlstate, "3F000") == 0)
            return missing(conn, what, &e, err);
        if (strcmp(e.sqlstate, "42501") == 0) {
            mxi_error_wrap(err, MYAPPCTX_ESCHEMA, &e,
                           "%s: this role may not run api.schema_version() (%s); " GRANT_HINT,
                           what, mxi_error_cause(&e, what));
            return schema_error(err, MYAPPCTX_ESCHEMA, GRANT_HINT);
        }
        if (err != NULL)
            *err = e;
        return rc;
    }
    if (installed == needed)
        return MYAPPCTX_OK;
    if (installed <= 0) {
        mxi_error_set(err, MYAPPCTX_ESCHEMA, NULL,
                      "%s: the schema is not installed in this database; " INSTALL_HINT, what);
        return schema_error(err, MYAPPCTX_ESCHEMA, INSTALL_HINT);
    }
    if (installed < needed) {
        mxi_error_set(err, MYAPPCTX_ESCHEMA, NULL,
                      "%s: the schema installed is version %lld, this library needs %d; "
                      UPGRADE_HINT, what, installed, needed);
        return schema_error(err, MYAPPCTX_ESCHEMA, UPGRADE_HINT);
    }
    mxi_error_set(err, MYAPPCTX_ESCHEMA, NULL,
                  "%s: the schema installed is version %lld, newer than this library's %d; "
                  NEWER_HINT, what, installed, needed);
    return schema_error(err, MYAPPCTX_ESCHEMA, NEWER_HINT);
}
