/* The helpers of every Check test program (unit, integration, hostile):
 * one header, one prefix (tu_ / TU_), one convenience library
 * (tests/libtestutil.la).  By concern:
 *
 *   runner.c   running a suite with TAP output
 *   conn.c     connections, fresh names and ids, seeded rows, databases,
 *              traffic recording
 *   sql.c      statements that must succeed, and their values
 *   expect.c   expectations on status codes, myappctx_error and context
 *   pool.c     pools for tests, backends, "eventually"
 *   inputs.c   the tables of hostile inputs and sized strings
 *   base.c     what the stress programs share (testbase.h, no Check)
 *
 * Every helper fails the current test (ck_assert) instead of returning an
 * error, so a test reads as a list of steps.  The expectation macros are
 * macros so that a failure reports the caller's line.  Helpers are for one
 * thread (the test's) unless they say otherwise. */
#ifndef MYAPPCTX_TEST_UTIL_H
#define MYAPPCTX_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

#include <check.h>

#include "myappctx.h"
#include "testbase.h"

/* ------------------------------------------------------------- runner */

/* Runs the suite with TAP on stdout (for automake's tap-driver) and returns
 * the process exit status. */
int tu_run(Suite *s);

/* -------------------------------------------------------- connections */

/* The least-privileged application role (created by the harness). */
#define TU_APP_CONNINFO "user=app_service"

/* Non-zero when @conninfo (NULL or "" included) logs in as the harness's
 * superuser: it names no user (the PG* environment: postgres) or
 * user=postgres.  The helpers below opt such connections and pools in with
 * allow_privileged; every other role (app_service, roles a test creates)
 * gets the library's default, the refusal of privileged sessions. */
int tu_conninfo_is_superuser(const char *conninfo);

/* The one role the harness authenticates with a password
 * (scram-sha-256); tu_password_role() creates it (idempotent, safe from
 * parallel suites) with the password TU_PASSWORD_ROLE_PASSWORD and
 * returns its name. */
#define TU_PASSWORD_ROLE "myappctx_pw_test"
#define TU_PASSWORD_ROLE_PASSWORD "right-password"
const char *tu_password_role(void);

/* Opens a connection or fails the test with the library's message.
 * @conninfo NULL or "" means the PG* environment (the harness's superuser).
 * @opts NULL: the defaults, with allow_privileged set for a superuser
 * conninfo (tu_conninfo_is_superuser()); otherwise used as given.
 * Close with myappctx_conn_close(). */
myappctx_conn *tu_connect_opts(const char *conninfo, const myappctx_conn_options *opts);
/* As the superuser (allow_privileged). */
myappctx_conn *tu_connect(void);
/* As app_service, directly. */
myappctx_conn *tu_app_connect(void);
/* Declared behind a transaction pooler (txn_pooler = 1) to @conninfo;
 * NULL: app_service directly (the refusals this tests are local). */
myappctx_conn *tu_txn_pooler_connect(const char *conninfo);

/* Sealed mode (make check's second server, tests/harness/setup-sealed.sh):
 * non-zero when TU_SEALED is set (not "" or "0").  Then every connection
 * and pool these helpers open as app_service carries the key of
 * $MYAPPCTX_TEST_DIR/seal.key (TU_SEAL_KEY_FILE overrides the path), so the
 * same programs run sealed; superuser connections stay unsealed (the seal
 * refuses superusers). */
int tu_sealed(void);
/* The key of that file (fails the test when it cannot be read). */
const unsigned char *tu_seal_key(size_t *len);

/* A conninfo for the harness's PgBouncer (transaction mode) as @user
 * (NULL: postgres), in a per-thread static buffer, or NULL when the
 * harness did not start one. */
const char *tu_pgbouncer_conninfo(const char *user);
/* As @user through that PgBouncer, declared behind a transaction pooler;
 * fails the test when there is no PgBouncer. */
myappctx_conn *tu_bouncer_connect(const char *user);

/* A fresh database (no schema) and a conninfo "dbname=..." for it (caller
 * frees); tu_drop_database() takes that conninfo or a bare name. */
char *tu_create_database(const char *prefix);
void tu_drop_database(const char *conninfo_or_name);

/* ---------------------------------------------------- names and rows */

/* A fresh random version-4 UUID: value in @out and canonical text in
 * @text; either may be NULL. */
void tu_random_uuid(myappctx_uuid *out, char *text);

/* "<prefix>_<pid>_<counter>_<random hex>" in @buf: lower case, a valid
 * setting key and identifier, unique across parallel suites. */
void tu_unique(const char *prefix, char *buf, size_t size);

/* As the superuser: a user with a fresh id (returned in @out) in
 * data.users (@role NULL = SQL NULL), and a membership of data.user_tenants. */
void tu_seed_user(myappctx_uuid *out, const char *role);
void tu_seed_membership(const myappctx_uuid *user, const myappctx_uuid *tenant, int active);

/* As the superuser: deletes the application setting @key (cleanup). */
void tu_delete_setting(const char *key);

/* -------------------------------------------------------------- traffic */

/* Records everything libpq sends and receives on @c (a deferred pool reset
 * runs before recording starts); tu_trace_stop() returns the number of
 * bytes recorded: 0 means nothing went over the wire. */
typedef struct tu_trace {
    FILE *file;
    PGconn *pg;
} tu_trace;
tu_trace tu_trace_start(myappctx_conn *c);
long tu_trace_stop(tu_trace trace);
/* Stops recording and returns the number of network round trips the
 * client started: each Sync (extended protocol, also a whole pipeline) and
 * each simple Query it sent. */
long tu_trace_round_trips(tu_trace trace);

/* ------------------------------------------------------------------ SQL */

/* Runs SQL (no parameters, several statements allowed) on a raw PGconn;
 * fails the test on error. */
void tu_sql(PGconn *pg, const char *sql);

/* Runs a statement with bound text parameters; fails the test on error. */
void tu_exec(myappctx_conn *c, const char *sql, int nparams, const char *const *params);

/* Runs a statement that must succeed and return exactly one row; returns
 * column 0 malloc'd (free()), or NULL for SQL NULL. */
char *tu_value(myappctx_conn *c, const char *sql, int nparams, const char *const *params);
/* tu_value() as an integer (must not be NULL). */
long long tu_int(myappctx_conn *c, const char *sql, int nparams, const char *const *params);
/* tu_value() compared with @expected (NULL: SQL NULL). */
void tu_expect_value(myappctx_conn *c, const char *sql, int nparams, const char *const *params,
                     const char *expected);

/* Writes a variable with raw set_config(..., false), bypassing the
 * library's checks (to plant '' or forged values). */
void tu_raw_set(myappctx_conn *c, const char *name, const char *value);
/* The same without failing: 1 when the write was accepted, 0 when the
 * server refused it (then @sqlstate, if not NULL, receives its SQLSTATE). */
int tu_try_raw_set(myappctx_conn *c, const char *name, const char *value, char sqlstate[6]);

/* Sets the session context with raw SQL (api.set_context); @tenant_id may
 * be NULL. */
void tu_set_context(myappctx_conn *c, const char *user_id, const char *tenant_id);

/* --------------------------------------------------------- expectations */

/* Asserts that @rc is @code and, when @needle is not NULL, that
 * @err.message contains it (e.g. the argument's name).  @label (may be
 * NULL) names the row in table-driven tests.  @err is a myappctx_error,
 * not a pointer; @rc is evaluated once. */
#define tu_expect_row(label, rc, code, err, needle)                              \
    do {                                                                         \
        int tu_rc_ = (rc), tu_code_ = (code);                                    \
        const char *tu_label_ = (label), *tu_needle_ = (needle);                 \
        ck_assert_msg(tu_rc_ == tu_code_,                                        \
                      "%s%sexpected %s (%d), got %s (%d): %s [%s]",              \
                      tu_label_ ? tu_label_ : "", tu_label_ ? ": " : "",         \
                      myappctx_strerror(tu_code_), tu_code_,                     \
                      myappctx_strerror(tu_rc_), tu_rc_, (err).message,          \
                      (err).sqlstate);                                           \
        if (tu_needle_ != NULL)                                                  \
            ck_assert_msg(strstr((err).message, tu_needle_) != NULL,             \
                          "%s%s'%s' not in: %s", tu_label_ ? tu_label_ : "",     \
                          tu_label_ ? ": " : "", tu_needle_, (err).message);     \
    } while (0)

#define tu_expect(rc, code, err, needle) tu_expect_row(NULL, rc, code, err, needle)
#define tu_assert_rc(rc, code, err) tu_expect_row(NULL, rc, code, err, NULL)
#define tu_assert_ok(rc, err) tu_expect_row(NULL, rc, MYAPPCTX_OK, err, NULL)

/* Asserts the status code and the SQLSTATE ("" for refusals made in C). */
#define tu_expect_state_row(label, rc, code, err, state)                         \
    do {                                                                         \
        const char *tu_slabel_ = (label), *tu_state_ = (state);                  \
        tu_expect_row(tu_slabel_, rc, code, err, NULL);                          \
        ck_assert_msg(strcmp((err).sqlstate, tu_state_) == 0,                    \
                      "%s%sSQLSTATE '%s', expected '%s'", tu_slabel_ ? tu_slabel_ : "", \
                      tu_slabel_ ? ": " : "", (err).sqlstate, tu_state_);        \
    } while (0)

#define tu_expect_state(rc, code, err, state) tu_expect_state_row(NULL, rc, code, err, state)

/* Asserts that @got (may be NULL) equals @expected byte for byte. */
#define tu_expect_str(label, got, expected)                                      \
    do {                                                                         \
        const char *tu_got_ = (got), *tu_exp_ = (expected);                      \
        ck_assert_msg(tu_got_ != NULL, "%s: read back NULL", (label));           \
        ck_assert_msg(strcmp(tu_got_, tu_exp_) == 0,                             \
                      "%s: read back %zu bytes \"%.60s\", stored %zu bytes \"%.60s\"", \
                      (label), strlen(tu_got_), tu_got_, strlen(tu_exp_), tu_exp_); \
    } while (0)

/* Asserts that no context is visible on @c, through every reader: user,
 * tenant, role, session id, audit, impersonation.  @label (may be NULL)
 * names the situation in the failure message. */
void tu_assert_no_context(myappctx_conn *c, const char *label);

/* ----------------------------------------------------------------- pool */

/* A config for tests: @conninfo, the given sizes, 10 s acquire timeout,
 * short reconnect delays, no health checks, no validation,
 * allow_privileged for a superuser conninfo (tu_conninfo_is_superuser()),
 * everything else default (targeted reset, api.init_connection() on
 * connect). */
myappctx_pool_config tu_pool_config(const char *conninfo, int min_size, int max_size);

/* Creates a pool or fails the test (lazy: nothing is connected yet). */
myappctx_pool *tu_pool_new(const myappctx_pool_config *cfg);

/* tu_pool_new() and waits (generously) until min_size connections are open. */
myappctx_pool *tu_pool_start(const myappctx_pool_config *cfg);

/* A ready pool of exactly one app_service connection (tu_pool_config), so
 * that the next acquire gets the connection the last borrower returned. */
myappctx_pool *tu_pool_one(void);

/* Acquires (generous timeout) or fails the test. */
myappctx_conn *tu_pool_acquire(myappctx_pool *pool);

/* A stats snapshot or fails the test. */
myappctx_pool_stats tu_pool_stats(myappctx_pool *pool);

/* The backend pid of a connection (0 when it has none). */
int tu_backend_pid(myappctx_conn *c);
/* Non-zero while a backend with this pid exists. */
int tu_backend_alive(int pid);
/* Terminates a backend as the superuser and waits until it is gone. */
void tu_kill_backend(int pid);

/* Polls @cond every 5 ms until it holds or @ms pass; fails the test with
 * @what otherwise.  Only for "eventually": never a timing assertion. */
#define TU_EVENTUALLY(cond, ms, what)                                            \
    do {                                                                         \
        long tu_left_ = (ms);                                                    \
        while (!(cond) && tu_left_ > 0) {                                        \
            tu_sleep_ms(5);                                                      \
            tu_left_ -= 5;                                                       \
        }                                                                        \
        ck_assert_msg((cond), "not reached within %ld ms: %s", (long)(ms), what); \
    } while (0)

/* ------------------------------------------------------- hostile inputs */

/* A named input. */
typedef struct tu_input {
    const char *name;
    const char *text;
} tu_input;

/* Text that must be stored and read back verbatim wherever the library
 * stores text: quotes, SQL and format-string injection, escapes that look
 * like NUL bytes, control characters, newlines, unicode. */
extern const tu_input tu_injection[];
extern const size_t tu_injection_count;

/* Valid UTF-8 at the edges of each encoding length (must be accepted). */
extern const tu_input tu_utf8_edges[];
extern const size_t tu_utf8_edges_count;

/* Byte strings that are not UTF-8: truncated, overlong, surrogates, code
 * points above U+10FFFF, lone continuation bytes, 5/6-byte forms. */
extern const tu_input tu_bad_utf8[];
extern const size_t tu_bad_utf8_count;

/* 1 MiB: the "very long" input of every class. */
#define TU_MIB ((size_t)1 << 20)

/* @n copies of @ch, NUL-terminated; free(). */
char *tu_repeat(char ch, size_t n);

/* @n bytes of 'a' ending in the two-byte "é" (n >= 2), NUL-terminated; free(). */
char *tu_ending_in_e_acute(size_t n);

#endif
