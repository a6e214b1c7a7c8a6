/* Connection handle, exec helper and error mapping against a real server. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(open_from_environment)
{
    myappctx_conn *c = tu_connect();
    ck_assert_ptr_nonnull(myappctx_conn_pg(c));
    ck_assert_int_eq(PQstatus(myappctx_conn_pg(c)), CONNECTION_OK);
    ck_assert_int_eq(myappctx_conn_is_txn_pooler(c), 0);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    myappctx_conn_close(c);
    myappctx_conn_close(NULL);
}
END_TEST

START_TEST(open_bad_conninfo_is_econnect)
{
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;
    int rc = myappctx_conn_open(&c, "host=/nonexistent/dir port=1", NULL, &err);
    tu_assert_rc(rc, MYAPPCTX_ECONNECT, err);
    ck_assert_msg(strlen(err.message) > 0, "has a message");
    ck_assert_msg(strchr(err.message, '\n') == NULL, "one line");
    rc = myappctx_conn_open(&c, "this is not a conninfo", NULL, &err);
    tu_assert_rc(rc, MYAPPCTX_ECONNECT, err);
}
END_TEST

START_TEST(open_null_arguments)
{
    myappctx_conn *c;
    myappctx_error err;
    ck_assert_int_eq(myappctx_conn_open(NULL, "", NULL, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_conn_open(&c, NULL, NULL, &err), MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "conninfo") != NULL, "%s", err.message);
    myappctx_conn_options bad = MYAPPCTX_CONN_OPTIONS_INIT;
    bad.version = 99;
    ck_assert_int_eq(myappctx_conn_open(&c, "", &bad, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_conn_wrap(&c, NULL, NULL, &err), MYAPPCTX_EINVAL);
}
END_TEST

START_TEST(wrap_does_not_take_ownership)
{
    PGconn *pg = PQconnectdb("");
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    myappctx_conn *c;
    myappctx_error err;
    tu_assert_ok(myappctx_conn_wrap(&c, pg, NULL, &err), err);
    ck_assert_ptr_eq(myappctx_conn_pg(c), pg);
    myappctx_conn_close(c);
    /* Still usable after the wrapper is gone. */
    tu_sql(pg, "SELECT 1");
    PQfinish(pg);

    PGconn *bad = PQconnectdb("host=/nonexistent/dir");
    tu_assert_rc(myappctx_conn_wrap(&c, bad, NULL, &err), MYAPPCTX_EINVAL, err);
    PQfinish(bad);
}
END_TEST

START_TEST(exec_binds_values_verbatim)
{
    static const char *const hostile[] = {
        "O'Brien", "back\\slash", "semi; DROP TABLE x; --", "$1", "\"quoted\"",
        "multi\nline", "caf\xc3\xa9", "%s%n", "",
    };
    myappctx_conn *c = tu_connect();
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        PGresult *res;
        myappctx_error err;
        const char *p[] = { hostile[i] };
        tu_assert_ok(myappctx_exec(c, "SELECT $1::text", 1, p, &res, &err), err);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), hostile[i]);
        PQclear(res);
    }
    /* SQL NULL parameter. */
    PGresult *res;
    const char *p[] = { NULL };
    ck_assert_int_eq(myappctx_exec(c, "SELECT $1::text IS NULL", 1, p, &res, NULL), 0);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(exec_maps_server_errors)
{
    myappctx_conn *c = tu_connect();
    myappctx_error err;
    PGresult *res = (PGresult *)0x1;
    int rc = myappctx_exec(c, "SELECT 1/0", 0, NULL, &res, &err);
    tu_assert_rc(rc, MYAPPCTX_ESERVER, err);
    ck_assert_ptr_null(res);
    ck_assert_str_eq(err.sqlstate, "22012");
    ck_assert_msg(strstr(err.message, "division by zero") != NULL, "%s", err.message);

    rc = myappctx_exec(c, "DO $$BEGIN RAISE EXCEPTION 'limited' USING ERRCODE = 'P0054'; END$$",
                       0, NULL, NULL, &err);
    tu_assert_rc(rc, MYAPPCTX_ERATELIMIT, err);
    ck_assert_str_eq(err.sqlstate, "P0054");
    ck_assert_str_eq(err.message, "myappctx_exec: limited");   /* the call, then the server's text */

    ck_assert_int_eq(myappctx_exec(c, NULL, 0, NULL, NULL, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_exec(c, "SELECT $1", 1, NULL, NULL, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_exec(c, "SELECT 1", -1, NULL, NULL, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_exec(NULL, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_EINVAL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(commit_of_aborted_transaction_is_not_success)
{
    myappctx_conn *c = tu_connect();
    myappctx_error err;
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 1);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), 0);
    tu_assert_rc(myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_ETXNFAILED, err);
    tu_assert_rc(myappctx_commit(c, &err), MYAPPCTX_ETXNFAILED, err);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_commit(c, &err), err);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(broken_connection_is_econnect)
{
    myappctx_conn *c = tu_connect();
    tu_kill_backend(tu_backend_pid(c));
    myappctx_error err;
    int rc = myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err);
    ck_assert_msg(rc == MYAPPCTX_ECONNECT, "got %d: %s", rc, err.message);
    rc = myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err);
    tu_assert_rc(rc, MYAPPCTX_ECONNECT, err);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("conn");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, open_from_environment);
    tcase_add_test(tc, open_bad_conninfo_is_econnect);
    tcase_add_test(tc, open_null_arguments);
    tcase_add_test(tc, wrap_does_not_take_ownership);
    tcase_add_test(tc, exec_binds_values_verbatim);
    tcase_add_test(tc, exec_maps_server_errors);
    tcase_add_test(tc, commit_of_aborted_transaction_is_not_success);
    tcase_add_test(tc, broken_connection_is_econnect);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
