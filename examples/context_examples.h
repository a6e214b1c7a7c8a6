/* Helpers shared by the context, audit and session-variable examples: each
 * step either succeeds or ends the program with a clear message, so an
 * example exits non-zero on any unexpected result. */
#ifndef MYAPPCTX_CONTEXT_EXAMPLES_H
#define MYAPPCTX_CONTEXT_EXAMPLES_H

#include <stdio.h>
#include <stdlib.h>

#include <myappctx.h>

/* Stops the program unless @rc is MYAPPCTX_OK. */
static inline void
ex_ok(int rc, const myappctx_error *err, const char *step)
{
    if (rc == MYAPPCTX_OK)
        return;
    fflush(stdout);   /* keep the output in order when both go to one pipe */
    fprintf(stderr, "UNEXPECTED: %s failed: %s (%d): %s [%s]\n", step,
            myappctx_strerror(rc), rc, err->message, err->sqlstate);
    exit(EXIT_FAILURE);
}

/* Stops the program unless @rc is the expected refusal; prints it. */
static inline void
ex_refused(int rc, int expected, const myappctx_error *err, const char *step)
{
    if (rc != expected) {
        fflush(stdout);
        fprintf(stderr, "UNEXPECTED: %s returned %s (%d), expected %s (%d)\n", step,
                myappctx_strerror(rc), rc, myappctx_strerror(expected), expected);
        exit(EXIT_FAILURE);
    }
    printf("   refused as expected: %s%s%s -- %s\n", myappctx_strerror(rc),
           err->sqlstate[0] ? ", SQLSTATE " : "", err->sqlstate, err->message);
}

/* Stops the program with @what when @cond is false. */
static inline void
ex_check(int cond, const char *what)
{
    if (!cond) {
        fflush(stdout);
        fprintf(stderr, "UNEXPECTED: %s\n", what);
        exit(EXIT_FAILURE);
    }
}

/* Opens the connection named by argv[1] ("" = PG* environment). */
static inline myappctx_conn *
ex_connect(int argc, char **argv, const myappctx_conn_options *opts)
{
    myappctx_conn *conn = NULL;
    myappctx_error err;
    ex_ok(myappctx_conn_open(&conn, argc > 1 ? argv[1] : "", opts, &err), &err, "connect");
    return conn;
}

#endif
