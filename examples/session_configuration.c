/* Spec section "Session Configuration": the defaults stored for the
 * application role, setting / showing / resetting parameters for the
 * session and for one transaction, RESET ALL, and the application settings
 * of data.app_settings (seeded by examples/demo-seed.sql).
 *
 * Usage: session_configuration [conninfo]  (default "": the PG* environment)
 * Connect as the application role, e.g. "user=app_service" as `make demo`
 * does: the role defaults shown are that role's. */
#include <string.h>

#include "context_examples.h"

/* Prints a parameter and checks it against @expected (NULL: anything). */
static void
show(myappctx_conn *conn, const char *name, const char *expected)
{
    myappctx_error err;
    char *value = NULL;
    ex_ok(myappctx_config_show(conn, name, &value, &err), &err, name);
    printf("   SHOW %-24s -> %s\n", name, value ? value : "(unset)");
    if (expected != NULL)
        ex_check(value != NULL && strcmp(value, expected) == 0, name);
    myappctx_free(value);
}

static void
role_defaults(myappctx_conn *conn)
{
    myappctx_error err;
    myappctx_config_entry *entries = NULL;
    size_t n = 0;
    printf("1. Defaults stored for this login role (ALTER ROLE ... SET):\n");
    ex_ok(myappctx_config_role_defaults(conn, NULL, &entries, &n, &err), &err,
          "myappctx_config_role_defaults");
    for (size_t i = 0; i < n; i++)
        printf("   %-36s = %s\n", entries[i].name, entries[i].value);
    myappctx_config_entries_free(entries);
    ex_check(n > 0, "this role has no stored defaults: run the example as the application "
                    "role set up by `myappctx schema install --app-role` (e.g. user=app_service)");
    printf("   ...and the session started with them:\n");
    show(conn, "statement_timeout", "30s");
    show(conn, "TimeZone", "UTC");
    show(conn, "myapp.default_page_size", "25");
}

static void
dynamic_configuration(myappctx_conn *conn)
{
    myappctx_error err;
    printf("\n2. Session-level SET, SHOW and RESET (values are bound, never pasted):\n");
    ex_ok(myappctx_config_set(conn, "statement_timeout", "10s", 0, &err), &err, "set");
    ex_ok(myappctx_config_set(conn, "work_mem", "256MB", 0, &err), &err, "set work_mem");
    ex_ok(myappctx_config_set(conn, "enable_seqscan", "off", 0, &err), &err, "set seqscan");
    show(conn, "statement_timeout", "10s");
    show(conn, "work_mem", "256MB");
    show(conn, "enable_seqscan", "off");
    ex_ok(myappctx_config_reset(conn, "statement_timeout", &err), &err, "reset");
    printf("   RESET statement_timeout restores the role default:\n");
    show(conn, "statement_timeout", "30s");
    char *none = NULL;
    printf("   a misspelt name is an error, not \"unset\":\n");
    ex_refused(myappctx_config_show(conn, "no_such_parameter", &none, &err),
               MYAPPCTX_ENOTFOUND, &err, "show of a misspelt parameter");

    myappctx_config_entry *all = NULL;
    size_t n = 0;
    ex_ok(myappctx_config_show_all(conn, &all, &n, &err), &err, "show all");
    printf("   SHOW ALL lists %zu parameters readable by this role, e.g.:\n", n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].name, "work_mem") == 0 || strcmp(all[i].name, "enable_seqscan") == 0)
            printf("   %-29s -> %s\n", all[i].name, all[i].value);
    myappctx_config_entries_free(all);

    printf("\n3. RESET ALL (it leaves role and session_authorization alone):\n");
    ex_ok(myappctx_config_reset_all(conn, &err), &err, "reset all");
    show(conn, "work_mem", NULL);
    show(conn, "enable_seqscan", "on");

    printf("\n4. SET LOCAL lasts one transaction and needs one:\n");
    ex_refused(myappctx_config_set(conn, "work_mem", "64MB", 1, &err), MYAPPCTX_ENOTXN, &err,
               "SET LOCAL outside a transaction");
    ex_ok(myappctx_begin(conn, &err), &err, "begin");
    ex_ok(myappctx_config_set(conn, "work_mem", "64MB", 1, &err), &err, "set local");
    show(conn, "work_mem", "64MB");
    ex_ok(myappctx_commit(conn, &err), &err, "commit");
    printf("   after COMMIT:\n");
    show(conn, "work_mem", NULL);
}

static void
application_settings(myappctx_conn *conn)
{
    myappctx_error err;
    int count = 0;
    printf("\n5. Application settings (data.app_settings -> myapp.<key>):\n");
    ex_ok(myappctx_settings_load(conn, &count, &err), &err, "load settings");
    printf("   loaded %d settings\n", count);
    ex_check(count >= 3, "the demo seed has at least three settings");

    char *site = NULL, *email = NULL;
    ex_ok(myappctx_setting_get(conn, "site_name", NULL, &site, &err), &err, "site_name");
    ex_ok(myappctx_setting_get(conn, "support_email", "help@example.com", &email, &err), &err,
          "support_email");
    printf("   site_name         = %s\n", site ? site : "(unset)");
    printf("   support_email     = %s (not stored: the default)\n", email);
    ex_check(site != NULL && strcmp(site, "Demo Shop") == 0, "site_name is Demo Shop");
    myappctx_free(site);
    myappctx_free(email);

    int enabled = 0;
    long long max_upload = 0;
    ex_ok(myappctx_setting_get_bool(conn, "feature_x_enabled", 0, &enabled, &err), &err,
          "feature_x_enabled");
    ex_ok(myappctx_setting_get_int(conn, "max_upload_mb", 10, &max_upload, &err), &err,
          "max_upload_mb");
    printf("   feature_x_enabled = %s (bool)\n", enabled ? "true" : "false");
    printf("   max_upload_mb     = %lld (integer)\n", max_upload);
    ex_check(enabled == 1 && max_upload == 25, "typed settings read back");

    printf("   a value that is not a number is reported, not guessed:\n");
    ex_ok(myappctx_setting_put(conn, "demo_retry_limit", "three", "example of a bad value",
                               &err), &err, "put demo_retry_limit");
    ex_ok(myappctx_settings_load(conn, NULL, &err), &err, "reload settings");
    ex_refused(myappctx_setting_get_int(conn, "demo_retry_limit", 3, &max_upload, &err),
               MYAPPCTX_EMALFORMED, &err, "integer read of 'three'");
    printf("   a key that would overwrite the context is refused before any round trip:\n");
    ex_refused(myappctx_setting_put(conn, "current_user_id", "x", NULL, &err), MYAPPCTX_EINVAL,
               &err, "setting named current_user_id");
}

int
main(int argc, char **argv)
{
    myappctx_conn *conn = ex_connect(argc, argv, NULL);
    role_defaults(conn);
    dynamic_configuration(conn);
    application_settings(conn);
    myappctx_conn_close(conn);
    printf("\nsession_configuration: done\n");
    return EXIT_SUCCESS;
}
