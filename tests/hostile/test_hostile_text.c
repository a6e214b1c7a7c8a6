/* Catalogue class "text": hostile text through every public function that
 * stores caller text (or hands it back), directly, through the pool and
 * through PgBouncer in transaction mode.
 *
 * The catalogue is the cross product of two tables:
 *   - targets[]: the function and argument, its documented limit, and what
 *     it does with '' (refuse, store, or read back as unset);
 *   - the inputs of tests/lib/inputs.c plus length rows made for each target's
 *     limit, each with its expected outcome.
 * Expected outcomes: stored and read back byte for byte; refused with
 * MYAPPCTX_EINVAL naming the argument and with nothing sent (PQtrace
 * records zero bytes); read back as unset; or, for the caller's own
 * statement parameters (which the library passes through unchecked, like
 * libpq), the server's 22021 refusal. */
#include "config.h"

#include <stdlib.h>

#include "testutil.h"

enum via { VIA_DIRECT, VIA_POOL, VIA_BOUNCER, VIA_COUNT };
static const char *const via_names[] = { "a direct connection", "the pool", "PgBouncer" };

typedef enum {
    X_VERBATIM,     /* MYAPPCTX_OK, read back byte for byte */
    X_UNSET,        /* MYAPPCTX_OK, reads back as unset (NULL) */
    /* '' of an audit text: X_VERBATIM; sealed (TU_SEALED) X_UNSET, as the
     * sealed audit context holds an empty field as absent (JSON null) */
    X_AUDIT_EMPTY,
    X_EINVAL,       /* MYAPPCTX_EINVAL naming the argument, nothing sent */
    X_SERVER_22021, /* MYAPPCTX_ESERVER, SQLSTATE 22021 (invalid byte sequence) */
} expect;

typedef struct env {
    myappctx_conn *c;
    myappctx_uuid user;
    char user_text[MYAPPCTX_UUID_BUFSIZE];
    char key[64];        /* a fresh setting key */
    char var[80];        /* a fresh custom parameter, myapp.<key> */
    char *got;           /* a value the store step already read back */
} env;

typedef struct target {
    const char *name;       /* function: argument */
    const char *argname;    /* what the EINVAL message names */
    size_t limit;           /* documented limit in bytes; 0 = none */
    expect empty;           /* what '' gives */
    expect bad_utf8;        /* what invalid UTF-8 gives */
    int session_scoped;     /* refused behind a transaction pooler */
    void (*setup)(env *);
    int (*store)(env *, const char *value, myappctx_error *err);
    char *(*read)(env *);   /* the stored value now (malloc'd), NULL = unset */
    void (*teardown)(env *);
} target;

/* ------------------------------------------------------ setup helpers */

static void
fresh_names(env *e)
{
    tu_random_uuid(&e->user, e->user_text);
    tu_unique("hx_text", e->key, sizeof e->key);
    /* Sealed: the myapp prefix is reserved for the extension's names. */
    snprintf(e->var, sizeof e->var, "%s.%s", tu_sealed() ? "hostile" : "myapp", e->key);
}

static void
begin(env *e)
{
    myappctx_error err = { 0 };
    fresh_names(e);
    tu_assert_ok(myappctx_begin(e->c, &err), err);
}

static void
begin_with_user(env *e)
{
    myappctx_error err = { 0 };
    begin(e);
    tu_assert_ok(myappctx_context_set_local(e->c, &e->user, NULL, NULL, &err), err);
}

static void
rollback_if_open(env *e)
{
    myappctx_error err = { 0 };
    if (myappctx_conn_in_transaction(e->c))
        tu_assert_ok(myappctx_rollback(e->c, &err), err);
}

static void
clear_context(env *e)
{
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_context_clear(e->c, &err), err);
}

static void
delete_setting(env *e)
{
    rollback_if_open(e);
    clear_context(e);
    tu_delete_setting(e->key);
}

/* ENOTFOUND: the refused rows never created the variable. */
static void
reset_var(env *e)
{
    myappctx_error err = { 0 };
    int rc = myappctx_config_reset(e->c, e->var, &err);
    ck_assert_msg(rc == MYAPPCTX_OK || rc == MYAPPCTX_ENOTFOUND, "reset: %s", err.message);
}

static char *
copy_of(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    ck_assert_ptr_nonnull(d);
    return d;
}

/* The value the store step read back, handed over. */
static char *
read_got(env *e)
{
    char *v = e->got;
    e->got = NULL;
    return v;
}

/* ------------------------------------------------------------ context */

static int
store_context_role(env *e, const char *v, myappctx_error *err)
{
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = e->user;
    ctx.role_label = v;
    return myappctx_context_set(e->c, &ctx, err);
}

static char *
read_role(env *e)
{
    myappctx_error err = { 0 };
    char *role = NULL;
    tu_assert_ok(myappctx_context_role_label_get(e->c, &role, &err), err);
    char *copy = copy_of(role);
    myappctx_free(role);
    return copy;
}

static int
store_context_session_id(env *e, const char *v, myappctx_error *err)
{
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = e->user;
    ctx.session_id = v;
    return myappctx_context_set(e->c, &ctx, err);
}

/* Through both readers: the single-value one and api.get_context(). */
static char *
read_session_id(env *e)
{
    myappctx_error err = { 0 };
    char *sid = NULL;
    tu_assert_ok(myappctx_context_session_id_get(e->c, &sid, &err), err);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(e->c, &info, &err), err);
    ck_assert_msg((sid == NULL) == (info->session_id == NULL) &&
                  (sid == NULL || strcmp(sid, info->session_id) == 0),
                  "myappctx_context_get() and _session_id_get() disagree");
    char *copy = copy_of(sid);
    myappctx_free(sid);
    myappctx_context_info_free(info);
    return copy;
}

static int
store_set_local_role(env *e, const char *v, myappctx_error *err)
{
    return myappctx_context_set_local(e->c, &e->user, NULL, v, err);
}

static int
store_begin_role(env *e, const char *v, myappctx_error *err)
{
    return myappctx_begin_as_user(e->c, &e->user, NULL, v, err);
}

/* -------------------------------------------------------------- audit */

/* BEGIN; sealed (TU_SEALED), also a transaction-local context: the audit
 * context is sealed with the transaction's context. */
static void
begin_audit(env *e)
{
    begin(e);
    if (tu_sealed()) {
        myappctx_error err = { 0 };
        tu_assert_ok(myappctx_context_set_local(e->c, &e->user, NULL, NULL, &err), err);
    }
}

static int
store_audit_reason(env *e, const char *v, myappctx_error *err)
{
    return myappctx_audit_set(e->c, v, NULL, err);
}

static int
store_audit_ticket(env *e, const char *v, myappctx_error *err)
{
    return myappctx_audit_set(e->c, NULL, v, err);
}

static char *
read_audit_member(env *e, const char *member)
{
    myappctx_error err = { 0 };
    json_t *audit = NULL;
    tu_assert_ok(myappctx_audit_get(e->c, &audit, &err), err);
    if (tu_sealed() && (audit == NULL || json_is_null(json_object_get(audit, member)))) {
        json_decref(audit);
        return NULL;         /* an empty field, sealed */
    }
    ck_assert_ptr_nonnull(audit);
    json_t *m = json_object_get(audit, member);
    ck_assert_msg(m != NULL && json_is_string(m), "audit '%s' is not a string", member);
    /* A string with U+0000 would be cut here: compare the length too. */
    ck_assert_uint_eq(strlen(json_string_value(m)), json_string_length(m));
    char *copy = copy_of(json_string_value(m));
    json_decref(audit);
    return copy;
}

static char *read_audit_reason(env *e) { return read_audit_member(e, "reason"); }
static char *read_audit_ticket(env *e) { return read_audit_member(e, "ticket"); }

/* ----------------------------------------------------------- settings */

static int
store_setting_value(env *e, const char *v, myappctx_error *err)
{
    return myappctx_setting_put(e->c, e->key, v, NULL, err);
}

static char *
read_loaded_setting(env *e)
{
    myappctx_error err = { 0 };
    char *value = NULL;
    tu_assert_ok(myappctx_settings_load(e->c, NULL, &err), err);
    tu_assert_ok(myappctx_setting_get(e->c, e->key, NULL, &value, &err), err);
    if (tu_sealed()) {
        /* Only declared keys are loaded under the seal (extension/README.md):
         * this fresh one gets the default, and the stored text is read from
         * the table ('' reads as unset, as loaded). */
        ck_assert_msg(value == NULL, "undeclared setting loaded under the seal");
        const char *params[] = { e->key };
        char *stored = tu_value(e->c, "SELECT NULLIF(value, '') FROM data.app_settings "
                                      "WHERE key = $1", 1, params);
        return stored;
    }
    char *copy = copy_of(value);
    myappctx_free(value);
    return copy;
}

static int
store_setting_description(env *e, const char *v, myappctx_error *err)
{
    return myappctx_setting_put(e->c, e->key, "value", v, err);
}

static char *
read_setting_description(env *e)
{
    const char *params[] = { e->key };
    return tu_value(e->c, "SELECT description FROM data.app_settings WHERE key = $1", 1, params);
}

/* The default comes back when the key is unset (it never is stored). */
static int
store_setting_default(env *e, const char *v, myappctx_error *err)
{
    char *out = (char *)"sentinel";
    int rc = myappctx_setting_get(e->c, e->key, v, &out, err);
    if (rc != MYAPPCTX_OK) {
        ck_assert_ptr_null(out);
        return rc;
    }
    e->got = copy_of(out);
    myappctx_free(out);
    return rc;
}

/* ------------------------------------------------------ session config */

static int
store_config_session(env *e, const char *v, myappctx_error *err)
{
    return myappctx_config_set(e->c, e->var, v, 0, err);
}

static int
store_config_local(env *e, const char *v, myappctx_error *err)
{
    return myappctx_config_set(e->c, e->var, v, 1, err);
}

static char *
read_config(env *e)
{
    myappctx_error err = { 0 };
    char *value = NULL;
    tu_assert_ok(myappctx_config_show(e->c, e->var, &value, &err), err);
    char *copy = copy_of(value);
    myappctx_free(value);
    return copy;
}

/* ----------------------------------------------------------- security */

static int
store_rate_limit_action(env *e, const char *v, myappctx_error *err)
{
    return myappctx_rate_limit_check(e->c, v, 1000, 3600, err);
}

/* The counter is only readable by its owner: commit, then read as the
 * superuser the one row of this (fresh) user. */
static char *
read_rate_limit_action(env *e)
{
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_commit(e->c, &err), err);
    const char *params[] = { e->user_text };
    myappctx_conn *su = tu_connect();
    ck_assert_int_eq(tu_int(su, "SELECT count(*) FROM data.rate_limits WHERE user_id = $1::uuid",
                            1, params), 1);
    char *action = tu_value(su, "SELECT action FROM data.rate_limits WHERE user_id = $1::uuid",
                            1, params);
    tu_exec(su, "DELETE FROM data.rate_limits WHERE user_id = $1::uuid", 1, params);
    myappctx_conn_close(su);
    return action;
}

/* --------------------------------------- the caller's own statements */

static int
store_exec_param(env *e, const char *v, myappctx_error *err)
{
    const char *params[] = { v };
    PGresult *res = NULL;
    int rc = myappctx_exec(e->c, "SELECT $1::text", 1, params, &res, err);
    if (rc == MYAPPCTX_OK) {
        e->got = copy_of(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    return rc;
}

/* One fast-path unit: the context of @ctx, then @sql with @v bound as $1
 * when @nparams is 1; its single value is kept in e->got. */
static int
run_fast(env *e, myappctx_txn_context *ctx, const char *sql, int nparams, const char *v,
         myappctx_error *err)
{
    const char *params[] = { v };
    myappctx_stmt stmt = { sql, nparams, params };
    PGresult *res[1] = { NULL };
    ctx->user_id = &e->user;
    int rc = myappctx_run_in_context(e->c, ctx, &stmt, 1, res, err);
    if (rc == MYAPPCTX_OK) {
        e->got = PQgetisnull(res[0], 0, 0) ? NULL : copy_of(PQgetvalue(res[0], 0, 0));
        myappctx_results_free(res, 1);
    } else {
        ck_assert_ptr_null(res[0]);
    }
    return rc;
}

static int
store_fast_param(env *e, const char *v, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    return run_fast(e, &ctx, "SELECT $1::text", 1, v, err);
}

static int
store_fast_role(env *e, const char *v, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.role_label = v;
    return run_fast(e, &ctx, "SELECT private.get_current_role()", 0, NULL, err);
}

static int
store_fast_reason(env *e, const char *v, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.audit_reason = v;
    return run_fast(e, &ctx, "SELECT private.get_audit_context() ->> 'reason'", 0, NULL, err);
}

static int
store_fast_ticket(env *e, const char *v, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.audit_ticket = v;
    return run_fast(e, &ctx, "SELECT private.get_audit_context() ->> 'ticket'", 0, NULL, err);
}

static int
store_begin_in_context_role(env *e, const char *v, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &e->user;
    ctx.role_label = v;
    myappctx_stmt first = { "SELECT private.get_current_role()", 0, NULL };
    PGresult *res = NULL;
    int rc = myappctx_begin_in_context(e->c, &ctx, &first, &res, err);
    if (rc == MYAPPCTX_OK) {
        e->got = copy_of(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    return rc;
}

static int
store_begin_in_context_param(env *e, const char *v, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &e->user;
    const char *params[] = { v };
    myappctx_stmt first = { "SELECT $1::text", 1, params };
    PGresult *res = NULL;
    int rc = myappctx_begin_in_context(e->c, &ctx, &first, &res, err);
    if (rc == MYAPPCTX_OK) {
        e->got = copy_of(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    return rc;
}

/* ----------------------------------------------------------- targets */

static const target targets[] = {
    { "myappctx_context_set: ctx->role_label", "ctx->role_label", MYAPPCTX_ROLE_LABEL_MAX,
      X_EINVAL, X_EINVAL, 1, fresh_names, store_context_role, read_role, clear_context },
    { "myappctx_context_set: ctx->session_id", "ctx->session_id", MYAPPCTX_SESSION_ID_MAX,
      X_EINVAL, X_EINVAL, 1, fresh_names, store_context_session_id, read_session_id,
      clear_context },
    { "myappctx_context_set_local: role_label", "'role_label'", MYAPPCTX_ROLE_LABEL_MAX,
      X_EINVAL, X_EINVAL, 0, begin, store_set_local_role, read_role, rollback_if_open },
    { "myappctx_begin_as_user: role_label", "'role_label'", MYAPPCTX_ROLE_LABEL_MAX,
      X_EINVAL, X_EINVAL, 0, fresh_names, store_begin_role, read_role, rollback_if_open },
    { "myappctx_audit_set: reason", "'reason'", MYAPPCTX_AUDIT_TEXT_MAX,
      X_AUDIT_EMPTY, X_EINVAL, 0, begin_audit, store_audit_reason, read_audit_reason,
      rollback_if_open },
    { "myappctx_audit_set: ticket", "'ticket'", MYAPPCTX_AUDIT_TEXT_MAX,
      X_AUDIT_EMPTY, X_EINVAL, 0, begin_audit, store_audit_ticket, read_audit_ticket,
      rollback_if_open },
    { "myappctx_setting_put: value", "'value'", MYAPPCTX_SETTING_VALUE_MAX,
      X_UNSET, X_EINVAL, 1, fresh_names, store_setting_value, read_loaded_setting,
      delete_setting },
    { "myappctx_setting_put: description", "'description'", MYAPPCTX_SETTING_DESCRIPTION_MAX,
      X_VERBATIM, X_EINVAL, 0, fresh_names, store_setting_description,
      read_setting_description, delete_setting },
    { "myappctx_setting_get: default_value", "'default_value'", MYAPPCTX_SETTING_VALUE_MAX,
      X_UNSET, X_EINVAL, 0, fresh_names, store_setting_default, read_got, NULL },
    { "myappctx_config_set (session): value", "'value'", MYAPPCTX_CONFIG_VALUE_MAX,
      X_UNSET, X_EINVAL, 1, fresh_names, store_config_session, read_config, reset_var },
    { "myappctx_config_set (local): value", "'value'", MYAPPCTX_CONFIG_VALUE_MAX,
      X_UNSET, X_EINVAL, 0, begin, store_config_local, read_config, rollback_if_open },
    { "myappctx_rate_limit_check: action", "'action'", MYAPPCTX_RATE_LIMIT_ACTION_MAX,
      X_EINVAL, X_EINVAL, 0, begin_with_user, store_rate_limit_action, read_rate_limit_action,
      rollback_if_open },
    { "myappctx_exec: params[0]", NULL, 0,
      X_VERBATIM, X_SERVER_22021, 0, fresh_names, store_exec_param, read_got, NULL },
    { "myappctx_run_in_context: stmts[0].params[0]", NULL, 0,
      X_VERBATIM, X_SERVER_22021, 0, fresh_names, store_fast_param, read_got, NULL },
    { "myappctx_run_in_context: ctx->role_label", "ctx->role_label", MYAPPCTX_ROLE_LABEL_MAX,
      X_EINVAL, X_EINVAL, 0, fresh_names, store_fast_role, read_got, NULL },
    { "myappctx_run_in_context: ctx->audit_reason", "ctx->audit_reason",
      MYAPPCTX_AUDIT_TEXT_MAX, X_AUDIT_EMPTY, X_EINVAL, 0, fresh_names, store_fast_reason,
      read_got, NULL },
    { "myappctx_run_in_context: ctx->audit_ticket", "ctx->audit_ticket",
      MYAPPCTX_AUDIT_TEXT_MAX, X_AUDIT_EMPTY, X_EINVAL, 0, fresh_names, store_fast_ticket,
      read_got, NULL },
    { "myappctx_begin_in_context: ctx->role_label", "ctx->role_label", MYAPPCTX_ROLE_LABEL_MAX,
      X_EINVAL, X_EINVAL, 0, fresh_names, store_begin_in_context_role, read_got,
      rollback_if_open },
    { "myappctx_begin_in_context: first->params[0]", NULL, 0,
      X_VERBATIM, X_SERVER_22021, 0, fresh_names, store_begin_in_context_param, read_got,
      rollback_if_open },
};
#define NTARGETS (sizeof targets / sizeof targets[0])

/* ------------------------------------------------------------- runner */

static void
run_row(env *e, myappctx_pool *pool, int via, const target *t, const char *input_name,
        const char *value, expect x)
{
    char label[320];
    snprintf(label, sizeof label, "%s <- %s (%zu bytes) via %s", t->name, input_name,
             strlen(value), via_names[via]);
    if (pool != NULL)
        e->c = tu_pool_acquire(pool);
    if (t->setup != NULL)
        t->setup(e);

    myappctx_error err = { 0 };
    int in_txn = myappctx_conn_in_transaction(e->c);
    tu_trace trace = tu_trace_start(e->c);
    int rc = t->store(e, value, &err);
    long sent = tu_trace_stop(trace);
    char *got = NULL;

    if (x == X_AUDIT_EMPTY)
        x = tu_sealed() ? X_UNSET : X_VERBATIM;
    switch (x) {
    case X_AUDIT_EMPTY:
    case X_VERBATIM:
        tu_expect_row(label, rc, MYAPPCTX_OK, err, NULL);
        got = t->read(e);
        tu_expect_str(label, got, value);
        break;
    case X_UNSET:
        tu_expect_row(label, rc, MYAPPCTX_OK, err, NULL);
        got = t->read(e);
        ck_assert_msg(got == NULL, "%s: reads back \"%.40s\", expected unset", label, got);
        break;
    case X_EINVAL:
        tu_expect_row(label, rc, MYAPPCTX_EINVAL, err, t->argname);
        ck_assert_msg(err.code == MYAPPCTX_EINVAL && err.sqlstate[0] == '\0',
                      "%s: err.code %d, sqlstate '%s'", label, err.code, err.sqlstate);
        ck_assert_msg(sent == 0, "%s: refused but %ld bytes of traffic", label, sent);
        ck_assert_msg(myappctx_conn_in_transaction(e->c) == in_txn,
                      "%s: the transaction state changed", label);
        break;
    case X_SERVER_22021:
        tu_expect_row(label, rc, MYAPPCTX_ESERVER, err, NULL);
        ck_assert_msg(strcmp(err.sqlstate, "22021") == 0, "%s: SQLSTATE '%s'", label,
                      err.sqlstate);
        break;
    }
    free(got);
    free(e->got);
    e->got = NULL;
    if (t->teardown != NULL)
        t->teardown(e);

    if (pool != NULL) {
        /* The next borrower gets the same connection (max_size 1). */
        tu_assert_ok(myappctx_pool_release(pool, e->c), err);
        myappctx_conn *next = tu_pool_acquire(pool);
        /* None of the previous borrower's context. */
        tu_assert_no_context(next, label);
        tu_assert_ok(myappctx_pool_release(pool, next), err);
        e->c = NULL;
    }
}

typedef struct sized_row {
    const char *name;
    char *text;
    expect x;
} sized_row;

/* Every input row for one target: the shared tables, '' and rows sized
 * from the target's limit. */
static void
run_target(const target *t, int via)
{
    env e = { 0 };
    myappctx_pool *pool = NULL;
    if (via == VIA_POOL)
        pool = tu_pool_one();
    else
        e.c = via == VIA_DIRECT ? tu_app_connect() : tu_bouncer_connect("app_service");

    for (size_t i = 0; i < tu_injection_count; i++)
        run_row(&e, pool, via, t, tu_injection[i].name, tu_injection[i].text, X_VERBATIM);
    for (size_t i = 0; i < tu_utf8_edges_count; i++)
        run_row(&e, pool, via, t, tu_utf8_edges[i].name, tu_utf8_edges[i].text, X_VERBATIM);
    for (size_t i = 0; i < tu_bad_utf8_count; i++)
        run_row(&e, pool, via, t, tu_bad_utf8[i].name, tu_bad_utf8[i].text, t->bad_utf8);
    run_row(&e, pool, via, t, "empty string", "", t->empty);

    sized_row sized[6];
    size_t n = 0;
    if (t->limit > 0) {
        size_t L = t->limit;
        sized[n++] = (sized_row){ "exactly the limit", tu_repeat('x', L), X_VERBATIM };
        sized[n++] = (sized_row){ "the limit, ending in a 2-byte character",
                                         tu_ending_in_e_acute(L), X_VERBATIM };
        sized[n++] = (sized_row){ "limit + 1", tu_repeat('x', L + 1), X_EINVAL };
        sized[n++] = (sized_row){ "limit + 1, a 2-byte character across the limit",
                                         tu_ending_in_e_acute(L + 1), X_EINVAL };
        char *bad_end = tu_repeat('x', L);
        bad_end[L - 1] = '\xc3';             /* truncated sequence at the last byte */
        sized[n++] = (sized_row){ "the limit, truncated UTF-8 at the last byte",
                                         bad_end, X_EINVAL };
        sized[n++] = (sized_row){ "1 MiB", tu_repeat('x', TU_MIB), X_EINVAL };
    } else {
        sized[n++] = (sized_row){ "1 MiB", tu_repeat('x', TU_MIB), X_VERBATIM };
        sized[n++] = (sized_row){ "1 MiB of SQL injection, ending in a 2-byte character",
                                         tu_ending_in_e_acute(TU_MIB), X_VERBATIM };
        memcpy(sized[n - 1].text, "'; DROP TABLE data.users; --", 28);
    }
    for (size_t i = 0; i < n; i++) {
        run_row(&e, pool, via, t, sized[i].name, sized[i].text, sized[i].x);
        free(sized[i].text);
    }

    if (pool != NULL)
        myappctx_pool_free(pool);
    else
        myappctx_conn_close(e.c);
}

/* (target, via) pairs that make sense: session-scoped targets are refused
 * behind a transaction pooler (covered by the pooler suites). */
static struct { size_t target; int via; } combos[NTARGETS * VIA_COUNT];
static int ncombos;

START_TEST(hostile_text_round_trips)
{
    run_target(&targets[combos[_i].target], combos[_i].via);
}
END_TEST

/* The schema is intact after everything above. */
START_TEST(users_table_survives)
{
    myappctx_conn *c = tu_connect();
    free(tu_value(c, "SELECT count(*) FROM data.users", 0, NULL));
    myappctx_conn_close(c);
}
END_TEST

int
main(void)
{
    for (size_t t = 0; t < NTARGETS; t++)
        for (int via = 0; via < VIA_COUNT; via++)
            if (!(via == VIA_BOUNCER && targets[t].session_scoped)) {
                combos[ncombos].target = t;
                combos[ncombos].via = via;
                ncombos++;
            }
    Suite *s = suite_create("hostile text");
    TCase *tc = tcase_create("text");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, hostile_text_round_trips, 0, ncombos);
    tcase_add_test(tc, users_table_survives);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
