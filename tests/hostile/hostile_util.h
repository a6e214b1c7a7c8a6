/* Shared helpers of the catalogue of hostile inputs (tests/hostile/): the
 * input tables every class draws from, connections, traffic recording (to
 * prove that a refused call sent nothing) and small SQL helpers. */
#ifndef MYAPPCTX_TEST_HOSTILE_UTIL_H
#define MYAPPCTX_TEST_HOSTILE_UTIL_H

#include <stdio.h>
#include <string.h>

#include "../util.h"

/* ------------------------------------------------------------ the inputs */

/* A named input of the catalogue. */
typedef struct hx_input {
    const char *name;
    const char *text;
} hx_input;

/* Text that must be stored and read back verbatim wherever the library
 * stores text: quotes, SQL and format-string injection, escapes that look
 * like NUL bytes, control characters, newlines, unicode. */
extern const hx_input hx_injection[];
extern const size_t hx_injection_count;

/* Valid UTF-8 at the edges of each encoding length (must be accepted). */
extern const hx_input hx_utf8_edges[];
extern const size_t hx_utf8_edges_count;

/* Byte strings that are not UTF-8: truncated, overlong, surrogates, code
 * points above U+10FFFF, lone continuation bytes, 5/6-byte forms. */
extern const hx_input hx_bad_utf8[];
extern const size_t hx_bad_utf8_count;

/* 1 MiB: the "very long" input of every class. */
#define HX_MIB ((size_t)1 << 20)

/* @n copies of @ch, NUL-terminated; free(). */
char *hx_repeat(char ch, size_t n);

/* @n bytes of 'a' ending in the two-byte "é" (n >= 2), NUL-terminated; free(). */
char *hx_ending_in_e_acute(size_t n);

/* --------------------------------------------------------- assertions */

/* Asserts the exact status code and, when @needle is not NULL, that the
 * message contains it (the argument's name).  @label names the row. */
#define hx_expect(label, rc, code, err, needle)                                  \
    do {                                                                         \
        int hx_rc_ = (rc);                                                       \
        const char *hx_needle_ = (needle);                                       \
        ck_assert_msg(hx_rc_ == (code), "%s: expected %s (%d), got %s (%d): %s [%s]", \
                      (label), myappctx_strerror(code), (code),                  \
                      myappctx_strerror(hx_rc_), hx_rc_, (err).message, (err).sqlstate); \
        if (hx_needle_ != NULL)                                                  \
            ck_assert_msg(strstr((err).message, hx_needle_) != NULL,              \
                          "%s: '%s' not in: %s", (label), hx_needle_, (err).message); \
    } while (0)

/* Asserts that @got (may be NULL) equals @expected byte for byte. */
#define hx_expect_str(label, got, expected)                                      \
    do {                                                                         \
        const char *hx_got_ = (got), *hx_exp_ = (expected);                      \
        ck_assert_msg(hx_got_ != NULL, "%s: read back NULL", (label));          \
        ck_assert_msg(strcmp(hx_got_, hx_exp_) == 0,                             \
                      "%s: read back %zu bytes \"%.60s\", stored %zu bytes \"%.60s\"", \
                      (label), strlen(hx_got_), hx_got_, strlen(hx_exp_), hx_exp_); \
    } while (0)

/* ------------------------------------------------------- connections */

/* As the least-privileged application role (app_service), directly. */
myappctx_conn *hx_app_connect(void);
/* As the superuser (the harness's PG* environment). */
myappctx_conn *hx_su_connect(void);
/* As app_service through the harness's PgBouncer (transaction mode),
 * declared behind a transaction pooler. */
myappctx_conn *hx_bouncer_connect(void);

/* A pool of app_service connections: exactly one connection (so that the
 * next acquire gets the connection the last borrower returned), no
 * validation, no health checks, the default targeted reset and on_connect. */
myappctx_pool *hx_pool_new(void);
myappctx_conn *hx_pool_acquire(myappctx_pool *pool);
myappctx_pool_stats hx_pool_stats(myappctx_pool *pool);

/* ------------------------------------------------------------ traffic */

/* Records everything libpq sends and receives on @c (a deferred pool reset
 * runs before recording starts); hx_trace_stop() returns the number of
 * bytes recorded: 0 means nothing went over the wire. */
typedef struct hx_trace {
    FILE *file;
    PGconn *pg;
} hx_trace;
hx_trace hx_trace_start(myappctx_conn *c);
long hx_trace_stop(hx_trace trace);

/* --------------------------------------------------------------- SQL */

/* A fresh random version-4 UUID; @text (may be NULL) receives its text. */
void hx_random_uuid(myappctx_uuid *out, char text[MYAPPCTX_UUID_BUFSIZE]);

/* "<prefix>_<pid>_<counter>_<random>": a valid setting key / identifier. */
void hx_unique(const char *prefix, char *buf, size_t size);

/* Runs a statement that must succeed; returns a malloc'd copy of row 0,
 * column 0, or NULL for SQL NULL or no row. */
char *hx_value(myappctx_conn *c, const char *sql, int nparams, const char *const *params);

/* hx_value() as an integer (the statement must return one). */
long long hx_int(myappctx_conn *c, const char *sql, int nparams, const char *const *params);

/* Writes a variable with raw set_config(..., false), bypassing the library's
 * checks: how a hostile client forges context. */
void hx_raw_set(myappctx_conn *c, const char *name, const char *value);

/* As the superuser: a row of data.users (role NULL = SQL NULL). */
void hx_seed_user(const myappctx_uuid *id, const char *role);

/* As the superuser: rows of app_audit.impersonation_log for @admin. */
long long hx_impersonation_log_rows(const myappctx_uuid *admin);

/* As the superuser: deletes the app setting @key (cleanup). */
void hx_delete_setting(const char *key);

#endif
