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
 * reported by the library or the server). */
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

#endif
