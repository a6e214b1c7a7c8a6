/* Context requirements, tenant membership and rate limiting, against a real
 * server, exercised as the application role. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* Fresh ids for one test: a user who is an active member of tenant
 * "member", an inactive member of "inactive", and unrelated to "other". */
typedef struct fixture {
    myappctx_uuid user_id, member_id, inactive_id;
    char user[MYAPPCTX_UUID_BUFSIZE];
    char member[MYAPPCTX_UUID_BUFSIZE];
    char inactive[MYAPPCTX_UUID_BUFSIZE];
    char other[MYAPPCTX_UUID_BUFSIZE];
} fixture;

static void
seed(fixture *f)
{
    tu_seed_user(&f->user_id, "user");
    myappctx_uuid_format(&f->user_id, f->user);
    tu_random_uuid(&f->member_id, f->member);
    tu_random_uuid(&f->inactive_id, f->inactive);
    tu_random_uuid(NULL, f->other);
    tu_seed_membership(&f->user_id, &f->member_id, 1);
    tu_seed_membership(&f->user_id, &f->inactive_id, 0);
}

/* The session context a check row runs against. */
typedef enum {
    CTX_NONE,            /* nothing set */
    CTX_USER,            /* the user, no tenant */
    CTX_USER_CLEARED,    /* the user, then both variables set to '' (reads as unset) */
    CTX_FORGED_USER,     /* a user id written around the API that is not a UUID */
    CTX_USER_MEMBER,     /* the user in a tenant it is an active member of */
    CTX_USER_INACTIVE,   /* ... an inactive member of */
    CTX_USER_OTHER,      /* ... unrelated to */
    CTX_STRANGER_MEMBER, /* an unknown user (no member of anything) in "member" */
    CTX_NULL_CONN,       /* the check is called with conn NULL */
} ctx_state;

static void
set_state(myappctx_conn *c, const fixture *f, ctx_state st)
{
    char stranger[MYAPPCTX_UUID_BUFSIZE];
    switch (st) {
    case CTX_USER:
        tu_set_context(c, f->user, NULL);
        break;
    case CTX_USER_CLEARED:
        tu_set_context(c, f->user, NULL);
        tu_raw_set(c, "myapp.current_user_id", "");
        tu_raw_set(c, "myapp.current_tenant_id", "");
        break;
    case CTX_FORGED_USER:
        tu_raw_set(c, "myapp.current_user_id", "admin'--");
        break;
    case CTX_USER_MEMBER:
        tu_set_context(c, f->user, f->member);
        break;
    case CTX_USER_INACTIVE:
        tu_set_context(c, f->user, f->inactive);
        break;
    case CTX_USER_OTHER:
        tu_set_context(c, f->user, f->other);
        break;
    case CTX_STRANGER_MEMBER:
        tu_random_uuid(NULL, stranger);
        tu_set_context(c, stranger, f->member);
        break;
    default:
        break;
    }
}

typedef int (*check_fn)(myappctx_conn *, myappctx_error *);

/* Each check against each context: the code and the SQLSTATE (NULL for
 * success, "" for refusals made in C). */
static const struct {
    const char *name;
    check_fn fn;
    ctx_state state;
    int code;
    const char *sqlstate;
} check_rows[] = {
    { "require_context, no context", myappctx_require_context, CTX_NONE,
      MYAPPCTX_ENOCONTEXT, "P0050" },
    { "require_context, a user", myappctx_require_context, CTX_USER, MYAPPCTX_OK, NULL },
    { "require_context, cleared to ''", myappctx_require_context, CTX_USER_CLEARED,
      MYAPPCTX_ENOCONTEXT, "P0050" },
    /* Not a UUID: the server says so. */
    { "require_context, forged user id", myappctx_require_context, CTX_FORGED_USER,
      MYAPPCTX_ESERVER, "22P02" },
    { "require_context, conn NULL", myappctx_require_context, CTX_NULL_CONN,
      MYAPPCTX_EINVAL, "" },
    { "require_tenant, no context", myappctx_require_tenant, CTX_NONE,
      MYAPPCTX_ENOTENANT, "P0051" },
    { "require_tenant, a user without tenant", myappctx_require_tenant, CTX_USER,
      MYAPPCTX_ENOTENANT, "P0051" },
    /* Membership is not checked here. */
    { "require_tenant, a tenant of a stranger", myappctx_require_tenant, CTX_USER_OTHER,
      MYAPPCTX_OK, NULL },
    { "require_tenant, conn NULL", myappctx_require_tenant, CTX_NULL_CONN,
      MYAPPCTX_EINVAL, "" },
    { "verify_tenant_access, no context", myappctx_verify_tenant_access, CTX_NONE,
      MYAPPCTX_ENOCONTEXT, "P0050" },
    { "verify_tenant_access, a user without tenant", myappctx_verify_tenant_access, CTX_USER,
      MYAPPCTX_ENOTENANT, "P0051" },
    { "verify_tenant_access, an active member", myappctx_verify_tenant_access,
      CTX_USER_MEMBER, MYAPPCTX_OK, NULL },
    { "verify_tenant_access, an inactive member", myappctx_verify_tenant_access,
      CTX_USER_INACTIVE, MYAPPCTX_EACCESS, "P0052" },
    { "verify_tenant_access, not a member", myappctx_verify_tenant_access, CTX_USER_OTHER,
      MYAPPCTX_EACCESS, "P0052" },
    { "verify_tenant_access, an unknown user", myappctx_verify_tenant_access,
      CTX_STRANGER_MEMBER, MYAPPCTX_EACCESS, "P0052" },
    { "verify_tenant_access, conn NULL", myappctx_verify_tenant_access, CTX_NULL_CONN,
      MYAPPCTX_EINVAL, "" },
};

START_TEST(checks_against_each_context)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fixture f;
    seed(&f);
    set_state(c, &f, check_rows[_i].state);
    int rc = check_rows[_i].fn(check_rows[_i].state == CTX_NULL_CONN ? NULL : c, &err);
    if (check_rows[_i].sqlstate != NULL)
        tu_expect_state_row(check_rows[_i].name, rc, check_rows[_i].code, err,
                            check_rows[_i].sqlstate);
    else
        tu_expect_row(check_rows[_i].name, rc, check_rows[_i].code, err, NULL);
    myappctx_conn_close(c);
}
END_TEST

/* The app role has no rights on the membership table itself. */
START_TEST(app_role_cannot_read_memberships)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_expect_state(myappctx_exec(c, "SELECT count(*) FROM data.user_tenants", 0, NULL, NULL, &err),
                    MYAPPCTX_ESERVER, err, "42501");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(checks_with_transaction_context_behind_pooler)
{
    myappctx_conn *c = tu_txn_pooler_connect(tu_pgbouncer_conninfo("app_service"));
    myappctx_error err;
    fixture f;
    seed(&f);
    const char *member[] = { f.user, f.member };
    const char *inactive[] = { f.user, f.inactive };
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_exec(c, "SELECT api.set_transaction_context($1::uuid, $2::uuid)", 2, member);
    tu_assert_ok(myappctx_require_context(c, &err), err);
    tu_assert_ok(myappctx_require_tenant(c, &err), err);
    tu_assert_ok(myappctx_verify_tenant_access(c, &err), err);
    tu_assert_ok(myappctx_commit(c, &err), err);
    /* The context ended with the transaction. */
    tu_expect_state(myappctx_require_context(c, &err), MYAPPCTX_ENOCONTEXT, err, "P0050");

    /* A failed check aborts the caller's transaction. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_exec(c, "SELECT api.set_transaction_context($1::uuid, $2::uuid)", 2, inactive);
    tu_expect_state(myappctx_verify_tenant_access(c, &err), MYAPPCTX_EACCESS, err, "P0052");
    tu_expect_state(myappctx_require_context(c, &err), MYAPPCTX_ETXNFAILED, err, "25P02");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* Rate-limit windows are aligned to multiples of their length: wait until
 * the current window has a few seconds left, so that a test's calls all
 * land in the same one. */
#define WINDOW 3600
static void
stay_inside_one_window(myappctx_conn *c)
{
    char *left = tu_value(c, "SELECT 3600 - floor(extract(epoch FROM clock_timestamp()))"
                             "::bigint % 3600", 0, NULL);
    if (atoi(left) < 10)
        sleep((unsigned)atoi(left) + 1);
    free(left);
}

static char *
counter(const char *user, const char *action)
{
    myappctx_conn *su = tu_connect();
    const char *p[] = { user, action };
    char *v = tu_value(su, "SELECT COALESCE(sum(count), 0) FROM data.rate_limits"
                           " WHERE user_id = $1::uuid AND action = $2", 2, p);
    myappctx_conn_close(su);
    return v;
}

static void
assert_counter(const char *user, const char *action, const char *expected)
{
    char *v = counter(user, action);
    ck_assert_str_eq(v, expected);
    free(v);
}

START_TEST(rate_limit_refuses_the_request_after_max)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fixture f, g;
    seed(&f);
    seed(&g);
    char action[64];
    tu_unique("act", action, sizeof action);
    tu_set_context(c, f.user, f.member);
    stay_inside_one_window(c);
    for (int i = 0; i < 3; i++)
        tu_assert_ok(myappctx_rate_limit_check(c, action, 3, WINDOW, &err), err);
    tu_expect_state(myappctx_rate_limit_check(c, action, 3, WINDOW, &err), MYAPPCTX_ERATELIMIT,
                    err, "P0054");
    ck_assert_ptr_nonnull(strstr(err.message, action));
    tu_expect_state(myappctx_rate_limit_check(c, action, 3, WINDOW, &err), MYAPPCTX_ERATELIMIT,
                    err, "P0054");
    /* Refused requests are not counted (their statement rolled back). */
    assert_counter(f.user, action, "3");

    /* Counters are per user. */
    tu_set_context(c, g.user, NULL);
    tu_assert_ok(myappctx_rate_limit_check(c, action, 3, WINDOW, &err), err);
    assert_counter(g.user, action, "1");
    /* max_requests 0 refuses everything. */
    char none[64];
    tu_unique("none", none, sizeof none);
    tu_expect_state(myappctx_rate_limit_check(c, none, 0, WINDOW, &err), MYAPPCTX_ERATELIMIT, err,
                    "P0054");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(rate_limit_counts_follow_the_transaction)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fixture f;
    seed(&f);
    char action[64];
    tu_unique("txn", action, sizeof action);
    tu_set_context(c, f.user, NULL);
    stay_inside_one_window(c);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_rate_limit_check(c, action, 5, WINDOW, &err), err);
    tu_assert_ok(myappctx_rate_limit_check(c, action, 5, WINDOW, &err), err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    assert_counter(f.user, action, "0");
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_rate_limit_check(c, action, 1, WINDOW, &err), err);
    tu_expect_state(myappctx_rate_limit_check(c, action, 1, WINDOW, &err), MYAPPCTX_ERATELIMIT,
                    err, "P0054");
    tu_expect_state(myappctx_rate_limit_check(c, action, 1, WINDOW, &err), MYAPPCTX_ETXNFAILED,
                    err, "25P02");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    assert_counter(f.user, action, "0");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(rate_limit_actions_are_stored_verbatim)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    fixture f;
    seed(&f);
    tu_set_context(c, f.user, NULL);
    char unique[48], action[MYAPPCTX_RATE_LIMIT_ACTION_MAX + 1];
    tu_unique("v", unique, sizeof unique);
    snprintf(action, sizeof action, "it's; DROP TABLE data.rate_limits; --\n\\%s \xc3\xa9", unique);
    tu_assert_ok(myappctx_rate_limit_check(c, action, 10, WINDOW, &err), err);
    assert_counter(f.user, action, "1");
    /* The longest action accepted. */
    memset(action, 'a', MYAPPCTX_RATE_LIMIT_ACTION_MAX);
    memcpy(action, unique, strlen(unique));
    action[MYAPPCTX_RATE_LIMIT_ACTION_MAX] = '\0';
    tu_assert_ok(myappctx_rate_limit_check(c, action, 10, WINDOW, &err), err);
    assert_counter(f.user, action, "1");
    /* The app role cannot touch the counters directly. */
    const char *p[] = { f.user };
    tu_expect_state(myappctx_exec(c, "DELETE FROM data.rate_limits WHERE user_id = $1::uuid",
                                  1, p, NULL, &err),
                    MYAPPCTX_ESERVER, err, "42501");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(rate_limit_arguments)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    tu_expect_state(myappctx_rate_limit_check(c, "needs_context", 1, WINDOW, &err),
                    MYAPPCTX_ENOCONTEXT,
                    err, "P0050");
    char long_action[MYAPPCTX_RATE_LIMIT_ACTION_MAX + 2];
    memset(long_action, 'a', sizeof long_action - 1);
    long_action[sizeof long_action - 1] = '\0';
    /* Inside an aborted transaction: EINVAL proves no round trip happened. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, &err), MYAPPCTX_OK);
    tu_expect_state(myappctx_rate_limit_check(NULL, "a", 1, 1, &err), MYAPPCTX_EINVAL, err, "");
    ck_assert_ptr_nonnull(strstr(err.message, "'conn'"));
    static const struct { const char *action; int max, window; const char *arg; } bad[] = {
        { NULL, 1, 1, "'action'" }, { "", 1, 1, "'action'" }, { "a\xff", 1, 1, "'action'" },
        { "a", -1, 1, "'max_requests'" }, { "a", 1, 0, "'window_seconds'" },
        { "a", 1, -60, "'window_seconds'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_expect_state(myappctx_rate_limit_check(c, bad[i].action, bad[i].max, bad[i].window,
                                                  &err),
                        MYAPPCTX_EINVAL, err, "");
        ck_assert_msg(strstr(err.message, bad[i].arg) != NULL, "%s", err.message);
    }
    tu_expect_state(myappctx_rate_limit_check(c, long_action, 1, 1, &err), MYAPPCTX_EINVAL, err,
                    "");
    ck_assert_ptr_nonnull(strstr(err.message, "'action'"));
    tu_expect_state(myappctx_rate_limit_check(c, "a", 1, 1, &err), MYAPPCTX_ETXNFAILED, err,
                    "25P02");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(rate_limit_cleanup_deletes_old_counters_only)
{
    fixture f;
    seed(&f);
    char old_action[64], new_action[64];
    tu_unique("old", old_action, sizeof old_action);
    tu_unique("new", new_action, sizeof new_action);
    myappctx_conn *su = tu_connect();
    const char *p[] = { f.user, old_action, new_action };
    tu_exec(su, "INSERT INTO data.rate_limits (user_id, action, window_start, count) VALUES"
                " ($1::uuid, $2, now() - interval '2 days', 5),"
                " ($1::uuid, $3, now(), 1)", 3, p);
    myappctx_conn_close(su);

    myappctx_conn *c = tu_app_connect();                      /* SECURITY DEFINER */
    myappctx_error err;
    int deleted = -1;
    tu_assert_ok(myappctx_rate_limit_cleanup(c, 86400, &deleted, &err), err);
    ck_assert_int_ge(deleted, 1);
    assert_counter(f.user, old_action, "0");
    assert_counter(f.user, new_action, "1");
    tu_assert_ok(myappctx_rate_limit_cleanup(c, 86400, NULL, &err), err);
    assert_counter(f.user, new_action, "1");

    static const long bad[] = { 0, -1, 2147483648L };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        deleted = -1;
        tu_expect_state(myappctx_rate_limit_cleanup(c, bad[i], &deleted, &err), MYAPPCTX_EINVAL,
                        err, "");
        ck_assert_ptr_nonnull(strstr(err.message, "'older_than_seconds'"));
        ck_assert_int_eq(deleted, -1);
    }
    tu_expect_state(myappctx_rate_limit_cleanup(NULL, 60, &deleted, &err), MYAPPCTX_EINVAL, err,
                    "");
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("security");
    TCase *tc = tcase_create("security");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, checks_against_each_context, 0,
                        (int)(sizeof check_rows / sizeof check_rows[0]));
    tcase_add_test(tc, app_role_cannot_read_memberships);
    tcase_add_test(tc, checks_with_transaction_context_behind_pooler);
    tcase_add_test(tc, rate_limit_refuses_the_request_after_max);
    tcase_add_test(tc, rate_limit_counts_follow_the_transaction);
    tcase_add_test(tc, rate_limit_actions_are_stored_verbatim);
    tcase_add_test(tc, rate_limit_arguments);
    tcase_add_test(tc, rate_limit_cleanup_deletes_old_counters_only);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
