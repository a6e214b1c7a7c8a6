/* Shared declarations of the myappctx tool (the .c files in tools/).
 *
 * Names follow the library's rule with the tool's own prefix: a function
 * shared between the tool's files is cli_<file>_<verb>, after the .c file
 * that defines it (cli_connect_open in connect.c).  The tool uses only the
 * public API of libmyappctx, plus libpq and jansson directly.
 */
#ifndef MYAPPCTX_TOOLS_CLI_H
#define MYAPPCTX_TOOLS_CLI_H

#include <stddef.h>

#include "myappctx.h"

/* Exit statuses besides EXIT_SUCCESS (0) and EXIT_FAILURE (1: an error
 * reported by the library or the server; doctor: findings). */
enum { CLI_EXIT_USAGE = 2, CLI_EXIT_CONNECT = 3, CLI_EXIT_OUTDATED = 4 };

/* The psql-style connection options; NULL means "not given" (libpq's
 * defaults and the PG* environment apply). */
struct cli_conn_options {
    const char *host;       /* -h */
    const char *port;       /* -p */
    const char *user;       /* -U */
    const char *dbname;     /* -d: a database name, or a conninfo string or URI */
};

/* An open connection: the PGconn the tool opened and the library's handle
 * wrapping it (the library does not own the PGconn). */
struct cli_session {
    PGconn *pg;
    myappctx_conn *conn;
};

/* Connects as psql would (PQconnectdbParams, expand_dbname).  Prints the
 * error and returns CLI_EXIT_USAGE when -d is a connection string libpq
 * cannot parse, CLI_EXIT_CONNECT when the connection fails, EXIT_FAILURE on
 * other errors; EXIT_SUCCESS with *out filled otherwise. */
int cli_connect_open(struct cli_session *out, const struct cli_conn_options *opts);

/* Closes what cli_connect_open() opened (the wrapper first, then the
 * PGconn).  Accepts a session that was never opened (all NULL). */
void cli_connect_close(struct cli_session *s);

/* Prints "myappctx: WHAT: MESSAGE (SQLSTATE xxxxx)" on stderr and returns
 * the exit status for err: CLI_EXIT_CONNECT for a lost connection,
 * EXIT_FAILURE otherwise. */
int cli_connect_fail(const char *what, const myappctx_error *err);

/* Options of `myappctx doctor`. */
struct cli_doctor_options {
    const char *app_role;            /* never NULL */
    const char *const *schemas;      /* -n NAME..., or NULL for every non-system schema */
    size_t nschemas;
    int json;
};

/* Runs `myappctx doctor`: EXIT_SUCCESS (no error or warning findings),
 * EXIT_FAILURE (findings, or the audit could not run), CLI_EXIT_USAGE,
 * CLI_EXIT_CONNECT. */
int cli_doctor_run(const struct cli_conn_options *conn, const struct cli_doctor_options *opts);

/* The context readers of sql/002_context.sql, all in schema private;
 * NULL-terminated. */
extern const char *const cli_policy_scan_readers[];

/* One call of a context reader found in a deparsed policy expression. */
struct cli_policy_scan_call {
    size_t start, end;        /* byte offsets of "private.name()" in the text */
    int in_subquery;          /* inside a "( SELECT ...)" sub-select */
};

/* Finds the calls of the context readers in EXPR, a policy expression as
 * pg_get_expr() prints it with search_path = pg_catalog (so the calls are
 * schema-qualified, and a sub-select prints as "( SELECT ... )").  String
 * literals and quoted identifiers are skipped.  Fills at most MAX entries of
 * OUT and returns the number of calls found (which may exceed MAX). */
size_t cli_policy_scan_calls(const char *expr, struct cli_policy_scan_call *out, size_t max);

/* EXPR with every reader call that is not inside a sub-select wrapped as
 * "(SELECT private.name())", in a new malloc'ed string (NULL when out of
 * memory).  *changed is set to the number of calls wrapped. */
char *cli_policy_scan_wrap(const char *expr, size_t *changed);

#endif
