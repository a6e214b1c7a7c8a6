/* Session configuration: set (session and local), show, reset, reset all
 * and role defaults, against a real server. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "testutil.h"

/* Asserts that @name shows as @expected (NULL: unset). */
static void
assert_shows(myappctx_conn *c, const char *name, const char *expected)
{
    myappctx_error err;
    char *got = (char *)1;
    tu_assert_ok(myappctx_config_show(c, name, &got, &err), err);
    if (expected == NULL)
        ck_assert_msg(got == NULL, "%s shows '%s', expected unset", name, got);
    else {
        ck_assert_msg(got != NULL, "%s is unset, expected '%s'", name, expected);
        ck_assert_str_eq(got, expected);
    }
    myappctx_free(got);
}

/* A custom parameter name that no other test uses. */
static void
custom_name(char *buf, size_t size)
{
    char unique[48];
    tu_unique("t", unique, sizeof unique);
    snprintf(buf, size, "myapp.%s", unique);
}

START_TEST(set_show_reset_restores_role_default)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    assert_shows(c, "statement_timeout", "30s");          /* app_service's role default */
    tu_assert_ok(myappctx_config_set(c, "statement_timeout", "5s", 0, &err), err);
    assert_shows(c, "statement_timeout", "5s");
    tu_assert_ok(myappctx_config_set(c, "Statement_Timeout", "7000", 0, &err), err);
    assert_shows(c, "STATEMENT_TIMEOUT", "7s");
    tu_assert_ok(myappctx_config_reset(c, "statement_timeout", &err), err);
    assert_shows(c, "statement_timeout", "30s");

    /* A custom role default comes back too. */
    assert_shows(c, "myapp.default_page_size", "25");
    tu_assert_ok(myappctx_config_set(c, "myapp.default_page_size", "100", 0, &err), err);
    assert_shows(c, "myapp.default_page_size", "100");
    tu_assert_ok(myappctx_config_reset(c, "myapp.default_page_size", &err), err);
    assert_shows(c, "myapp.default_page_size", "25");

    /* A custom parameter without a default reads as unset after a reset. */
    char name[64];
    custom_name(name, sizeof name);
    tu_assert_ok(myappctx_config_set(c, name, "x", 0, &err), err);
    tu_assert_ok(myappctx_config_reset(c, name, &err), err);
    assert_shows(c, name, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(values_are_stored_verbatim)
{
    static const char *const hostile[] = {
        "O'Brien", "back\\slash", "semi; RESET ALL; --", "multi\nline\r\n", "\"quoted\"",
        "$1", "%s%n", "caf\xc3\xa9", "  padded  ", "a = b", "DEFAULT",
    };
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char name[64];
    custom_name(name, sizeof name);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        tu_assert_ok(myappctx_config_set(c, name, hostile[i], 0, &err), err);
        assert_shows(c, name, hostile[i]);
    }
    /* '' is how an unset custom parameter reads. */
    tu_assert_ok(myappctx_config_set(c, name, "", 0, &err), err);
    assert_shows(c, name, NULL);

    char *big = malloc(MYAPPCTX_CONFIG_VALUE_MAX + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'z', MYAPPCTX_CONFIG_VALUE_MAX);
    big[MYAPPCTX_CONFIG_VALUE_MAX] = '\0';
    tu_assert_ok(myappctx_config_set(c, name, big, 0, &err), err);
    assert_shows(c, name, big);
    free(big);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(local_needs_a_transaction_and_ends_with_it)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_expect(myappctx_config_set(c, "work_mem", "8MB", 1, &err), MYAPPCTX_ENOTXN, err, NULL);
    char *before;
    tu_assert_ok(myappctx_config_show(c, "work_mem", &before, &err), err);
    ck_assert_str_ne(before, "8MB");

    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_config_set(c, "work_mem", "8MB", 1, &err), err);
    assert_shows(c, "work_mem", "8MB");
    tu_assert_ok(myappctx_commit(c, &err), err);
    assert_shows(c, "work_mem", before);

    /* A session-level SET inside a rolled-back transaction is undone. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_config_set(c, "work_mem", "9MB", 0, &err), err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    assert_shows(c, "work_mem", before);

    /* In an aborted transaction: refused before the round trip. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), MYAPPCTX_OK);
    tu_expect(myappctx_config_set(c, "work_mem", "8MB", 1, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    tu_expect(myappctx_config_set(c, "work_mem", "8MB", 0, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    char *s;
    tu_expect(myappctx_config_show(c, "work_mem", &s, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    tu_expect(myappctx_config_reset(c, "work_mem", &err), MYAPPCTX_ETXNFAILED, err, NULL);
    tu_expect(myappctx_config_reset_all(c, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_free(before);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(session_scope_refused_behind_txn_pooler)
{
    myappctx_conn *c = tu_txn_pooler_connect(tu_pgbouncer_conninfo("app_service"));
    myappctx_error err;
    tu_expect(myappctx_config_set(c, "work_mem", "8MB", 0, &err), MYAPPCTX_ESESSIONSTATE, err,
              NULL);
    tu_expect(myappctx_config_reset(c, "work_mem", &err), MYAPPCTX_ESESSIONSTATE, err, NULL);
    tu_expect(myappctx_config_reset_all(c, &err), MYAPPCTX_ESESSIONSTATE, err, NULL);
    /* Transaction scope works: the pooler keeps the server connection for
     * the whole transaction. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_config_set(c, "work_mem", "8MB", 1, &err), err);
    assert_shows(c, "work_mem", "8MB");
    tu_assert_ok(myappctx_commit(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(names_are_checked_before_any_round_trip)
{
    static const char *const bad[] = {
        "", "1abc", "a.b.c", "a-b", "a b", "x;drop", "statement_timeout = 1", ".a", "a.",
        "a..b", "a.1b", "name'", "n\xc3\xa9", "\xff", "work_mem\n",
        "a123456789012345678901234567890123456789012345678901234567890123", /* 64 */
    };
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), MYAPPCTX_OK);
    char *s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_expect(myappctx_config_set(c, bad[i], "v", 0, &err), MYAPPCTX_EINVAL, err, "'name'");
        tu_expect(myappctx_config_set(c, bad[i], "v", 1, &err), MYAPPCTX_EINVAL, err, "'name'");
        tu_expect(myappctx_config_show(c, bad[i], &s, &err), MYAPPCTX_EINVAL, err, "'name'");
        tu_expect(myappctx_config_reset(c, bad[i], &err), MYAPPCTX_EINVAL, err, "'name'");
    }
    tu_expect(myappctx_config_set(c, NULL, "v", 0, &err), MYAPPCTX_EINVAL, err, "'name'");
    tu_expect(myappctx_config_show(c, NULL, &s, &err), MYAPPCTX_EINVAL, err, "'name'");
    tu_expect(myappctx_config_reset(c, NULL, &err), MYAPPCTX_EINVAL, err, "'name'");
    tu_assert_ok(myappctx_rollback(c, &err), err);

    /* 63 bytes is the limit. */
    char name[64];
    memcpy(name, "myapp.", 6);
    memset(name + 6, 'n', 57);
    name[63] = '\0';
    tu_assert_ok(myappctx_config_set(c, name, "longest", 0, &err), err);
    assert_shows(c, name, "longest");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(context_variables_are_read_only_here)
{
    static const char *const names[] = {
        "myapp.current_user_id", "MYAPP.Current_Tenant_Id", "myapp.current_role",
        "myapp.session_id", "myapp.context_metadata", "myapp.context_created_at",
        "myapp.audit_context", "myapp.original_user_id", "myapp.original_role",
        "myapp.is_impersonating", "myapp.loaded_settings",
    };
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char user[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, user);
    tu_set_context(c, user, NULL);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tu_expect(myappctx_config_set(c, names[i], "x", 0, &err), MYAPPCTX_EINVAL, err,
                  "context variable");
        tu_expect(myappctx_config_reset(c, names[i], &err), MYAPPCTX_EINVAL, err,
                  "context variable");
    }
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_expect(myappctx_config_set(c, "myapp.current_user_id", "x", 1, &err), MYAPPCTX_EINVAL, err,
              "context variable");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    /* Reading is fine, and the context is intact. */
    assert_shows(c, "myapp.current_user_id", user);
    assert_shows(c, "myapp.current_tenant_id", NULL);
    /* Names that only look similar are ordinary parameters. */
    tu_assert_ok(myappctx_config_set(c, "myapp.current_user_idx", "ok", 0, &err), err);
    tu_assert_ok(myappctx_config_set(c, "other.current_user_id", "ok", 0, &err), err);
    assert_shows(c, "other.current_user_id", "ok");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(show_unset_and_unknown)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char *s = (char *)1;
    char name[64];
    custom_name(name, sizeof name);
    assert_shows(c, name, NULL);                              /* never existed */
    tu_expect(myappctx_config_show(c, "no_such_parameter", &s, &err), MYAPPCTX_ENOTFOUND, err,
              "no_such_parameter");
    ck_assert_ptr_null(s);
    assert_shows(c, "TimeZone", "UTC");
    assert_shows(c, "search_path", "api, pg_temp");
    assert_shows(c, "application_name", NULL);                /* '' reads as unset */
    tu_expect(myappctx_config_show(c, "work_mem", NULL, &err), MYAPPCTX_EINVAL, err, "'out'");
    tu_expect(myappctx_config_show(NULL, "work_mem", &s, &err), MYAPPCTX_EINVAL, err, "'conn'");
    /* A parameter this role may not read. */
    tu_expect(myappctx_config_show(c, "data_directory", &s, &err), MYAPPCTX_ESERVER, err, NULL);
    ck_assert_str_eq(err.sqlstate, "42501");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(reset_unknown_is_enotfound)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char name[64];
    custom_name(name, sizeof name);
    tu_expect(myappctx_config_reset(c, "no_such_parameter", &err), MYAPPCTX_ENOTFOUND, err,
              "no_such_parameter");
    tu_expect(myappctx_config_reset(c, name, &err), MYAPPCTX_ENOTFOUND, err, name);
    /* ...and the failed reset did not create it. */
    assert_shows(c, name, NULL);
    tu_expect(myappctx_config_reset(NULL, "work_mem", &err), MYAPPCTX_EINVAL, err, "'conn'");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(server_refusals_are_reported)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_expect(myappctx_config_set(c, "statement_timeout", "soon", 0, &err), MYAPPCTX_ESERVER,
              err, NULL);
    ck_assert_str_eq(err.sqlstate, "22023");
    tu_expect(myappctx_config_set(c, "log_statement", "all", 0, &err), MYAPPCTX_ESERVER, err,
              NULL);
    ck_assert_str_eq(err.sqlstate, "42501");
    tu_expect(myappctx_config_set(c, "no_such_parameter", "1", 0, &err), MYAPPCTX_ESERVER, err,
              NULL);
    ck_assert_str_eq(err.sqlstate, "42704");
    tu_expect(myappctx_config_reset(c, "log_statement", &err), MYAPPCTX_ESERVER, err, NULL);
    ck_assert_str_eq(err.sqlstate, "42501");
    /* The connection is still usable. */
    assert_shows(c, "statement_timeout", "30s");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(arguments_are_checked)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_expect(myappctx_config_set(NULL, "work_mem", "8MB", 0, &err), MYAPPCTX_EINVAL, err,
              "'conn'");
    tu_expect(myappctx_config_set(c, "work_mem", NULL, 0, &err), MYAPPCTX_EINVAL, err, "'value'");
    tu_expect(myappctx_config_set(c, "work_mem", "8\xe2\x82", 0, &err), MYAPPCTX_EINVAL, err,
              "'value'");
    char *big = malloc(MYAPPCTX_CONFIG_VALUE_MAX + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'v', MYAPPCTX_CONFIG_VALUE_MAX + 1);
    big[MYAPPCTX_CONFIG_VALUE_MAX + 1] = '\0';
    tu_expect(myappctx_config_set(c, "myapp.big", big, 0, &err), MYAPPCTX_EINVAL, err, "'value'");
    free(big);
    tu_expect(myappctx_config_reset_all(NULL, &err), MYAPPCTX_EINVAL, err, "'conn'");
    ck_assert_int_eq(myappctx_config_set(c, "bad name", "v", 0, NULL), MYAPPCTX_EINVAL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(reset_all_restores_defaults_but_not_role)
{
    myappctx_conn *c = tu_connect();                          /* superuser */
    myappctx_error err;
    char name[64], *work_mem;
    custom_name(name, sizeof name);
    tu_assert_ok(myappctx_config_show(c, "work_mem", &work_mem, &err), err);
    ck_assert_str_ne(work_mem, "13MB");
    tu_assert_ok(myappctx_config_set(c, "work_mem", "13MB", 0, &err), err);
    tu_assert_ok(myappctx_config_set(c, name, "x", 0, &err), err);
    tu_exec(c, "SET ROLE app_service", 0, NULL);
    tu_assert_ok(myappctx_config_reset_all(c, &err), err);
    assert_shows(c, "work_mem", work_mem);
    myappctx_free(work_mem);
    assert_shows(c, name, NULL);
    /* RESET ALL leaves role alone (DESIGN §4)... */
    char *who = tu_value(c, "SELECT current_user", 0, NULL);
    ck_assert_str_eq(who, "app_service");
    free(who);
    /* ...but resetting "role" itself works. */
    tu_assert_ok(myappctx_config_reset(c, "role", &err), err);
    who = tu_value(c, "SELECT current_user", 0, NULL);
    ck_assert_str_eq(who, "postgres");
    free(who);
    myappctx_conn_close(c);

    /* As the application role, its role defaults come back. */
    c = tu_app_connect();
    tu_assert_ok(myappctx_config_set(c, "statement_timeout", "1s", 0, &err), err);
    tu_assert_ok(myappctx_config_set(c, "myapp.default_page_size", "5", 0, &err), err);
    tu_assert_ok(myappctx_config_reset_all(c, &err), err);
    assert_shows(c, "statement_timeout", "30s");
    assert_shows(c, "myapp.default_page_size", "25");
    assert_shows(c, "search_path", "api, pg_temp");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(reset_all_refused_while_impersonating)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char admin[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(NULL, admin);
    /* The variable is what marks an impersonation; set it raw. */
    tu_raw_set(c, "myapp.original_user_id", admin);
    tu_expect(myappctx_config_reset_all(c, &err), MYAPPCTX_EIMPERSONATING, err, "impersonation");
    assert_shows(c, "myapp.original_user_id", admin);
    tu_raw_set(c, "myapp.original_user_id", "");
    tu_assert_ok(myappctx_config_reset_all(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* Finds @name in @entries (case-insensitively) and returns its value. */
static const char *
entry_value(const myappctx_config_entry *entries, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(entries[i].name, name) == 0)
            return entries[i].value;
    return NULL;
}

START_TEST(role_defaults_of_the_application_role)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    myappctx_config_entry *e = NULL;
    size_t n = 0;
    tu_assert_ok(myappctx_config_role_defaults(c, "app_service", &e, &n, &err), err);
    ck_assert_uint_eq(n, 6);
    ck_assert_str_eq(entry_value(e, n, "search_path"), "api, pg_temp");
    ck_assert_str_eq(entry_value(e, n, "statement_timeout"), "30s");
    ck_assert_str_eq(entry_value(e, n, "lock_timeout"), "10s");
    ck_assert_str_eq(entry_value(e, n, "idle_in_transaction_session_timeout"), "60s");
    ck_assert_str_eq(entry_value(e, n, "TimeZone"), "UTC");
    ck_assert_str_eq(entry_value(e, n, "myapp.default_page_size"), "25");
    for (size_t i = 1; i < n; i++)
        ck_assert_int_lt(strcasecmp(e[i - 1].name, e[i].name), 0);
    myappctx_config_entries_free(e);

    /* NULL means the session's login role. */
    tu_assert_ok(myappctx_config_role_defaults(c, NULL, &e, &n, &err), err);
    ck_assert_uint_eq(n, 6);
    myappctx_config_entries_free(e);
    myappctx_config_entries_free(NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(role_defaults_precedence_unknown_and_empty)
{
    myappctx_conn *su = tu_connect();
    myappctx_error err;
    char role[64], sql[256];
    tu_unique("cfgrole", role, sizeof role);
    /* Test-only DDL on a name this test generated (identifiers cannot be bound). */
    snprintf(sql, sizeof sql, "CREATE ROLE %s", role);
    tu_exec(su, sql, 0, NULL);
    myappctx_config_entry *e = (myappctx_config_entry *)1;
    size_t n = 99;
    tu_assert_ok(myappctx_config_role_defaults(su, role, &e, &n, &err), err);
    ck_assert_ptr_null(e);
    ck_assert_uint_eq(n, 0);

    snprintf(sql, sizeof sql, "ALTER ROLE %s SET work_mem = '1MB'", role);
    tu_exec(su, sql, 0, NULL);
    snprintf(sql, sizeof sql, "ALTER ROLE %s SET myapp.note = 'it''s; \"x\"'", role);
    tu_exec(su, sql, 0, NULL);
    snprintf(sql, sizeof sql, "ALTER ROLE %s IN DATABASE %s SET work_mem = '2MB'", role,
             getenv("PGDATABASE"));
    tu_exec(su, sql, 0, NULL);
    snprintf(sql, sizeof sql, "ALTER ROLE %s IN DATABASE postgres SET work_mem = '3MB'", role);
    tu_exec(su, sql, 0, NULL);
    tu_assert_ok(myappctx_config_role_defaults(su, role, &e, &n, &err), err);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(e[0].name, "myapp.note");
    ck_assert_str_eq(e[0].value, "it's; \"x\"");
    ck_assert_str_eq(e[1].name, "work_mem");
    ck_assert_str_eq(e[1].value, "2MB");
    myappctx_config_entries_free(e);

    snprintf(sql, sizeof sql, "DROP ROLE %s", role);
    tu_exec(su, sql, 0, NULL);
    tu_expect(myappctx_config_role_defaults(su, role, &e, &n, &err), MYAPPCTX_ENOTFOUND, err,
              role);
    ck_assert_ptr_null(e);
    ck_assert_uint_eq(n, 0);
    tu_expect(myappctx_config_role_defaults(su, "App_Service", &e, &n, &err), MYAPPCTX_ENOTFOUND,
              err, NULL);
    tu_expect(myappctx_config_role_defaults(su, "x'; DROP ROLE app_service; --", &e, &n, &err),
              MYAPPCTX_ENOTFOUND, err, NULL);

    tu_expect(myappctx_config_role_defaults(su, "", &e, &n, &err), MYAPPCTX_EINVAL, err, "'role'");
    tu_expect(myappctx_config_role_defaults(su, "r\xff", &e, &n, &err), MYAPPCTX_EINVAL, err,
              "'role'");
    tu_expect(myappctx_config_role_defaults(su, "r1234567890123456789012345678901234567890"
                                                "12345678901234567890123", &e, &n, &err),
              MYAPPCTX_EINVAL, err, "'role'");
    tu_expect(myappctx_config_role_defaults(NULL, NULL, &e, &n, &err), MYAPPCTX_EINVAL, err,
              "'conn'");
    tu_expect(myappctx_config_role_defaults(su, NULL, NULL, &n, &err), MYAPPCTX_EINVAL, err,
              "'out'");
    tu_expect(myappctx_config_role_defaults(su, NULL, &e, NULL, &err), MYAPPCTX_EINVAL, err,
              "'out_count'");
    myappctx_conn_close(su);
}
END_TEST

START_TEST(show_all_lists_readable_parameters)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_assert_ok(myappctx_config_set(c, "work_mem", "8MB", 0, &err), err);
    myappctx_config_entry *e = NULL;
    size_t n = 0;
    tu_assert_ok(myappctx_config_show_all(c, &e, &n, &err), err);
    char *expected = tu_value(c, "SELECT count(*) FROM pg_settings", 0, NULL);
    ck_assert_uint_eq(n, strtoul(expected, NULL, 10));
    free(expected);
    ck_assert_str_eq(entry_value(e, n, "work_mem"), "8MB");
    ck_assert_str_eq(entry_value(e, n, "statement_timeout"), "30s");
    ck_assert_str_eq(entry_value(e, n, "TimeZone"), "UTC");
    ck_assert_ptr_null(entry_value(e, n, "data_directory"));   /* not readable by this role */
    for (size_t i = 1; i < n; i++)
        ck_assert_int_le(strcasecmp(e[i - 1].name, e[i].name), 0);
    myappctx_config_entries_free(e);

    tu_expect(myappctx_config_show_all(NULL, &e, &n, &err), MYAPPCTX_EINVAL, err, "'conn'");
    tu_expect(myappctx_config_show_all(c, NULL, &n, &err), MYAPPCTX_EINVAL, err, "'out'");
    tu_expect(myappctx_config_show_all(c, &e, NULL, &err), MYAPPCTX_EINVAL, err, "'out_count'");
    myappctx_conn_close(c);

    c = tu_connect();                                         /* superuser sees everything */
    tu_assert_ok(myappctx_config_show_all(c, &e, &n, &err), err);
    ck_assert_ptr_nonnull(entry_value(e, n, "data_directory"));
    myappctx_config_entries_free(e);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("session_config");
    TCase *tc = tcase_create("session_config");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, set_show_reset_restores_role_default);
    tcase_add_test(tc, values_are_stored_verbatim);
    tcase_add_test(tc, local_needs_a_transaction_and_ends_with_it);
    tcase_add_test(tc, session_scope_refused_behind_txn_pooler);
    tcase_add_test(tc, names_are_checked_before_any_round_trip);
    tcase_add_test(tc, context_variables_are_read_only_here);
    tcase_add_test(tc, show_unset_and_unknown);
    tcase_add_test(tc, reset_unknown_is_enotfound);
    tcase_add_test(tc, server_refusals_are_reported);
    tcase_add_test(tc, arguments_are_checked);
    tcase_add_test(tc, reset_all_restores_defaults_but_not_role);
    tcase_add_test(tc, reset_all_refused_while_impersonating);
    tcase_add_test(tc, show_all_lists_readable_parameters);
    tcase_add_test(tc, role_defaults_of_the_application_role);
    tcase_add_test(tc, role_defaults_precedence_unknown_and_empty);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
