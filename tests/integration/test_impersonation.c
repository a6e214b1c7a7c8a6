/* Impersonation through the C API, as the application role: every refusal
 * with its exact code and SQLSTATE, and the log rows (read as the superuser,
 * since the application role cannot read the log). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Fresh users per test, so that suites can run in parallel. */
typedef struct {
    myappctx_uuid admin, admin2, plain, norole, unknown, tenant;
} people;

static void
seed(people *p)
{
    tu_random_uuid(&p->unknown, NULL);   /* never inserted */
    tu_random_uuid(&p->tenant, NULL);
    tu_seed_user(&p->admin, "admin");
    tu_seed_user(&p->admin2, "admin");
    tu_seed_user(&p->plain, "user");
    tu_seed_user(&p->norole, NULL);
}

static void
set_context(myappctx_conn *c, const myappctx_uuid *user, const myappctx_uuid *tenant,
            const char *role)
{
    myappctx_error err = { 0 };
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = *user;
    ctx.tenant_id = tenant;
    ctx.role_label = role;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
}

/* The log rows of @admin as "target,pid,ended;..." in insertion order. */
static char *
log_of(const myappctx_uuid *admin)
{
    char buf[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(admin, buf) };
    myappctx_conn *su = tu_connect();
    char *rows = tu_value(su,
        "SELECT string_agg(target_user_id::text || ',' || backend_pid || ',' ||"
        "                  (ended_at IS NOT NULL AND ended_at >= started_at), ';' ORDER BY id)"
        "  FROM app_audit.impersonation_log WHERE admin_user_id = $1::uuid",
        1, params);
    myappctx_conn_close(su);
    return rows;
}

static void
assert_log(const myappctx_uuid *admin, const char *expected)
{
    char *rows = log_of(admin);
    ck_assert_pstr_eq(rows, expected);
    free(rows);
}

static void
assert_status(myappctx_conn *c, int active, const myappctx_uuid *original,
              const myappctx_uuid *current)
{
    myappctx_error err = { 0 };
    myappctx_impersonation_status st;
    memset(&st, 0x5a, sizeof st);
    tu_assert_ok(myappctx_impersonation_status_get(c, &st, &err), err);
    ck_assert_int_eq(st.active, active);
    if (original != NULL)
        ck_assert(myappctx_uuid_equal(&st.original_user_id, original));
    else
        ck_assert(myappctx_uuid_is_nil(&st.original_user_id));
    ck_assert_int_eq(st.has_current_user, current != NULL);
    if (current != NULL)
        ck_assert(myappctx_uuid_equal(&st.current_user_id, current));
    else
        ck_assert(myappctx_uuid_is_nil(&st.current_user_id));
}

static void
assert_role(myappctx_conn *c, const char *expected)
{
    myappctx_error err = { 0 };
    char *role = NULL;
    tu_assert_ok(myappctx_context_role_label_get(c, &role, &err), err);
    ck_assert_pstr_eq(role, expected);
    myappctx_free(role);
}

START_TEST(impersonate_and_end_are_logged)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    char target[MYAPPCTX_UUID_BUFSIZE], expected[160];
    int pid = PQbackendPID(myappctx_conn_pg(c));

    set_context(c, &p.admin, &p.tenant, "admin");
    assert_status(c, 0, NULL, &p.admin);
    tu_assert_ok(myappctx_impersonate(c, &p.plain, &err), err);
    assert_status(c, 1, &p.admin, &p.plain);
    assert_role(c, "user");                 /* the target's role, not admin */
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_int_eq(info->is_impersonating, 1);
    ck_assert_int_eq(info->has_original_user_id, 1);
    ck_assert(myappctx_uuid_equal(&info->original_user_id, &p.admin));
    ck_assert(myappctx_uuid_equal(&info->user_id, &p.plain));
    ck_assert(myappctx_uuid_equal(&info->tenant_id, &p.tenant));
    myappctx_context_info_free(info);
    snprintf(expected, sizeof expected, "%s,%d,false",
             myappctx_uuid_format(&p.plain, target), pid);
    assert_log(&p.admin, expected);

    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    assert_status(c, 0, NULL, &p.admin);
    assert_role(c, "admin");
    snprintf(expected, sizeof expected, "%s,%d,true", target, pid);
    assert_log(&p.admin, expected);

    /* A second round adds a second row. */
    tu_assert_ok(myappctx_impersonate(c, &p.norole, &err), err);
    assert_role(c, NULL);                   /* the target has no role */
    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    char second[MYAPPCTX_UUID_BUFSIZE], both[320];
    snprintf(both, sizeof both, "%s;%s,%d,true", expected,
             myappctx_uuid_format(&p.norole, second), pid);
    assert_log(&p.admin, both);
    myappctx_conn_close(c);
}
END_TEST

/* Who a refusal row uses: the people of seed(), or nobody (no context). */
typedef enum { NOBODY, ADMIN, ADMIN2, PLAIN, NOROLE, UNKNOWN } who;

static const myappctx_uuid *
person(const people *p, who w)
{
    switch (w) {
    case ADMIN: return &p->admin;
    case ADMIN2: return &p->admin2;
    case PLAIN: return &p->plain;
    case NOROLE: return &p->norole;
    case UNKNOWN: return &p->unknown;
    default: return NULL;
    }
}

/* myappctx_impersonate() refused by the server: the caller's session
 * context (its role always claims admin: data.users decides), the target,
 * the code and SQLSTATE.  Nothing changes and nothing is logged. */
static const struct {
    const char *name;
    who caller, target;
    int code;
    const char *sqlstate;
} refusal_rows[] = {
    { "without context", NOBODY, PLAIN, MYAPPCTX_ENOCONTEXT, "P0050" },
    { "a plain user", PLAIN, ADMIN2, MYAPPCTX_ENOTADMIN, "P0053" },
    { "a user without a role", NOROLE, ADMIN2, MYAPPCTX_ENOTADMIN, "P0053" },
    { "an unknown user", UNKNOWN, ADMIN2, MYAPPCTX_ENOTADMIN, "P0053" },
    { "an unknown target", ADMIN, UNKNOWN, MYAPPCTX_ENOUSER, "P0057" },
    { "the admin itself", ADMIN, ADMIN, MYAPPCTX_EBADARG, "P0058" },
};

START_TEST(refusals_change_and_log_nothing)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    const char *name = refusal_rows[_i].name;
    const myappctx_uuid *caller = person(&p, refusal_rows[_i].caller);
    if (caller != NULL)
        set_context(c, caller, NULL, "admin");
    int rc = myappctx_impersonate(c, person(&p, refusal_rows[_i].target), &err);
    tu_expect_state_row(name, rc, refusal_rows[_i].code, err, refusal_rows[_i].sqlstate);
    assert_status(c, 0, NULL, caller);
    if (caller != NULL)
        assert_log(caller, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(nested_and_context_changes_are_eimpersonating)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    set_context(c, &p.admin, NULL, "admin");
    tu_assert_ok(myappctx_impersonate(c, &p.plain, &err), err);
    tu_expect_state(myappctx_impersonate(c, &p.admin2, &err), MYAPPCTX_EIMPERSONATING, err,
                    "P0055");
    ck_assert_str_eq(err.hint, "Call api.end_impersonation() first.");   /* the server's HINT */
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = p.admin2;
    tu_expect_state(myappctx_context_set(c, &ctx, &err), MYAPPCTX_EIMPERSONATING, err, "P0055");
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_expect_state(myappctx_context_set_local(c, &p.admin2, NULL, NULL, &err),
                    MYAPPCTX_EIMPERSONATING, err, "P0055");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    assert_status(c, 1, &p.admin, &p.plain);
    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(end_without_impersonation_is_enotimpersonating)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    tu_expect_state(myappctx_impersonation_end(c, &err), MYAPPCTX_ENOTIMPERSONATING, err,
                    "P0056");
    set_context(c, &p.admin, NULL, "admin");
    tu_expect_state(myappctx_impersonation_end(c, &err), MYAPPCTX_ENOTIMPERSONATING, err,
                    "P0056");
    tu_assert_ok(myappctx_impersonate(c, &p.plain, &err), err);
    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    tu_expect_state(myappctx_impersonation_end(c, &err), MYAPPCTX_ENOTIMPERSONATING, err,
                    "P0056");
    assert_status(c, 0, NULL, &p.admin);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(behind_txn_pooler_is_esessionstate)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_txn_pooler_connect(NULL);
    myappctx_error err = { 0 };
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_impersonate(c, &p.plain, &err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_assert_rc(rc, MYAPPCTX_ESESSIONSTATE, err);
    /* Ending is refused too, before anything is sent: the impersonation it
     * would end lives on whichever server connection the pooler picks. */
    trace = tu_trace_start(c);
    rc = myappctx_impersonation_end(c, &err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_assert_rc(rc, MYAPPCTX_ESESSIONSTATE, err);
    /* Reading is harmless and stays allowed. */
    assert_status(c, 0, NULL, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(rejects_bad_arguments_before_sending)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid nil = { { 0 } }, someone;
    tu_random_uuid(&someone, NULL);
    myappctx_impersonation_status st;
    tu_assert_rc(myappctx_impersonate(NULL, &someone, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "'conn'") != NULL, "%s", err.message);
    tu_trace trace = tu_trace_start(c);
    tu_assert_rc(myappctx_impersonate(c, NULL, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "'target_user_id'") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_impersonate(c, &nil, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "nil") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_impersonation_status_get(c, NULL, &err), MYAPPCTX_EINVAL, err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_assert_rc(myappctx_impersonation_end(NULL, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_impersonation_status_get(NULL, &st, &err), MYAPPCTX_EINVAL, err);
    ck_assert_int_eq(myappctx_impersonate(NULL, NULL, NULL), MYAPPCTX_EINVAL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(clear_context_ends_and_logs_impersonation)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    char target[MYAPPCTX_UUID_BUFSIZE], expected[160];
    set_context(c, &p.admin, NULL, "admin");
    tu_assert_ok(myappctx_impersonate(c, &p.plain, &err), err);
    tu_assert_ok(myappctx_context_clear(c, &err), err);
    assert_status(c, 0, NULL, NULL);
    snprintf(expected, sizeof expected, "%s,%d,true", myappctx_uuid_format(&p.plain, target),
             PQbackendPID(myappctx_conn_pg(c)));
    assert_log(&p.admin, expected);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(rolled_back_impersonation_leaves_no_trace)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    set_context(c, &p.admin, NULL, "admin");
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_impersonate(c, &p.plain, &err), err);
    assert_status(c, 1, &p.admin, &p.plain);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    assert_status(c, 0, NULL, &p.admin);
    assert_log(&p.admin, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(failed_transaction_is_etxnfailed)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_impersonation_status st;
    set_context(c, &p.admin, NULL, "admin");
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, NULL), MYAPPCTX_OK);
    tu_expect_state(myappctx_impersonate(c, &p.plain, &err), MYAPPCTX_ETXNFAILED, err, "25P02");
    tu_expect_state(myappctx_impersonation_end(c, &err), MYAPPCTX_ETXNFAILED, err, "25P02");
    tu_expect_state(myappctx_impersonation_status_get(c, &st, &err), MYAPPCTX_ETXNFAILED, err,
                    "25P02");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    assert_log(&p.admin, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(status_reports_malformed_values)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_impersonation_status st;
    memset(&st, 0x5a, sizeof st);
    tu_raw_set(c, "myapp.original_user_id", "garbage");
    tu_assert_rc(myappctx_impersonation_status_get(c, &st, &err), MYAPPCTX_EMALFORMED, err);
    ck_assert_int_eq(st.active, 0x5a5a5a5a);   /* untouched on failure */
    tu_raw_set(c, "myapp.original_user_id", "");
    tu_raw_set(c, "myapp.current_user_id", "also garbage");
    tu_assert_rc(myappctx_impersonation_status_get(c, &st, &err), MYAPPCTX_EMALFORMED, err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(app_role_cannot_touch_the_log)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    tu_expect_state(myappctx_exec(c, "SELECT count(*) FROM app_audit.impersonation_log", 0, NULL,
                                 NULL, &err), MYAPPCTX_ESERVER, err, "42501");
    tu_expect_state(myappctx_exec(c, "DELETE FROM app_audit.impersonation_log", 0, NULL, NULL,
                                 &err), MYAPPCTX_ESERVER, err, "42501");
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("impersonation");
    TCase *tc = tcase_create("impersonation");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, impersonate_and_end_are_logged);
    tcase_add_loop_test(tc, refusals_change_and_log_nothing, 0,
                        (int)(sizeof refusal_rows / sizeof refusal_rows[0]));
    tcase_add_test(tc, nested_and_context_changes_are_eimpersonating);
    tcase_add_test(tc, end_without_impersonation_is_enotimpersonating);
    tcase_add_test(tc, behind_txn_pooler_is_esessionstate);
    tcase_add_test(tc, rejects_bad_arguments_before_sending);
    tcase_add_test(tc, clear_context_ends_and_logs_impersonation);
    tcase_add_test(tc, rolled_back_impersonation_leaves_no_trace);
    tcase_add_test(tc, failed_transaction_is_etxnfailed);
    tcase_add_test(tc, status_reports_malformed_values);
    tcase_add_test(tc, app_role_cannot_touch_the_log);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
