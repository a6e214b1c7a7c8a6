/* Application context: session scope, transaction scope, clearing and the
 * readers, against a real server as the application role. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *
uuid_text(const myappctx_uuid *id, char buf[MYAPPCTX_UUID_BUFSIZE])
{
    return myappctx_uuid_format(id, buf);
}

static void
assert_user(myappctx_conn *c, const myappctx_uuid *expected)
{
    myappctx_error err = { 0 };
    myappctx_uuid got;
    int is_set = -1;
    tu_assert_ok(myappctx_context_user_id_get(c, &got, &is_set, &err), err);
    ck_assert_int_eq(is_set, 1);
    ck_assert(myappctx_uuid_equal(&got, expected));
}

static void
assert_tenant(myappctx_conn *c, const myappctx_uuid *expected)
{
    myappctx_error err = { 0 };
    myappctx_uuid got;
    int is_set = -1;
    tu_assert_ok(myappctx_context_tenant_id_get(c, &got, &is_set, &err), err);
    ck_assert_int_eq(is_set, expected != NULL);
    if (expected != NULL)
        ck_assert(myappctx_uuid_equal(&got, expected));
    else
        ck_assert(myappctx_uuid_is_nil(&got));
}

/* Asserts the role (NULL = unset), also through the raw variable. */
static void
assert_role(myappctx_conn *c, const char *expected)
{
    myappctx_error err = { 0 };
    char *role = NULL;
    tu_assert_ok(myappctx_context_role_label_get(c, &role, &err), err);
    ck_assert_pstr_eq(role, expected);
    myappctx_free(role);
}

static void
assert_session_id(myappctx_conn *c, const char *expected)
{
    myappctx_error err = { 0 };
    char *sid = NULL;
    tu_assert_ok(myappctx_context_session_id_get(c, &sid, &err), err);
    ck_assert_pstr_eq(sid, expected);
    myappctx_free(sid);
}

static void
assert_var(myappctx_conn *c, const char *name, const char *expected)
{
    myappctx_error err = { 0 };
    char *value = NULL;
    tu_assert_ok(myappctx_config_show(c, name, &value, &err), err);
    ck_assert_pstr_eq(value, expected);
    myappctx_free(value);
}

static void
assert_not_user(myappctx_conn *c, const myappctx_uuid *user)
{
    myappctx_error err = { 0 };
    myappctx_uuid got;
    int is_set = -1;
    tu_assert_ok(myappctx_context_user_id_get(c, &got, &is_set, &err), err);
    ck_assert(!is_set || !myappctx_uuid_equal(&got, user));
}

static void
assert_not_var(myappctx_conn *c, const char *name, const char *value)
{
    myappctx_error err = { 0 };
    char *got = NULL;
    tu_assert_ok(myappctx_config_show(c, name, &got, &err), err);
    ck_assert(got == NULL || strcmp(got, value) != 0);
    myappctx_free(got);
}

/* Sets a minimal session context for @user (used by tests of other calls). */
static void
set_user(myappctx_conn *c, const myappctx_uuid *user, const char *role)
{
    myappctx_error err = { 0 };
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = *user;
    ctx.role_label = role;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
}

/* ------------------------------------------------------ session scope */

START_TEST(set_and_read_back_everything)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, tenant;
    tu_random_uuid(&user, NULL);
    tu_random_uuid(&tenant, NULL);
    json_t *meta = json_pack("{s:s, s:i, s:{s:[i,i]}, s:b}", "ip", "10.0.0.1", "n", 5,
                             "nested", "a", 1, 2, "flag", 1);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.tenant_id = &tenant;
    ctx.role_label = "manager";
    ctx.session_id = "sess-42";
    ctx.metadata = meta;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);

    assert_user(c, &user);
    assert_tenant(c, &tenant);
    assert_role(c, "manager");
    assert_session_id(c, "sess-42");

    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_int_eq(info->has_user_id, 1);
    ck_assert(myappctx_uuid_equal(&info->user_id, &user));
    ck_assert_int_eq(info->has_tenant_id, 1);
    ck_assert(myappctx_uuid_equal(&info->tenant_id, &tenant));
    ck_assert_str_eq(info->role_label, "manager");
    ck_assert_str_eq(info->session_id, "sess-42");
    ck_assert_msg(json_equal(info->metadata, meta), "metadata round-trips");
    ck_assert_ptr_nonnull(info->created_at);
    ck_assert_int_eq(info->is_impersonating, 0);
    ck_assert_int_eq(info->has_original_user_id, 0);
    ck_assert(myappctx_uuid_is_nil(&info->original_user_id));
    ck_assert_ptr_null(info->audit);
    myappctx_context_info_free(info);

    /* The server side sees the same values (what SQL and RLS read). */
    char ubuf[MYAPPCTX_UUID_BUFSIZE], expected[96];
    snprintf(expected, sizeof expected, "myapp[user=%s,tenant=", uuid_text(&user, ubuf));
    char *appname = tu_value(c, "SELECT current_setting('application_name')", 0, NULL);
    ck_assert_msg(strncmp(appname, expected, strlen(expected)) == 0, "%s", appname);
    free(appname);
    char *meta_text = tu_value(c, "SELECT current_setting('myapp.context_metadata')", 0, NULL);
    json_t *stored = json_loads(meta_text, 0, NULL);
    ck_assert_msg(json_equal(stored, meta), "stored metadata: %s", meta_text);
    json_decref(stored);
    free(meta_text);

    json_decref(meta);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_defaults)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    set_user(c, &user, NULL);
    assert_user(c, &user);
    assert_tenant(c, NULL);
    assert_role(c, "user");
    assert_session_id(c, NULL);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_int_eq(info->has_tenant_id, 0);
    ck_assert_ptr_null(info->session_id);
    ck_assert_msg(json_is_object(info->metadata) && json_object_size(info->metadata) == 0,
                  "metadata defaults to {}");
    myappctx_context_info_free(info);

    /* A second set replaces the first entirely. */
    myappctx_uuid user2, tenant;
    tu_random_uuid(&user2, NULL);
    tu_random_uuid(&tenant, NULL);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user2;
    ctx.tenant_id = &tenant;
    ctx.session_id = "s2";
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    ctx.tenant_id = NULL;
    ctx.session_id = NULL;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    assert_user(c, &user2);
    assert_tenant(c, NULL);
    assert_session_id(c, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_hostile_strings_round_trip)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    for (size_t i = 0; i < tu_injection_count; i++) {
        const char *h = tu_injection[i].text;
        json_t *meta = json_pack("{s:s}", h, h);
        ck_assert_ptr_nonnull(meta);
        myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
        ctx.user_id = user;
        ctx.role_label = h;
        ctx.session_id = h;
        ctx.metadata = meta;
        tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
        assert_role(c, h);
        assert_session_id(c, h);
        myappctx_context_info *info = NULL;
        tu_assert_ok(myappctx_context_get(c, &info, &err), err);
        ck_assert_str_eq(info->role_label, h);
        ck_assert_str_eq(info->session_id, h);
        ck_assert_msg(json_equal(info->metadata, meta), "metadata %zu round-trips", i);
        myappctx_context_info_free(info);
        json_decref(meta);
    }
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_limits_are_inclusive)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    char *role = tu_repeat('r', MYAPPCTX_ROLE_LABEL_MAX);
    char *sid = tu_repeat('s', MYAPPCTX_SESSION_ID_MAX);
    /* {"k":"...."} is exactly MYAPPCTX_METADATA_MAX bytes. */
    char *big = tu_repeat('m', MYAPPCTX_METADATA_MAX - 8);
    json_t *meta = json_pack("{s:s}", "k", big);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.role_label = role;
    ctx.session_id = sid;
    ctx.metadata = meta;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    assert_role(c, role);
    assert_session_id(c, sid);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_msg(json_equal(info->metadata, meta), "64 KiB metadata round-trips");
    myappctx_context_info_free(info);
    json_decref(meta);
    free(big);
    free(sid);
    free(role);
    myappctx_conn_close(c);
}
END_TEST

/* Runs myappctx_context_set with @ctx, expects EINVAL with @argname in the
 * message, and checks that nothing reached the server. */
static void
expect_set_einval(myappctx_conn *c, const myappctx_context *ctx, const char *argname)
{
    myappctx_error err = { 0 };
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_context_set(c, ctx, &err);
    long sent = tu_trace_stop(trace);
    tu_assert_rc(rc, MYAPPCTX_EINVAL, err);
    ck_assert_int_eq(err.code, MYAPPCTX_EINVAL);
    ck_assert_str_eq(err.sqlstate, "");
    ck_assert_msg(strstr(err.message, argname) != NULL, "'%s' not in: %s", argname,
                  err.message);
    ck_assert_int_eq(sent, 0);
}

START_TEST(set_rejects_bad_arguments_before_sending)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, nil = { { 0 } };
    tu_random_uuid(&user, NULL);
    myappctx_context ok = MYAPPCTX_CONTEXT_INIT;
    ok.user_id = user;

    tu_assert_rc(myappctx_context_set(NULL, &ok, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "conn") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_context_set(c, NULL, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "ctx") != NULL, "%s", err.message);
    ck_assert_int_eq(myappctx_context_set(c, NULL, NULL), MYAPPCTX_EINVAL);

    myappctx_context bad = ok;
    bad.version = 2;
    expect_set_einval(c, &bad, "version");
    expect_set_einval(c, &(myappctx_context)MYAPPCTX_CONTEXT_INIT, "ctx->user_id");
    bad = ok;
    bad.tenant_id = &nil;
    expect_set_einval(c, &bad, "ctx->tenant_id");

    char *long_role = tu_repeat('r', MYAPPCTX_ROLE_LABEL_MAX + 1);
    char *long_sid = tu_repeat('s', MYAPPCTX_SESSION_ID_MAX + 1);
    bad = ok;
    bad.role_label = "";
    expect_set_einval(c, &bad, "ctx->role_label");
    bad.role_label = long_role;
    expect_set_einval(c, &bad, "ctx->role_label");
    bad = ok;
    bad.session_id = "";
    expect_set_einval(c, &bad, "ctx->session_id");
    bad.session_id = long_sid;
    expect_set_einval(c, &bad, "ctx->session_id");
    for (size_t i = 0; i < tu_bad_utf8_count; i++) {
        bad = ok;
        bad.role_label = tu_bad_utf8[i].text;
        expect_set_einval(c, &bad, "ctx->role_label");
        bad = ok;
        bad.session_id = tu_bad_utf8[i].text;
        expect_set_einval(c, &bad, "ctx->session_id");
    }
    free(long_role);
    free(long_sid);

    /* Metadata: objects only, bounded, no U+0000, valid UTF-8. */
    json_t *not_objects[] = {
        json_array(), json_string("x"), json_integer(1), json_null(), json_true(),
    };
    for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++) {
        bad = ok;
        bad.metadata = not_objects[i];
        expect_set_einval(c, &bad, "ctx->metadata");
        json_decref(not_objects[i]);
    }
    char *huge = tu_repeat('m', MYAPPCTX_METADATA_MAX - 7);  /* one byte over */
    json_t *meta = json_pack("{s:s}", "k", huge);
    bad = ok;
    bad.metadata = meta;
    expect_set_einval(c, &bad, "ctx->metadata");
    json_decref(meta);
    free(huge);
    meta = json_object();
    json_object_set_new(meta, "k", json_stringn("a\0b", 3));
    bad.metadata = meta;
    expect_set_einval(c, &bad, "ctx->metadata");
    json_decref(meta);
    /* Unchecked jansson strings can carry invalid UTF-8. */
    meta = json_object();
    json_object_set_new(meta, "k", json_string_nocheck("\xff"));
    bad.metadata = meta;
    expect_set_einval(c, &bad, "ctx->metadata");
    json_decref(meta);
    /* A literal backslash before "u0000" is not the U+0000 escape. */
    meta = json_pack("{s:s}", "k", "\\u0000");
    ok.metadata = meta;
    tu_assert_ok(myappctx_context_set(c, &ok, &err), err);
    json_decref(meta);

    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_behind_txn_pooler_is_esessionstate)
{
    myappctx_conn *c = tu_txn_pooler_connect(NULL);
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    /* With metadata: the refusal comes after it is serialized, so this
     * also covers freeing it on that path (valgrind / LeakSanitizer). */
    json_t *meta = json_pack("{s:s}", "k", "v");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.metadata = meta;
    tu_trace trace = tu_trace_start(c);
    tu_assert_rc(myappctx_context_set(c, &ctx, &err), MYAPPCTX_ESESSIONSTATE, err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    ck_assert_msg(strstr(err.message, "transaction pooler") != NULL, "%s", err.message);
    /* Also inside a transaction: session-scoped is session-scoped. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_rc(myappctx_context_set(c, &ctx, &err), MYAPPCTX_ESESSIONSTATE, err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_no_context(c, NULL);
    json_decref(meta);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_inside_rolled_back_transaction_is_undone)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    tu_assert_ok(myappctx_begin(c, &err), err);
    set_user(c, &user, "r");
    assert_user(c, &user);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_no_context(c, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_in_failed_transaction_is_etxnfailed)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, NULL), MYAPPCTX_OK);
    tu_assert_rc(myappctx_context_set(c, &ctx, &err), MYAPPCTX_ETXNFAILED, err);
    ck_assert_str_eq(err.sqlstate, "25P02");
    tu_assert_rc(myappctx_context_clear(c, &err), MYAPPCTX_ETXNFAILED, err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* -------------------------------------------------- transaction scope */

START_TEST(set_local_outside_transaction_is_enotxn_and_sends_nothing)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, tenant;
    tu_random_uuid(&user, NULL);
    tu_random_uuid(&tenant, NULL);
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_context_set_local(c, &user, &tenant, "r", &err);
    long sent = tu_trace_stop(trace);
    tu_assert_rc(rc, MYAPPCTX_ENOTXN, err);
    ck_assert_int_eq(err.code, MYAPPCTX_ENOTXN);
    ck_assert_int_eq(sent, 0);
    ck_assert_int_eq(myappctx_context_set_local(c, &user, NULL, NULL, NULL), MYAPPCTX_ENOTXN);
    tu_assert_no_context(c, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_local_gone_after_commit_and_rollback)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, tenant;
    tu_random_uuid(&user, NULL);
    tu_random_uuid(&tenant, NULL);
    static const char *const ends[] = { "COMMIT", "ROLLBACK" };
    for (int i = 0; i < 2; i++) {
        tu_assert_ok(myappctx_begin(c, &err), err);
        tu_assert_ok(myappctx_context_set_local(c, &user, &tenant, "auditor", &err), err);
        assert_user(c, &user);
        assert_tenant(c, &tenant);
        assert_role(c, "auditor");
        /* Visible to SQL in the same transaction, e.g. to RLS policies. */
        char buf[MYAPPCTX_UUID_BUFSIZE];
        char *seen = tu_value(c, "SELECT private.get_current_tenant_id()::text", 0, NULL);
        ck_assert_str_eq(seen, uuid_text(&tenant, buf));
        free(seen);
        tu_assert_ok(myappctx_exec(c, ends[i], 0, NULL, NULL, &err), err);
        tu_assert_no_context(c, NULL);
    }
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_local_masks_session_context_for_one_transaction)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid session_user, session_tenant, txn_user;
    tu_random_uuid(&session_user, NULL);
    tu_random_uuid(&session_tenant, NULL);
    tu_random_uuid(&txn_user, NULL);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = session_user;
    ctx.tenant_id = &session_tenant;
    ctx.role_label = "admin";
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);

    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_context_set_local(c, &txn_user, NULL, NULL, &err), err);
    assert_user(c, &txn_user);
    assert_tenant(c, NULL);     /* the session's tenant is not inherited */
    assert_role(c, NULL);       /* nor its role */
    tu_assert_ok(myappctx_commit(c, &err), err);

    assert_user(c, &session_user);
    assert_tenant(c, &session_tenant);
    assert_role(c, "admin");
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_local_in_failed_transaction_is_etxnfailed)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, NULL), MYAPPCTX_OK);
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_context_set_local(c, &user, NULL, NULL, &err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_assert_rc(rc, MYAPPCTX_ETXNFAILED, err);
    ck_assert_str_eq(err.sqlstate, "25P02");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_no_context(c, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(set_local_hostile_roles_round_trip)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    tu_assert_ok(myappctx_begin(c, &err), err);
    for (size_t i = 0; i < tu_injection_count; i++) {
        tu_assert_ok(myappctx_context_set_local(c, &user, NULL, tu_injection[i].text, &err), err);
        assert_role(c, tu_injection[i].text);
    }
    tu_assert_ok(myappctx_commit(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* Checks the argument errors shared by set_local and begin; nothing is sent
 * and no transaction is opened. */
typedef int (*local_fn)(myappctx_conn *, const myappctx_uuid *, const myappctx_uuid *,
                        const char *, myappctx_error *);

static const struct {
    const char *name;
    local_fn fn;
} local_fns[] = {
    { "myappctx_context_set_local", myappctx_context_set_local },
    { "myappctx_begin_as_user", myappctx_begin_as_user },
};

START_TEST(set_local_and_begin_reject_bad_arguments)
{
    const char *name = local_fns[_i].name;
    local_fn fn = local_fns[_i].fn;
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, nil = { { 0 } };
    tu_random_uuid(&user, NULL);
    char *long_role = tu_repeat('r', MYAPPCTX_ROLE_LABEL_MAX + 1);
    struct {
        myappctx_conn *conn;
        const myappctx_uuid *user, *tenant;
        const char *role, *argname;
    } cases[] = {
        { NULL, &user, NULL, NULL, "conn" },
        { c, NULL, NULL, NULL, "user_id" },
        { c, &nil, NULL, NULL, "user_id" },
        { c, &user, &nil, NULL, "tenant_id" },
        { c, &user, NULL, "", "role_label" },
        { c, &user, NULL, long_role, "role_label" },
        { c, &user, NULL, "\xc3", "role_label" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_trace trace = tu_trace_start(c);
        int rc = fn(cases[i].conn, cases[i].user, cases[i].tenant, cases[i].role, &err);
        ck_assert_int_eq(tu_trace_stop(trace), 0);
        tu_assert_rc(rc, MYAPPCTX_EINVAL, err);
        ck_assert_msg(strstr(err.message, cases[i].argname) != NULL, "%s, case %zu: %s", name,
                      i, err.message);
        ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    }
    free(long_role);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(begin_sets_context_until_commit)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, tenant;
    tu_random_uuid(&user, NULL);
    tu_random_uuid(&tenant, NULL);
    tu_assert_ok(myappctx_begin_as_user(c, &user, &tenant, "clerk", &err), err);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 1);
    assert_user(c, &user);
    assert_tenant(c, &tenant);
    assert_role(c, "clerk");
    tu_assert_ok(myappctx_commit(c, &err), err);
    tu_assert_no_context(c, NULL);

    tu_assert_ok(myappctx_begin_as_user(c, &user, NULL, NULL, &err), err);
    assert_user(c, &user);
    assert_tenant(c, NULL);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_no_context(c, NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(begin_inside_transaction_is_ebusy)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_trace trace = tu_trace_start(c);
    int rc = myappctx_begin_as_user(c, &user, NULL, NULL, &err);
    ck_assert_int_eq(tu_trace_stop(trace), 0);
    tu_assert_rc(rc, MYAPPCTX_EBUSY, err);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 1);   /* the caller's, untouched */
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, NULL), MYAPPCTX_OK);
    tu_assert_rc(myappctx_begin_as_user(c, &user, NULL, NULL, &err), MYAPPCTX_EBUSY, err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(begin_failure_rolls_back)
{
    /* The server refuses a transaction context while impersonating (P0055):
     * the BEGIN that myappctx_begin_as_user() sent must be rolled back. */
    myappctx_uuid admin, target, other;
    tu_random_uuid(&other, NULL);
    tu_seed_user(&admin, "admin");
    tu_seed_user(&target, "user");
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    set_user(c, &admin, "admin");
    tu_assert_ok(myappctx_impersonate(c, &target, &err), err);
    tu_assert_rc(myappctx_begin_as_user(c, &other, NULL, NULL, &err),
                 MYAPPCTX_EIMPERSONATING, err);
    ck_assert_str_eq(err.sqlstate, "P0055");
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
    assert_user(c, &target);
    /* set_local reports the same refusal and leaves the caller's transaction. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_rc(myappctx_context_set_local(c, &other, NULL, NULL, &err),
                 MYAPPCTX_EIMPERSONATING, err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    assert_user(c, &admin);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(transaction_scope_through_pgbouncer)
{
    myappctx_conn *c = tu_bouncer_connect("postgres");
    myappctx_error err = { 0 };
    myappctx_uuid user, tenant;
    tu_random_uuid(&user, NULL);
    tu_random_uuid(&tenant, NULL);

    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    tu_assert_rc(myappctx_context_set(c, &ctx, &err), MYAPPCTX_ESESSIONSTATE, err);
    tu_assert_rc(myappctx_context_set_local(c, &user, &tenant, NULL, &err),
                 MYAPPCTX_ENOTXN, err);

    /* Other suites share the PgBouncer, so after each transaction the check
     * is that OUR values are gone, whatever server connection answers. */
    char request_id[MYAPPCTX_UUID_BUFSIZE];
    uuid_text(&tenant, request_id);
    for (int round = 0; round < 3; round++) {
        tu_assert_ok(myappctx_begin_as_user(c, &user, &tenant, "pooled", &err), err);
        assert_user(c, &user);
        assert_tenant(c, &tenant);
        assert_role(c, "pooled");
        tu_assert_ok(myappctx_config_set(c, "myapp.request_id", request_id, 1, &err), err);
        assert_var(c, "myapp.request_id", request_id);
        tu_assert_ok(myappctx_commit(c, &err), err);
        assert_not_user(c, &user);
        assert_not_var(c, "myapp.request_id", request_id);
    }
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_context_set_local(c, &user, NULL, NULL, &err), err);
    assert_user(c, &user);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    assert_not_user(c, &user);
    myappctx_conn_close(c);
}
END_TEST

/* ------------------------------------------------------------- clear */

START_TEST(clear_resets_everything)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, tenant;
    tu_random_uuid(&user, NULL);
    tu_random_uuid(&tenant, NULL);
    json_t *meta = json_pack("{s:s}", "k", "v");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.tenant_id = &tenant;
    ctx.session_id = "s";
    ctx.metadata = meta;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    json_decref(meta);
    char *before = tu_value(c, "SELECT current_setting('application_name')", 0, NULL);
    ck_assert_msg(strncmp(before, "myapp[", 6) == 0, "%s", before);
    free(before);

    tu_assert_ok(myappctx_context_clear(c, &err), err);
    tu_assert_no_context(c, NULL);
    assert_session_id(c, NULL);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_int_eq(info->has_user_id, 0);
    ck_assert_int_eq(info->has_tenant_id, 0);
    ck_assert_ptr_null(info->role_label);
    ck_assert_ptr_null(info->session_id);
    ck_assert_ptr_null(info->metadata);
    ck_assert_ptr_null(info->created_at);
    ck_assert_int_eq(info->is_impersonating, 0);
    ck_assert_ptr_null(info->audit);
    myappctx_context_info_free(info);
    char *after = tu_value(c, "SELECT current_setting('application_name')", 0, NULL);
    ck_assert_msg(strncmp(after, "myapp[", 6) != 0, "application_name reset: %s", after);
    free(after);

    /* Idempotent, and allowed behind a transaction pooler. */
    tu_assert_ok(myappctx_context_clear(c, &err), err);
    myappctx_conn *pooled = tu_txn_pooler_connect(NULL);
    tu_assert_ok(myappctx_context_clear(pooled, &err), err);
    myappctx_conn_close(pooled);
    tu_assert_rc(myappctx_context_clear(NULL, &err), MYAPPCTX_EINVAL, err);
    myappctx_conn_close(c);
}
END_TEST

/* ------------------------------------------------------------ readers */

START_TEST(readers_treat_empty_as_unset)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    static const char *const names[] = {
        "myapp.current_user_id", "myapp.current_tenant_id", "myapp.current_role",
        "myapp.session_id", "myapp.context_metadata", "myapp.context_created_at",
        "myapp.original_user_id", "myapp.audit_context",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        tu_raw_set(c, names[i], "");
    tu_assert_no_context(c, NULL);
    assert_session_id(c, NULL);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_int_eq(info->has_user_id, 0);
    ck_assert_ptr_null(info->role_label);
    ck_assert_ptr_null(info->metadata);
    ck_assert_ptr_null(info->created_at);
    ck_assert_int_eq(info->has_original_user_id, 0);
    ck_assert_ptr_null(info->audit);
    myappctx_context_info_free(info);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(readers_report_malformed_values)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid id = { { 0 } };
    int is_set = 7;
    myappctx_context_info *info = (myappctx_context_info *)0x1;

    tu_raw_set(c, "myapp.current_user_id", "not-a-uuid");
    tu_assert_rc(myappctx_context_user_id_get(c, &id, &is_set, &err), MYAPPCTX_EMALFORMED, err);
    ck_assert_str_eq(err.sqlstate, "22P02");
    ck_assert_int_eq(is_set, 7);    /* untouched on failure */
    tu_assert_rc(myappctx_context_user_id_get(c, &id, &is_set, NULL), MYAPPCTX_EMALFORMED, err);
    tu_assert_rc(myappctx_context_get(c, &info, &err), MYAPPCTX_EMALFORMED, err);
    ck_assert_ptr_null(info);
    tu_raw_set(c, "myapp.current_user_id", "");

    tu_raw_set(c, "myapp.current_tenant_id", "'; DROP TABLE x; --");
    tu_assert_rc(myappctx_context_tenant_id_get(c, &id, &is_set, &err), MYAPPCTX_EMALFORMED,
                 err);
    tu_raw_set(c, "myapp.current_tenant_id", "");

    tu_raw_set(c, "myapp.context_metadata", "{not json");
    tu_assert_rc(myappctx_context_get(c, &info, &err), MYAPPCTX_EMALFORMED, err);
    tu_raw_set(c, "myapp.context_metadata", "");

    /* PostgreSQL accepts other UUID spellings; the readers normalise them. */
    tu_raw_set(c, "myapp.current_user_id", "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}");
    myappctx_uuid expected;
    ck_assert_int_eq(myappctx_uuid_parse(&expected, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                                         NULL), MYAPPCTX_OK);
    assert_user(c, &expected);
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert(myappctx_uuid_equal(&info->user_id, &expected));
    myappctx_context_info_free(info);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(readers_reject_null_arguments)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid id;
    int is_set;
    char *s = (char *)"sentinel";
    myappctx_context_info *info = (myappctx_context_info *)0x1;

    tu_assert_rc(myappctx_context_user_id_get(NULL, &id, &is_set, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_context_user_id_get(c, NULL, &is_set, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "'out'") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_context_user_id_get(c, &id, NULL, &err), MYAPPCTX_EINVAL, err);
    ck_assert_msg(strstr(err.message, "is_set") != NULL, "%s", err.message);
    tu_assert_rc(myappctx_context_tenant_id_get(NULL, &id, &is_set, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_context_tenant_id_get(c, &id, NULL, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_context_role_label_get(NULL, &s, &err), MYAPPCTX_EINVAL, err);
    ck_assert_ptr_null(s);
    tu_assert_rc(myappctx_context_role_label_get(c, NULL, &err), MYAPPCTX_EINVAL, err);
    s = (char *)"sentinel";
    tu_assert_rc(myappctx_context_session_id_get(NULL, &s, &err), MYAPPCTX_EINVAL, err);
    ck_assert_ptr_null(s);
    tu_assert_rc(myappctx_context_session_id_get(c, NULL, &err), MYAPPCTX_EINVAL, err);
    tu_assert_rc(myappctx_context_get(NULL, &info, &err), MYAPPCTX_EINVAL, err);
    ck_assert_ptr_null(info);
    tu_assert_rc(myappctx_context_get(c, NULL, &err), MYAPPCTX_EINVAL, err);
    myappctx_context_info_free(NULL);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(readers_in_failed_transaction_are_etxnfailed)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid id;
    int is_set;
    char *s;
    myappctx_context_info *info;
    tu_assert_ok(myappctx_begin(c, &err), err);
    ck_assert_int_ne(myappctx_exec(c, "SELECT 1/0", 0, NULL, NULL, NULL), MYAPPCTX_OK);
    tu_assert_rc(myappctx_context_user_id_get(c, &id, &is_set, &err), MYAPPCTX_ETXNFAILED, err);
    tu_assert_rc(myappctx_context_tenant_id_get(c, &id, &is_set, &err), MYAPPCTX_ETXNFAILED,
                 err);
    tu_assert_rc(myappctx_context_role_label_get(c, &s, &err), MYAPPCTX_ETXNFAILED, err);
    tu_assert_rc(myappctx_context_session_id_get(c, &s, &err), MYAPPCTX_ETXNFAILED, err);
    tu_assert_rc(myappctx_context_get(c, &info, &err), MYAPPCTX_ETXNFAILED, err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

START_TEST(calls_on_broken_connection_are_econnect)
{
    myappctx_conn *c = tu_app_connect();
    tu_kill_backend(tu_backend_pid(c));
    myappctx_error err = { 0 };
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    tu_assert_rc(myappctx_context_set(c, &ctx, &err), MYAPPCTX_ECONNECT, err);
    tu_assert_rc(myappctx_context_clear(c, &err), MYAPPCTX_ECONNECT, err);
    tu_assert_rc(myappctx_begin_as_user(c, &user, NULL, NULL, &err), MYAPPCTX_ECONNECT, err);
    int is_set;
    tu_assert_rc(myappctx_context_user_id_get(c, &user, &is_set, &err), MYAPPCTX_ECONNECT, err);
    json_t *audit;
    tu_assert_rc(myappctx_audit_get(c, &audit, &err), MYAPPCTX_ECONNECT, err);
    tu_assert_rc(myappctx_impersonate(c, &user, &err), MYAPPCTX_ECONNECT, err);
    myappctx_impersonation_status st;
    tu_assert_rc(myappctx_impersonation_status_get(c, &st, &err), MYAPPCTX_ECONNECT, err);
    myappctx_conn_close(c);
}
END_TEST

/* Every call of the area refuses (EBUSY) while the connection is in libpq
 * pipeline mode, where a synchronous statement cannot run. */
START_TEST(calls_in_pipeline_mode_are_ebusy)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid user, id;
    tu_random_uuid(&user, NULL);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    int is_set;
    char *s;
    json_t *audit;
    myappctx_context_info *info;
    myappctx_impersonation_status st;
    PGconn *pg = myappctx_conn_pg(c);
    ck_assert_int_eq(PQenterPipelineMode(pg), 1);
    int rcs[] = {
        myappctx_context_set(c, &ctx, &err),
        myappctx_context_set_local(c, &user, NULL, NULL, &err),
        myappctx_begin_as_user(c, &user, NULL, NULL, &err),
        myappctx_context_clear(c, &err),
        myappctx_context_user_id_get(c, &id, &is_set, &err),
        myappctx_context_tenant_id_get(c, &id, &is_set, &err),
        myappctx_context_role_label_get(c, &s, &err),
        myappctx_context_session_id_get(c, &s, &err),
        myappctx_context_get(c, &info, &err),
        myappctx_audit_set(c, "r", "t", &err),
        myappctx_audit_get(c, &audit, &err),
        myappctx_impersonate(c, &user, &err),
        myappctx_impersonation_end(c, &err),
        myappctx_impersonation_status_get(c, &st, &err),
    };
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
        ck_assert_msg(rcs[i] == MYAPPCTX_EBUSY, "call %zu: %d", i, rcs[i]);
    ck_assert_int_eq(PQexitPipelineMode(pg), 1);
    tu_assert_no_context(c, NULL);
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("context");
    TCase *tc = tcase_create("context");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, set_and_read_back_everything);
    tcase_add_test(tc, set_defaults);
    tcase_add_test(tc, set_hostile_strings_round_trip);
    tcase_add_test(tc, set_limits_are_inclusive);
    tcase_add_test(tc, set_rejects_bad_arguments_before_sending);
    tcase_add_test(tc, set_behind_txn_pooler_is_esessionstate);
    tcase_add_test(tc, set_inside_rolled_back_transaction_is_undone);
    tcase_add_test(tc, set_in_failed_transaction_is_etxnfailed);
    tcase_add_test(tc, set_local_outside_transaction_is_enotxn_and_sends_nothing);
    tcase_add_test(tc, set_local_gone_after_commit_and_rollback);
    tcase_add_test(tc, set_local_masks_session_context_for_one_transaction);
    tcase_add_test(tc, set_local_in_failed_transaction_is_etxnfailed);
    tcase_add_test(tc, set_local_hostile_roles_round_trip);
    tcase_add_loop_test(tc, set_local_and_begin_reject_bad_arguments, 0,
                        (int)(sizeof local_fns / sizeof local_fns[0]));
    tcase_add_test(tc, begin_sets_context_until_commit);
    tcase_add_test(tc, begin_inside_transaction_is_ebusy);
    tcase_add_test(tc, begin_failure_rolls_back);
    tcase_add_test(tc, transaction_scope_through_pgbouncer);
    tcase_add_test(tc, clear_resets_everything);
    tcase_add_test(tc, readers_treat_empty_as_unset);
    tcase_add_test(tc, readers_report_malformed_values);
    tcase_add_test(tc, readers_reject_null_arguments);
    tcase_add_test(tc, readers_in_failed_transaction_are_etxnfailed);
    tcase_add_test(tc, calls_on_broken_connection_are_econnect);
    tcase_add_test(tc, calls_in_pipeline_mode_are_ebusy);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
