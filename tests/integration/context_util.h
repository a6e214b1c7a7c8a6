/* Helpers shared by the context, audit and impersonation test programs. */
#ifndef MYAPPCTX_TEST_CONTEXT_UTIL_H
#define MYAPPCTX_TEST_CONTEXT_UTIL_H

#include <stdio.h>

#include "../util.h"

/* A fresh random (version 4) UUID, so suites can share the database. */
void cu_random_uuid(myappctx_uuid *out);

/* Connections: as the least-privileged application role, and one declared
 * behind a transaction pooler (direct to the server: the refusal is local). */
myappctx_conn *cu_app_connect(void);
myappctx_conn *cu_pooler_declared_connect(void);

/* Inserts a user into data.users as the superuser; role NULL = SQL NULL. */
void cu_seed_user(const myappctx_uuid *id, const char *role);

/* Runs a statement that must succeed; returns a malloc'd copy of row 0,
 * column 0, or NULL for SQL NULL or no row. */
char *cu_query(myappctx_conn *c, const char *sql, int nparams, const char *const *params);

/* Writes a variable with raw set_config(), bypassing the library's checks
 * (to plant '' or malformed values). */
void cu_raw_set(myappctx_conn *c, const char *name, const char *value, int is_local);

/* Records everything libpq sends and receives on @c; cu_trace_stop()
 * returns the number of bytes recorded (0 = nothing went over the wire). */
FILE *cu_trace_start(myappctx_conn *c);
long cu_trace_stop(myappctx_conn *c, FILE *trace);

/* @n copies of @ch, NUL-terminated; free(). */
char *cu_repeat(char ch, size_t n);

/* Strings that must round-trip verbatim, and byte strings that are not UTF-8. */
extern const char *const cu_hostile[];
extern const size_t cu_hostile_count;
extern const char *const cu_bad_utf8[];
extern const size_t cu_bad_utf8_count;

/* Asserts that no user, tenant or role is visible on @c. */
void cu_assert_no_context(myappctx_conn *c);

/* Asserts that @got is the JSON string @expected (or JSON null when NULL). */
void cu_assert_json_str(const json_t *got, const char *expected);

#endif
