/* The myappctx command line as a DBA expects it: psql's connection options,
 * options anywhere, help per command, usage errors (exit 2), a conninfo
 * that does not parse (exit 2, libpq's message), "not installed" (exit 4),
 * status --json, and the hint for an install without privileges. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool_util.h"

#define RUN(...) tool_run(TOOL_ENV_INHERIT, __VA_ARGS__, (const char *)NULL)
#define RUN_NO_PG(...) tool_run(TOOL_ENV_NO_PG, __VA_ARGS__, (const char *)NULL)

static void
assert_contains(const char *haystack, const char *needle)
{
    ck_assert_msg(strstr(haystack, needle) != NULL, "'%.300s' not in:\n%.3000s", needle, haystack);
}

static void
assert_lacks(const char *haystack, const char *needle)
{
    ck_assert_msg(strstr(haystack, needle) == NULL, "'%.300s' unexpectedly in:\n%.3000s", needle, haystack);
}

/* A usage error: exit 2, nothing on stdout, the message and where to get
 * help on stderr. */
static void
assert_usage_error(struct tool_result r, const char *message)
{
    tool_assert_status(r, 2);
    ck_assert_msg(r.out[0] == '\0', "stdout not empty: %.3000s", r.out);
    assert_contains(r.err, message);
    assert_contains(r.err, "--help' for more information");
    tool_result_free(&r);
}

START_TEST(general_help)
{
    struct tool_result a = RUN("--help"), b = RUN("-?");
    tool_assert_status(a, 0);
    tool_assert_status(b, 0);
    ck_assert_str_eq(a.out, b.out);
    ck_assert_str_eq(a.err, "");
    assert_contains(a.out, "Usage:\n  myappctx [OPTION]... COMMAND");
    assert_contains(a.out, "-h, --host=HOSTNAME");
    assert_contains(a.out, "-p, --port=PORT");
    assert_contains(a.out, "-U, --username=USERNAME");
    assert_contains(a.out, "-d, --dbname=DBNAME");
    assert_contains(a.out, "-?, --help");
    assert_contains(a.out, "schema install");
    assert_contains(a.out, "doctor");
    tool_result_free(&a);
    tool_result_free(&b);
}
END_TEST

/* Each command's --help prints that command's usage (and only its
 * options), wherever --help or -? stands. */
START_TEST(help_per_command)
{
    static const struct {
        const char *words[2];
        const char *usage, *has, *lacks;
    } cases[] = {
        { { "schema", "install" }, "Usage: myappctx [OPTION]... schema install [--app-role=NAME]",
          "--no-create-role", "--json" },
        { { "schema", "status" }, "Usage: myappctx [OPTION]... schema status [--json]",
          "--json", "--demo" },
        { { "schema", "sql" }, "Usage: myappctx schema sql [--demo]", "--demo", "--json" },
        { { "doctor", NULL }, "Usage: myappctx [OPTION]... doctor [--app-role=NAME] [-n SCHEMA]...",
          "-n, --schema=SCHEMA", "--no-create-role" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *w0 = cases[i].words[0], *w1 = cases[i].words[1];
        struct tool_result r[3];
        if (w1 != NULL) {
            r[0] = RUN(w0, w1, "--help");
            r[1] = RUN("--help", w0, w1);
            r[2] = RUN(w0, "-?", w1);
        } else {
            r[0] = RUN(w0, "--help");
            r[1] = RUN("--help", w0);
            r[2] = RUN(w0, "-?");
        }
        for (int k = 0; k < 3; k++) {
            tool_assert_status(r[k], 0);
            ck_assert_msg(strncmp(r[k].out, cases[i].usage, strlen(cases[i].usage)) == 0,
                          "%s %s: help starts with:\n%.200s", w0, w1 ? w1 : "", r[k].out);
            assert_contains(r[k].out, cases[i].has);
            assert_lacks(r[k].out, cases[i].lacks);
            ck_assert_str_eq(r[k].out, r[0].out);
        }
        for (int k = 0; k < 3; k++)
            tool_result_free(&r[k]);
    }
    struct tool_result r = RUN("schema", "--help");
    tool_assert_status(r, 0);
    assert_contains(r.out, "schema install");
    assert_contains(r.out, "schema status");
    assert_contains(r.out, "schema sql");
    tool_result_free(&r);
}
END_TEST

START_TEST(version)
{
    struct tool_result r = RUN("-V");
    tool_assert_status(r, 0);
    assert_contains(r.out, myappctx_version());
    tool_result_free(&r);
    r = RUN("schema", "status", "--version");
    tool_assert_status(r, 0);
    assert_contains(r.out, myappctx_version());
    tool_result_free(&r);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
    assert_usage_error(RUN("--bogus", "schema", "status"), "unrecognized option '--bogus'");
    assert_usage_error(RUN("schema", "status", "-x"), "invalid option -- 'x'");
    assert_usage_error(RUN("schema", "status", "--demo"),
                       "option '--demo' is not valid for 'schema status'");
    assert_usage_error(RUN("--json", "schema", "sql"), "option '--json' is not valid for 'schema sql'");
    assert_usage_error(RUN("doctor", "--no-create-role"),
                       "option '--no-create-role' is not valid for 'doctor'");
    assert_usage_error(RUN("schema", "install", "-n", "data"),
                       "option '-n/--schema' is not valid for 'schema install'");
    assert_usage_error(RUN("schema", "install", "--json"),
                       "option '--json' is not valid for 'schema install'");
    assert_usage_error(RUN("schema", "status", "--json=yes"), "option '--json' doesn't allow an argument");
    assert_usage_error(RUN("schema", "status", "-d"), "option requires an argument -- 'd'");
    assert_usage_error(RUN("schema", "status", "--dbname"), "option '--dbname' requires an argument");
    assert_usage_error(RUN("schema", "frobnicate"), "unknown schema command 'frobnicate'");
    assert_usage_error(RUN("frobnicate"), "unknown command 'frobnicate'");
    assert_usage_error(RUN("schema", "status", "extra"), "unexpected argument 'extra'");
    assert_usage_error(RUN("schema"), "missing schema command");
    assert_usage_error(tool_run(TOOL_ENV_INHERIT, NULL), "no command given");
    assert_usage_error(RUN("schema", "install", "--no-create-role"),
                       "option '--no-create-role' needs --app-role");
    assert_usage_error(RUN("schema", "install", "--app-role="), "option '--app-role' needs a role name");
    /* -h is the host now, as in psql; alone it lacks its argument. */
    assert_usage_error(RUN("-h"), "option requires an argument -- 'h'");
}
END_TEST

/* A conninfo libpq cannot parse is a usage error, with libpq's message. */
START_TEST(bad_conninfo_exits_2_with_libpq_message)
{
    static const char *const bad[] = {
        "dbname=x port",
        "host='unterminated",
        "postgresql://[::1",
        "postgresql://localhost/db?nosuchoption=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *errmsg = NULL;
        PQconninfoOption *o = PQconninfoParse(bad[i], &errmsg);
        ck_assert_msg(o == NULL, "libpq parses '%s'", bad[i]);
        ck_assert_ptr_nonnull(errmsg);
        errmsg[strcspn(errmsg, "\n")] = '\0';

        struct tool_result r = RUN("schema", "status", "-d", bad[i]);
        tool_assert_status(r, 2);
        assert_contains(r.err, "myappctx: invalid connection string: ");
        assert_contains(r.err, errmsg);
        ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "one line: %.3000s", r.err);
        tool_result_free(&r);
        r = RUN("schema", "install", "--dbname", bad[i]);
        tool_assert_status(r, 2);
        assert_contains(r.err, errmsg);
        tool_result_free(&r);
        r = RUN("doctor", "--dbname", bad[i]);
        tool_assert_status(r, 2);
        assert_contains(r.err, errmsg);
        tool_result_free(&r);
        PQfreemem(errmsg);
    }
}
END_TEST

START_TEST(cannot_connect_exits_3)
{
    struct tool_result r = RUN("-d", "host=/nonexistent", "schema", "status");
    tool_assert_status(r, 3);
    assert_contains(r.err, "myappctx: cannot connect: ");
    assert_contains(r.err, "/nonexistent");
    ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "one line: %.3000s", r.err);
    tool_result_free(&r);
    r = RUN("schema", "install", "-h", "/nonexistent");
    tool_assert_status(r, 3);
    tool_result_free(&r);
    r = RUN("doctor", "-h", "/nonexistent");
    tool_assert_status(r, 3);
    tool_result_free(&r);
}
END_TEST

/* -h -p -U -d are what the tool connects with: without PG*, the harness's
 * server is reached only through them, and a wrong -p is noticed. */
START_TEST(psql_connection_options)
{
    const char *host = getenv("PGHOST"), *port = getenv("PGPORT");
    const char *user = getenv("PGUSER"), *db = getenv("PGDATABASE");
    ck_assert_msg(host && port && user && db, "the harness sets PGHOST PGPORT PGUSER PGDATABASE");

    struct tool_result r = RUN_NO_PG("-h", host, "-p", port, "-U", user, "-d", db, "schema", "status");
    tool_assert_status(r, 0);
    assert_contains(r.out, "up to date");
    tool_result_free(&r);

    char h[1024], p[64], u[128], d[128];
    snprintf(h, sizeof h, "--host=%s", host);
    snprintf(p, sizeof p, "--port=%s", port);
    snprintf(u, sizeof u, "--username=%s", user);
    snprintf(d, sizeof d, "--dbname=%s", db);
    r = RUN_NO_PG("schema", h, "status", p, u, d);
    tool_assert_status(r, 0);
    tool_result_free(&r);

    r = RUN_NO_PG("-h", host, "-p", "1", "-U", user, "-d", db, "schema", "status");
    tool_assert_status(r, 3);
    assert_contains(r.err, ".s.PGSQL.1");
    tool_result_free(&r);

    /* -d as a connection string and as a URI; parameters inside it
     * override -U given beside it, as in psql. */
    char conninfo[1400];
    snprintf(conninfo, sizeof conninfo, "host='%s' port=%s dbname=%s user=%s", host, port, db, user);
    r = RUN_NO_PG("-U", "no_such_role_for_cli", "-d", conninfo, "schema", "status");
    tool_assert_status(r, 0);
    tool_result_free(&r);
    snprintf(conninfo, sizeof conninfo, "postgresql://%s@/%s?host=%s&port=%s", user, db, host, port);
    r = RUN_NO_PG("schema", "status", "-d", conninfo);
    tool_assert_status(r, 0);
    tool_result_free(&r);

    /* -U is used: an unknown role is refused by the server. */
    r = RUN("-U", "no_such_role_for_cli", "schema", "status");
    tool_assert_status(r, 3);
    assert_contains(r.err, "no_such_role_for_cli");
    tool_result_free(&r);
}
END_TEST

/* Options before, between and after the command words are the same. */
START_TEST(options_anywhere)
{
    const char *db = getenv("PGDATABASE");
    struct tool_result r[4] = {
        RUN("-d", db, "schema", "status", "--json"),
        RUN("schema", "-d", db, "status", "--json"),
        RUN("schema", "status", "--json", "-d", db),
        RUN("--json", "schema", "status", "--dbname", db),
    };
    for (int i = 0; i < 4; i++) {
        tool_assert_status(r[i], 0);
        ck_assert_str_eq(r[i].out, r[0].out);
    }
    assert_contains(r[0].out, "\"state\": \"up to date\"");
    for (int i = 0; i < 4; i++)
        tool_result_free(&r[i]);
    struct tool_result a = RUN("--demo", "schema", "sql"), b = RUN("schema", "sql", "--demo");
    tool_assert_status(a, 0);
    ck_assert_msg(strcmp(a.out, b.out) == 0, "--demo before and after 'schema sql' differ");
    assert_contains(a.out, "demo objects");
    tool_result_free(&a);
    tool_result_free(&b);
    /* "--" ends the options. */
    a = RUN("--", "schema", "status", "--json");
    assert_usage_error(a, "unexpected argument '--json'");
}
END_TEST

START_TEST(schema_sql_unchanged)
{
    struct tool_result r = RUN("schema", "sql");
    tool_assert_status(r, 0);
    myappctx_migration m;
    ck_assert_int_eq(myappctx_schema_migration_get(MYAPPCTX_SCHEMA_CORE, 0, &m, NULL), 0);
    assert_contains(r.out, m.name);
    assert_contains(r.out, m.sql);
    tool_result_free(&r);
    r = RUN_NO_PG("-h", "/nonexistent", "schema", "sql");   /* needs no server */
    tool_assert_status(r, 0);
    tool_result_free(&r);
}
END_TEST

/* The JSON of schema status, checked field by field. */
static void
assert_status_json(const char *text, const char *state, int installed, int available,
                   const char *demo_state)
{
    json_t *doc = tool_json(text);
    json_t *schema = json_object_get(doc, "schema"), *demo = json_object_get(doc, "demo");
    ck_assert_ptr_nonnull(schema);
    ck_assert_ptr_nonnull(demo);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "library_version")), myappctx_version());
    ck_assert_str_eq(json_string_value(json_object_get(schema, "state")), state);
    if (installed == 0)
        ck_assert(json_is_null(json_object_get(schema, "installed")));
    else
        ck_assert_int_eq(json_integer_value(json_object_get(schema, "installed")), installed);
    ck_assert_int_eq(json_integer_value(json_object_get(schema, "available")), available);
    ck_assert_str_eq(json_string_value(json_object_get(demo, "state")), demo_state);
    ck_assert(json_is_integer(json_object_get(demo, "available")));
    json_decref(doc);
}

static int
available_version(void)
{
    size_t n = myappctx_schema_migration_count(MYAPPCTX_SCHEMA_CORE);
    myappctx_migration m;
    ck_assert_int_eq(myappctx_schema_migration_get(MYAPPCTX_SCHEMA_CORE, n - 1, &m, NULL), 0);
    return m.version;
}

START_TEST(status_up_to_date_text_and_json)
{
    int v = available_version();
    struct tool_result r = RUN("schema", "status");
    tool_assert_status(r, 0);
    char line[64];
    snprintf(line, sizeof line, "schema: version %d, up to date\n", v);
    assert_contains(r.out, line);
    assert_contains(r.out, "demo objects: version ");
    tool_result_free(&r);
    r = RUN("schema", "status", "--json");
    tool_assert_status(r, 0);
    assert_status_json(r.out, "up to date", v, v, "up to date");
    tool_result_free(&r);
}
END_TEST

START_TEST(status_not_installed_exits_4)
{
    char *db = tu_create_database("cli_empty");
    int v = available_version();
    struct tool_result r = RUN("schema", "status", "-d", db);
    tool_assert_status(r, 4);
    assert_contains(r.out, "schema: not installed");
    assert_contains(r.out, "demo objects: not installed");
    assert_lacks(r.out, "installed: 0");
    tool_result_free(&r);
    r = RUN("schema", "status", "-d", db, "--json");
    tool_assert_status(r, 4);
    assert_status_json(r.out, "not installed", 0, v, "not installed");
    tool_result_free(&r);

    /* Installed with options after the command, then outdated. */
    r = RUN("schema", "install", "-d", db, "--demo", "--app-role", "app_service");
    tool_assert_status(r, 0);
    tool_result_free(&r);
    r = RUN("schema", "status", "-d", db);
    tool_assert_status(r, 0);
    tool_result_free(&r);
    tool_sql(db, "DELETE FROM myappctx.schema_migrations WHERE kind = 'core' AND version = "
                 "(SELECT max(version) FROM myappctx.schema_migrations WHERE kind = 'core')");
    r = RUN("schema", "status", "-d", db, "--json");
    tool_assert_status(r, 4);
    assert_status_json(r.out, "outdated", v - 1, v, "up to date");
    tool_result_free(&r);
    r = RUN("schema", "status", "-d", db);
    tool_assert_status(r, 4);
    assert_contains(r.out, "outdated");
    tool_result_free(&r);
    tu_drop_database(db);
    free(db);
}
END_TEST

/* An install refused for lack of privilege (42501) says what to do. */
START_TEST(non_superuser_install_gets_hint)
{
    char role[64], sql[160];
    snprintf(role, sizeof role, "cli_nopriv_%ld", (long)getpid());
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN", role);   /* test-only name */
    char *db = tu_create_database("cli_nopriv");
    tool_sql("", sql);
    struct tool_result r = RUN("-U", role, "-d", db, "schema", "install", "--app-role", "app_service");
    tool_assert_status(r, 1);
    assert_contains(r.err, "(SQLSTATE 42501)");
    assert_contains(r.err, "myappctx: hint: ");
    assert_contains(r.err, "superuser");
    assert_contains(r.err, "myappctx schema sql | psql");
    tool_result_free(&r);

    /* Another failure gets no such hint. */
    r = RUN("-d", db, "schema", "install", "--app-role", "pg_reserved_name");
    tool_assert_status(r, 1);
    assert_lacks(r.err, "hint:");
    tool_result_free(&r);

    tu_drop_database(db);
    free(db);
    snprintf(sql, sizeof sql, "DROP ROLE %s", role);
    tool_sql("", sql);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, general_help);
    tcase_add_test(tc, help_per_command);
    tcase_add_test(tc, version);
    tcase_add_test(tc, usage_errors_exit_2);
    tcase_add_test(tc, bad_conninfo_exits_2_with_libpq_message);
    tcase_add_test(tc, cannot_connect_exits_3);
    tcase_add_test(tc, psql_connection_options);
    tcase_add_test(tc, options_anywhere);
    tcase_add_test(tc, schema_sql_unchanged);
    tcase_add_test(tc, status_up_to_date_text_and_json);
    tcase_add_test(tc, status_not_installed_exits_4);
    tcase_add_test(tc, non_superuser_install_gets_hint);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
