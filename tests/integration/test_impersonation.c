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
    tu_random_uuid(&p->admin, NULL);
    tu_random_uuid(&p->admin2, NULL);
    tu_random_uuid(&p->plain, NULL);
    tu_random_uuid(&p->norole, NULL);
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
    ctx.role = role;
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
    if (expected == NULL)
        ck_assert_ptr_null(rows);
    else
        ck_assert_str_eq(rows, expected);
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
    tu_assert_ok(myappctx_context_role_get(c, &role, &err), err);
    if (expected == NULL)
        ck_assert_ptr_null(role);
    else
        ck_assert_str_eq(role, expected);
    myappctx_free(role);
}

/* Expects @rc to be the named code for @sqlstate. */
static void
assert_refused(int rc, const myappctx_error *err, int code, const char *sqlstate)
{
    tu_assert_rc(rc, code, *err);
    ck_assert_str_eq(err->sqlstate, sqlstate);
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

START_TEST(without_context_is_enocontext)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    assert_refused(myappctx_impersonate(c, &p.plain, &err), &err, MYAPPCTX_ENOCONTEXT, "P0050");
    assert_status(c, 0, NULL, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(non_admins_are_enotadmin)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    /* The context role claims admin each time: data.users decides. */
    const myappctx_uuid *who[] = { &p.plain, &p.norole, &p.unknown };
    for (size_t i = 0; i < 3; i++) {
        set_context(c, who[i], NULL, "admin");
        assert_refused(myappctx_impersonate(c, &p.admin2, &err), &err, MYAPPCTX_ENOTADMIN,
                       "P0053");
        assert_status(c, 0, NULL, who[i]);
    }
    assert_log(&p.plain, NULL);
    assert_log(&p.norole, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(unknown_target_is_enouser)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    set_context(c, &p.admin, NULL, "admin");
    assert_refused(myappctx_impersonate(c, &p.unknown, &err), &err, MYAPPCTX_ENOUSER, "P0057");
    assert_status(c, 0, NULL, &p.admin);
    assert_log(&p.admin, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(self_is_ebadarg)
{
    people p;
    seed(&p);
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    set_context(c, &p.admin, NULL, "admin");
    assert_refused(myappctx_impersonate(c, &p.admin, &err), &err, MYAPPCTX_EBADARG, "P0058");
    assert_status(c, 0, NULL, &p.admin);
    assert_log(&p.admin, NULL);
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
    assert_refused(myappctx_impersonate(c, &p.admin2, &err), &err, MYAPPCTX_EIMPERSONATING,
                   "P0055");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = p.admin2;
    assert_refused(myappctx_context_set(c, &ctx, &err), &err, MYAPPCTX_EIMPERSONATING, "P0055");
    tu_assert_ok(myappctx_begin(c, &err), err);
    assert_refused(myappctx_context_set_local(c, &p.admin2, NULL, NULL, &err), &err,
                   MYAPPCTX_EIMPERSONATING, "P0055");
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
    assert_refused(myappctx_impersonation_end(c, &err), &err, MYAPPCTX_ENOTIMPERSONATING,
                   "P0056");
    set_context(c, &p.admin, NULL, "admin");
    assert_refused(myappctx_impersonation_end(c, &err), &err, MYAPPCTX_ENOTIMPERSONATING,
                   "P0056");
    tu_assert_ok(myappctx_impersonate(c, &p.plain, &err), err);
    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    assert_refused(myappctx_impersonation_end(c, &err), &err, MYAPPCTX_ENOTIMPERSONATING,
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
    trace = cu_trace_start(c);
    rc = myappctx_impersonation_end(c, &err);
    ck_assert_int_eq(cu_trace_stop(c, trace), 0);
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
    assert_refused(myappctx_impersonate(c, &p.plain, &err), &err, MYAPPCTX_ETXNFAILED, "25P02");
    assert_refused(myappctx_impersonation_end(c, &err), &err, MYAPPCTX_ETXNFAILED, "25P02");
    assert_refused(myappctx_impersonation_status_get(c, &st, &err), &err, MYAPPCTX_ETXNFAILED,
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
    assert_refused(myappctx_exec(c, "SELECT count(*) FROM app_audit.impersonation_log", 0, NULL,
                                 NULL, &err), &err, MYAPPCTX_ESERVER, "42501");
    assert_refused(myappctx_exec(c, "DELETE FROM app_audit.impersonation_log", 0, NULL, NULL,
                                 &err), &err, MYAPPCTX_ESERVER, "42501");
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
    tcase_add_test(tc, without_context_is_enocontext);
    tcase_add_test(tc, non_admins_are_enotadmin);
    tcase_add_test(tc, unknown_target_is_enouser);
    tcase_add_test(tc, self_is_ebadarg);
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
