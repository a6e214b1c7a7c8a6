/* Helpers shared by the pool test programs (tests/integration/test_pool*.c). */
#ifndef MYAPPCTX_TEST_POOL_UTIL_H
#define MYAPPCTX_TEST_POOL_UTIL_H

#include <stdint.h>

#include "../util.h"

/* A config for tests: the given sizes, short retry delays, 10 s acquire
 * timeout, no health checks, validation off, everything else default. */
myappctx_pool_config tp_config(const char *conninfo, int min_size, int max_size);

/* Creates a pool or fails the test. */
myappctx_pool *tp_new(const myappctx_pool_config *cfg);

/* Acquires (generous timeout) or fails the test. */
myappctx_conn *tp_acquire(myappctx_pool *pool);

/* A stats snapshot or fails the test. */
myappctx_pool_stats tp_stats(myappctx_pool *pool);

/* Runs a statement with bound text parameters and returns column 0 of the
 * single row (malloc'd, NULL for SQL NULL), or fails the test. */
char *tp_value(myappctx_conn *conn, const char *sql, int nparams, const char *const *params);

/* Same as tp_value() but compares with @expected and frees. */
void tp_expect(myappctx_conn *conn, const char *sql, int nparams, const char *const *params,
               const char *expected);

/* Runs a statement that must succeed (bound parameters). */
void tp_exec(myappctx_conn *conn, const char *sql, int nparams, const char *const *params);

/* The backend pid of a connection. */
int tp_pid(myappctx_conn *conn);

/* Terminates a backend from a superuser connection and waits until it is gone. */
void tp_kill(int pid);

/* Non-zero while a backend with this pid exists. */
int tp_backend_alive(int pid);

/* A fresh random version-4 UUID in canonical text form. */
void tp_uuid(char buf[MYAPPCTX_UUID_BUFSIZE]);

/* Sleeps @ms milliseconds. */
void tp_sleep_ms(long ms);

/* Polls @cond every 5 ms until it holds or @ms pass; fails the test with
 * @what otherwise.  Only for "eventually": never a timing assertion. */
#define TP_EVENTUALLY(cond, ms, what)                                           \
    do {                                                                        \
        long tp_left_ = (ms);                                                   \
        while (!(cond) && tp_left_ > 0) {                                       \
            tp_sleep_ms(5);                                                     \
            tp_left_ -= 5;                                                      \
        }                                                                       \
        ck_assert_msg((cond), "not reached within %ld ms: %s", (long)(ms), what); \
    } while (0)

#endif
