/* Installing the embedded schema: versioned, checksummed, under a lock. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/schema.h"

/* pg_advisory_xact_lock key: the first 8 bytes of sha256("myappctx.schema"),
 * fixed so every library version serialises on the same lock. */
#define SCHEMA_LOCK_KEY "7339224312837582610"

/* The function whose name every message of the installer starts with. */
#define INSTALL "myappctx_schema_install"

static const char bootstrap_sql[] =
    "CREATE SCHEMA IF NOT EXISTS myappctx;\n"
    "CREATE TABLE IF NOT EXISTS myappctx.schema_migrations (\n"
    "    kind       text        NOT NULL CHECK (kind IN ('core', 'demo')),\n"
    "    version    integer     NOT NULL,\n"
    "    name       text        NOT NULL,\n"
    "    checksum   text        NOT NULL,\n"
    "    applied_at timestamptz NOT NULL DEFAULT now(),\n"
    "    PRIMARY KEY (kind, version)\n"
    ");\n"
    "REVOKE ALL ON SCHEMA myappctx FROM PUBLIC;\n";

static const struct mxi_embedded_file *
group_of(myappctx_schema_kind kind, size_t *count)
{
    if (kind == MYAPPCTX_SCHEMA_DEMO) {
        *count = mxi_embedded_demo_count;
        return mxi_embedded_demo;
    }
    *count = mxi_embedded_core_count;
    return mxi_embedded_core;
}

static const char *
kind_name(myappctx_schema_kind kind)
{
    return kind == MYAPPCTX_SCHEMA_DEMO ? "demo" : "core";
}

static int
last_version(myappctx_schema_kind kind)
{
    size_t n;
    const struct mxi_embedded_file *files = group_of(kind, &n);
    return n ? files[n - 1].version : 0;
}

MYAPPCTX_API size_t
myappctx_schema_migration_count(myappctx_schema_kind kind)
{
    size_t n;
    if (kind != MYAPPCTX_SCHEMA_CORE && kind != MYAPPCTX_SCHEMA_DEMO)
        return 0;
    (void)group_of(kind, &n);
    return n;
}

MYAPPCTX_API int
myappctx_schema_migration_get(myappctx_schema_kind kind, size_t index,
                              myappctx_migration *out, myappctx_error *err)
{
    size_t n;
    MXI_ERROR_REQUIRE_ARG(err, out);
    if (kind != MYAPPCTX_SCHEMA_CORE && kind != MYAPPCTX_SCHEMA_DEMO)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "myappctx_schema_migration_get: unknown kind %d", (int)kind);
    const struct mxi_embedded_file *files = group_of(kind, &n);
    if (index >= n)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "myappctx_schema_migration_get: %s migration index %zu out of range (%zu)",
                             kind_name(kind), index, n);
    out->kind = kind;
    out->version = files[index].version;
    out->name = files[index].name;
    out->sql = files[index].sql;
    return MYAPPCTX_OK;
}

/* Reads applied versions; *exists is false when the bookkeeping table is absent. */
static int
read_applied(myappctx_conn *conn, const char *what, PGresult **out, bool *exists,
             myappctx_error *err)
{
    PGresult *res;
    const char *val;
    *out = NULL;
    int rc = mxi_exec_one(conn, what, "SELECT to_regclass('myappctx.schema_migrations') IS NOT NULL",
                          0, NULL, &res, &val, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    *exists = val != NULL && val[0] == 't';
    PQclear(res);
    if (!*exists)
        return MYAPPCTX_OK;
    return mxi_exec_params(conn, what,
                    "SELECT kind, version, name, checksum FROM myappctx.schema_migrations "
                    "ORDER BY kind, version", 0, NULL, out, err);
}

static void
status_from(const PGresult *applied, myappctx_schema_status *st)
{
    memset(st, 0, sizeof *st);
    st->available_version = last_version(MYAPPCTX_SCHEMA_CORE);
    st->demo_available = last_version(MYAPPCTX_SCHEMA_DEMO);
    for (int i = 0; applied && i < PQntuples(applied); i++) {
        int v = atoi(PQgetvalue(applied, i, 1));
        int *slot = strcmp(PQgetvalue(applied, i, 0), "demo") == 0
                        ? &st->demo_installed : &st->installed_version;
        if (v > *slot)
            *slot = v;
    }
}

static int
status_get(myappctx_conn *conn, const char *what, myappctx_schema_status *out,
           myappctx_error *err)
{
    PGresult *applied;
    bool exists;
    int rc = read_applied(conn, what, &applied, &exists, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    status_from(applied, out);
    PQclear(applied);
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_schema_status_get(myappctx_conn *conn, myappctx_schema_status *out,
                           myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    return status_get(conn, __func__, out, err);
}

/* The check the pool's check_schema makes too (lib/api/schema_version.c):
 * through api.schema_version(), so that the application's own role may
 * run it. */
MYAPPCTX_API int
myappctx_schema_check(myappctx_conn *conn, myappctx_error *err)
{
    return mxi_schema_version_check(conn, __func__, err);
}

/* Verifies applied migrations of one kind against the embedded ones. */
static int
verify_applied(const PGresult *applied, myappctx_schema_kind kind, myappctx_error *err)
{
    size_t n;
    const struct mxi_embedded_file *files = group_of(kind, &n);
    for (int i = 0; i < PQntuples(applied); i++) {
        if (strcmp(PQgetvalue(applied, i, 0), kind_name(kind)) != 0)
            continue;
        int v = atoi(PQgetvalue(applied, i, 1));
        const struct mxi_embedded_file *f = NULL;
        for (size_t k = 0; k < n; k++)
            if (files[k].version == v)
                f = &files[k];
        if (f == NULL)
            return mxi_error_set(err, MYAPPCTX_ESCHEMA, NULL,
                                 "myappctx_schema_install: %s migration %d (%s) is applied but unknown to "
                                 "this library %s; upgrade the library",
                                 kind_name(kind), v, PQgetvalue(applied, i, 2),
                                 MYAPPCTX_VERSION_STRING);
        if (strcmp(f->sha256, PQgetvalue(applied, i, 3)) != 0)
            return mxi_error_set(err, MYAPPCTX_ESCHEMA, NULL,
                                 "myappctx_schema_install: checksum of applied %s migration %d (%s) differs "
                                 "from the embedded one; refusing to continue",
                                 kind_name(kind), v, f->name);
    }
    return MYAPPCTX_OK;
}

static bool
is_applied(const PGresult *applied, myappctx_schema_kind kind, int version)
{
    for (int i = 0; i < PQntuples(applied); i++)
        if (strcmp(PQgetvalue(applied, i, 0), kind_name(kind)) == 0 &&
            atoi(PQgetvalue(applied, i, 1)) == version)
            return true;
    return false;
}

static int
apply_missing(myappctx_conn *conn, const PGresult *applied, myappctx_schema_kind kind,
              int *count, myappctx_error *err)
{
    size_t n;
    const struct mxi_embedded_file *files = group_of(kind, &n);
    for (size_t k = 0; k < n; k++) {
        if (is_applied(applied, kind, files[k].version))
            continue;
        /* The migration is our own SQL text, possibly several statements:
         * the simple-query protocol runs it inside the open transaction. */
        myappctx_error inner;
        int rc = mxi_exec_script(conn, INSTALL, files[k].sql, &inner);
        if (rc != MYAPPCTX_OK)
            return mxi_error_wrap(err, rc, &inner, INSTALL ": %s migration %s failed: %s",
                                  kind_name(kind), files[k].name,
                                  mxi_error_cause(&inner, INSTALL));

        char version[16];
        snprintf(version, sizeof version, "%d", files[k].version);
        const char *params[] = { kind_name(kind), version, files[k].name, files[k].sha256 };
        rc = mxi_exec_params(conn, INSTALL,
                          "INSERT INTO myappctx.schema_migrations (kind, version, name, checksum) "
                          "VALUES ($1, $2::integer, $3, $4)", 4, params, NULL, err);
        if (rc != MYAPPCTX_OK)
            return rc;
        (*count)++;
    }
    return MYAPPCTX_OK;
}

static int
install_locked(myappctx_conn *conn, const myappctx_schema_options *opts,
               myappctx_schema_status *st, myappctx_error *err)
{
    const char *lock[] = { SCHEMA_LOCK_KEY };
    PGresult *applied = NULL;
    bool exists;
    int applied_now = 0;

    int rc = mxi_exec_params(conn, INSTALL, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock,
                             NULL, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_exec_script(conn, INSTALL, bootstrap_sql, err);
    if (rc == MYAPPCTX_OK)
        rc = read_applied(conn, INSTALL, &applied, &exists, err);
    if (rc == MYAPPCTX_OK)
        rc = verify_applied(applied, MYAPPCTX_SCHEMA_CORE, err);
    if (rc == MYAPPCTX_OK)
        rc = verify_applied(applied, MYAPPCTX_SCHEMA_DEMO, err);
    if (rc == MYAPPCTX_OK)
        rc = apply_missing(conn, applied, MYAPPCTX_SCHEMA_CORE, &applied_now, err);
    if (rc == MYAPPCTX_OK && opts->demo)
        rc = apply_missing(conn, applied, MYAPPCTX_SCHEMA_DEMO, &applied_now, err);
    PQclear(applied);
    if (rc == MYAPPCTX_OK && opts->app_role != NULL) {
        const char *p[] = { opts->app_role, opts->create_role ? "true" : "false" };
        rc = mxi_exec_params(conn, INSTALL, "SELECT myappctx.setup_app_role($1::name, $2::boolean)",
                      2, p, NULL, err);
        if (rc == MYAPPCTX_OK && opts->demo)
            rc = mxi_exec_params(conn, INSTALL, "SELECT myappctx.setup_demo_grants($1::name)",
                          1, p, NULL, err);
    }
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = read_applied(conn, INSTALL, &applied, &exists, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    status_from(applied, st);
    PQclear(applied);
    st->applied_now = applied_now;
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_schema_install(myappctx_conn *conn, const myappctx_schema_options *opts,
                        myappctx_schema_status *out, myappctx_error *err)
{
    static const myappctx_schema_options defaults = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    myappctx_schema_status st;

    if (opts == NULL)
        opts = &defaults;
    if (opts->version != MYAPPCTX_SCHEMA_OPTIONS_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "myappctx_schema_install: options version %d is not %d (use MYAPPCTX_SCHEMA_OPTIONS_INIT)",
                             opts->version, MYAPPCTX_SCHEMA_OPTIONS_VERSION);
    if (opts->app_role != NULL) {
        int rc = mxi_text_check(opts->app_role, 63, false, "app_role", "myappctx_schema_install", err);
        if (rc != MYAPPCTX_OK)
            return rc;
        if (opts->app_role[0] == '\0')
            return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                                 "myappctx_schema_install: argument 'app_role' is empty");
    }
    int rc = mxi_conn_ready(conn, "myappctx_schema_install", err);
    if (rc != MYAPPCTX_OK)
        return rc;
    if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        return mxi_error_set(err, MYAPPCTX_EBUSY, NULL,
                             "myappctx_schema_install: the connection is inside a transaction; "
                             "the installer needs its own");

    rc = mxi_exec_params(conn, INSTALL, "BEGIN", 0, NULL, NULL, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    rc = install_locked(conn, opts, &st, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_exec_commit(conn, "myappctx_schema_install", err);
    else
        (void)myappctx_rollback(conn, NULL);
    if (rc == MYAPPCTX_OK && out != NULL)
        *out = st;
    return rc;
}
