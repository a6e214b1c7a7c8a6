/* Audit context: transaction-local reason and ticket, as the application role. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Asserts that @got is the JSON string @expected (or JSON null when NULL). */
static void
assert_json_str(const json_t *got, const char *expected)
{
    ck_assert_ptr_nonnull(got);
    if (expected == NULL) {
        ck_assert_msg(json_is_null(got), "expected JSON null");
        return;
    }
    ck_assert_msg(json_is_string(got), "expected a JSON string");
    ck_assert_str_eq(json_string_value(got), expected);
}

/* Reads the audit context and checks reason and ticket (NULL = JSON null)
 * and that the timestamp is a non-empty string. */
static void
assert_audit(myappctx_conn *c, const char *reason, const char *ticket)
{
    myappctx_error err = { 0 };
    json_t *audit = NULL;
    tu_assert_ok(myappctx_audit_get(c, &audit, &err), err);
    ck_assert_msg(json_is_object(audit), "an audit object");
    ck_assert_int_eq(json_object_size(audit), 3);
    assert_json_str(json_object_get(audit, "reason"), reason);
    assert_json_str(json_object_get(audit, "ticket"), ticket);
    json_t *ts = json_object_get(audit, "timestamp");
    ck_assert_msg(json_is_string(ts) && json_string_length(ts) > 0, "a timestamp");
    json_decref(audit);
}

static void
assert_no_audit(myappctx_conn *c)
{
    myappctx_error err = { 0 };
    json_t *audit = json_object();   /* must be replaced by NULL */
    json_t *sentinel = audit;
    tu_assert_ok(myappctx_audit_get(c, &audit, &err), err);
    ck_assert_ptr_null(audit);
    json_decref(sentinel);
}

START_TEST(set_outside_transaction_is_enotxn_and_sends_nothing)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_audit_set(c, "reason", "T-1", &err);
    long sent = tu_trace_stop(trace);
    tu_assert_rc(rc, MYAPPCTX_ENOTXN, err);
    ck_assert_int_eq(sent, 0);
    ck_assert_int_eq(myappctx_audit_set(c, NULL, NULL, NULL), MYAPPCTX_ENOTXN);
    assert_no_audit(c);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_in_transaction_gone_after_commit_and_rollback)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    static const char *const ends[] = { "COMMIT", "ROLLBACK" };
    for (int i = 0; i < 2; i++) {
        tu_assert_ok(myappctx_begin(c, &err), err);
        assert_no_audit(c);
        tu_assert_ok(myappctx_audit_set(c, "GDPR export", "TICKET-123", &err), err);
        assert_audit(c, "GDPR export", "TICKET-123");
        /* Audit triggers read it through the server's reader. */
        char *reason = tu_value(c, "SELECT private.get_audit_context()->>'reason'", 0, NULL);
        ck_assert_str_eq(reason, "GDPR export");
        free(reason);
        tu_assert_ok(myappctx_exec(c, ends[i], 0, NULL, NULL, &err), err);
        assert_no_audit(c);
    }
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_null_values_and_replace)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_audit_set(c, NULL, NULL, &err), err);
    assert_audit(c, NULL, NULL);
    tu_assert_ok(myappctx_audit_set(c, "only a reason", NULL, &err), err);
    assert_audit(c, "only a reason", NULL);
    tu_assert_ok(myappctx_audit_set(c, NULL, "ONLY-TICKET", &err), err);
    assert_audit(c, NULL, "ONLY-TICKET");
    tu_assert_ok(myappctx_audit_set(c, "", "", &err), err);
    assert_audit(c, "", "");
    tu_assert_ok(myappctx_commit(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(hostile_strings_round_trip)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_begin(c, &err), err);
    for (size_t i = 0; i < tu_injection_count; i++) {
        const char *h = tu_injection[i].text;
        const char *t = tu_injection[tu_injection_count - 1 - i].text;
        tu_assert_ok(myappctx_audit_set(c, h, t, &err), err);
        assert_audit(c, h, t);
    }
    char *max = tu_repeat('x', MYAPPCTX_AUDIT_TEXT_MAX);
    tu_assert_ok(myappctx_audit_set(c, max, max, &err), err);
    assert_audit(c, max, max);
    free(max);
    tu_assert_ok(myappctx_commit(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_rejects_bad_arguments_before_sending)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    char *long_text = tu_repeat('x', MYAPPCTX_AUDIT_TEXT_MAX + 1);
    tu_assert_rc(myappctx_audit_set(NULL, "r", "t", &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "conn") != NULL, "%s", err.message);
    tu_assert_ok(myappctx_begin(c, &err), err);
    struct { const char *reason, *ticket, *argname; } cases[] = {
        { long_text, NULL, "'reason'" },
        { NULL, long_text, "'ticket'" },
        { "\xff", "t", "'reason'" },
        { "r", "abc\xc3", "'ticket'" },                 /* truncated sequence */
        { "\xc0\xaf", NULL, "'reason'" },                /* overlong '/' */
        { NULL, "\xed\xa0\x80", "'ticket'" },            /* surrogate */
        { "ok\x80ok", "ok\x80ok", "'reason'" },          /* stray continuation byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_trace trace = tu_trace_start(c);
        int rc = myappctx_audit_set(c, cases[i].reason, cases[i].ticket, &err);
        ck_assert_int_eq(tu_trace_stop(trace), 0);
        tu_assert_rc(rc, MYAPPCTX_EINVAL, err);
        ck_assert_msg(strstr(err.message, cases[i].argname) != NULL, "case %zu: %s", i,
                      err.message);
    }
    assert_no_audit(c);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    /* Arguments are checked before the transaction state. */
    tu_assert_rc(myappctx_audit_set(c, long_text, NULL, &err), MYAPPCTX_EINVAL, err);
    free(long_text);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_in_failed_transaction_is_etxnfailed)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    json_t *audit;
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, NULL), MYAPPCTX_OK);
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_audit_set(c, "r", "t", &err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_assert_rc(rc, MYAPPCTX_ETXNFAILED, err);
    ck_assert_str_eq(err.sqlstate, "25P02");
    tu_assert_rc(myappctx_audit_get(c, &audit, &err), MYAPPCTX_ETXNFAILED, err);
    ck_assert_ptr_null(audit);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(get_rejects_null_arguments)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    json_t *audit = (json_t *)0x1;
    tu_assert_rc(myappctx_audit_get(NULL, &audit, &err), MYAPPCTX_EINVAL, err);
    ck_assert_ptr_null(audit);
    tu_assert_rc(myappctx_audit_get(c, NULL, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "'out'") != NULL, "%s", err.message);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(get_reports_malformed_and_empty_values)
{
    /* Planted at session scope with raw SQL: a failed read aborts a
     * transaction, so each case runs outside one. */
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    json_t *audit = (json_t *)0x1;
    tu_raw_set(c, "myapp.audit_context", "{not json");
    tu_assert_rc(myappctx_audit_get(c, &audit, &err), MYAPPCTX_EMALFORMED, err);
    ck_assert_str_eq(err.sqlstate, "22P02");
    ck_assert_ptr_null(audit);
    tu_raw_set(c, "myapp.audit_context", "[1, 2]");
    tu_assert_rc(myappctx_audit_get(c, &audit, &err), MYAPPCTX_EMALFORMED, err);
    ck_assert_msg(strstr(err.message, "not a JSON object") != NULL, "%s", err.message);
    tu_raw_set(c, "myapp.audit_context", "\"text\"");
    tu_assert_rc(myappctx_audit_get(c, &audit, NULL), MYAPPCTX_EMALFORMED, err);
    tu_raw_set(c, "myapp.audit_context", "");
    assert_no_audit(c);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(audit_is_part_of_the_whole_context)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    tu_assert_ok(myappctx_begin_as_user(c, &user, NULL, NULL, &err), err);
    tu_assert_ok(myappctx_audit_set(c, "why", "T-9", &err), err);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_msg(json_is_object(info->audit), "audit in the context");
    assert_json_str(json_object_get(info->audit, "reason"), "why");
    assert_json_str(json_object_get(info->audit, "ticket"), "T-9");
    myappctx_context_info_free(info);
    tu_assert_ok(myappctx_commit(c, &err), err);
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_ptr_null(info->audit);
    myappctx_context_info_free(info);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(works_behind_transaction_pooler)
{
    myappctx_conn *c = tu_bouncer_connect("postgres");
    myappctx_error err = { 0 };
    tu_assert_rc(myappctx_audit_set(c, "r", "t", &err), MYAPPCTX_ENOTXN, err);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_audit_set(c, "pooled reason", "P-1", &err), err);
    assert_audit(c, "pooled reason", "P-1");
    tu_assert_ok(myappctx_commit(c, &err), err);
    /* Whichever server connection answers next, our reason is not on it:
     * it was transaction-local. */
    json_t *audit = NULL;
    tu_assert_ok(myappctx_audit_get(c, &audit, &err), err);
    ck_assert_ptr_null(audit);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("audit");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, set_outside_transaction_is_enotxn_and_sends_nothing);
    tcase_add_test(tc, set_in_transaction_gone_after_commit_and_rollback);
    tcase_add_test(tc, set_null_values_and_replace);
    tcase_add_test(tc, hostile_strings_round_trip);
    tcase_add_test(tc, set_rejects_bad_arguments_before_sending);
    tcase_add_test(tc, set_in_failed_transaction_is_etxnfailed);
    tcase_add_test(tc, get_rejects_null_arguments);
    tcase_add_test(tc, get_reports_malformed_and_empty_values);
    tcase_add_test(tc, audit_is_part_of_the_whole_context);
    tcase_add_test(tc, works_behind_transaction_pooler);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
