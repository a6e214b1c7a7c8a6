/* Connection validation, initialisation, idle cleanup and statistics,
 * against a real server. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* The value of a parameter as the server shows it ('' when empty). */
static char *
show(myappctx_conn *c, const char *name)
{
    const char *p[] = { name };
    return tu_value(c, "SELECT current_setting($1)", 1, p);
}

/* Asserts a validation string field: NULL stands for "'' on the server". */
static void
assert_field(const char *got, const char *server_value)
{
    if (*server_value == '\0')
        ck_assert_ptr_null(got);
    else {
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, server_value);
    }
}

static void
assert_validation_matches_server(myappctx_conn *c, const myappctx_validation *v)
{
    static const char *const params[][2] = {
        { "application_name", "application_name" }, { "server_version", "server_version" },
        { "TimeZone", "timezone" }, { "search_path", "search_path" },
    };
    const char *fields[] = { v->application_name, v->server_version, v->timezone,
                             v->search_path };
    for (size_t i = 0; i < 4; i++) {
        char *value = show(c, params[i][0]);
        assert_field(fields[i], value);
        json_t *j = json_object_get(v->raw, params[i][1]);
        ck_assert_str_eq(json_string_value(j), value);
        free(value);
    }
    ck_assert_uint_eq(json_object_size(v->raw), 7);
}

START_TEST(validate_without_context)
{
    myappctx_conn *c = tu_connect();                          /* superuser */
    myappctx_error err;
    myappctx_validation *v = NULL;
    tu_assert_ok(myappctx_conn_validate(c, &v, &err), err);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->has_user, 0);
    ck_assert_int_eq(v->has_tenant, 0);
    ck_assert_int_eq(v->is_superuser, 1);
    ck_assert_str_eq(v->server_version,
                     PQparameterStatus(myappctx_conn_pg(c), "server_version"));
    assert_validation_matches_server(c, v);
    ck_assert(json_is_null(json_object_get(v->raw, "user_id")));
    myappctx_validation_free(v);
    myappctx_validation_free(NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(validate_with_context_as_app_role)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    myappctx_uuid user, tenant;
    char user_text[MYAPPCTX_UUID_BUFSIZE], tenant_text[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(&user, user_text);
    tu_random_uuid(&tenant, tenant_text);
    tu_set_context(c, user_text, tenant_text);

    myappctx_validation *v;
    tu_assert_ok(myappctx_conn_validate(c, &v, &err), err);
    ck_assert_int_eq(v->has_user, 1);
    ck_assert(myappctx_uuid_equal(&v->user_id, &user));
    ck_assert_int_eq(v->has_tenant, 1);
    ck_assert(myappctx_uuid_equal(&v->tenant_id, &tenant));
    ck_assert_int_eq(v->is_superuser, 0);
    ck_assert_str_eq(v->timezone, "UTC");
    ck_assert_str_eq(v->search_path, "api, pg_temp");
    ck_assert_ptr_nonnull(strstr(v->application_name, user_text));
    assert_validation_matches_server(c, v);
    myappctx_validation_free(v);

    /* A user without a tenant. */
    tu_set_context(c, user_text, NULL);
    tu_assert_ok(myappctx_conn_validate(c, &v, &err), err);
    ck_assert_int_eq(v->has_user, 1);
    ck_assert_int_eq(v->has_tenant, 0);
    myappctx_validation_free(v);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(validate_refuses_a_forged_non_uuid)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    myappctx_validation *v = (myappctx_validation *)1;
    tu_exec(c, "SELECT set_config('myapp.current_user_id', 'x''; DROP TABLE t; --', false)",
            0, NULL);
    tu_expect(myappctx_conn_validate(c, &v, &err), MYAPPCTX_EMALFORMED, err, "user_id");
    ck_assert_ptr_null(v);
    tu_exec(c, "SELECT set_config('myapp.current_user_id', '', false)", 0, NULL);
    tu_exec(c, "SELECT set_config('myapp.current_tenant_id', '{1234}', false)", 0, NULL);
    tu_expect(myappctx_conn_validate(c, &v, &err), MYAPPCTX_EMALFORMED, err, "tenant_id");
    tu_exec(c, "SELECT set_config('myapp.current_tenant_id', '', false)", 0, NULL);
    tu_assert_ok(myappctx_conn_validate(c, &v, &err), err);
    ck_assert_int_eq(v->has_user, 0);
    ck_assert_int_eq(v->has_tenant, 0);
    myappctx_validation_free(v);

    tu_expect(myappctx_conn_validate(NULL, &v, &err), MYAPPCTX_EINVAL, err, "'conn'");
    tu_expect(myappctx_conn_validate(c, NULL, &err), MYAPPCTX_EINVAL, err, "'out'");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(validate_works_behind_txn_pooler)
{
    myappctx_conn *c = tu_txn_pooler_connect(tu_pgbouncer_conninfo("app_service"));
    myappctx_error err;
    myappctx_validation *v;
    tu_assert_ok(myappctx_conn_validate(c, &v, &err), err);
    ck_assert_int_eq(v->is_superuser, 0);
    myappctx_validation_free(v);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(init_loads_settings_sets_defaults_and_logs)
{
    char appname[64], conninfo[128], key[64];
    tu_unique("init", appname, sizeof appname);
    tu_unique("initkey", key, sizeof key);
    snprintf(conninfo, sizeof conninfo, "user=app_service application_name=%s", appname);
    myappctx_conn *c = tu_connect_opts(conninfo, NULL);
    myappctx_error err;
    tu_assert_ok(myappctx_setting_put(c, key, "loaded by init", NULL, &err), err);
    tu_assert_ok(myappctx_config_set(c, "TimeZone", "Europe/Berlin", 0, &err), err);
    tu_assert_ok(myappctx_config_set(c, "DateStyle", "German", 0, &err), err);

    tu_assert_ok(myappctx_conn_init(c, &err), err);
    char *v = show(c, "TimeZone");
    ck_assert_str_eq(v, "UTC");
    free(v);
    v = show(c, "DateStyle");
    ck_assert_str_eq(v, "ISO, MDY");
    free(v);
    char *got;
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
    ck_assert_str_eq(got, "loaded by init");
    myappctx_free(got);

    myappctx_conn *su = tu_connect();
    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(myappctx_conn_pg(c)));
    const char *p[] = { pid, appname };
    v = tu_value(su, "SELECT count(*) FROM data.connection_log"
                     " WHERE backend_pid = $1::int AND application_name = $2", 2, p);
    ck_assert_str_eq(v, "1");
    free(v);
    myappctx_conn_close(su);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(init_refusals)
{
    myappctx_conn *c = tu_txn_pooler_connect(NULL);
    myappctx_error err;
    tu_expect(myappctx_conn_init(c, &err), MYAPPCTX_ESESSIONSTATE, err, NULL);
    myappctx_conn_close(c);
    tu_expect(myappctx_conn_init(NULL, &err), MYAPPCTX_EINVAL, err, "'conn'");

    c = tu_app_connect();
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), MYAPPCTX_OK);
    tu_expect(myappctx_conn_init(c, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    myappctx_validation *v;
    tu_expect(myappctx_conn_validate(c, &v, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    myappctx_conn_close(c);
}
END_TEST

/* A fresh application role (myappctx.setup_app_role()) so that the cleanup
 * terminates only this test's connections, never those of suites running
 * in parallel as app_service (or PgBouncer's). */
static void
create_app_role(char *role, size_t size)
{
    tu_unique("idlerole", role, size);
    myappctx_conn *su = tu_connect();
    const char *p[] = { role };
    tu_exec(su, "SELECT myappctx.setup_app_role($1)", 1, p);
    myappctx_conn_close(su);
}

static void
drop_role(const char *role)
{
    myappctx_conn *su = tu_connect();
    char sql[160];
    /* Test-only DDL on a name this test generated. */
    snprintf(sql, sizeof sql, "DROP OWNED BY %s; DROP ROLE %s", role, role);
    tu_sql(myappctx_conn_pg(su), sql);
    myappctx_conn_close(su);
}

START_TEST(cleanup_terminates_idle_connections_of_own_role)
{
    char role[64], conninfo[96];
    create_app_role(role, sizeof role);
    snprintf(conninfo, sizeof conninfo, "user=%s", role);
    myappctx_conn *caller = tu_connect_opts(conninfo, NULL);
    myappctx_conn *victim = tu_connect_opts(conninfo, NULL);
    myappctx_conn *bystander = tu_connect();                 /* another role */
    myappctx_error err;
    tu_exec(victim, "SELECT 1", 0, NULL);
    tu_exec(bystander, "SELECT 1", 0, NULL);
    sleep(2);                                                 /* idle > 1 second */

    int terminated = -1;
    tu_assert_ok(myappctx_conn_cleanup_idle(caller, 1, &terminated, &err), err);
    ck_assert_int_eq(terminated, 1);
    tu_expect(myappctx_exec(victim, "SELECT 1", 0, NULL, NULL, &err), MYAPPCTX_ECONNECT, err,
              NULL);
    tu_exec(caller, "SELECT 1", 0, NULL);
    tu_exec(bystander, "SELECT 1", 0, NULL);
    /* Nothing idle is left; the count may be omitted. */
    tu_assert_ok(myappctx_conn_cleanup_idle(caller, 1, NULL, &err), err);
    myappctx_conn_close(victim);
    myappctx_conn_close(bystander);
    myappctx_conn_close(caller);
    drop_role(role);
}
END_TEST

START_TEST(cleanup_as_app_role_and_bad_timeouts)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    /* Nothing has been idle for 68 years: the call is allowed and kills nothing. */
    int terminated = -1;
    tu_assert_ok(myappctx_conn_cleanup_idle(c, 2147483647L, &terminated, &err), err);
    ck_assert_int_eq(terminated, 0);
    static const long bad[] = { 0, -1, -600, 2147483648L, 9223372036854775807L };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        terminated = -1;
        tu_expect(myappctx_conn_cleanup_idle(c, bad[i], &terminated, &err), MYAPPCTX_EINVAL,
                  err, "'idle_timeout_seconds'");
        ck_assert_int_eq(terminated, -1);
    }
    tu_expect(myappctx_conn_cleanup_idle(NULL, 600, &terminated, &err), MYAPPCTX_EINVAL,
              err, "'conn'");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(summary_matches_pg_stat_activity)
{
    myappctx_conn *c = tu_connect();
    myappctx_conn *idle = tu_connect();
    myappctx_error err;
    tu_exec(idle, "SELECT 1", 0, NULL);
    /* pg_stat_activity is read once per transaction, so the summary and the
     * reference query below see the same snapshot. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    myappctx_conn_summary *rows = NULL;
    size_t n = 0;
    tu_assert_ok(myappctx_conn_summary_get(c, &rows, &n, &err), err);
    PGresult *res;
    tu_assert_ok(myappctx_exec(c, "SELECT state, count(*) FROM pg_stat_activity"
                                  " WHERE datname = current_database()"
                                  " GROUP BY state ORDER BY state", 0, NULL, &res, &err), err);
    tu_assert_ok(myappctx_commit(c, &err), err);
    ck_assert_uint_eq(n, (size_t)PQntuples(res));
    int saw_idle = 0;
    for (size_t i = 0; i < n; i++) {
        int r = (int)i;
        if (PQgetisnull(res, r, 0))
            ck_assert_ptr_null(rows[i].state);
        else
            ck_assert_str_eq(rows[i].state, PQgetvalue(res, r, 0));
        ck_assert_int_eq(rows[i].count, atoll(PQgetvalue(res, r, 1)));
        if (rows[i].state != NULL && strcmp(rows[i].state, "idle") == 0) {
            saw_idle = 1;
            ck_assert_int_ge(rows[i].count, 1);
            ck_assert_int_eq(rows[i].has_avg_idle, 1);
            ck_assert(rows[i].avg_idle_seconds >= 0.0);
        }
    }
    ck_assert_int_eq(saw_idle, 1);
    PQclear(res);
    myappctx_conn_summary_free(rows);
    myappctx_conn_summary_free(NULL);

    tu_expect(myappctx_conn_summary_get(NULL, &rows, &n, &err), MYAPPCTX_EINVAL, err,
              "'conn'");
    tu_expect(myappctx_conn_summary_get(c, NULL, &n, &err), MYAPPCTX_EINVAL, err, "'out'");
    tu_expect(myappctx_conn_summary_get(c, &rows, NULL, &err), MYAPPCTX_EINVAL, err,
              "'out_count'");
    myappctx_conn_close(idle);
    myappctx_conn_close(c);
}
END_TEST

static const myappctx_conn_stat *
find_app(const myappctx_conn_stat *rows, size_t n, const char *appname)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].application_name != NULL && strcmp(rows[i].application_name, appname) == 0)
            return &rows[i];
    return NULL;
}

START_TEST(stats_rows_as_app_role)
{
    char mine[64], theirs[64], conninfo[128], query[128];
    tu_unique("statsmine", mine, sizeof mine);
    tu_unique("statstheirs", theirs, sizeof theirs);
    snprintf(conninfo, sizeof conninfo, "user=app_service application_name=%s", mine);
    myappctx_conn *idle_mine = tu_connect_opts(conninfo, NULL);
    snprintf(conninfo, sizeof conninfo, "application_name=%s", theirs);
    myappctx_conn *idle_theirs = tu_connect_opts(conninfo, NULL);   /* superuser */
    snprintf(query, sizeof query, "SELECT 'it''s; \"%s\"'", mine);
    tu_exec(idle_mine, query, 0, NULL);
    tu_exec(idle_theirs, "SELECT 2", 0, NULL);

    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_assert_ok(myappctx_begin(c, &err), err);
    myappctx_conn_stat *rows = NULL;
    size_t n = 0;
    tu_assert_ok(myappctx_conn_stats_get(c, &rows, &n, &err), err);
    const char *p[] = { mine };
    char *epoch = tu_value(c, "SELECT extract(epoch FROM state_change) FROM pg_stat_activity"
                              " WHERE application_name = $1", 1, p);
    tu_assert_ok(myappctx_commit(c, &err), err);

    const myappctx_conn_stat *r = find_app(rows, n, mine);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->username, "app_service");
    ck_assert_str_eq(r->state, "idle");
    ck_assert_str_eq(r->query, query);
    ck_assert_ptr_null(r->client_addr);                       /* Unix socket */
    ck_assert_int_eq(r->has_state_change, 1);
    /* Same instant; the library's locale-independent parser may differ from
     * strtod() in the last bit. */
    double expected = strtod(epoch, NULL);
    ck_assert_msg(r->state_change > expected - 1e-5 && r->state_change < expected + 1e-5,
                  "%f vs %s", r->state_change, epoch);
    ck_assert(r->idle_seconds >= 0.0);
    free(epoch);

    /* Another role's connection: visible, details hidden. */
    r = find_app(rows, n, theirs);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->username, "postgres");
    ck_assert_ptr_null(r->state);
    ck_assert_str_eq(r->query, "<insufficient privilege>");
    ck_assert_int_eq(r->has_state_change, 0);

    /* Our own row is the one running the statistics query. */
    int saw_self = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].state != NULL && strcmp(rows[i].state, "active") == 0 &&
            rows[i].query != NULL && strstr(rows[i].query, "api.v_connection_stats") != NULL)
            saw_self = 1;
    ck_assert_int_eq(saw_self, 1);
    myappctx_conn_stats_free(rows);
    myappctx_conn_stats_free(NULL);

    tu_expect(myappctx_conn_stats_get(NULL, &rows, &n, &err), MYAPPCTX_EINVAL, err,
              "'conn'");
    tu_expect(myappctx_conn_stats_get(c, NULL, &n, &err), MYAPPCTX_EINVAL, err, "'out'");
    tu_expect(myappctx_conn_stats_get(c, &rows, NULL, &err), MYAPPCTX_EINVAL, err,
              "'out_count'");
    myappctx_conn_close(c);
    myappctx_conn_close(idle_theirs);
    myappctx_conn_close(idle_mine);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("lifecycle");
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, validate_without_context);
    tcase_add_test(tc, validate_with_context_as_app_role);
    tcase_add_test(tc, validate_refuses_a_forged_non_uuid);
    tcase_add_test(tc, validate_works_behind_txn_pooler);
    tcase_add_test(tc, init_loads_settings_sets_defaults_and_logs);
    tcase_add_test(tc, init_refusals);
    tcase_add_test(tc, cleanup_terminates_idle_connections_of_own_role);
    tcase_add_test(tc, cleanup_as_app_role_and_bad_timeouts);
    tcase_add_test(tc, summary_matches_pg_stat_activity);
    tcase_add_test(tc, stats_rows_as_app_role);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
