/* Connecting as psql does: -h -p -U -d, where -d may itself be a connection
 * string or URI, and the PG* environment for everything not given. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* libpq's own test for "dbname is a connection string" (it expands such a
 * dbname when expand_dbname is set): an '=' or a URI prefix. */
static int
is_conninfo(const char *s)
{
    return strchr(s, '=') != NULL || strncmp(s, "postgresql://", 13) == 0 ||
           strncmp(s, "postgres://", 11) == 0;
}

/* libpq messages end in '\n' and may carry more lines (a hint, one line per
 * host tried); the tool prints one line, the parts joined by "; ". */
static void
print_one_line(FILE *to, const char *msg)
{
    const char *p = msg;
    int first = 1;
    while (*p != '\0') {
        while (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ')
            p++;
        size_t n = strcspn(p, "\r\n");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0) {
            fprintf(to, "%s%.*s", first ? "" : "; ", (int)n, p);
            first = 0;
        }
        p += strcspn(p, "\r\n");
    }
    fputc('\n', to);
}

/* The library's own connections drop notices (it never prints).  The tool
 * keeps that for NOTICE and below -- a repeated install would otherwise
 * report every "already exists, skipping" -- but shows WARNING, which a
 * DBA should see. */
static void
show_warnings(void *arg, const PGresult *res)
{
    (void)arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev != NULL && strcmp(sev, "WARNING") == 0)
        fprintf(stderr, "myappctx: server: %s", PQresultErrorMessage(res));
}

int
cli_connect_open(struct cli_session *out, const struct cli_conn_options *o)
{
    out->pg = NULL;
    out->conn = NULL;

    /* A -d that looks like a connection string but does not parse is a
     * usage error (exit 2) with libpq's own message, not a failed connect. */
    if (o->dbname != NULL && is_conninfo(o->dbname)) {
        char *errmsg = NULL;
        PQconninfoOption *parsed = PQconninfoParse(o->dbname, &errmsg);
        if (parsed == NULL) {
            fputs("myappctx: invalid connection string: ", stderr);
            print_one_line(stderr, errmsg != NULL ? errmsg : "out of memory");
            PQfreemem(errmsg);
            return CLI_EXIT_USAGE;
        }
        PQconninfoFree(parsed);
    }

    /* The same keywords in the same order as psql: settings inside an
     * expanded -d override -h/-p/-U given beside it.  NULL values are
     * skipped by libpq, which then falls back to PG* and its defaults. */
    const char *keywords[] = { "host", "port", "user", "dbname",
                               "fallback_application_name", NULL };
    const char *values[] = { o->host, o->port, o->user, o->dbname, "myappctx", NULL };
    PGconn *pg = PQconnectdbParams(keywords, values, 1);
    if (pg == NULL) {
        fputs("myappctx: cannot connect: out of memory\n", stderr);
        return CLI_EXIT_CONNECT;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        fputs("myappctx: cannot connect: ", stderr);
        print_one_line(stderr, PQerrorMessage(pg));
        PQfinish(pg);
        return CLI_EXIT_CONNECT;
    }
    PQsetNoticeReceiver(pg, show_warnings, NULL);

    /* The tool administers: the installer needs a superuser (or the
     * schema's owner), doctor and status read the catalogs as one.  It
     * opts in to privileged sessions knowingly; it never runs the
     * application's queries, for which row-level security would not apply. */
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.allow_privileged = 1;
    myappctx_error err;
    if (myappctx_conn_wrap(&out->conn, pg, &opts, &err) != MYAPPCTX_OK) {
        PQfinish(pg);
        return cli_connect_fail("cannot connect", &err);
    }
    out->pg = pg;
    return EXIT_SUCCESS;
}

void
cli_connect_close(struct cli_session *s)
{
    myappctx_conn_close(s->conn);   /* the wrapper only: the PGconn is ours */
    PQfinish(s->pg);
    s->conn = NULL;
    s->pg = NULL;
}

int
cli_connect_fail(const char *what, const myappctx_error *err)
{
    fprintf(stderr, "myappctx: %s: %s%s%s%s\n", what, err->message,
            err->sqlstate[0] ? " (SQLSTATE " : "", err->sqlstate,
            err->sqlstate[0] ? ")" : "");
    return err->code == MYAPPCTX_ECONNECT ? CLI_EXIT_CONNECT : EXIT_FAILURE;
}
