/* myappctx doctor against the harness's deployment (schema + demo + the
 * app_service role: must be clean) and against a deliberately broken one
 * built here, where every kind of finding must be reported with its fix --
 * and the fixes, applied, must make the deployment clean. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_util.h"

#define RUN(...) tool_run(TOOL_ENV_INHERIT, __VA_ARGS__, (const char *)NULL)

static char *broken;   /* conninfo of the broken deployment */

/* What is wrong in the broken deployment, one statement per mistake. */
static const char *const breakage[] = {
    "ALTER ROLE app_broken BYPASSRLS",
    /* owned by the app role, RLS enabled but not forced */
    "CREATE TABLE data.owned_unforced (tenant_id uuid)",
    "ALTER TABLE data.owned_unforced ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY owned_tenant ON data.owned_unforced "
    "USING (tenant_id = (SELECT private.get_current_tenant_id()))",
    "ALTER TABLE data.owned_unforced OWNER TO app_broken",
    /* owned by a role the app role is a member of */
    "CREATE ROLE broken_owner NOLOGIN",
    "GRANT broken_owner TO app_broken",
    "CREATE TABLE data.member_owned (tenant_id uuid)",
    "ALTER TABLE data.member_owned ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY member_tenant ON data.member_owned "
    "USING (tenant_id = (SELECT private.get_current_tenant_id()))",
    "ALTER TABLE data.member_owned OWNER TO broken_owner",
    /* RLS and no policy */
    "CREATE TABLE data.no_policy (tenant_id uuid, note text)",
    "ALTER TABLE data.no_policy ENABLE ROW LEVEL SECURITY",
    /* a policy calling a reader per row (the other call is fine); a name
     * that needs quoting */
    "CREATE TABLE data.\"Per Row\" (tenant_id uuid, user_id uuid)",
    "ALTER TABLE data.\"Per Row\" ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY per_row ON data.\"Per Row\" "
    "USING (tenant_id = private.get_current_tenant_id() "
    "       AND user_id = (SELECT private.get_current_user_id())) "
    "WITH CHECK (tenant_id = private.get_current_tenant_id())",
    /* policies, RLS not enabled */
    "CREATE TABLE data.rls_off (tenant_id uuid)",
    "CREATE POLICY ignored ON data.rls_off USING (tenant_id = (SELECT private.get_current_tenant_id()))",
    /* SECURITY DEFINER without search_path, and with one lacking pg_temp */
    "CREATE FUNCTION public.sd_no_path() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$",
    "CREATE FUNCTION public.sd_no_temp() RETURNS int LANGUAGE sql SECURITY DEFINER "
    "SET search_path = public AS $$ SELECT 1 $$",
    /* an IMMUTABLE copy of a reader, and a reader made IMMUTABLE */
    "CREATE FUNCTION public.tenant_immutable() RETURNS uuid LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT NULLIF(current_setting('myapp.current_tenant_id', true), '')::uuid $$",
    "ALTER FUNCTION private.get_current_role() IMMUTABLE",
    /* the schema one version behind the library */
    "DELETE FROM myappctx.schema_migrations WHERE kind = 'core' AND version = "
    "(SELECT max(version) FROM myappctx.schema_migrations WHERE kind = 'core')",
};

/* Every finding the broken deployment must produce: check, object, and a
 * piece of the fix. */
static const struct {
    const char *check, *object, *fix;
} expected[] = {
    { "schema-outdated", NULL, "myappctx schema install --app-role=app_broken" },
    { "app-role-bypassrls", "app_broken", "ALTER ROLE app_broken NOBYPASSRLS;" },
    { "rls-not-forced", "data.owned_unforced", "ALTER TABLE data.owned_unforced FORCE ROW LEVEL SECURITY;" },
    { "app-role-owns-table", "data.owned_unforced", "ALTER TABLE data.owned_unforced OWNER TO postgres;" },
    { "rls-not-forced", "data.member_owned", "ALTER TABLE data.member_owned FORCE ROW LEVEL SECURITY;" },
    { "app-role-owns-table", "data.member_owned", "ALTER TABLE data.member_owned OWNER TO postgres;" },
    { "rls-no-policy", "data.no_policy", "CREATE POLICY tenant_isolation ON data.no_policy USING "
      "(tenant_id = (SELECT private.get_current_tenant_id()));" },
    { "rls-disabled-with-policies", "data.rls_off", "ALTER TABLE data.rls_off ENABLE ROW LEVEL SECURITY;" },
    { "policy-reader-per-row", "per_row ON data.\"Per Row\"",
      "ALTER POLICY per_row ON data.\"Per Row\" USING ((tenant_id = (SELECT private.get_current_tenant_id())) "
      "AND (user_id = ( SELECT private.get_current_user_id() AS get_current_user_id))) "
      "WITH CHECK (tenant_id = (SELECT private.get_current_tenant_id()));" },
    { "secdef-no-search-path", "public.sd_no_path()",
      "ALTER FUNCTION public.sd_no_path() SET search_path = pg_catalog, pg_temp;" },
    { "secdef-search-path-pg-temp", "public.sd_no_temp()",
      "ALTER FUNCTION public.sd_no_temp() SET search_path = public, pg_temp;" },
    { "reader-immutable", "private.get_current_role()", "ALTER FUNCTION private.get_current_role() STABLE;" },
    { "reader-immutable", "public.tenant_immutable()", "ALTER FUNCTION public.tenant_immutable() STABLE;" },
};

/* Drops every broken deployment and its roles.  Check skips a checked
 * teardown when the test fails, so setup calls this first too: a failed
 * test must not break the next one. */
static void
drop_broken(void)
{
    myappctx_conn *c = tu_connect();
    PGconn *pg = myappctx_conn_pg(c);
    PGresult *res = PQexec(pg, "SELECT format('DROP DATABASE %I WITH (FORCE)', datname) "
                               "FROM pg_database WHERE datname LIKE 'doctor\\_broken\\_%'");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(res); i++)
        tu_sql(pg, PQgetvalue(res, i, 0));
    PQclear(res);
    tu_sql(pg, "DROP ROLE IF EXISTS app_broken");
    tu_sql(pg, "DROP ROLE IF EXISTS broken_owner");
    myappctx_conn_close(c);
    free(broken);
    broken = NULL;
}

static void
build_broken(void)
{
    drop_broken();
    broken = tu_create_database("doctor_broken");
    struct tool_result r = RUN("-d", broken, "schema", "install", "--app-role", "app_broken");
    tool_assert_status(r, 0);
    tool_result_free(&r);
    for (size_t i = 0; i < sizeof breakage / sizeof breakage[0]; i++)
        tool_sql(broken, breakage[i]);
}

static json_t *
find(json_t *findings, const char *check, const char *object)
{
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f) {
        if (strcmp(json_string_value(json_object_get(f, "check")), check) == 0 &&
            (object == NULL || strcmp(json_string_value(json_object_get(f, "object")), object) == 0))
            return f;
    }
    return NULL;
}

static int
summary(json_t *doc, const char *what)
{
    json_t *v = json_object_get(json_object_get(doc, "summary"), what);
    ck_assert_msg(json_is_integer(v), "summary.%s", what);
    return (int)json_integer_value(v);
}

/* Every finding has all its fields, a known severity, and nothing empty. */
static void
assert_well_formed(json_t *findings)
{
    static const char *const fields[] = { "severity", "check", "object_type", "object",
                                          "problem", "fix" };
    size_t i;
    json_t *f;
    ck_assert(json_is_array(findings));
    json_array_foreach(findings, i, f) {
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
            const char *s = json_string_value(json_object_get(f, fields[k]));
            ck_assert_msg(s != NULL && *s != '\0', "finding %zu: no %s", i, fields[k]);
        }
        const char *sev = json_string_value(json_object_get(f, "severity"));
        ck_assert_msg(strcmp(sev, "error") == 0 || strcmp(sev, "warning") == 0 ||
                      strcmp(sev, "note") == 0, "severity %s", sev);
    }
}

/* The harness's deployment (schema, demo objects, app_service) is what the
 * library recommends: no error, no warning, exit 0.  The only finding is the
 * note that doctor itself runs as a superuser. */
START_TEST(clean_deployment_exits_0)
{
    struct tool_result r = RUN("doctor");
    tool_assert_status(r, 0);
    ck_assert_msg(strstr(r.out, "application role app_service, all schemas: no problems found") != NULL,
                  "%.3000s", r.out);
    ck_assert_msg(strstr(r.out, "error:") == NULL && strstr(r.out, "warning:") == NULL, "%.3000s", r.out);
    tool_result_free(&r);

    r = RUN("doctor", "--json", "--app-role=app_service");
    tool_assert_status(r, 0);
    json_t *doc = tool_json(r.out);
    json_t *findings = json_object_get(doc, "findings");
    assert_well_formed(findings);
    ck_assert_int_eq(summary(doc, "errors"), 0);
    ck_assert_int_eq(summary(doc, "warnings"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "app_role")), "app_service");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "database")), getenv("PGDATABASE"));
    ck_assert(json_is_null(json_object_get(doc, "schemas")));
    json_t *note = find(findings, "session-user-bypasses-rls", "postgres");
    ck_assert_msg(note != NULL, "%.3000s", r.out);
    ck_assert_str_eq(json_string_value(json_object_get(note, "severity")), "note");
    ck_assert_int_eq((int)json_array_size(findings), summary(doc, "notes"));
    json_decref(doc);
    tool_result_free(&r);
}
END_TEST

START_TEST(broken_deployment_reports_every_finding)
{
    struct tool_result r = RUN("doctor", "-d", broken, "--app-role", "app_broken", "--json");
    tool_assert_status(r, 1);
    json_t *doc = tool_json(r.out);
    json_t *findings = json_object_get(doc, "findings");
    assert_well_formed(findings);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        json_t *f = find(findings, expected[i].check, expected[i].object);
        ck_assert_msg(f != NULL, "no %s finding for %s in:\n%.3000s", expected[i].check,
                      expected[i].object ? expected[i].object : "the database", r.out);
        const char *fix = json_string_value(json_object_get(f, "fix"));
        ck_assert_msg(strstr(fix, expected[i].fix) != NULL, "%s %s: fix is\n  %s\nnot\n  %s",
                      expected[i].check, expected[i].object, fix, expected[i].fix);
    }
    /* Nothing beyond what was broken (and the note). */
    ck_assert_int_eq((int)json_array_size(findings), (int)(sizeof expected / sizeof expected[0]) + 1);
    ck_assert_int_eq(summary(doc, "errors"), 7);
    ck_assert_int_eq(summary(doc, "warnings"), 6);
    /* The member-owned table says through whom. */
    const char *why = json_string_value(json_object_get(
        find(findings, "rls-not-forced", "data.member_owned"), "problem"));
    ck_assert_msg(strstr(why, "broken_owner, of which the application role app_broken is a member"),
                  "%s", why);
    json_decref(doc);
    tool_result_free(&r);

    /* The text form: each finding, then its fix, then the summary. */
    r = RUN("-d", broken, "doctor", "--app-role=app_broken");
    tool_assert_status(r, 1);
    ck_assert_msg(strstr(r.out, "error: role app_broken: has BYPASSRLS: row-level security does "
                                "not apply to it [app-role-bypassrls]\n"
                                "  fix: ALTER ROLE app_broken NOBYPASSRLS;\n") != NULL, "%.3000s", r.out);
    ck_assert_msg(strstr(r.out, "warning: policy per_row ON data.\"Per Row\": calls "
                                "private.get_current_tenant_id() for every row") != NULL, "%.3000s", r.out);
    ck_assert_msg(strstr(r.out, ": 7 errors, 6 warnings (1 note)\n") != NULL, "%.3000s", r.out);
    tool_result_free(&r);
}
END_TEST

/* Running every fix that is a statement, then the install the version
 * finding asks for, leaves a clean deployment: the fixes are valid SQL
 * and they fix what was found. */
START_TEST(fixes_make_the_deployment_clean)
{
    struct tool_result r = RUN("doctor", "-d", broken, "--app-role", "app_broken", "--json");
    tool_assert_status(r, 1);
    json_t *doc = tool_json(r.out);
    size_t i, applied = 0;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f) {
        const char *fix = json_string_value(json_object_get(f, "fix"));
        if (strncmp(fix, "ALTER ", 6) == 0 || strncmp(fix, "CREATE ", 7) == 0) {
            tool_sql(broken, fix);
            applied++;
        }
    }
    ck_assert_uint_eq(applied, 13 - 1);   /* all but the schema version */
    json_decref(doc);
    tool_result_free(&r);

    r = RUN("doctor", "-d", broken, "--app-role", "app_broken");
    tool_assert_status(r, 1);
    ck_assert_msg(strstr(r.out, "[schema-outdated]") != NULL, "%.3000s", r.out);
    ck_assert_msg(strstr(r.out, ": 1 error, 0 warnings (1 note)") != NULL, "%.3000s", r.out);
    tool_result_free(&r);

    r = RUN("-d", broken, "schema", "install", "--app-role=app_broken");
    tool_assert_status(r, 0);
    tool_result_free(&r);
    r = RUN("doctor", "-d", broken, "--app-role", "app_broken");
    tool_assert_status(r, 0);
    ck_assert_msg(strstr(r.out, "no problems found") != NULL, "%.3000s", r.out);
    tool_result_free(&r);
}
END_TEST

/* -n limits the table checks; functions and roles are checked anyway. */
START_TEST(schema_filter)
{
    struct tool_result r = RUN("doctor", "-d", broken, "--app-role", "app_broken", "--json",
                               "-n", "public", "--schema", "api");
    tool_assert_status(r, 1);
    json_t *doc = tool_json(r.out);
    json_t *findings = json_object_get(doc, "findings");
    ck_assert_ptr_null(find(findings, "rls-not-forced", NULL));
    ck_assert_ptr_null(find(findings, "rls-no-policy", NULL));
    ck_assert_ptr_null(find(findings, "policy-reader-per-row", NULL));
    ck_assert_ptr_nonnull(find(findings, "secdef-no-search-path", "public.sd_no_path()"));
    ck_assert_ptr_nonnull(find(findings, "app-role-bypassrls", "app_broken"));
    json_t *schemas = json_object_get(doc, "schemas");
    ck_assert_int_eq((int)json_array_size(schemas), 2);
    ck_assert_str_eq(json_string_value(json_array_get(schemas, 0)), "public");
    json_decref(doc);
    tool_result_free(&r);

    r = RUN("doctor", "-d", broken, "--app-role", "app_broken", "-n", "data", "--json");
    tool_assert_status(r, 1);
    doc = tool_json(r.out);
    ck_assert_ptr_nonnull(find(json_object_get(doc, "findings"), "rls-not-forced", "data.owned_unforced"));
    json_decref(doc);
    tool_result_free(&r);

    r = RUN("doctor", "-d", broken, "-n", "no_such_schema");
    tool_assert_status(r, 1);
    ck_assert_msg(strstr(r.err, "schema no_such_schema does not exist") != NULL, "%.3000s", r.err);
    ck_assert_str_eq(r.out, "");
    tool_result_free(&r);
}
END_TEST

START_TEST(app_role_superuser_or_missing)
{
    struct tool_result r = RUN("doctor", "--app-role", "postgres", "--json");
    tool_assert_status(r, 1);
    json_t *doc = tool_json(r.out);
    json_t *findings = json_object_get(doc, "findings");
    json_t *f = find(findings, "app-role-superuser", "postgres");
    ck_assert_msg(f != NULL, "%.3000s", r.out);
    ck_assert_str_eq(json_string_value(json_object_get(f, "fix")), "ALTER ROLE postgres NOSUPERUSER;");
    ck_assert_ptr_nonnull(find(findings, "app-role-bypassrls", "postgres"));
    /* A superuser "owns" everything; that is not repeated per table. */
    ck_assert_ptr_null(find(findings, "app-role-owns-table", NULL));
    /* Connected as the app role itself: no separate note. */
    ck_assert_ptr_null(find(findings, "session-user-bypasses-rls", NULL));
    json_decref(doc);
    tool_result_free(&r);

    r = RUN("doctor", "--app-role", "No Such Role", "--json");
    tool_assert_status(r, 1);
    doc = tool_json(r.out);
    f = find(json_object_get(doc, "findings"), "app-role-missing", "\"No Such Role\"");
    ck_assert_msg(f != NULL, "%.3000s", r.out);
    ck_assert_msg(strstr(json_string_value(json_object_get(f, "fix")),
                         "--app-role='No Such Role'") != NULL, "%.3000s", r.out);
    json_decref(doc);
    tool_result_free(&r);
}
END_TEST

START_TEST(schema_not_installed)
{
    char *db = tu_create_database("doctor_empty");
    struct tool_result r = RUN("doctor", "-d", db, "--json");
    tool_assert_status(r, 1);
    json_t *doc = tool_json(r.out);
    json_t *f = find(json_object_get(doc, "findings"), "schema-not-installed", NULL);
    ck_assert_msg(f != NULL, "%.3000s", r.out);
    ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), "error");
    ck_assert_str_eq(json_string_value(json_object_get(f, "fix")),
                     "myappctx schema install --app-role=app_service");
    json_decref(doc);
    tool_result_free(&r);
    tu_drop_database(db);
    free(db);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("doctor");
    TCase *clean = tcase_create("clean");
    tcase_set_timeout(clean, 60);
    tcase_add_test(clean, clean_deployment_exits_0);
    tcase_add_test(clean, app_role_superuser_or_missing);
    tcase_add_test(clean, schema_not_installed);
    suite_add_tcase(s, clean);

    TCase *bad = tcase_create("broken");
    tcase_set_timeout(bad, 60);
    tcase_add_checked_fixture(bad, build_broken, drop_broken);
    tcase_add_unchecked_fixture(bad, NULL, drop_broken);
    tcase_add_test(bad, broken_deployment_reports_every_finding);
    tcase_add_test(bad, fixes_make_the_deployment_clean);
    tcase_add_test(bad, schema_filter);
    suite_add_tcase(s, bad);
    return tu_run(s);
}
