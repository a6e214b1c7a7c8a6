/* The server's diagnostics in myappctx_error: DETAIL, HINT, the schema,
 * table, column, data type and constraint names, the truncation marks, and
 * that a wrapped error (a unit's statement) keeps them. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* A schema per test process, so suites can run in parallel. */
static char schema[64];

static void
setup(void)
{
    snprintf(schema, sizeof schema, "diag_%ld", (long)getpid());
    myappctx_conn *c = tu_connect();
    char sql[1024];
    snprintf(sql, sizeof sql,
             "DROP SCHEMA IF EXISTS %1$s CASCADE; CREATE SCHEMA %1$s; "
             "CREATE TABLE %1$s.items (id int PRIMARY KEY, name text NOT NULL, "
             "  qty int CONSTRAINT qty_positive CHECK (qty > 0), "
             "  CONSTRAINT items_name_key UNIQUE (name)); "
             "CREATE DOMAIN %1$s.posint AS int CONSTRAINT posint_check CHECK (VALUE > 0); "
             "INSERT INTO %1$s.items VALUES (1, 'a', 1); "
             "GRANT USAGE ON SCHEMA %1$s TO app_service; "
             "GRANT ALL ON %1$s.items TO app_service", schema);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}

static void
teardown(void)
{
    myappctx_conn *c = tu_connect();
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}

/* Runs the statement formatted from @fmt on @c; it must fail with @sqlstate. */
static void fail_with(myappctx_conn *c, const char *sqlstate, myappctx_error *err,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
fail_with(myappctx_conn *c, const char *sqlstate, myappctx_error *err, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    memset(err, 0x55, sizeof *err);    /* every field must be written */
    int rc = myappctx_exec(c, sql, 0, NULL, NULL, err);
    tu_expect_state(rc, MYAPPCTX_ESERVER, *err, sqlstate);
    ck_assert_int_eq(err->version, MYAPPCTX_ERROR_VERSION);
}

START_TEST(unique_violation_names_constraint_and_table)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fail_with(c, "23505", &err, "INSERT INTO %s.items VALUES (2, 'a', 1)", schema);
    ck_assert_str_eq(err.constraint_name, "items_name_key");
    ck_assert_str_eq(err.table_name, "items");
    ck_assert_str_eq(err.schema_name, schema);
    ck_assert_str_eq(err.column_name, "");
    ck_assert_str_eq(err.datatype_name, "");
    ck_assert_str_eq(err.detail, "Key (name)=(a) already exists.");
    ck_assert_str_eq(err.hint, "");
    ck_assert_uint_eq(err.truncated, 0);
    ck_assert_msg(strstr(err.message, "items_name_key") != NULL, "%s", err.message);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(not_null_violation_names_the_column)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fail_with(c, "23502", &err, "INSERT INTO %s.items VALUES (3, NULL, 1)", schema);
    ck_assert_str_eq(err.column_name, "name");
    ck_assert_str_eq(err.table_name, "items");
    ck_assert_str_eq(err.schema_name, schema);
    ck_assert_str_eq(err.constraint_name, "");
    ck_assert_msg(strncmp(err.detail, "Failing row contains", 20) == 0, "detail: %s", err.detail);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(check_violation_has_its_detail)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fail_with(c, "23514", &err, "INSERT INTO %s.items VALUES (4, 'd', 0)", schema);
    ck_assert_str_eq(err.constraint_name, "qty_positive");
    ck_assert_str_eq(err.table_name, "items");
    ck_assert_str_eq(err.detail, "Failing row contains (4, d, 0).");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(domain_violation_names_the_data_type)
{
    myappctx_conn *c = tu_connect();
    myappctx_error err;
    fail_with(c, "23514", &err, "SELECT (-1)::%s.posint", schema);
    ck_assert_str_eq(err.datatype_name, "posint");
    ck_assert_str_eq(err.schema_name, schema);
    ck_assert_str_eq(err.constraint_name, "posint_check");
    ck_assert_str_eq(err.table_name, "");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(server_hint_is_reported)
{
    myappctx_conn *c = tu_connect();
    myappctx_error err;
    fail_with(c, "P0001", &err, "DO $$ BEGIN RAISE EXCEPTION 'no' USING HINT = 'try again', "
                 "DETAIL = 'line one' || chr(10) || 'line two'; END $$");
    ck_assert_str_eq(err.hint, "try again");
    ck_assert_str_eq(err.detail, "line one\nline two");
    ck_assert_msg(strstr(err.message, "no") != NULL, "%s", err.message);
    myappctx_conn_close(c);
}
END_TEST

/* Each field cut to its size at a character boundary, and marked. */
START_TEST(long_fields_are_cut_and_marked)
{
    myappctx_conn *c = tu_connect();
    myappctx_error err;
    fail_with(c, "P0001", &err, "DO $$ BEGIN RAISE EXCEPTION USING MESSAGE = repeat('m', 600), "
                 "DETAIL = repeat('é', 300), HINT = repeat('h', 300), "
                 "TABLE = repeat('t', 100), COLUMN = 'c'; END $$");
    ck_assert_uint_eq(err.truncated, MYAPPCTX_ERROR_TRUNCATED_MESSAGE |
                                         MYAPPCTX_ERROR_TRUNCATED_DETAIL |
                                         MYAPPCTX_ERROR_TRUNCATED_HINT |
                                         MYAPPCTX_ERROR_TRUNCATED_TABLE);
    ck_assert_uint_eq(strlen(err.message), MYAPPCTX_ERROR_MESSAGE_SIZE - 1);
    /* 511 bytes of two-byte characters: the last whole one ends at 510. */
    ck_assert_uint_eq(strlen(err.detail), MYAPPCTX_ERROR_DETAIL_SIZE - 2);
    ck_assert_int_eq(strncmp(err.detail + strlen(err.detail) - 2, "é", 2), 0);
    ck_assert_uint_eq(strlen(err.hint), MYAPPCTX_ERROR_HINT_SIZE - 1);
    ck_assert_uint_eq(strlen(err.table_name), MYAPPCTX_ERROR_NAME_SIZE - 1);
    ck_assert_str_eq(err.column_name, "c");

    /* The next failure starts from nothing: no leftover field or mark. */
    fail_with(c, "22012", &err, "SELECT 1/0");
    ck_assert_uint_eq(err.truncated, 0);
    ck_assert_str_eq(err.detail, "");
    ck_assert_str_eq(err.hint, "");
    ck_assert_str_eq(err.table_name, "");
    ck_assert_str_eq(err.column_name, "");
    myappctx_conn_close(c);
}
END_TEST

/* A refusal made in C after a server error clears the server's fields. */
START_TEST(library_refusal_clears_the_fields)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fail_with(c, "23505", &err, "INSERT INTO %s.items VALUES (2, 'a', 1)", schema);
    tu_assert_rc(myappctx_exec(c, NULL, 0, NULL, NULL, &err), MYAPPCTX_EINVAL, err);
    ck_assert_str_eq(err.sqlstate, "");
    ck_assert_str_eq(err.constraint_name, "");
    ck_assert_str_eq(err.table_name, "");
    ck_assert_str_eq(err.detail, "");
    ck_assert_int_eq(err.version, MYAPPCTX_ERROR_VERSION);
    myappctx_conn_close(c);
}
END_TEST

/* A unit's error is the statement's, labelled: the fields survive. */
START_TEST(unit_statement_error_keeps_the_fields)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO %s.items VALUES (5, 'a', 1)", schema);
    myappctx_stmt stmts[] = { { "SELECT 1", 0, NULL }, { sql, 0, NULL } };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    memset(&err, 0x55, sizeof err);
    tu_expect_state(myappctx_run_in_context(c, &ctx, stmts, 2, NULL, &err), MYAPPCTX_ESERVER,
                    err, "23505");
    ck_assert_msg(strncmp(err.message, "myappctx_run_in_context: statement 1: ", 38) == 0,
                  "%s", err.message);
    ck_assert_str_eq(err.constraint_name, "items_name_key");
    ck_assert_str_eq(err.table_name, "items");
    ck_assert_str_eq(err.schema_name, schema);
    ck_assert_str_eq(err.detail, "Key (name)=(a) already exists.");
    ck_assert_uint_eq(err.truncated, 0);
    myappctx_conn_close(c);
}
END_TEST

/* The same through the pool's one-call path, which labels it once more. */
START_TEST(pool_run_in_context_keeps_the_fields)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_error err;
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO %s.items VALUES (6, 'a', 1)", schema);
    myappctx_stmt stmt = { sql, 0, NULL };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    memset(&err, 0x55, sizeof err);
    tu_expect_state(myappctx_pool_run_in_context(pool, &ctx, &stmt, 1, NULL, -1, &err),
                    MYAPPCTX_ESERVER, err, "23505");
    ck_assert_msg(strncmp(err.message, "myappctx_pool_run_in_context: ", 30) == 0, "%s",
                  err.message);
    ck_assert_str_eq(err.constraint_name, "items_name_key");
    ck_assert_str_eq(err.table_name, "items");
    ck_assert_str_eq(err.detail, "Key (name)=(a) already exists.");
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("diagnostics");
    TCase *tc = tcase_create("diagnostics");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, unique_violation_names_constraint_and_table);
    tcase_add_test(tc, not_null_violation_names_the_column);
    tcase_add_test(tc, check_violation_has_its_detail);
    tcase_add_test(tc, domain_violation_names_the_data_type);
    tcase_add_test(tc, server_hint_is_reported);
    tcase_add_test(tc, long_fields_are_cut_and_marked);
    tcase_add_test(tc, library_refusal_clears_the_fields);
    tcase_add_test(tc, unit_statement_error_keeps_the_fields);
    tcase_add_test(tc, pool_run_in_context_keeps_the_fields);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
