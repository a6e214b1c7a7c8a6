/* The pool reports the real cause of failed connects: a conninfo libpq
 * cannot parse is refused by myappctx_pool_new(); causes retrying cannot
 * cure (authentication, a missing database, a privileged login) end
 * wait_ready and acquire at once with their own code and SQLSTATE while the
 * background thread keeps retrying, and the first success clears them;
 * transient causes are waited out, and the timeout quotes them.
 *
 * The waits below are long (60 s) on purpose: a call that returns the
 * cause's code rather than MYAPPCTX_ETIMEOUT did not wait for its timeout.
 * No test measures time. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define LONG_WAIT_MS 60000

static char nologin_role[64], bypass_role[64], limited_role[64];

static void
setup(void)
{
    char sql[512];
    tu_password_role();
    tu_unique("ff_nologin", nologin_role, sizeof nologin_role);
    tu_unique("ff_bypass", bypass_role, sizeof bypass_role);
    tu_unique("ff_limited", limited_role, sizeof limited_role);
    myappctx_conn *su = tu_connect();
    snprintf(sql, sizeof sql,   /* test-only names */
             "CREATE ROLE %s NOLOGIN; CREATE ROLE %s LOGIN BYPASSRLS; "
             "CREATE ROLE %s LOGIN CONNECTION LIMIT 0",
             nologin_role, bypass_role, limited_role);
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}

static void
teardown(void)
{
    char sql[512];
    myappctx_conn *su = tu_connect();
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s; DROP ROLE IF EXISTS %s; "
                              "DROP ROLE IF EXISTS %s", nologin_role, bypass_role, limited_role);
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}

static void
expect_message_starts(const myappctx_error *err, const char *prefix)
{
    ck_assert_msg(strncmp(err->message, prefix, strlen(prefix)) == 0, "'%s' does not start: %s",
                  prefix, err->message);
}

START_TEST(unparsable_conninfo_is_refused_at_new)
{
    static const char *const bad[] = {
        "this is not a conninfo", "dbname='unterminated", "postgresql://[::1", "nosuchkeyword=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        myappctx_pool_config cfg = tu_pool_config(bad[i], 1, 1);
        myappctx_pool *pool = (myappctx_pool *)0x1;
        myappctx_error err;
        tu_expect_row(bad[i], myappctx_pool_new(&pool, &cfg, &err), MYAPPCTX_EINVAL, err, NULL);
        ck_assert_ptr_null(pool);
        expect_message_starts(&err, "myappctx_pool_new: conninfo: ");
        ck_assert_msg(strlen(err.message) > strlen("myappctx_pool_new: conninfo: "),
                      "libpq's message follows: %s", err.message);
    }
    /* URIs and the empty string (the PG* environment) are fine. */
    myappctx_pool_config cfg = tu_pool_config("postgresql:///nodb?host=/nonexistent/dir", 0, 1);
    myappctx_pool_free(tu_pool_new(&cfg));
    cfg = tu_pool_config("", 0, 1);
    myappctx_pool_free(tu_pool_new(&cfg));
}
END_TEST

/* Causes retrying cannot cure. */
static const struct {
    const char *name;
    const char *conninfo;   /* followed by the row's role, if any */
    int arg;                /* 0 none, 1 nologin_role, 2 bypass_role */
    int code;
    const char *sqlstate;
    const char *needle;
} incurable_rows[] = {
    { "wrong password", "user=" TU_PASSWORD_ROLE " password=wrong passfile=/nonexistent", 0,
      MYAPPCTX_ECONNECT, "28P01", "password authentication failed" },
    { "unknown database", "user=app_service dbname=myappctx_no_such_db", 0,
      MYAPPCTX_ECONNECT, "3D000", "does not exist" },
    { "unknown role", "user=myappctx_no_such_role", 0, MYAPPCTX_ECONNECT, "28000", "does not exist" },
    { "role without LOGIN", "user=", 1, MYAPPCTX_ECONNECT, "28000", "not permitted to log in" },
    { "superuser", "user=postgres", 0, MYAPPCTX_EPRIVILEGED, "", "superuser" },
    { "BYPASSRLS role", "user=", 2, MYAPPCTX_EPRIVILEGED, "", "BYPASSRLS" },
};

START_TEST(incurable_cause_ends_the_waits_at_once)
{
    const char *name = incurable_rows[_i].name;
    const char *args[] = { "", nologin_role, bypass_role };
    char conninfo[256], label[128];
    snprintf(conninfo, sizeof conninfo, "%s%s", incurable_rows[_i].conninfo,
             args[incurable_rows[_i].arg]);
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 2);
    cfg.allow_privileged = 0;       /* the harness's superuser too */
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;

    snprintf(label, sizeof label, "%s: wait_ready", name);
    memset(&err, 0x55, sizeof err);
    tu_expect_state_row(label, myappctx_pool_wait_ready(pool, LONG_WAIT_MS, &err),
                        incurable_rows[_i].code, err, incurable_rows[_i].sqlstate);
    tu_expect_row(label, incurable_rows[_i].code, incurable_rows[_i].code, err,
                  incurable_rows[_i].needle);
    expect_message_starts(&err, "myappctx_pool_wait_ready: cannot connect (size=0 ");

    snprintf(label, sizeof label, "%s: acquire", name);
    myappctx_conn *c = (myappctx_conn *)0x1;
    tu_expect_state_row(label, myappctx_pool_acquire(pool, &c, LONG_WAIT_MS, &err),
                        incurable_rows[_i].code, err, incurable_rows[_i].sqlstate);
    tu_expect_row(label, incurable_rows[_i].code, incurable_rows[_i].code, err,
                  incurable_rows[_i].needle);
    expect_message_starts(&err, "myappctx_pool_acquire: cannot connect (size=0 ");
    ck_assert_ptr_null(c);
    if (incurable_rows[_i].code == MYAPPCTX_EPRIVILEGED)   /* the library's advice comes along */
        ck_assert_msg(strstr(err.hint, "allow_privileged") != NULL, "hint: %s", err.hint);

    /* The background thread keeps trying; nothing counted as a timeout. */
    myappctx_pool_stats st = tu_pool_stats(pool);
    uint64_t errors = st.errors;
    TU_EVENTUALLY((st = tu_pool_stats(pool)).errors > errors + 1, 20000,
                  "the pool keeps retrying");
    ck_assert_uint_eq(st.timeouts, 0);
    ck_assert_uint_eq(st.created, 0);
    myappctx_pool_free(pool);
}
END_TEST

/* A waiter queued before the connect failed is woken by the failure:
 * with min_size 0 it is the waiter that makes the pool connect. */
START_TEST(queued_waiter_is_woken_by_the_cause)
{
    myappctx_pool_config cfg = tu_pool_config("user=app_service dbname=myappctx_no_such_db", 0, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_conn *c = NULL;
    myappctx_error err;
    tu_expect_state(myappctx_pool_acquire(pool, &c, LONG_WAIT_MS, &err), MYAPPCTX_ECONNECT, err,
                    "3D000");
    ck_assert_ptr_null(c);
    ck_assert_int_eq(tu_pool_stats(pool).waiting, 0);
    myappctx_pool_free(pool);
}
END_TEST

/* Fixed while the pool retries: the first success ends the refusals. */
START_TEST(cure_is_picked_up_by_the_retries)
{
    char conninfo[96], sql[128];
    snprintf(conninfo, sizeof conninfo, "user=%s", nologin_role);
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);
    cfg.init_connection = 0;        /* the role has no rights on the schema */
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    tu_expect_state(myappctx_pool_wait_ready(pool, LONG_WAIT_MS, &err), MYAPPCTX_ECONNECT, err,
                    "28000");

    myappctx_conn *su = tu_connect();
    snprintf(sql, sizeof sql, "ALTER ROLE %s LOGIN", nologin_role);
    tu_sql(myappctx_conn_pg(su), sql);
    TU_EVENTUALLY(myappctx_pool_wait_ready(pool, 100, &err) == MYAPPCTX_OK, 20000,
                  "the pool connects once the role may log in");
    myappctx_conn *c = tu_pool_acquire(pool);
    tu_expect_value(c, "SELECT session_user::text", 0, NULL, nologin_role);
    myappctx_pool_release(pool, c);
    myappctx_pool_free(pool);

    snprintf(sql, sizeof sql, "ALTER ROLE %s NOLOGIN", nologin_role);
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}
END_TEST

/* Too many connections may pass: waited out, and the timeout says why. */
START_TEST(transient_cause_is_waited_out_and_quoted)
{
    char conninfo[96];
    snprintf(conninfo, sizeof conninfo, "user=%s", limited_role);
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);
    myappctx_pool *pool = tu_pool_new(&cfg);
    TU_EVENTUALLY(tu_pool_stats(pool).errors > 0, 20000, "the first connect fails");

    myappctx_error err;
    tu_expect(myappctx_pool_wait_ready(pool, 50, &err), MYAPPCTX_ETIMEOUT, err,
              "too many connections for role");
    tu_expect(MYAPPCTX_ETIMEOUT, MYAPPCTX_ETIMEOUT, err, "(SQLSTATE 53300)");
    expect_message_starts(&err, "myappctx_pool_wait_ready: not ready after 50 ms");
    myappctx_conn *c = (myappctx_conn *)0x1;
    tu_expect(myappctx_pool_acquire(pool, &c, 50, &err), MYAPPCTX_ETIMEOUT, err,
              "last connection error: connection to server");   /* quoted without a prefix */
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err.sqlstate, "");     /* the timeout's own, not the cause's */
    myappctx_pool_free(pool);
}
END_TEST

/* ------------------------------------------------------- check_schema */

/* A fresh pool of app_service on @db with check_schema: wait_ready's
 * outcome (the error in @err). */
static int
check_schema_pool(const char *db, myappctx_error *err)
{
    char conninfo[160];
    snprintf(conninfo, sizeof conninfo, "user=app_service %s", db);
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);
    cfg.check_schema = 1;
    myappctx_pool *pool = tu_pool_new(&cfg);
    int rc = myappctx_pool_wait_ready(pool, LONG_WAIT_MS, err);
    if (rc == MYAPPCTX_OK) {
        myappctx_conn *c = tu_pool_acquire(pool);
        myappctx_pool_release(pool, c);
    } else {
        myappctx_conn *c = (myappctx_conn *)0x1;
        myappctx_error again;
        ck_assert_int_eq(myappctx_pool_acquire(pool, &c, LONG_WAIT_MS, &again), rc);
        ck_assert_ptr_null(c);
        ck_assert_str_eq(again.hint, err->hint);
    }
    myappctx_pool_free(pool);
    return rc;
}

static void
expect_schema_refusal(const char *label, const char *db, const char *needle, const char *hint)
{
    myappctx_error err;
    tu_expect_row(label, check_schema_pool(db, &err), MYAPPCTX_ESCHEMA, err, needle);
    expect_message_starts(&err, "myappctx_pool_wait_ready: cannot connect (size=0 ");
    ck_assert_msg(strstr(err.hint, hint) != NULL, "%s: hint '%s'", label, err.hint);
    ck_assert_msg(strstr(err.message, "check_schema") == NULL, "%s: no inner prefix: %s", label,
                  err.message);
}

/* The schema through its states, on a database of its own: each new pool
 * checks it at its first connect. */
START_TEST(check_schema_refuses_every_mismatch)
{
    char *db = tu_create_database("ffschema");
    expect_schema_refusal("not installed", db, "not installed in this database",
                          "run 'myappctx schema install'");

    myappctx_conn *su = tu_connect_opts(db, NULL);
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "app_service";
    myappctx_error err;
    tu_assert_ok(myappctx_schema_install(su, &opts, NULL, &err), err);
    tu_assert_ok(check_schema_pool(db, &err), err);

    /* Each state committed, checked by a new pool, then undone. */
    PGconn *pg = myappctx_conn_pg(su);
    size_t n = myappctx_schema_migration_count(MYAPPCTX_SCHEMA_CORE);
    char needle[96];
    tu_sql(pg, "UPDATE myappctx.schema_migrations SET kind = 'demo', version = version + 100000 "
               "WHERE kind = 'core' AND version = (SELECT max(version) FROM "
               "myappctx.schema_migrations WHERE kind = 'core')");
    snprintf(needle, sizeof needle, "version %zu, this library needs %zu", n - 1, n);
    expect_schema_refusal("older", db, needle, "to upgrade it");
    tu_sql(pg, "UPDATE myappctx.schema_migrations SET kind = 'core', version = version - 100000 "
               "WHERE kind = 'demo' AND version > 100000");

    tu_sql(pg, "INSERT INTO myappctx.schema_migrations (kind, version, name, checksum) "
               "VALUES ('core', 9999, '9999_future.sql', 'x')");
    expect_schema_refusal("newer", db, "version 9999, newer than this library", "upgrade the library");
    tu_sql(pg, "DELETE FROM myappctx.schema_migrations WHERE version = 9999");

    tu_sql(pg, "REVOKE EXECUTE ON FUNCTION api.schema_version() FROM app_service");
    myappctx_error perm;
    tu_expect_state(check_schema_pool(db, &perm), MYAPPCTX_ESCHEMA, perm, "42501");
    expect_schema_refusal("not granted", db, "may not run api.schema_version()", "--app-role");
    tu_sql(pg, "GRANT EXECUTE ON FUNCTION api.schema_version() TO app_service");
    tu_assert_ok(check_schema_pool(db, &err), err);     /* every state undone */

    tu_sql(pg, "DROP FUNCTION api.schema_version()");
    expect_schema_refusal("before version 11", db, "older than version 11", "to upgrade it");

    myappctx_conn_close(su);
    tu_drop_database(db);
    free(db);
}
END_TEST

/* Installing the schema while the pool retries cures it. */
START_TEST(check_schema_picks_up_the_install)
{
    char *db = tu_create_database("ffinstall");
    char conninfo[160];
    snprintf(conninfo, sizeof conninfo, "user=app_service %s", db);
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);
    cfg.check_schema = 1;
    myappctx_pool *pool = tu_pool_new(&cfg);
    myappctx_error err;
    tu_assert_rc(myappctx_pool_wait_ready(pool, LONG_WAIT_MS, &err), MYAPPCTX_ESCHEMA, err);

    myappctx_conn *su = tu_connect_opts(db, NULL);
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "app_service";
    tu_assert_ok(myappctx_schema_install(su, &opts, NULL, &err), err);
    myappctx_conn_close(su);
    TU_EVENTUALLY(myappctx_pool_wait_ready(pool, 100, &err) == MYAPPCTX_OK, 20000,
                  "the pool connects once the schema is installed");
    myappctx_pool_free(pool);
    tu_drop_database(db);
    free(db);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pool fail fast");
    TCase *tc = tcase_create("fail fast");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, unparsable_conninfo_is_refused_at_new);
    tcase_add_loop_test(tc, incurable_cause_ends_the_waits_at_once, 0,
                        (int)(sizeof incurable_rows / sizeof incurable_rows[0]));
    tcase_add_test(tc, queued_waiter_is_woken_by_the_cause);
    tcase_add_test(tc, cure_is_picked_up_by_the_retries);
    tcase_add_test(tc, transient_cause_is_waited_out_and_quoted);
    tcase_add_test(tc, check_schema_refuses_every_mismatch);
    tcase_add_test(tc, check_schema_picks_up_the_install);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
