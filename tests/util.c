#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int
tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    setvbuf(stdout, NULL, _IONBF, 0);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

myappctx_conn *
tu_connect_opts(const char *conninfo, const myappctx_conn_options *opts)
{
    myappctx_conn *conn = NULL;
    myappctx_error err;
    int rc = myappctx_conn_open(&conn, conninfo ? conninfo : "", opts, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "connect failed (is the harness running?): %s",
                  err.message);
    return conn;
}

myappctx_conn *
tu_connect(void)
{
    return tu_connect_opts("", NULL);
}

const char *
tu_pgbouncer_conninfo(const char *user)
{
    static __thread char buf[512];
    const char *host = getenv("MYAPPCTX_PGBOUNCER_HOST");
    const char *port = getenv("MYAPPCTX_PGBOUNCER_PORT");
    const char *db = getenv("PGDATABASE");
    if (host == NULL || port == NULL)
        return NULL;
    snprintf(buf, sizeof buf, "host=%s port=%s dbname=%s user=%s", host, port,
             db ? db : "myappctx_test", user ? user : "postgres");
    return buf;
}

void
tu_sql(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
                  "SQL failed: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

char *
tu_create_database(const char *prefix)
{
    static unsigned counter;
    char name[64], sql[128];
    snprintf(name, sizeof name, "%s_%ld_%u", prefix, (long)getpid(), counter++);
    myappctx_conn *c = tu_connect();
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name); /* test-only, name is ours */
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
    size_t len = strlen(name) + 16;
    char *conninfo = malloc(len);
    ck_assert_ptr_nonnull(conninfo);
    snprintf(conninfo, len, "dbname=%s", name);
    return conninfo;
}

void
tu_drop_database(const char *conninfo)
{
    char sql[160];
    const char *name = strncmp(conninfo, "dbname=", 7) == 0 ? conninfo + 7 : conninfo;
    myappctx_conn *c = tu_connect();
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}
