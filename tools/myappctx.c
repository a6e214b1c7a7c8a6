/* myappctx: command-line front end of libmyappctx.
 *
 *   myappctx [-d CONNINFO] schema install [--app-role NAME] [--no-create-role] [--demo]
 *   myappctx [-d CONNINFO] schema status
 *   myappctx schema sql [--demo]
 *
 * The connection comes from -d (a libpq conninfo string or URI) or, as with
 * psql, from the PG* environment variables.
 * Exit codes: 0 success, 1 failure reported by the library or server,
 * 2 usage error, 3 cannot connect, 4 schema not installed or out of date
 * (status only).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "myappctx.h"

enum { EXIT_USAGE = 2, EXIT_CONNECT = 3, EXIT_OUTDATED = 4 };

static void
usage(FILE *to)
{
    fprintf(to,
        "Usage: myappctx [-d CONNINFO] COMMAND\n"
        "\n"
        "Commands:\n"
        "  schema install [--app-role NAME] [--no-create-role] [--demo]\n"
        "                  apply missing migrations (idempotent); with --app-role, set up\n"
        "                  that role's defaults and least-privilege grants\n"
        "  schema status   show installed and available schema versions\n"
        "                  (exit 4 if not installed or out of date)\n"
        "  schema sql [--demo]\n"
        "                  print the embedded SQL (for review, or to pipe to psql)\n"
        "\n"
        "Options:\n"
        "  -d, --dbname CONNINFO  connection string or URI (default: PG* environment)\n"
        "  -h, --help             show this help\n"
        "  -V, --version          show the library version\n"
        "\n"
        "Exit status: 0 ok, 1 error, 2 usage, 3 cannot connect, 4 schema outdated.\n");
}

static int
fail(const char *what, const myappctx_error *err)
{
    fprintf(stderr, "myappctx: %s: %s%s%s%s\n", what, err->message,
            err->sqlstate[0] ? " (SQLSTATE " : "", err->sqlstate,
            err->sqlstate[0] ? ")" : "");
    return err->code == MYAPPCTX_ECONNECT ? EXIT_CONNECT : EXIT_FAILURE;
}

static int
print_sql(int demo)
{
    myappctx_schema_kind kind = demo ? MYAPPCTX_SCHEMA_DEMO : MYAPPCTX_SCHEMA_CORE;
    size_t n = myappctx_schema_migration_count(kind);

    printf("-- libmyappctx %s schema (%s), %zu migrations.\n"
           "-- Review, or run with: psql -v ON_ERROR_STOP=1 -1 -f FILE\n"
           "-- Note: 'myappctx schema install' also records each migration in\n"
           "-- myappctx.schema_migrations; this script does not.\n\n",
           myappctx_version(), demo ? "demo objects" : "core", n);
    for (size_t i = 0; i < n; i++) {
        myappctx_migration m;
        if (myappctx_schema_migration_get(kind, i, &m, NULL) != MYAPPCTX_OK)
            return EXIT_FAILURE;
        printf("-- ===== %s (version %d) =====\n%s\n", m.name, m.version, m.sql);
    }
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int
connect_or_fail(myappctx_conn **conn, const char *conninfo)
{
    myappctx_error err;
    if (myappctx_conn_open(conn, conninfo ? conninfo : "", NULL, &err) != MYAPPCTX_OK) {
        fail("cannot connect", &err);
        return EXIT_CONNECT;
    }
    return EXIT_SUCCESS;
}

static int
cmd_install(const char *conninfo, int argc, char **argv)
{
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--app-role") == 0 && i + 1 < argc)
            opts.app_role = argv[++i];
        else if (strncmp(argv[i], "--app-role=", 11) == 0)
            opts.app_role = argv[i] + 11;
        else if (strcmp(argv[i], "--no-create-role") == 0)
            opts.create_role = 0;
        else if (strcmp(argv[i], "--demo") == 0)
            opts.demo = 1;
        else {
            fprintf(stderr, "myappctx: schema install: unknown argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    myappctx_conn *conn;
    int rc = connect_or_fail(&conn, conninfo);
    if (rc != EXIT_SUCCESS)
        return rc;
    myappctx_schema_status st;
    myappctx_error err;
    if (myappctx_schema_install(conn, &opts, &st, &err) != MYAPPCTX_OK)
        rc = fail("schema install", &err);
    else
        printf("schema version %d installed (%d migration%s applied now)%s%s%s\n",
               st.installed_version, st.applied_now, st.applied_now == 1 ? "" : "s",
               opts.demo ? ", demo objects installed" : "",
               opts.app_role ? ", role set up: " : "", opts.app_role ? opts.app_role : "");
    myappctx_conn_close(conn);
    return rc;
}

static int
cmd_status(const char *conninfo)
{
    myappctx_conn *conn;
    int rc = connect_or_fail(&conn, conninfo);
    if (rc != EXIT_SUCCESS)
        return rc;
    myappctx_schema_status st;
    myappctx_error err;
    if (myappctx_schema_status_get(conn, &st, &err) != MYAPPCTX_OK) {
        rc = fail("schema status", &err);
    } else {
        printf("installed: %d\navailable: %d\ndemo installed: %d\ndemo available: %d\n",
               st.installed_version, st.available_version,
               st.demo_installed, st.demo_available);
        if (st.installed_version != st.available_version)
            rc = EXIT_OUTDATED;
    }
    myappctx_conn_close(conn);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *conninfo = NULL;
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return EXIT_SUCCESS;
        } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            printf("myappctx %s\n", myappctx_version());
            return EXIT_SUCCESS;
        } else if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--dbname") == 0) && i + 1 < argc) {
            conninfo = argv[++i];
        } else if (strncmp(argv[i], "--dbname=", 9) == 0) {
            conninfo = argv[i] + 9;
        } else {
            fprintf(stderr, "myappctx: unknown option '%s' (try --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (argc - i < 2 || strcmp(argv[i], "schema") != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[i + 1];
    if (strcmp(sub, "install") == 0)
        return cmd_install(conninfo, argc - i - 2, argv + i + 2);
    if (strcmp(sub, "status") == 0 && argc - i == 2)
        return cmd_status(conninfo);
    if (strcmp(sub, "sql") == 0 && argc - i == 2)
        return print_sql(0);
    if (strcmp(sub, "sql") == 0 && argc - i == 3 && strcmp(argv[i + 2], "--demo") == 0)
        return print_sql(1);
    fprintf(stderr, "myappctx: unknown schema command '%s' (try --help)\n", sub);
    return EXIT_USAGE;
}
