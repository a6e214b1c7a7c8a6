/* Shared helpers of the Check test programs. */
#ifndef MYAPPCTX_TEST_UTIL_H
#define MYAPPCTX_TEST_UTIL_H

#include <check.h>
#include "myappctx.h"

/* Runs the suite with TAP on stdout (for automake's tap-driver) and returns
 * the process exit status. */
int tu_run(Suite *s);

/* Opens a connection from the PG* environment (set by the harness); fails
 * the test with the library's message otherwise.  Close with myappctx_conn_close(). */
myappctx_conn *tu_connect(void);
myappctx_conn *tu_connect_opts(const char *conninfo, const myappctx_conn_options *opts);

/* A conninfo for the PgBouncer of the harness (static buffer), or NULL when
 * the harness did not start one. */
const char *tu_pgbouncer_conninfo(const char *user);

/* Runs SQL (no parameters) on a raw PGconn and fails the test on error. */
void tu_sql(PGconn *pg, const char *sql);

/* Creates a fresh database (name returned in a static buffer per call site)
 * and returns a conninfo string for it (caller frees). */
char *tu_create_database(const char *prefix);
void tu_drop_database(const char *conninfo_or_name);

/* Asserts rc == expected, printing the library's message on mismatch. */
#define tu_assert_rc(rc, expected, err)                                          \
    ck_assert_msg((rc) == (expected), "expected %s (%d), got %s (%d): %s [%s]",  \
                  myappctx_strerror(expected), (expected), myappctx_strerror(rc), \
                  (rc), (err).message, (err).sqlstate)

#define tu_assert_ok(rc, err) tu_assert_rc(rc, MYAPPCTX_OK, err)

#endif
