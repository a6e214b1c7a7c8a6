/* The schema installer: fresh install, repeat, concurrency, tampering, the tool. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

static char *db;          /* conninfo of this test's fresh database */

static void
fresh_db(void)
{
    db = tu_create_database("schema");
}

static void
drop_db(void)
{
    tu_drop_database(db);
    free(db);
    db = NULL;
}

static int
count_rows(myappctx_conn *c, const char *sql)
{
    return (int)tu_int(c, sql, 0, NULL);
}

START_TEST(embedded_migrations_are_ordered)
{
    size_t n = myappctx_schema_migration_count(MYAPPCTX_SCHEMA_CORE);
    ck_assert_uint_gt(n, 0);
    int prev = 0;
    for (size_t i = 0; i < n; i++) {
        myappctx_migration m;
        ck_assert_int_eq(myappctx_schema_migration_get(MYAPPCTX_SCHEMA_CORE, i, &m, NULL), 0);
        ck_assert_int_gt(m.version, prev);
        ck_assert_ptr_nonnull(strstr(m.name, ".sql"));
        ck_assert_uint_gt(strlen(m.sql), 0);
        prev = m.version;
    }
    myappctx_migration m;
    myappctx_error err;
    ck_assert_int_eq(myappctx_schema_migration_get(MYAPPCTX_SCHEMA_CORE, n, &m, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_schema_migration_get(MYAPPCTX_SCHEMA_CORE, 0, NULL, &err), MYAPPCTX_EINVAL);
    ck_assert_uint_gt(myappctx_schema_migration_count(MYAPPCTX_SCHEMA_DEMO), 0);
}
END_TEST

START_TEST(fresh_install_then_repeat_is_noop)
{
    myappctx_conn *c = tu_connect_opts(db, NULL);
    myappctx_schema_status st;
    myappctx_error err;
    size_t n = myappctx_schema_migration_count(MYAPPCTX_SCHEMA_CORE);

    tu_assert_ok(myappctx_schema_status_get(c, &st, &err), err);
    ck_assert_int_eq(st.installed_version, 0);
    ck_assert_int_gt(st.available_version, 0);

    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "app_service";
    tu_assert_ok(myappctx_schema_install(c, &opts, &st, &err), err);
    ck_assert_int_eq(st.applied_now, (int)n);
    ck_assert_int_eq(st.installed_version, st.available_version);
    ck_assert_int_eq(st.demo_installed, 0);
    ck_assert_int_eq(count_rows(c, "SELECT count(*) FROM myappctx.schema_migrations"), (int)n);
    ck_assert_int_eq(count_rows(c, "SELECT count(*) FROM pg_roles WHERE rolname = 'app_service' "
                                   "AND NOT rolsuper"), 1);

    tu_assert_ok(myappctx_schema_install(c, &opts, &st, &err), err);
    ck_assert_int_eq(st.applied_now, 0);
    ck_assert_int_eq(count_rows(c, "SELECT count(*) FROM myappctx.schema_migrations"), (int)n);

    opts.demo = 1;
    tu_assert_ok(myappctx_schema_install(c, &opts, &st, &err), err);
    ck_assert_int_eq(st.applied_now, (int)myappctx_schema_migration_count(MYAPPCTX_SCHEMA_DEMO));
    ck_assert_int_eq(st.demo_installed, st.demo_available);
    ck_assert_int_eq(count_rows(c, "SELECT count(*) FROM pg_class WHERE oid = 'data.orders'::regclass "
                                   "AND relrowsecurity"), 1);

    tu_assert_ok(myappctx_schema_check(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

struct racer {
    const char *conninfo;
    int rc;
    int applied;
    myappctx_error err;
};

static void *
race_install(void *arg)
{
    struct racer *r = arg;
    myappctx_conn *c;
    myappctx_conn_options copts = MYAPPCTX_CONN_OPTIONS_INIT;
    copts.allow_privileged = 1;     /* the installer runs as the superuser */
    r->rc = myappctx_conn_open(&c, r->conninfo, &copts, &r->err);
    if (r->rc != MYAPPCTX_OK)
        return NULL;
    myappctx_schema_status st;
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "app_service";
    r->rc = myappctx_schema_install(c, &opts, &st, &r->err);
    r->applied = st.applied_now;
    myappctx_conn_close(c);
    return NULL;
}

/* The check that replaced myappctx_conn_options.check_schema: refuses a
 * database without the schema, with the hint to install it. */
START_TEST(schema_check_refuses_missing_schema)
{
    myappctx_conn *c = tu_connect_opts(db, NULL);
    myappctx_error err;
    tu_assert_rc(myappctx_schema_check(c, &err), MYAPPCTX_ESCHEMA, err);
    ck_assert_msg(strstr(err.message, "not installed") != NULL &&
                  strstr(err.message, "myappctx schema install") != NULL, "%s", err.message);
    tu_assert_ok(myappctx_schema_install(c, NULL, NULL, &err), err);
    tu_assert_ok(myappctx_schema_check(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* The application's own role can run the check (it cannot read
 * myappctx.schema_migrations: api.schema_version() reads it for it). */
START_TEST(schema_check_works_for_the_app_role)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_assert_ok(myappctx_schema_check(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(concurrent_installers_one_wins)
{
    struct racer r[2] = { { .conninfo = db }, { .conninfo = db } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, race_install, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    tu_assert_ok(r[0].rc, r[0].err);
    tu_assert_ok(r[1].rc, r[1].err);
    int n = (int)myappctx_schema_migration_count(MYAPPCTX_SCHEMA_CORE);
    ck_assert_msg((r[0].applied == n && r[1].applied == 0) ||
                  (r[0].applied == 0 && r[1].applied == n),
                  "applied %d and %d of %d", r[0].applied, r[1].applied, n);
}
END_TEST

/* A schema the installer must not touch: a recorded migration whose
 * checksum differs from the embedded one, or one newer than the library
 * knows.  Refused with ESCHEMA and the reason, rolled back. */
static const struct {
    const char *name, *tamper, *reason;
    int check_refused;       /* myappctx_schema_check() refuses it too */
} tamper_rows[] = {
    { "altered checksum",
      "UPDATE myappctx.schema_migrations SET checksum = 'tampered' "
      "WHERE kind = 'core' AND version = 2", "checksum", 0 },
    { "newer schema",
      "INSERT INTO myappctx.schema_migrations (kind, version, name, checksum) "
      "VALUES ('core', 9999, '9999_future.sql', 'x')", "upgrade the library", 1 },
};

START_TEST(tampered_schema_is_refused)
{
    const char *name = tamper_rows[_i].name;
    myappctx_conn *c = tu_connect_opts(db, NULL);
    myappctx_error err;
    tu_assert_ok(myappctx_schema_install(c, NULL, NULL, &err), err);
    tu_sql(myappctx_conn_pg(c), tamper_rows[_i].tamper);
    tu_expect_row(name, myappctx_schema_install(c, NULL, NULL, &err), MYAPPCTX_ESCHEMA, err,
                  tamper_rows[_i].reason);
    ck_assert_msg(myappctx_conn_in_transaction(c) == 0, "%s: not rolled back", name);
    if (tamper_rows[_i].check_refused)
        tu_expect_row(name, myappctx_schema_check(c, &err), MYAPPCTX_ESCHEMA, err,
                      tamper_rows[_i].reason);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(install_argument_checks)
{
    myappctx_conn *c = tu_connect_opts(db, NULL);
    myappctx_error err;
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "";
    tu_assert_rc(myappctx_schema_install(c, &opts, NULL, &err), MYAPPCTX_EINVAL, err);
    opts.app_role = "a_role_name_that_is_much_longer_than_the_sixty_three_bytes_allowed_by_pg";
    tu_assert_rc(myappctx_schema_install(c, &opts, NULL, &err), MYAPPCTX_EINVAL, err);
    opts.app_role = "bad\xff";
    tu_assert_rc(myappctx_schema_install(c, &opts, NULL, &err), MYAPPCTX_EINVAL, err);
    opts = (myappctx_schema_options)MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.version = 0;
    tu_assert_rc(myappctx_schema_install(c, &opts, NULL, &err), MYAPPCTX_EINVAL, err);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_rc(myappctx_schema_install(c, NULL, NULL, &err), MYAPPCTX_EBUSY, err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    /* A role name with quotes is an identifier, not SQL: it must be created verbatim. */
    opts = (myappctx_schema_options)MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "odd\"role; DROP ROLE x";
    tu_assert_ok(myappctx_schema_install(c, &opts, NULL, &err), err);
    ck_assert_int_eq(count_rows(c, "SELECT count(*) FROM pg_roles WHERE rolname = 'odd\"role; DROP ROLE x'"), 1);
    tu_sql(myappctx_conn_pg(c), "DROP OWNED BY \"odd\"\"role; DROP ROLE x\"; DROP ROLE \"odd\"\"role; DROP ROLE x\"");
    myappctx_conn_close(c);
}
END_TEST

static int
run_tool(const char *args, char *out, size_t outlen)
{
    char cmd[1024];
    const char *top = getenv("top_builddir");
    snprintf(cmd, sizeof cmd, "'%s/tools/myappctx' %s 2>&1", top ? top : ".", args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    /* Read to the end (keeping the first outlen-1 bytes): stopping early
     * would kill a long-talking tool with SIGPIPE. */
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0)
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(tool_install_twice_status_sql)
{
    char out[4096], args[512];
    snprintf(args, sizeof args, "-d '%s' schema status", db);
    ck_assert_int_eq(run_tool(args, out, sizeof out), 4);
    snprintf(args, sizeof args, "-d '%s' schema install --app-role app_service", db);
    ck_assert_msg(run_tool(args, out, sizeof out) == 0, "first install: %s", out);
    ck_assert_msg(run_tool(args, out, sizeof out) == 0, "second install: %s", out);
    ck_assert_msg(strstr(out, "0 migrations applied now") != NULL, "%s", out);
    snprintf(args, sizeof args, "-d '%s' schema status", db);
    ck_assert_msg(run_tool(args, out, sizeof out) == 0, "status: %s", out);
    ck_assert_int_eq(run_tool("schema sql", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "001_"));
    ck_assert_int_eq(run_tool("--help", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "schema install"));
    ck_assert_int_eq(run_tool("schema frobnicate", out, sizeof out), 2);
    ck_assert_int_eq(run_tool("-d 'host=/nonexistent' schema status", out, sizeof out), 3);
    ck_assert_msg(strchr(out, '\n') == strrchr(out, '\n'), "one-line error: %s", out);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("installer");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, fresh_db, drop_db);
    tcase_add_test(tc, embedded_migrations_are_ordered);
    tcase_add_test(tc, fresh_install_then_repeat_is_noop);
    tcase_add_test(tc, schema_check_refuses_missing_schema);
    tcase_add_test(tc, schema_check_works_for_the_app_role);
    tcase_add_test(tc, concurrent_installers_one_wins);
    tcase_add_loop_test(tc, tampered_schema_is_refused, 0,
                        (int)(sizeof tamper_rows / sizeof tamper_rows[0]));
    tcase_add_test(tc, install_argument_checks);
    tcase_add_test(tc, tool_install_twice_status_sql);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
