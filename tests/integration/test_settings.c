/* Application settings: load, get (text, bool, int) and put, against a real
 * server, exercised as the application role. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* put + load + get, asserting the value reads back verbatim. */
static void
roundtrip(myappctx_conn *c, const char *key, const char *value)
{
    myappctx_error err;
    char *got;
    tu_assert_ok(myappctx_setting_put(c, key, value, NULL, &err), err);
    tu_assert_ok(myappctx_settings_load(c, NULL, &err), err);
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, value);
    myappctx_free(got);
}

/* Stores @value under @key and loads it, for the typed getters. */
static void
store(myappctx_conn *c, const char *key, const char *value)
{
    myappctx_error err;
    tu_assert_ok(myappctx_setting_put(c, key, value, NULL, &err), err);
    tu_assert_ok(myappctx_settings_load(c, NULL, &err), err);
}

START_TEST(put_load_get_roundtrip_verbatim)
{
    static const char *const hostile[] = {
        "O'Brien", "back\\slash\\", "semi; DROP TABLE data.app_settings; --",
        "line1\nline2\r\n", "\"double\"", "$1", "%s%n%x",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "  padded  ", "a,b,c", "{\"json\": true}", "E'\\x41'", "--", "/* c */",
    };
    myappctx_conn *c = tu_app_connect();
    char key[64];
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        tu_unique("rt", key, sizeof key);
        roundtrip(c, key, hostile[i]);
    }
    /* The longest value accepted. */
    char *big = malloc(MYAPPCTX_SETTING_VALUE_MAX + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', MYAPPCTX_SETTING_VALUE_MAX);
    big[MYAPPCTX_SETTING_VALUE_MAX] = '\0';
    tu_unique("big", key, sizeof key);
    roundtrip(c, key, big);
    free(big);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(put_stores_description_and_keeps_it_on_null)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_conn *su = tu_connect();
    myappctx_error err;
    char key[64];
    tu_unique("desc", key, sizeof key);
    const char *desc = "it's a \"description\"; with\nnewline";
    tu_assert_ok(myappctx_setting_put(c, key, "v1", desc, &err), err);
    tu_assert_ok(myappctx_setting_put(c, key, "v2", NULL, &err), err);
    const char *p[] = { key };
    char *stored = tu_value(su, "SELECT value || '|' || description FROM data.app_settings"
                                " WHERE key = $1", 1, p);
    ck_assert_str_eq(stored, "v2|it's a \"description\"; with\nnewline");
    free(stored);
    tu_assert_ok(myappctx_setting_put(c, key, "v3", "", &err), err);
    stored = tu_value(su, "SELECT description FROM data.app_settings WHERE key = $1", 1, p);
    ck_assert_str_eq(stored, "");
    free(stored);
    myappctx_conn_close(su);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(get_unset_returns_null_or_default)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char key[64], *got = (char *)1;
    tu_unique("unset", key, sizeof key);
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
    ck_assert_ptr_null(got);
    tu_assert_ok(myappctx_setting_get(c, key, "fall'back; \\", &got, &err), err);
    ck_assert_str_eq(got, "fall'back; \\");
    myappctx_free(got);
    tu_assert_ok(myappctx_setting_get(c, key, "", &got, &err), err);
    ck_assert_ptr_null(got);

    int b = -1;
    tu_assert_ok(myappctx_setting_get_bool(c, key, 1, &b, &err), err);
    ck_assert_int_eq(b, 1);
    tu_assert_ok(myappctx_setting_get_bool(c, key, 0, &b, &err), err);
    ck_assert_int_eq(b, 0);
    tu_assert_ok(myappctx_setting_get_bool(c, key, 42, &b, &err), err);
    ck_assert_int_eq(b, 1);
    long long n = 0;
    tu_assert_ok(myappctx_setting_get_int(c, key, -42, &n, &err), err);
    ck_assert_int_eq(n, -42);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(empty_value_reads_as_unset)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char key[64], *got = (char *)1;
    tu_unique("empty", key, sizeof key);
    store(c, key, "something");
    store(c, key, "");
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
    ck_assert_ptr_null(got);
    tu_assert_ok(myappctx_setting_get(c, key, "dflt", &got, &err), err);
    ck_assert_str_eq(got, "dflt");
    myappctx_free(got);
    long long n;
    tu_assert_ok(myappctx_setting_get_int(c, key, 7, &n, &err), err);
    ck_assert_int_eq(n, 7);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(put_is_seen_after_the_next_load_only)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_conn *other = tu_app_connect();
    myappctx_error err;
    char key[64], *got;
    tu_unique("later", key, sizeof key);
    store(c, key, "v1");
    tu_assert_ok(myappctx_setting_put(c, key, "v2", NULL, &err), err);
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
    ck_assert_str_eq(got, "v1");
    myappctx_free(got);
    /* A session that never loaded sees nothing. */
    tu_assert_ok(myappctx_setting_get(other, key, NULL, &got, &err), err);
    ck_assert_ptr_null(got);
    tu_assert_ok(myappctx_settings_load(c, NULL, &err), err);
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
    ck_assert_str_eq(got, "v2");
    myappctx_free(got);
    myappctx_conn_close(other);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(put_in_rolled_back_transaction_is_not_stored)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char key[64], *got = (char *)1;
    tu_unique("rb", key, sizeof key);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_setting_put(c, key, "never", NULL, &err), err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_ok(myappctx_settings_load(c, NULL, &err), err);
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
    ck_assert_ptr_null(got);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(load_counts_every_row)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char key[64];
    tu_unique("count", key, sizeof key);
    tu_assert_ok(myappctx_setting_put(c, key, "1", NULL, &err), err);
    /* One snapshot for the count and the load, so that rows other suites
     * add meanwhile cannot make them differ. */
    tu_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL);
    char *rows = tu_value(c, "SELECT count(*) FROM data.app_settings", 0, NULL);
    int count = -1;
    tu_assert_ok(myappctx_settings_load(c, &count, &err), err);
    ck_assert_int_eq(count, atoi(rows));
    ck_assert_int_ge(count, 1);
    tu_assert_ok(myappctx_commit(c, &err), err);
    free(rows);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(load_refused_behind_txn_pooler)
{
    myappctx_conn *c = tu_txn_pooler_connect(NULL);
    myappctx_error err;
    int count = -1;
    tu_expect(myappctx_settings_load(c, &count, &err), MYAPPCTX_ESESSIONSTATE, err, NULL);
    ck_assert_int_eq(count, -1);
    /* Reading and writing the table are not session state. */
    char key[64], *got;
    tu_unique("pooled", key, sizeof key);
    tu_assert_ok(myappctx_setting_put(c, key, "v", NULL, &err), err);
    tu_assert_ok(myappctx_setting_get(c, key, "d", &got, &err), err);
    ck_assert_str_eq(got, "d");
    myappctx_free(got);
    myappctx_conn_close(c);

    const char *bouncer = tu_pgbouncer_conninfo("app_service");
    if (bouncer != NULL) {
        c = tu_txn_pooler_connect(bouncer);
        tu_expect(myappctx_settings_load(c, NULL, &err), MYAPPCTX_ESESSIONSTATE, err, NULL);
        tu_assert_ok(myappctx_setting_get(c, key, NULL, &got, &err), err);
        myappctx_free(got);
        myappctx_conn_close(c);
    }
}
END_TEST

START_TEST(get_bool_accepts_postgresql_spellings)
{
    static const struct { const char *text; int value; } ok[] = {
        { "true", 1 }, { "TRUE", 1 }, { "True", 1 }, { "t", 1 }, { "tru", 1 },
        { "yes", 1 }, { "Y", 1 }, { "on", 1 }, { "ON", 1 }, { "1", 1 }, { " true\n", 1 },
        { "false", 0 }, { "FALSE", 0 }, { "f", 0 }, { "fal", 0 }, { "no", 0 }, { "N", 0 },
        { "off", 0 }, { "of", 0 }, { "Off", 0 }, { "0", 0 }, { "\t0 ", 0 },
    };
    static const char *const bad[] = {
        "maybe", "2", "-1", "o", "tru e", "truex", "yess", "onn", "10", "0x1", "enabled",
        "'true'", "true;",
    };
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char key[64];
    tu_unique("flag", key, sizeof key);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        store(c, key, ok[i].text);
        int got = -1;
        tu_assert_ok(myappctx_setting_get_bool(c, key, !ok[i].value, &got, &err), err);
        ck_assert_msg(got == ok[i].value, "'%s' read as %d", ok[i].text, got);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store(c, key, bad[i]);
        int got = 7;
        tu_expect(myappctx_setting_get_bool(c, key, 1, &got, &err), MYAPPCTX_EMALFORMED, err, key);
        ck_assert_msg(strstr(err.message, bad[i]) != NULL, "value not named: %s", err.message);
        ck_assert_int_eq(got, 7);
    }
    myappctx_conn_close(c);
}
END_TEST

START_TEST(get_int_is_strict)
{
    static const struct { const char *text; long long value; } ok[] = {
        { "25", 25 }, { "-7", -7 }, { "+3", 3 }, { "0", 0 }, { "007", 7 }, { "-0", 0 },
        { "9223372036854775807", 9223372036854775807LL },
        { "-9223372036854775808", -9223372036854775807LL - 1 },
    };
    static const char *const bad[] = {
        "9223372036854775808", "-9223372036854775809", "99999999999999999999",
        "12abc", " 12", "12 ", "0x10", "1e3", "1.5", "+", "-", "--1", "1,000",
        "\xd9\xa1\xd9\xa2", "12\n",
    };
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char key[64];
    tu_unique("num", key, sizeof key);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        store(c, key, ok[i].text);
        long long got = 1234;
        tu_assert_ok(myappctx_setting_get_int(c, key, 99, &got, &err), err);
        ck_assert_msg(got == ok[i].value, "'%s' read as %lld", ok[i].text, got);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store(c, key, bad[i]);
        long long got = 1234;
        tu_expect(myappctx_setting_get_int(c, key, 99, &got, &err), MYAPPCTX_EMALFORMED, err, key);
        ck_assert_int_eq(got, 1234);
    }
    /* A long malformed value is named, but cut short in the message. */
    char long_value[300];
    memset(long_value, '9', sizeof long_value - 2);
    long_value[sizeof long_value - 2] = 'x';
    long_value[sizeof long_value - 1] = '\0';
    store(c, key, long_value);
    long long got;
    tu_expect(myappctx_setting_get_int(c, key, 0, &got, &err), MYAPPCTX_EMALFORMED, err, "...");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(keys_are_checked_before_any_round_trip)
{
    static const char *const bad[] = {
        "", "Upper", "1abc", "_x", "a.b", "a-b", "a b", "key;drop", "key'", "key\n", "k\xc3\xa9",
        "\xff\xfe", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
    };
    static const char *const reserved[] = {
        "current_user_id", "current_tenant_id", "current_role", "session_id",
        "context_metadata", "context_created_at", "audit_context", "original_user_id",
        "original_role", "is_impersonating", "loaded_settings",
    };
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    /* Inside an aborted transaction any round trip fails with ETXNFAILED:
     * EINVAL proves the key was refused in C. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), MYAPPCTX_OK);
    char *s;
    int b;
    long long n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_expect(myappctx_setting_get(c, bad[i], NULL, &s, &err), MYAPPCTX_EINVAL, err, "'key'");
        tu_expect(myappctx_setting_get_bool(c, bad[i], 0, &b, &err), MYAPPCTX_EINVAL, err,
                  "'key'");
        tu_expect(myappctx_setting_get_int(c, bad[i], 0, &n, &err), MYAPPCTX_EINVAL, err, "'key'");
        tu_expect(myappctx_setting_put(c, bad[i], "v", NULL, &err), MYAPPCTX_EINVAL, err, "'key'");
    }
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        tu_expect(myappctx_setting_get(c, reserved[i], NULL, &s, &err), MYAPPCTX_EINVAL, err,
                  "reserved");
        tu_expect(myappctx_setting_put(c, reserved[i], "v", NULL, &err), MYAPPCTX_EINVAL, err,
                  "reserved");
    }
    tu_expect(myappctx_setting_get(c, NULL, NULL, &s, &err), MYAPPCTX_EINVAL, err, "'key'");
    tu_expect(myappctx_setting_put(c, NULL, "v", NULL, &err), MYAPPCTX_EINVAL, err, "'key'");
    /* The same connection then reports the aborted transaction. */
    tu_expect(myappctx_setting_get(c, "ok_key", NULL, &s, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    tu_expect(myappctx_setting_put(c, "ok_key", "v", NULL, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    tu_expect(myappctx_settings_load(c, NULL, &err), MYAPPCTX_ETXNFAILED, err, NULL);
    tu_assert_ok(myappctx_rollback(c, &err), err);

    /* The longest key works. */
    char key63[64];
    memset(key63, 'k', 63);
    key63[63] = '\0';
    roundtrip(c, key63, "longest key");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(arguments_are_checked)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    char *s = (char *)1;
    int b;
    long long n;
    tu_expect(myappctx_settings_load(NULL, NULL, &err), MYAPPCTX_EINVAL, err, "'conn'");
    tu_expect(myappctx_setting_get(NULL, "k", NULL, &s, &err), MYAPPCTX_EINVAL, err, "'conn'");
    tu_expect(myappctx_setting_get_bool(NULL, "k", 0, &b, &err), MYAPPCTX_EINVAL, err, "'conn'");
    tu_expect(myappctx_setting_get_int(NULL, "k", 0, &n, &err), MYAPPCTX_EINVAL, err, "'conn'");
    tu_expect(myappctx_setting_put(NULL, "k", "v", NULL, &err), MYAPPCTX_EINVAL, err, "'conn'");
    tu_expect(myappctx_setting_get(c, "k", NULL, NULL, &err), MYAPPCTX_EINVAL, err, "'out'");
    tu_expect(myappctx_setting_get_bool(c, "k", 0, NULL, &err), MYAPPCTX_EINVAL, err, "'out'");
    tu_expect(myappctx_setting_get_int(c, "k", 0, NULL, &err), MYAPPCTX_EINVAL, err, "'out'");
    tu_expect(myappctx_setting_put(c, "k", NULL, NULL, &err), MYAPPCTX_EINVAL, err, "'value'");
    tu_expect(myappctx_setting_put(c, "k", "bad\xc3(", NULL, &err), MYAPPCTX_EINVAL, err,
              "'value'");
    tu_expect(myappctx_setting_put(c, "k", "v", "\xed\xa0\x80", &err), MYAPPCTX_EINVAL, err,
              "'description'");
    tu_expect(myappctx_setting_get(c, "k", "\xc0\xaf", &s, &err), MYAPPCTX_EINVAL, err,
              "'default_value'");
    ck_assert_ptr_null(s);

    char *big = malloc(MYAPPCTX_SETTING_VALUE_MAX + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'v', MYAPPCTX_SETTING_VALUE_MAX + 1);
    big[MYAPPCTX_SETTING_VALUE_MAX + 1] = '\0';
    tu_expect(myappctx_setting_put(c, "k", big, NULL, &err), MYAPPCTX_EINVAL, err, "'value'");
    tu_expect(myappctx_setting_get(c, "k", big, &s, &err), MYAPPCTX_EINVAL, err,
              "'default_value'");
    big[MYAPPCTX_SETTING_DESCRIPTION_MAX + 1] = '\0';
    tu_expect(myappctx_setting_put(c, "k", "v", big, &err), MYAPPCTX_EINVAL, err, "'description'");
    free(big);

    /* err may be NULL. */
    ck_assert_int_eq(myappctx_setting_put(c, "Bad", "v", NULL, NULL), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_setting_get(c, "k", NULL, &s, NULL), MYAPPCTX_OK);
    myappctx_free(s);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(broken_connection_is_econnect)
{
    myappctx_conn *c = tu_app_connect();
    tu_kill_backend(tu_backend_pid(c));
    myappctx_error err;
    char *s;
    tu_expect(myappctx_setting_get(c, "some_key", NULL, &s, &err), MYAPPCTX_ECONNECT, err, NULL);
    tu_expect(myappctx_settings_load(c, NULL, &err), MYAPPCTX_ECONNECT, err, NULL);
    tu_expect(myappctx_setting_put(c, "some_key", "v", NULL, &err), MYAPPCTX_ECONNECT, err, NULL);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("settings");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, put_load_get_roundtrip_verbatim);
    tcase_add_test(tc, put_stores_description_and_keeps_it_on_null);
    tcase_add_test(tc, get_unset_returns_null_or_default);
    tcase_add_test(tc, empty_value_reads_as_unset);
    tcase_add_test(tc, put_is_seen_after_the_next_load_only);
    tcase_add_test(tc, put_in_rolled_back_transaction_is_not_stored);
    tcase_add_test(tc, load_counts_every_row);
    tcase_add_test(tc, load_refused_behind_txn_pooler);
    tcase_add_test(tc, get_bool_accepts_postgresql_spellings);
    tcase_add_test(tc, get_int_is_strict);
    tcase_add_test(tc, keys_are_checked_before_any_round_trip);
    tcase_add_test(tc, arguments_are_checked);
    tcase_add_test(tc, broken_connection_is_econnect);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
