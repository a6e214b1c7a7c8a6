/* Catalogue class "names": hostile input where the library takes a NAME
 * rather than a value -- setting keys, configuration parameter names,
 * role names.  A name that breaks the documented rule is refused with
 * MYAPPCTX_EINVAL naming the argument before anything is sent; a name that
 * follows the rule but is hostile (an injection that happens to be a valid
 * role name, a privileged parameter) reaches the server only as a bound
 * parameter and is refused there with an exact code. */
#include "config.h"

#include <stdlib.h>

#include "testutil.h"

/* ------------------------------------------------- the functions tried */

typedef struct name_fn {
    const char *name;
    int (*call)(myappctx_conn *c, const char *name, myappctx_error *err);
} name_fn;

static int
call_setting_get(myappctx_conn *c, const char *key, myappctx_error *err)
{
    char *out = (char *)"sentinel";
    int rc = myappctx_setting_get(c, key, "default", &out, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_msg(out == NULL, "myappctx_setting_get: *out not NULL on failure");
    myappctx_free(rc == MYAPPCTX_OK ? out : NULL);
    return rc;
}

static int
call_setting_get_bool(myappctx_conn *c, const char *key, myappctx_error *err)
{
    int out = 42;
    int rc = myappctx_setting_get_bool(c, key, 0, &out, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_msg(out == 42, "myappctx_setting_get_bool: *out touched on failure");
    return rc;
}

static int
call_setting_get_int(myappctx_conn *c, const char *key, myappctx_error *err)
{
    long long out = 42;
    int rc = myappctx_setting_get_int(c, key, 7, &out, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_msg(out == 42, "myappctx_setting_get_int: *out touched on failure");
    return rc;
}

static int
call_setting_put(myappctx_conn *c, const char *key, myappctx_error *err)
{
    return myappctx_setting_put(c, key, "value", "description", err);
}

static int
call_config_set(myappctx_conn *c, const char *name, myappctx_error *err)
{
    return myappctx_config_set(c, name, "value", 0, err);
}

static int
call_config_show(myappctx_conn *c, const char *name, myappctx_error *err)
{
    char *out = (char *)"sentinel";
    int rc = myappctx_config_show(c, name, &out, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_msg(out == NULL, "myappctx_config_show: *out not NULL on failure");
    myappctx_free(rc == MYAPPCTX_OK ? out : NULL);
    return rc;
}

static int
call_config_reset(myappctx_conn *c, const char *name, myappctx_error *err)
{
    return myappctx_config_reset(c, name, err);
}

static const name_fn key_fns[] = {
    { "myappctx_setting_get", call_setting_get },
    { "myappctx_setting_get_bool", call_setting_get_bool },
    { "myappctx_setting_get_int", call_setting_get_int },
    { "myappctx_setting_put", call_setting_put },
};
static const name_fn config_fns[] = {
    { "myappctx_config_set", call_config_set },
    { "myappctx_config_show", call_config_show },
    { "myappctx_config_reset", call_config_reset },
};
#define NKEY_FNS (sizeof key_fns / sizeof key_fns[0])
#define NCONFIG_FNS (sizeof config_fns / sizeof config_fns[0])

/* --------------------------------------------------------- the rows */

typedef struct name_row {
    const char *name;     /* what the row tries */
    const char *input;
    const char *needle;   /* the EINVAL message contains it */
} name_row;

/* Setting keys outside ^[a-z][a-z0-9_]{0,62}$, or reserved. */
static const name_row bad_keys[] = {
    { "empty",                    "",                                "'key'" },
    { "upper case",               "Theme",                           "'key'" },
    { "upper case inside",        "dark_Mode",                       "'key'" },
    { "leading digit",            "1st",                             "'key'" },
    { "leading underscore",       "_x",                              "'key'" },
    { "dash",                     "page-size",                       "'key'" },
    { "dot (a GUC name)",         "myapp.theme",                     "'key'" },
    { "space",                    "page size",                       "'key'" },
    { "leading space",            " x",                              "'key'" },
    { "trailing space",           "x ",                              "'key'" },
    { "semicolon",                "x;y",                             "'key'" },
    { "SQL injection",            "x'; DROP TABLE data.app_settings; --", "'key'" },
    { "double quote",             "x\"y",                            "'key'" },
    { "backslash",                "x\\y",                            "'key'" },
    { "placeholder $1",           "$1",                              "'key'" },
    { "format string",            "x%s%n",                           "'key'" },
    { "newline",                  "x\ny",                            "'key'" },
    { "tab",                      "x\ty",                            "'key'" },
    { "comma (loaded_settings separator)", "a,current_user_id",      "'key'" },
    { "non-ASCII letter",         "caf\xc3\xa9",                     "'key'" },
    { "full-width letter",        "\xef\xbd\x81",                    "'key'" },
    { "invalid UTF-8",            "x\xff",                           "'key'" },
    { "64 bytes (limit + 1)",     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "'key'" },
    { "reserved current_user_id", "current_user_id",                 "reserved" },
    { "reserved current_tenant_id", "current_tenant_id",             "reserved" },
    { "reserved current_role",    "current_role",                    "reserved" },
    { "reserved session_id",      "session_id",                      "reserved" },
    { "reserved context_metadata", "context_metadata",               "reserved" },
    { "reserved context_created_at", "context_created_at",           "reserved" },
    { "reserved audit_context",   "audit_context",                   "reserved" },
    { "reserved original_user_id", "original_user_id",               "reserved" },
    { "reserved original_role",   "original_role",                   "reserved" },
    { "reserved is_impersonating", "is_impersonating",               "reserved" },
    { "reserved loaded_settings", "loaded_settings",                 "reserved" },
};

/* Parameter names outside identifier or prefix.identifier (<= 63 bytes). */
static const name_row bad_config_names[] = {
    { "empty",                    "",                        "'name'" },
    { "leading digit",            "1abc",                    "'name'" },
    { "second part leading digit", "myapp.1abc",             "'name'" },
    { "three parts",              "myapp.a.b",               "'name'" },
    { "empty second part",        "myapp.",                  "'name'" },
    { "empty first part",         ".abc",                    "'name'" },
    { "double dot",               "myapp..x",                "'name'" },
    { "space",                    "myapp.a b",               "'name'" },
    { "dash",                     "myapp.a-b",               "'name'" },
    { "equals",                   "myapp.a=b",               "'name'" },
    { "comma",                    "myapp.a,b",               "'name'" },
    { "semicolon",                "search_path;",            "'name'" },
    { "SQL injection",            "myapp.x'; DROP TABLE data.users; --", "'name'" },
    { "quoted identifier",        "\"myapp\".\"x\"",         "'name'" },
    { "placeholder $1",           "$1",                      "'name'" },
    { "format string",            "myapp.%s%n",              "'name'" },
    { "newline",                  "myapp.x\n",               "'name'" },
    { "non-ASCII letter",         "myapp.caf\xc3\xa9",       "'name'" },
    { "invalid UTF-8",            "myapp.\xff",              "'name'" },
    { "64 bytes (limit + 1)",
      "myapp.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "'name'" },
};

/* The context variables: shown, never set or reset here (any case). */
static const char *const context_vars[] = {
    "myapp.current_user_id", "myapp.current_tenant_id", "myapp.current_role",
    "myapp.session_id", "myapp.context_metadata", "myapp.context_created_at",
    "myapp.audit_context", "myapp.original_user_id", "myapp.original_role",
    "myapp.is_impersonating", "myapp.loaded_settings",
    "MYAPP.CURRENT_USER_ID", "MyApp.Is_Impersonating", "myapp.ORIGINAL_USER_ID",
};

/* ----------------------------------------------------------- runner */

/* Calls @fn with @input on @c, expects EINVAL naming the argument and no
 * traffic at all. */
static void
expect_refused(myappctx_conn *c, const name_fn *fn, const char *row, const char *input,
               const char *needle)
{
    char label[256];
    snprintf(label, sizeof label, "%s <- %s", fn->name, row);
    myappctx_error err = { 0 };
    tu_trace trace = tu_trace_start(c);
    int rc = fn->call(c, input, &err);
    long sent = tu_trace_stop(trace);
    tu_expect_row(label, rc, MYAPPCTX_EINVAL, err, needle);
    ck_assert_msg(err.sqlstate[0] == '\0', "%s: sqlstate %s", label, err.sqlstate);
    ck_assert_msg(sent == 0, "%s: refused but %ld bytes of traffic", label, sent);
    /* The same refusal without an error structure. */
    ck_assert_int_eq(fn->call(c, input, NULL), MYAPPCTX_EINVAL);
}

/* The refusal rows, one per function and connection kind: every bad name
 * of the function's table, and 1 MiB, on a direct or a pooled connection. */
typedef struct refusal_set {
    const name_fn *fn;
    const name_row *rows;
    size_t nrows;
    const char *mib_needle;
} refusal_set;

#define NBAD_KEYS (sizeof bad_keys / sizeof bad_keys[0])
#define NBAD_CONFIG_NAMES (sizeof bad_config_names / sizeof bad_config_names[0])

static const refusal_set refusal_sets[] = {
    { &key_fns[0], bad_keys, NBAD_KEYS, "'key'" },
    { &key_fns[1], bad_keys, NBAD_KEYS, "'key'" },
    { &key_fns[2], bad_keys, NBAD_KEYS, "'key'" },
    { &key_fns[3], bad_keys, NBAD_KEYS, "'key'" },
    { &config_fns[0], bad_config_names, NBAD_CONFIG_NAMES, "'name'" },
    { &config_fns[1], bad_config_names, NBAD_CONFIG_NAMES, "'name'" },
    { &config_fns[2], bad_config_names, NBAD_CONFIG_NAMES, "'name'" },
};
#define NREFUSAL_SETS (sizeof refusal_sets / sizeof refusal_sets[0])

/* Row _i: refusal_sets[_i / 2], directly (_i even) or through the pool. */
START_TEST(bad_names_are_einval_before_sending)
{
    const refusal_set *set = &refusal_sets[_i / 2];
    int pooled = _i % 2;
    myappctx_pool *pool = pooled ? tu_pool_one() : NULL;
    myappctx_conn *c = pooled ? tu_pool_acquire(pool) : tu_app_connect();
    const char *via = pooled ? " (pooled)" : "";
    char row[160];
    for (size_t i = 0; i < set->nrows; i++) {
        snprintf(row, sizeof row, "%s%s", set->rows[i].name, via);
        expect_refused(c, set->fn, row, set->rows[i].input, set->rows[i].needle);
    }
    char *mib = tu_repeat('a', TU_MIB);
    snprintf(row, sizeof row, "1 MiB%s", via);
    expect_refused(c, set->fn, row, mib, set->mib_needle);
    free(mib);
    if (pooled) {
        myappctx_pool_release(pool, c);
        myappctx_pool_free(pool);
    } else {
        myappctx_conn_close(c);
    }
}
END_TEST

/* Keys at the edges of the rule are accepted and stored under exactly
 * that key. */
START_TEST(edge_setting_keys_are_accepted)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    char unique[64], longest[MYAPPCTX_SETTING_KEY_MAX + 1];
    tu_unique("k", unique, sizeof unique);
    /* 63 bytes, starting with the unique part. */
    memset(longest, 'z', MYAPPCTX_SETTING_KEY_MAX);
    longest[MYAPPCTX_SETTING_KEY_MAX] = '\0';
    memcpy(longest, unique, strlen(unique));
    char digits[80], context_like[80];
    snprintf(digits, sizeof digits, "%s_0123456789", unique);
    snprintf(context_like, sizeof context_like, "current_user_id_%s", unique);
    const char *keys[] = { longest, digits, context_like };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        tu_assert_ok(myappctx_setting_put(c, keys[i], "stored", NULL, &err), err);
        const char *params[] = { keys[i] };
        char *v = tu_value(c, "SELECT value FROM data.app_settings WHERE key = $1", 1, params);
        tu_expect_str(keys[i], v, "stored");
        free(v);
        char *out = NULL;
        tu_assert_ok(myappctx_settings_load(c, NULL, &err), err);
        tu_assert_ok(myappctx_setting_get(c, keys[i], NULL, &out, &err), err);
        /* Sealed: only keys declared in myappctx_seal.settings are loaded
         * (extension/README.md); this fresh one gets the default. */
        if (tu_sealed())
            ck_assert_msg(out == NULL, "%s: undeclared key loaded under the seal", keys[i]);
        else
            tu_expect_str(keys[i], out, "stored");
        myappctx_free(out);
        tu_delete_setting(keys[i]);
    }
    tu_assert_ok(myappctx_context_clear(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* Context variables: readable with config_show, never writable here
 * (whatever the case), and refused before anything is sent. */
START_TEST(context_variables_are_read_only_here)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    for (size_t i = 0; i < sizeof context_vars / sizeof context_vars[0]; i++) {
        expect_refused(c, &config_fns[0], context_vars[i], context_vars[i], "context variable");
        expect_refused(c, &config_fns[2], context_vars[i], context_vars[i], "context variable");
        char *out = (char *)"sentinel";
        tu_assert_ok(myappctx_config_show(c, context_vars[i], &out, &err), err);
        ck_assert_ptr_null(out);             /* no context on this connection */
        /* set_local too. */
        tu_assert_ok(myappctx_begin(c, &err), err);
        tu_trace trace = tu_trace_start(c);
        int rc = myappctx_config_set(c, context_vars[i], "x", 1, &err);
        ck_assert_int_eq(tu_trace_stop(trace), 0);
        tu_expect_row(context_vars[i], rc, MYAPPCTX_EINVAL, err, "context variable");
        tu_assert_ok(myappctx_rollback(c, &err), err);
    }
    myappctx_conn_close(c);
}
END_TEST

/* Valid names at the edges are accepted, set, shown and reset. */
START_TEST(edge_config_names_are_accepted)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    char unique[64], longest[MYAPPCTX_CONFIG_NAME_MAX + 1], upper[80], underscores[80];
    tu_unique("n", unique, sizeof unique);
    memset(longest, 'z', MYAPPCTX_CONFIG_NAME_MAX);
    longest[MYAPPCTX_CONFIG_NAME_MAX] = '\0';
    memcpy(longest, "myapp.", 6);
    memcpy(longest + 6, unique, strlen(unique));
    snprintf(upper, sizeof upper, "MYAPP.%s", unique);
    snprintf(underscores, sizeof underscores, "_x._%s", unique);
    const char *names[] = { longest, upper, underscores };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        /* Sealed: the myapp prefix is reserved; no name outside the
         * extension's list can be invented (42602).  PostgreSQL 15 checks
         * reserved prefixes case-sensitively (MarkGUCPrefixReserved), so
         * "MYAPP.x" is still an ordinary placeholder: recorded here as it
         * is (README.md, "Sealed mode"). */
        if (tu_sealed() && strncmp(names[i], "myapp.", 6) == 0) {
            tu_expect_state_row(names[i],
                                myappctx_config_set(c, names[i], "'; DROP TABLE data.users; --",
                                                    0, &err),
                                MYAPPCTX_ESERVER, err, "42602");
            continue;
        }
        tu_assert_ok(myappctx_config_set(c, names[i], "'; DROP TABLE data.users; --", 0, &err),
                     err);
        char *out = NULL;
        tu_assert_ok(myappctx_config_show(c, names[i], &out, &err), err);
        tu_expect_str(names[i], out, "'; DROP TABLE data.users; --");
        myappctx_free(out);
        tu_assert_ok(myappctx_config_reset(c, names[i], &err), err);
        tu_assert_ok(myappctx_config_show(c, names[i], &out, &err), err);
        ck_assert_ptr_null(out);
    }
    myappctx_conn_close(c);
}
END_TEST

/* Valid names the application role must not use: the server refuses them
 * and the code says so. */
START_TEST(privileged_and_unknown_parameters_are_refused_by_the_server)
{
    myappctx_conn *c = tu_app_connect();
    static const struct {
        const char *name, *value;
        int code;
        const char *sqlstate;
    } rows[] = {
        { "session_authorization", "postgres", MYAPPCTX_ESERVER, "42501" },
        { "role", "postgres", MYAPPCTX_ESERVER, "42501" },
        { "log_statement", "none", MYAPPCTX_ESERVER, "42501" },
        { "no_such_parameter", "x", MYAPPCTX_ESERVER, "42704" },
        { "statement_timeout", "'; DROP TABLE data.users; --", MYAPPCTX_ESERVER, "22023" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        myappctx_error err = { 0 };
        int rc = myappctx_config_set(c, rows[i].name, rows[i].value, 0, &err);
        tu_expect_row(rows[i].name, rc, rows[i].code, err, NULL);
        ck_assert_str_eq(err.sqlstate, rows[i].sqlstate);
    }
    myappctx_error err = { 0 };
    char *out = (char *)"sentinel";
    tu_expect_row("show no_such_parameter", myappctx_config_show(c, "no_such_parameter", &out, &err),
                  MYAPPCTX_ENOTFOUND, err, "no_such_parameter");
    ck_assert_ptr_null(out);
    tu_expect_row("reset no_such_parameter", myappctx_config_reset(c, "no_such_parameter", &err),
                  MYAPPCTX_ENOTFOUND, err, "no_such_parameter");
    /* Still the login role afterwards. */
    char *who = tu_value(c, "SELECT current_user", 0, NULL);
    ck_assert_str_eq(who, "app_service");
    free(who);
    myappctx_conn_close(c);
}
END_TEST

/* config_role_defaults(role): a name, exact case, 1..63 bytes of UTF-8. */
START_TEST(role_defaults_role_names)
{
    myappctx_conn *c = tu_app_connect();
    char *too_long = tu_repeat('r', MYAPPCTX_CONFIG_NAME_MAX + 1);
    char *mib = tu_repeat('r', TU_MIB);
    static const char *const not_found[] = {
        "'; DROP ROLE app_service; --", "app_service'", "APP_SERVICE", "app_service ",
        "\"app_service\"", "app_service\n", "$1", "%s%n", "caf\xc3\xa9",
    };
    const struct { const char *name, *role; } refused[] = {
        { "empty", "" }, { "64 bytes", too_long }, { "1 MiB", mib },
        { "invalid UTF-8", "app_\xff" }, { "overlong", "\xc0\xaf" },
        { "surrogate", "\xed\xa0\x80" },
    };
    for (size_t i = 0; i < sizeof not_found / sizeof not_found[0]; i++) {
        myappctx_error err = { 0 };
        myappctx_config_entry *out = (myappctx_config_entry *)1;
        size_t n = 99;
        int rc = myappctx_config_role_defaults(c, not_found[i], &out, &n, &err);
        /* The message is one line: a newline in the input ends it. */
        tu_expect_row(not_found[i], rc, MYAPPCTX_ENOTFOUND, err, "myappctx_config_role_defaults");
        ck_assert_ptr_null(out);
        ck_assert_uint_eq(n, 0);
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        myappctx_error err = { 0 };
        myappctx_config_entry *out = (myappctx_config_entry *)1;
        size_t n = 99;
        tu_trace trace = tu_trace_start(c);
        int rc = myappctx_config_role_defaults(c, refused[i].role, &out, &n, &err);
        ck_assert_int_eq(tu_trace_stop(trace), 0);
        tu_expect_row(refused[i].name, rc, MYAPPCTX_EINVAL, err, "'role'");
        ck_assert_ptr_null(out);
    }
    /* The real role is still there and still has its defaults. */
    myappctx_error err = { 0 };
    myappctx_config_entry *out = NULL;
    size_t n = 0;
    tu_assert_ok(myappctx_config_role_defaults(c, "app_service", &out, &n, &err), err);
    ck_assert_uint_ge(n, 1);
    myappctx_config_entries_free(out);
    free(too_long);
    free(mib);
    myappctx_conn_close(c);
}
END_TEST

/* schema_install(app_role): refused before sending when empty, too long or
 * not UTF-8; a hostile name that is a valid identifier is created under
 * exactly that name (never pasted into the DDL). */
START_TEST(schema_install_app_role_names)
{
    myappctx_conn *su = tu_connect();
    char *too_long = tu_repeat('r', 64);
    char *mib = tu_repeat('r', TU_MIB);
    const struct { const char *name, *role; } refused[] = {
        { "empty", "" }, { "64 bytes", too_long }, { "1 MiB", mib },
        { "invalid UTF-8", "app\xff" }, { "truncated UTF-8", "app\xe2\x82" },
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
        opts.app_role = refused[i].role;
        myappctx_schema_status st = { 0 };
        myappctx_error err = { 0 };
        tu_trace trace = tu_trace_start(su);
        int rc = myappctx_schema_install(su, &opts, &st, &err);
        ck_assert_int_eq(tu_trace_stop(trace), 0);
        tu_expect_row(refused[i].name, rc, MYAPPCTX_EINVAL, err, "app_role");
    }
    free(too_long);
    free(mib);

    char unique[32], role[64];
    tu_unique("r", unique, sizeof unique);
    snprintf(role, sizeof role, "x'; DROP TABLE x; --\"%s", unique);
    char *conninfo = tu_create_database("hx_names");
    myappctx_conn *fresh = tu_connect_opts(conninfo, NULL);
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = role;
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_schema_install(fresh, &opts, NULL, &err), err);
    const char *params[] = { role };
    ck_assert_int_eq(tu_int(su, "SELECT count(*) FROM pg_roles WHERE rolname = $1", 1, params), 1);
    myappctx_conn_close(fresh);
    tu_drop_database(conninfo);
    free(conninfo);
    char *drop = tu_value(su, "SELECT format('DROP ROLE %I', $1::text)", 1, params);
    tu_sql(myappctx_conn_pg(su), drop);
    free(drop);
    myappctx_conn_close(su);
}
END_TEST

/* The server repeats the key rule (defence in depth): a caller that goes
 * around the C check with raw SQL is refused too. */
START_TEST(server_repeats_the_key_rule)
{
    myappctx_conn *c = tu_app_connect();
    static const char *const keys[] = { "Bad", "current_user_id", "x'; --", "a.b", "" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        myappctx_error err = { 0 };
        const char *params[] = { keys[i], "v" };
        int rc = myappctx_exec(c, "SELECT api.set_app_setting($1, $2)", 2, params, NULL, &err);
        tu_expect_row(keys[i], rc, MYAPPCTX_EBADARG, err, NULL);
        ck_assert_str_eq(err.sqlstate, "P0058");
        rc = myappctx_exec(c, "INSERT INTO data.app_settings (key, value) VALUES ($1, $2)", 2,
                           params, NULL, &err);
        tu_expect_row(keys[i], rc, MYAPPCTX_ESERVER, err, NULL);
        ck_assert_str_eq(err.sqlstate, "23514");
    }
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hostile names");
    TCase *tc = tcase_create("names");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, bad_names_are_einval_before_sending, 0, (int)(2 * NREFUSAL_SETS));
    tcase_add_test(tc, edge_setting_keys_are_accepted);
    tcase_add_test(tc, context_variables_are_read_only_here);
    tcase_add_test(tc, edge_config_names_are_accepted);
    tcase_add_test(tc, privileged_and_unknown_parameters_are_refused_by_the_server);
    tcase_add_test(tc, role_defaults_role_names);
    tcase_add_test(tc, schema_install_app_role_names);
    tcase_add_test(tc, server_repeats_the_key_rule);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
