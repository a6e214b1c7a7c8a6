/* Running the built myappctx tool from the tests of tests/tools/. */
#ifndef MYAPPCTX_TEST_TOOL_UTIL_H
#define MYAPPCTX_TEST_TOOL_UTIL_H

#include <jansson.h>

#include "testutil.h"

/* What a run of the tool left: its exit status (-1 if it did not exit
 * normally) and everything it wrote to stdout and stderr. */
struct tool_result {
    int status;
    char *out;
    char *err;
};

enum tool_env {
    TOOL_ENV_INHERIT,   /* the harness's PG* (a superuser, the test database) */
    TOOL_ENV_NO_PG      /* without PGHOST, PGPORT, PGUSER, PGDATABASE */
};

/* Runs $top_builddir/tools/myappctx with the arguments (NULL-terminated;
 * no shell involved).  Free the result with tool_result_free(). */
struct tool_result tool_run(enum tool_env env, const char *arg, ...);
void tool_result_free(struct tool_result *r);

/* Fails the test unless R exited with STATUS, showing what it printed. */
#define tool_assert_status(r, expected)                                              \
    ck_assert_msg((r).status == (expected), "exit status %d, expected %d\nstdout: %.2500s\nstderr: %.1500s", \
                  (r).status, (expected), (r).out, (r).err)

/* Parses TEXT as one JSON document or fails the test. */
json_t *tool_json(const char *text);

/* Runs SQL (no parameters) in the database named by CONNINFO as the
 * harness's superuser, failing the test on error. */
void tool_sql(const char *conninfo, const char *sql);

#endif
