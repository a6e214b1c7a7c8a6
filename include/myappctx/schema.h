/**
 * @file myappctx/schema.h
 * The server-side schema, embedded in the library and installed by one call.
 *
 * The schema is a list of numbered migrations (sql/NNN_*.sql in the source
 * tree) plus optional demo objects (sql/demo/).  Installation applies the
 * missing ones in order, in one transaction, under an advisory lock, and
 * records each one's version and SHA-256 in myappctx.schema_migrations.
 *
 * Threading: the calls taking a myappctx_conn use it from one thread at a
 * time; the migration accessors read static data and may be called from any
 * thread.  Ownership: nothing here allocates; migration strings are static.
 * Each function lists only its own codes; see myappctx/error.h for the
 * common ones.
 */
#ifndef MYAPPCTX_SCHEMA_H
#define MYAPPCTX_SCHEMA_H

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Which set of migrations. */
typedef enum myappctx_schema_kind {
    MYAPPCTX_SCHEMA_CORE = 0,   /**< the schema of the specification */
    MYAPPCTX_SCHEMA_DEMO = 1    /**< demo objects for the examples (data.orders, RLS) */
} myappctx_schema_kind;

/** One embedded migration (all strings are static; do not free). */
typedef struct myappctx_migration {
    myappctx_schema_kind kind;  /**< core or demo */
    int version;                /**< its number (NNN in sql/NNN_*.sql) */
    const char *name;           /**< its file name, e.g. "001_schemas.sql" */
    const char *sql;            /**< its SQL text */
} myappctx_migration;

/** Options for myappctx_schema_install(); start from MYAPPCTX_SCHEMA_OPTIONS_INIT. */
typedef struct myappctx_schema_options {
    int version;              /**< MYAPPCTX_SCHEMA_OPTIONS_VERSION */
    /** Application role to set up (role defaults and least-privilege grants),
     *  or NULL to leave roles alone. */
    const char *app_role;
    /** Non-zero: create @ref app_role when it does not exist (default 1). */
    int create_role;
    /** Non-zero: also install the demo objects (default 0). */
    int demo;
} myappctx_schema_options;

/** The version of myappctx_schema_options this header describes. */
#define MYAPPCTX_SCHEMA_OPTIONS_VERSION 1
/** Initialiser of myappctx_schema_options with every default. */
#define MYAPPCTX_SCHEMA_OPTIONS_INIT { MYAPPCTX_SCHEMA_OPTIONS_VERSION, NULL, 1, 0 }

/** What is installed compared with what this library carries. */
typedef struct myappctx_schema_status {
    int installed_version;    /**< highest applied core migration, 0 if none */
    int available_version;    /**< highest core migration embedded in the library */
    int demo_installed;       /**< highest applied demo migration, 0 if none */
    int demo_available;       /**< highest demo migration embedded */
    int applied_now;          /**< migrations applied by the install call that filled this */
} myappctx_schema_status;

/**
 * Installs or upgrades the schema.  Idempotent: a repeat call applies
 * nothing (but still (re)applies the role setup when @p opts->app_role is
 * set).  Concurrent installers serialise on an advisory lock; the second
 * finds the work done.  Needs privileges to create schemas, functions and
 * roles (typically a superuser).  On failure nothing is changed (the
 * transaction is rolled back).
 *
 * @param conn      a connection not inside a transaction
 * @param opts      options or NULL for the defaults (app_role: 1..63 bytes
 *                  of UTF-8)
 * @param[out] out  optional; receives the status after installation
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EBUSY (@p conn is inside a transaction
 *         block); MYAPPCTX_ESCHEMA (an applied migration's checksum differs
 *         from the embedded one, or the database has a migration this
 *         library does not know: a newer schema); MYAPPCTX_EBADARG (P0058:
 *         opts->app_role is reserved, a superuser or BYPASSRLS role, or
 *         missing while create_role is 0); any code a failing migration's
 *         server error maps to.
 */
MYAPPCTX_API int myappctx_schema_install(myappctx_conn *conn,
                                         const myappctx_schema_options *opts,
                                         myappctx_schema_status *out,
                                         myappctx_error *err);

/** Reads the installed and available versions (read-only, no lock; on a
 *  database without the schema the installed versions are 0).
 *  @return MYAPPCTX_OK or an error code. */
MYAPPCTX_API int myappctx_schema_status_get(myappctx_conn *conn,
                                            myappctx_schema_status *out,
                                            myappctx_error *err);

/** Checks that the schema installed in the database is the version this
 *  library embeds: one read-only query, `SELECT api.schema_version()`,
 *  which the application role may run (it cannot read
 *  myappctx.schema_migrations); a second one on the catalog when that
 *  function is missing.  Call it after connecting when a mismatch should
 *  stop the application early; a pool does it for every new connection
 *  with myappctx_pool_config.check_schema.  Inside a transaction block, a
 *  schema without the function aborts that transaction (the query fails).
 *  @return MYAPPCTX_OK; MYAPPCTX_ESCHEMA when the schema is missing, older
 *          or newer than this library, or when the role may not run
 *          api.schema_version() (SQLSTATE 42501); the message ends with
 *          what to do ("run 'myappctx schema install'", "... --app-role",
 *          "upgrade the library"), which err->hint repeats. */
MYAPPCTX_API int myappctx_schema_check(myappctx_conn *conn, myappctx_error *err);

/** Number of embedded migrations of @p kind (0 for an unknown kind). */
MYAPPCTX_API size_t myappctx_schema_migration_count(myappctx_schema_kind kind);

/** The @p index-th (0-based) embedded migration of @p kind, in order.
 *  @return MYAPPCTX_OK, or MYAPPCTX_EINVAL (also for an unknown kind or an
 *          index out of range). */
MYAPPCTX_API int myappctx_schema_migration_get(myappctx_schema_kind kind, size_t index,
                                               myappctx_migration *out,
                                               myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_SCHEMA_H */
