/* One message convention for every call (docs/conventions.md):
 *
 *     myappctx_<function>: <what went wrong>[; <what to do>]
 *
 * where <function> is the public function the application called, also when
 * the error comes from the server or from a helper several calls down, and
 * with the prefix once, on one line.  One representative failure per
 * module, of a kind other than a NULL argument (every function's NULL
 * arguments are tests/hostile/test_hostile_null.c's, which checks the
 * prefix too). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Each case makes its call on a fresh app_service connection @c (it may
 * close it and set it to NULL) and returns the status. */
typedef int (*case_fn)(myappctx_conn **c, myappctx_error *err);

static int
conn_open_unreachable(myappctx_conn **c, myappctx_error *err)
{
    myappctx_conn *x = NULL;
    return myappctx_conn_open(&x, "host=/nonexistent/dir port=1", NULL, err);
}

static int
exec_server_error(myappctx_conn **c, myappctx_error *err)
{
    return myappctx_exec(*c, "SELECT 1/0", 0, NULL, NULL, err);
}

static int
begin_broken(myappctx_conn **c, myappctx_error *err)
{
    tu_kill_backend(tu_backend_pid(*c));
    return myappctx_begin(*c, err);
}

static int
context_set_local_outside_txn(myappctx_conn **c, myappctx_error *err)
{
    myappctx_uuid u;
    tu_random_uuid(&u, NULL);
    return myappctx_context_set_local(*c, &u, NULL, NULL, err);
}

static int
context_user_id_malformed(myappctx_conn **c, myappctx_error *err)
{
    myappctx_uuid u;
    int set;
    tu_raw_set(*c, "myapp.current_user_id", "not-a-uuid");
    return myappctx_context_user_id_get(*c, &u, &set, err);
}

static int
context_begin_in_txn(myappctx_conn **c, myappctx_error *err)
{
    myappctx_uuid u;
    tu_random_uuid(&u, NULL);
    tu_exec(*c, "BEGIN", 0, NULL);
    return myappctx_begin_as_user(*c, &u, NULL, NULL, err);
}

static int
audit_set_outside_txn(myappctx_conn **c, myappctx_error *err)
{
    return myappctx_audit_set(*c, "reason", NULL, err);
}

static int
impersonate_without_context(myappctx_conn **c, myappctx_error *err)
{
    myappctx_uuid u;
    tu_random_uuid(&u, NULL);
    return myappctx_impersonate(*c, &u, err);
}

static int
require_context_unset(myappctx_conn **c, myappctx_error *err)
{
    return myappctx_require_context(*c, err);
}

static int
rate_limit_without_context(myappctx_conn **c, myappctx_error *err)
{
    return myappctx_rate_limit_check(*c, "act", 1, 60, err);
}

static int
config_set_bad_value(myappctx_conn **c, myappctx_error *err)
{
    return myappctx_config_set(*c, "work_mem", "plenty", 0, err);
}

static int
setting_get_int_malformed(myappctx_conn **c, myappctx_error *err)
{
    long long v;
    char key[64];
    tu_unique("msg", key, sizeof key);
    char name[96];
    snprintf(name, sizeof name, "myapp.%s", key);
    tu_raw_set(*c, name, "twelve");
    return myappctx_setting_get_int(*c, key, 0, &v, err);
}

static int
validate_broken(myappctx_conn **c, myappctx_error *err)
{
    myappctx_validation *v = NULL;
    tu_kill_backend(tu_backend_pid(*c));
    return myappctx_conn_validate(*c, &v, err);
}

static int
run_in_context_statement_error(myappctx_conn **c, myappctx_error *err)
{
    myappctx_uuid u;
    tu_random_uuid(&u, NULL);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &u;
    myappctx_stmt stmt = { "SELECT 1/0", 0, NULL };
    return myappctx_run_in_context(*c, &ctx, &stmt, 1, NULL, err);
}

static int
schema_status_without_rights(myappctx_conn **c, myappctx_error *err)
{
    myappctx_schema_status st;
    return myappctx_schema_status_get(*c, &st, err);
}

static int
schema_check_broken(myappctx_conn **c, myappctx_error *err)
{
    tu_kill_backend(tu_backend_pid(*c));
    return myappctx_schema_check(*c, err);
}

static int
schema_install_without_rights(myappctx_conn **c, myappctx_error *err)
{
    return myappctx_schema_install(*c, NULL, NULL, err);
}

static int
uuid_parse_bad(myappctx_conn **c, myappctx_error *err)
{
    myappctx_uuid u;
    return myappctx_uuid_parse(&u, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1x", err);
}

static int
pool_new_bad_size(myappctx_conn **c, myappctx_error *err)
{
    myappctx_pool *p = NULL;
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 3, 2);
    return myappctx_pool_new(&p, &cfg, err);
}

static int
pool_wait_ready_unreachable(myappctx_conn **c, myappctx_error *err)
{
    myappctx_pool_config cfg = tu_pool_config("host=/nonexistent/dir port=1", 1, 1);
    myappctx_pool *p = tu_pool_new(&cfg);
    int rc = myappctx_pool_wait_ready(p, 50, err);
    myappctx_pool_free(p);
    return rc;
}

static int
pool_acquire_unreachable(myappctx_conn **c, myappctx_error *err)
{
    myappctx_pool_config cfg = tu_pool_config("host=/nonexistent/dir port=1", 1, 1);
    myappctx_pool *p = tu_pool_new(&cfg);
    myappctx_conn *x = NULL;
    /* Until the first connect fails the timeout has no cause to quote. */
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    TU_EVENTUALLY(myappctx_pool_stats_get(p, &st) == MYAPPCTX_OK && st.errors > 0, 20000,
                  "the pool's first connect fails");
    int rc = myappctx_pool_acquire(p, &x, 0, err);
    myappctx_pool_free(p);
    return rc;
}

static int
pool_resize_closed(myappctx_conn **c, myappctx_error *err)
{
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 0, 1);
    myappctx_pool *p = tu_pool_new(&cfg);
    myappctx_pool_close(p);
    int rc = myappctx_pool_resize(p, 0, 2, err);
    myappctx_pool_free(p);
    return rc;
}

static int
pooled_exec_server_error(myappctx_conn **c, myappctx_error *err)
{
    myappctx_pool *p = tu_pool_one();
    myappctx_conn *x = tu_pool_acquire(p);
    int rc = myappctx_exec(x, "SELECT 1/0", 0, NULL, NULL, err);
    myappctx_pool_release(p, x);
    myappctx_pool_free(p);
    return rc;
}

static const struct {
    const char *fn;      /* the function the message must start with */
    int code;
    case_fn call;
    const char *needle;  /* also in the message (the cause), or NULL */
} cases[] = {
    { "myappctx_conn_open", MYAPPCTX_ECONNECT, conn_open_unreachable, "/nonexistent/dir" },
    { "myappctx_exec", MYAPPCTX_ESERVER, exec_server_error, "division by zero" },
    { "myappctx_begin", MYAPPCTX_ECONNECT, begin_broken, NULL },
    { "myappctx_context_set_local", MYAPPCTX_ENOTXN, context_set_local_outside_txn, NULL },
    { "myappctx_context_user_id_get", MYAPPCTX_EMALFORMED, context_user_id_malformed, "malformed" },
    { "myappctx_begin_as_user", MYAPPCTX_EBUSY, context_begin_in_txn, NULL },
    { "myappctx_audit_set", MYAPPCTX_ENOTXN, audit_set_outside_txn, NULL },
    { "myappctx_impersonate", MYAPPCTX_ENOCONTEXT, impersonate_without_context, NULL },
    { "myappctx_require_context", MYAPPCTX_ENOCONTEXT, require_context_unset, NULL },
    { "myappctx_rate_limit_check", MYAPPCTX_ENOCONTEXT, rate_limit_without_context, NULL },
    { "myappctx_config_set", MYAPPCTX_ESERVER, config_set_bad_value, "work_mem" },
    { "myappctx_setting_get_int", MYAPPCTX_EMALFORMED, setting_get_int_malformed, NULL },
    { "myappctx_conn_validate", MYAPPCTX_ECONNECT, validate_broken, NULL },
    { "myappctx_run_in_context", MYAPPCTX_ESERVER, run_in_context_statement_error,
      "statement 0: division by zero" },
    { "myappctx_schema_status_get", MYAPPCTX_ESERVER, schema_status_without_rights, "permission" },
    { "myappctx_schema_check", MYAPPCTX_ECONNECT, schema_check_broken, NULL },
    { "myappctx_schema_install", MYAPPCTX_ESERVER, schema_install_without_rights, "permission" },
    { "myappctx_uuid_parse", MYAPPCTX_EINVAL, uuid_parse_bad, "position 35" },
    { "myappctx_pool_new", MYAPPCTX_EINVAL, pool_new_bad_size, "min_size" },
    { "myappctx_pool_wait_ready", MYAPPCTX_ETIMEOUT, pool_wait_ready_unreachable, NULL },
    { "myappctx_pool_acquire", MYAPPCTX_ETIMEOUT, pool_acquire_unreachable, "/nonexistent/dir" },
    { "myappctx_pool_resize", MYAPPCTX_ECLOSED, pool_resize_closed, NULL },
    { "myappctx_exec", MYAPPCTX_ESERVER, pooled_exec_server_error, "division by zero" },
};

START_TEST(message_starts_with_the_function)
{
    const char *fn = cases[_i].fn;
    myappctx_conn *c = tu_app_connect();
    myappctx_error err;
    memset(&err, 0x55, sizeof err);        /* every field must be written */
    int rc = cases[_i].call(&c, &err);
    tu_expect_row(fn, rc, cases[_i].code, err, cases[_i].needle);
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s: ", fn);
    size_t n = strlen(prefix);
    ck_assert_msg(strncmp(err.message, prefix, n) == 0, "%s: message does not start with '%s': %s",
                  fn, prefix, err.message);
    ck_assert_msg(strstr(err.message + n, prefix) == NULL, "%s: prefix twice: %s", fn, err.message);
    ck_assert_msg(strstr(err.message + n, "myappctx_conn_open: ") == NULL,
                  "%s: a nested prefix: %s", fn, err.message);
    ck_assert_msg(strchr(err.message, '\n') == NULL, "%s: more than one line: %s", fn, err.message);
    ck_assert_int_eq(err.version, MYAPPCTX_ERROR_VERSION);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("messages");
    TCase *tc = tcase_create("messages");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, message_starts_with_the_function, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    suite_add_tcase(s, tc);
    return tu_run(s);
}
