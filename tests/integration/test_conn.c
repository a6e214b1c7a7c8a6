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
    PGconn *pg = PQconnectdb(TU_APP_CONNINFO);
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

/* ------------------------------------------------------ failed connects */

/* Roles and a database for the refusals, made fresh per run. */
static char nologin_role[64], limited_role[64], no_connect_db[96];

static void
setup_refusals(void)
{
    char sql[512];
    tu_password_role();
    tu_unique("nologin", nologin_role, sizeof nologin_role);
    tu_unique("limited", limited_role, sizeof limited_role);
    char *db = tu_create_database("noconn");
    snprintf(no_connect_db, sizeof no_connect_db, "%s", db + strlen("dbname="));
    free(db);
    myappctx_conn *su = tu_connect();
    snprintf(sql, sizeof sql,   /* test-only names */
             "CREATE ROLE %s NOLOGIN; CREATE ROLE %s LOGIN CONNECTION LIMIT 0; "
             "REVOKE CONNECT ON DATABASE %s FROM PUBLIC",
             nologin_role, limited_role, no_connect_db);
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}

static void
teardown_refusals(void)
{
    char sql[256];
    tu_drop_database(no_connect_db);
    myappctx_conn *su = tu_connect();
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s; DROP ROLE IF EXISTS %s",
             nologin_role, limited_role);
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}

/* Each refusal of the server, as libpq reports it, with its SQLSTATE. */
static const struct {
    const char *name;
    const char *conninfo;    /* followed by the row's role or database, if any */
    int arg;                 /* 0 none, 1 nologin_role, 2 limited_role, 3 no_connect_db */
    const char *sqlstate;
    const char *needle;      /* in the message */
} refusal_rows[] = {
    { "wrong password", "user=" TU_PASSWORD_ROLE " password=wrong passfile=/nonexistent", 0,
      "28P01", "password authentication failed" },
    { "no password", "user=" TU_PASSWORD_ROLE " passfile=/nonexistent", 0,
      "28P01", "no password supplied" },
    { "unknown role", "user=myappctx_no_such_role", 0, "28000", "does not exist" },
    { "role without LOGIN", "user=", 1, "28000", "is not permitted to log in" },
    { "unknown database", "dbname=myappctx_no_such_db", 0, "3D000", "does not exist" },
    { "no CONNECT privilege", "user=app_service dbname=", 3, "42501", "permission denied" },
    { "too many connections", "user=", 2, "53300", "too many connections" },
    { "no server", "host=/nonexistent/dir port=1", 0, "", "/nonexistent/dir" },
};

START_TEST(failed_connect_carries_the_sqlstate)
{
    const char *name = refusal_rows[_i].name;
    const char *args[] = { "", nologin_role, limited_role, no_connect_db };
    char conninfo[256];
    snprintf(conninfo, sizeof conninfo, "%s%s", refusal_rows[_i].conninfo,
             args[refusal_rows[_i].arg]);
    myappctx_conn *c = NULL;
    myappctx_error err;
    memset(&err, 0x55, sizeof err);
    tu_expect_state_row(name, myappctx_conn_open(&c, conninfo, NULL, &err), MYAPPCTX_ECONNECT, err,
                        refusal_rows[_i].sqlstate);
    tu_expect_row(name, MYAPPCTX_ECONNECT, MYAPPCTX_ECONNECT, err, refusal_rows[_i].needle);
    ck_assert_msg(strncmp(err.message, "myappctx_conn_open: ", 20) == 0, "%s: %s", name, err.message);
    ck_assert_msg(strchr(err.message, '\n') == NULL, "%s: one line: %s", name, err.message);
    if (refusal_rows[_i].arg == 3)   /* the server's DETAIL line, apart */
        ck_assert_str_eq(err.detail, "User does not have CONNECT privilege.");

    /* The right password is accepted: the refusal was the password's. */
    if (_i == 0) {
        snprintf(conninfo, sizeof conninfo, "user=%s password=%s passfile=/nonexistent",
                 TU_PASSWORD_ROLE, TU_PASSWORD_ROLE_PASSWORD);
        tu_assert_ok(myappctx_conn_open(&c, conninfo, NULL, &err), err);
        myappctx_conn_close(c);
    }
}
END_TEST

/* ------------------------------------------------- privileged sessions */

/* Round trips (Sync or Query messages) a PQtrace file recorded. */
static long
round_trips(FILE *f)
{
    long n = 0;
    char line[4096];
    fflush(f);
    rewind(f);
    while (fgets(line, sizeof line, f) != NULL) {
        char *m = strstr(line, "F\t");
        if (m != NULL && (m == line || m[-1] == '\t') && (m = strchr(m + 2, '\t')) != NULL &&
            (strncmp(m + 1, "Sync", 4) == 0 || strncmp(m + 1, "Query", 5) == 0))
            n++;
    }
    return n;
}

/* The refusal names the attribute and both ways out. */
static void
expect_privileged(const char *label, int rc, const myappctx_error *err, const char *attribute)
{
    tu_expect_row(label, rc, MYAPPCTX_EPRIVILEGED, *err, attribute);
    ck_assert_msg(strstr(err->message, "row-level security") != NULL &&
                  strstr(err->message, "SUPERUSER and BYPASSRLS") != NULL &&
                  strstr(err->message, "allow_privileged") != NULL,
                  "%s: the message says what to do: %s", label, err->message);
    ck_assert_msg(strstr(err->hint, "allow_privileged") != NULL, "%s: hint: %s", label, err->hint);
    ck_assert_str_eq(err->sqlstate, "");
}

START_TEST(superuser_is_refused_unless_allowed)
{
    myappctx_conn *c = (myappctx_conn *)0x1;
    myappctx_error err;
    expect_privileged("open as postgres", myappctx_conn_open(&c, "", NULL, &err), &err,
                      "is a superuser");
    ck_assert_msg(strstr(err.message, "\"postgres\"") != NULL, "names the user: %s", err.message);

    /* Wrapped: refused from what the server reported, no round trip. */
    PGconn *pg = PQconnectdb("");
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    FILE *f = tmpfile();
    PQtrace(pg, f);
    expect_privileged("wrap as postgres", myappctx_conn_wrap(&c, pg, NULL, &err), &err,
                      "superuser");
    PQuntrace(pg);
    ck_assert_int_eq(round_trips(f), 0);
    fclose(f);
    tu_sql(pg, "SELECT 1");          /* the caller's connection is left alone */

    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.allow_privileged = 1;
    tu_assert_ok(myappctx_conn_wrap(&c, pg, &opts, &err), err);
    myappctx_conn_close(c);
    tu_assert_ok(myappctx_conn_open(&c, "", &opts, &err), err);
    myappctx_conn_close(c);

    /* What counts is the session's authorization at the time of the wrap. */
    tu_sql(pg, "SET SESSION AUTHORIZATION app_service");
    tu_assert_ok(myappctx_conn_wrap(&c, pg, NULL, &err), err);
    myappctx_conn_close(c);
    PQfinish(pg);
}
END_TEST

START_TEST(bypassrls_role_is_refused_unless_allowed)
{
    char role[64], sql[256], conninfo[96];
    tu_unique("bypass", role, sizeof role);
    myappctx_conn *su = tu_connect();
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN BYPASSRLS", role);   /* test-only name */
    tu_sql(myappctx_conn_pg(su), sql);
    snprintf(conninfo, sizeof conninfo, "user=%s", role);

    myappctx_conn *c = NULL;
    myappctx_error err;
    expect_privileged("open as a BYPASSRLS role", myappctx_conn_open(&c, conninfo, NULL, &err),
                      &err, "has the BYPASSRLS attribute");
    ck_assert_msg(strstr(err.message, role) != NULL, "names the user: %s", err.message);

    PGconn *pg = PQconnectdb(conninfo);
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    expect_privileged("wrap a BYPASSRLS role", myappctx_conn_wrap(&c, pg, NULL, &err), &err,
                      "BYPASSRLS");
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.allow_privileged = 1;
    tu_assert_ok(myappctx_conn_wrap(&c, pg, &opts, &err), err);
    myappctx_conn_close(c);
    PQfinish(pg);
    tu_assert_ok(myappctx_conn_open(&c, conninfo, &opts, &err), err);
    myappctx_conn_close(c);

    /* The same role without the attribute is an ordinary session. */
    snprintf(sql, sizeof sql, "ALTER ROLE %s NOBYPASSRLS", role);
    tu_sql(myappctx_conn_pg(su), sql);
    tu_assert_ok(myappctx_conn_open(&c, conninfo, NULL, &err), err);
    myappctx_conn_close(c);

    snprintf(sql, sizeof sql, "DROP ROLE %s", role);
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}
END_TEST

/* An ordinary role costs one query at connect (BYPASSRLS is not reported);
 * allow_privileged costs none. */
START_TEST(privilege_check_is_one_query_at_connect)
{
    PGconn *pg = PQconnectdb(TU_APP_CONNINFO);
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    myappctx_conn *c;
    myappctx_error err;
    FILE *f = tmpfile();
    PQtrace(pg, f);
    tu_assert_ok(myappctx_conn_wrap(&c, pg, NULL, &err), err);
    PQuntrace(pg);
    ck_assert_int_eq(round_trips(f), 1);
    myappctx_conn_close(c);
    fclose(f);

    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.allow_privileged = 1;
    f = tmpfile();
    PQtrace(pg, f);
    tu_assert_ok(myappctx_conn_wrap(&c, pg, &opts, &err), err);
    PQuntrace(pg);
    ck_assert_int_eq(round_trips(f), 0);
    myappctx_conn_close(c);
    fclose(f);

    /* A wrapped connection in an aborted transaction cannot be checked. */
    tu_sql(pg, "BEGIN");
    PQclear(PQexec(pg, "SELECT 1/0"));
    tu_expect_state(myappctx_conn_wrap(&c, pg, NULL, &err), MYAPPCTX_ETXNFAILED, err, "25P02");
    ck_assert_msg(strncmp(err.message, "myappctx_conn_wrap: reading the session user's", 46) == 0,
                  "%s", err.message);
    PQfinish(pg);
}
END_TEST

/* Behind PgBouncer it is the pooler's server login that counts. */
START_TEST(privileged_login_behind_pgbouncer_is_refused)
{
    const char *conninfo = tu_pgbouncer_conninfo("postgres");
    ck_assert_msg(conninfo != NULL, "the harness runs a PgBouncer");
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.txn_pooler = 1;
    myappctx_conn *c = NULL;
    myappctx_error err;
    expect_privileged("postgres through PgBouncer", myappctx_conn_open(&c, conninfo, &opts, &err),
                      &err, "superuser");
    opts.allow_privileged = 1;
    tu_assert_ok(myappctx_conn_open(&c, conninfo, &opts, &err), err);
    myappctx_conn_close(c);
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
    tcase_add_test(tc, superuser_is_refused_unless_allowed);
    tcase_add_test(tc, bypassrls_role_is_refused_unless_allowed);
    tcase_add_test(tc, privilege_check_is_one_query_at_connect);
    tcase_add_test(tc, privileged_login_behind_pgbouncer_is_refused);
    tcase_add_test(tc, exec_binds_values_verbatim);
    tcase_add_test(tc, exec_maps_server_errors);
    tcase_add_test(tc, commit_of_aborted_transaction_is_not_success);
    tcase_add_test(tc, broken_connection_is_econnect);
    suite_add_tcase(s, tc);

    TCase *refusals = tcase_create("refusals");
    tcase_set_timeout(refusals, 60);
    tcase_add_unchecked_fixture(refusals, setup_refusals, teardown_refusals);
    tcase_add_loop_test(refusals, failed_connect_carries_the_sqlstate, 0,
                        (int)(sizeof refusal_rows / sizeof refusal_rows[0]));
    suite_add_tcase(s, refusals);
    return tu_run(s);
}
