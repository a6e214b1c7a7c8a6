/* Catalogue class "NULL": NULL for every pointer argument of every public
 * function.  Each row names the function, the argument, the expected
 * outcome -- MYAPPCTX_EINVAL with the argument in the message, or the
 * documented NULL behaviour (OK, a NULL/0 result, a no-op) -- and is run
 * twice: with an error structure and with err == NULL.  A refused call
 * sends nothing on the live connection it was given. */
#include "config.h"

#include <stdlib.h>

#include "testutil.h"

#define VALID "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

/* Fixtures the rows use (set up before each row). */
static myappctx_uuid U;
static char BUF[MYAPPCTX_UUID_BUFSIZE];
static myappctx_context CTX;
static myappctx_txn_context TCTX;
static myappctx_stmt STMT = { "SELECT 1", 0, NULL };
static char KEY[64];
/* Output variables for the arguments that are not the NULL one (the
 * refused calls must not write them; the OK rows write NULL or nothing). */
static myappctx_conn *S_CONN;
static myappctx_schema_status S_SCHEMA;
static myappctx_impersonation_status S_IMP;
static int S_INT;
static long long S_LL;
static size_t S_SIZE;
static char *S_STR;
static myappctx_config_entry *S_ENTRIES;
static myappctx_conn_summary *S_SUMMARY;
static myappctx_conn_stat *S_STATS;

/* ----------------------------------- rows that also check their outputs */

/* An out pointer that must be NULL after the call. */
#define OUT_NULLED(type, call)                                                 \
    do {                                                                       \
        type out_ = (type)1;                                                   \
        int rc_ = (call);                                                      \
        ck_assert_msg(out_ == NULL, "*out not NULL after a refused call");     \
        return rc_;                                                            \
    } while (0)

static int role_get_null_conn(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(char *, myappctx_context_role_label_get(NULL, &out_, err)); }
static int session_id_get_null_conn(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(char *, myappctx_context_session_id_get(NULL, &out_, err)); }
static int context_get_null_conn(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(myappctx_context_info *, myappctx_context_get(NULL, &out_, err)); }
static int audit_get_null_conn(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(json_t *, myappctx_audit_get(NULL, &out_, err)); }
static int setting_get_null_conn(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(char *, myappctx_setting_get(NULL, "k", NULL, &out_, err)); }
static int setting_get_null_key(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(char *, myappctx_setting_get(c, NULL, NULL, &out_, err)); }
static int config_show_null_conn(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(char *, myappctx_config_show(NULL, "search_path", &out_, err)); }
static int config_show_null_name(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(char *, myappctx_config_show(c, NULL, &out_, err)); }
static int validate_null_conn(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(myappctx_validation *, myappctx_conn_validate(NULL, &out_, err)); }
static int pool_acquire_null_pool(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(myappctx_conn *, myappctx_pool_acquire(NULL, &out_, 0, err)); }
static int pool_new_null_cfg(myappctx_conn *c, myappctx_error *err)
{ OUT_NULLED(myappctx_pool *, myappctx_pool_new(&out_, NULL, err)); }

/* Array getters: *out NULL and *out_count 0 after a refusal. */
#define ARRAY_NULLED(type, call)                                               \
    do {                                                                       \
        type out_ = (type)1;                                                   \
        size_t n_ = 99;                                                        \
        int rc_ = (call);                                                      \
        ck_assert_msg(out_ == NULL && n_ == 0, "outputs not reset after a refused call"); \
        return rc_;                                                            \
    } while (0)

static int show_all_null_conn(myappctx_conn *c, myappctx_error *err)
{ ARRAY_NULLED(myappctx_config_entry *, myappctx_config_show_all(NULL, &out_, &n_, err)); }
static int role_defaults_null_conn(myappctx_conn *c, myappctx_error *err)
{ ARRAY_NULLED(myappctx_config_entry *, myappctx_config_role_defaults(NULL, NULL, &out_, &n_, err)); }
static int summary_null_conn(myappctx_conn *c, myappctx_error *err)
{ ARRAY_NULLED(myappctx_conn_summary *, myappctx_conn_summary_get(NULL, &out_, &n_, err)); }
static int stats_null_conn(myappctx_conn *c, myappctx_error *err)
{ ARRAY_NULLED(myappctx_conn_stat *, myappctx_conn_stats_get(NULL, &out_, &n_, err)); }

/* Readers with value outputs: untouched after a refusal. */
static int
user_id_get_null_conn(myappctx_conn *c, myappctx_error *err)
{
    myappctx_uuid out;
    memset(&out, 0xab, sizeof out);
    int is_set = 7;
    int rc = myappctx_context_user_id_get(NULL, &out, &is_set, err);
    ck_assert(is_set == 7 && out.bytes[0] == 0xab);
    return rc;
}

static int
get_bool_null_key(myappctx_conn *c, myappctx_error *err)
{
    int out = 42;
    int rc = myappctx_setting_get_bool(c, NULL, 1, &out, err);
    ck_assert_int_eq(out, 42);
    return rc;
}

static int
get_int_null_key(myappctx_conn *c, myappctx_error *err)
{
    long long out = 42;
    int rc = myappctx_setting_get_int(c, NULL, 1, &out, err);
    ck_assert(out == 42);
    return rc;
}

static int
uuid_parse_null_text(myappctx_conn *c, myappctx_error *err)
{
    myappctx_uuid out;
    memset(&out, 0xab, sizeof out);
    int rc = myappctx_uuid_parse(&out, NULL, err);
    ck_assert(out.bytes[0] == 0xab);
    return rc;
}

/* ------------------------------ rows whose NULL is documented as valid */

/* audit_set(conn, NULL, NULL): both JSON null.  Sealed (TU_SEALED): the
 * audit context is sealed with the transaction's context, so one is set
 * first, and neither reason nor ticket is no audit context at all. */
static int
audit_set_null_texts(myappctx_conn *c, myappctx_error *err)
{
    myappctx_error e = { 0 };
    tu_assert_ok(myappctx_begin(c, &e), e);
    if (tu_sealed()) {
        myappctx_uuid u;
        tu_random_uuid(&u, NULL);
        tu_assert_ok(myappctx_context_set_local(c, &u, NULL, NULL, &e), e);
    }
    int rc = myappctx_audit_set(c, NULL, NULL, err);
    json_t *audit = NULL;
    tu_assert_ok(myappctx_audit_get(c, &audit, &e), e);
    if (tu_sealed()) {
        ck_assert_ptr_null(audit);
    } else {
        ck_assert(json_is_null(json_object_get(audit, "reason")));
        ck_assert(json_is_null(json_object_get(audit, "ticket")));
    }
    json_decref(audit);
    tu_assert_ok(myappctx_rollback(c, &e), e);
    return rc;
}

/* setting_put(.., description NULL) keeps the stored description. */
static int
setting_put_null_description(myappctx_conn *c, myappctx_error *err)
{
    myappctx_error e = { 0 };
    tu_assert_ok(myappctx_setting_put(c, KEY, "v1", "kept", &e), e);
    int rc = myappctx_setting_put(c, KEY, "v2", NULL, err);
    const char *p[] = { KEY };
    char *d = tu_value(c, "SELECT description FROM data.app_settings WHERE key = $1", 1, p);
    ck_assert_str_eq(d, "kept");
    free(d);
    tu_delete_setting(KEY);
    return rc;
}

/* exec: a NULL element of params is SQL NULL; out NULL discards the result. */
static int
exec_null_param_element(myappctx_conn *c, myappctx_error *err)
{
    const char *params[] = { NULL };
    PGresult *res = NULL;
    int rc = myappctx_exec(c, "SELECT $1::text IS NULL", 1, params, &res, err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    return rc;
}

/* begin_in_context(first NULL): BEGIN and the context only. */
static int
begin_in_context_null_first(myappctx_conn *c, myappctx_error *err)
{
    PGresult *res = (PGresult *)1;
    int rc = myappctx_begin_in_context(c, &TCTX, NULL, &res, err);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(myappctx_conn_in_transaction(c), 1);
    myappctx_error e = { 0 };
    tu_assert_ok(myappctx_rollback(c, &e), e);
    return rc;
}

/* role_defaults(role NULL): the session's login role. */
static int
role_defaults_null_role(myappctx_conn *c, myappctx_error *err)
{
    myappctx_config_entry *out = NULL;
    size_t n = 0;
    int rc = myappctx_config_role_defaults(c, NULL, &out, &n, err);
    ck_assert_uint_ge(n, 1);         /* app_service has role defaults */
    myappctx_config_entries_free(out);
    return rc;
}

static int
conn_open_null_opts(myappctx_conn *c, myappctx_error *err)
{
    myappctx_conn *x = NULL;
    int rc = myappctx_conn_open(&x, "user=app_service", NULL, err);
    ck_assert_int_eq(myappctx_conn_is_txn_pooler(x), 0);
    myappctx_conn_close(x);
    return rc;
}

static int
schema_install_null_opts_and_out(myappctx_conn *c, myappctx_error *err)
{
    /* Needs the superuser; nothing is applied (the schema is current). */
    myappctx_conn *su = tu_connect();
    int rc = myappctx_schema_install(su, NULL, NULL, err);
    myappctx_conn_close(su);
    return rc;
}

static int
pool_release_foreign_conn(myappctx_conn *c, myappctx_pool *pool)
{
    return myappctx_pool_release(pool, c);   /* c was never borrowed from it */
}

/* ------------------------------------------------------------ the table */

/* X(id, function, argument, expected, needle, expression over c, pool, err) */
#define NULL_ROWS(X)                                                                         \
    /* common, error */                                                                      \
    X(free_null, "myappctx_free", "ptr", 0, NULL, (myappctx_free(NULL), 0))                  \
    X(sqlstate_null, "myappctx_status_from_sqlstate", "sqlstate", MYAPPCTX_EINVAL, NULL,     \
      myappctx_status_from_sqlstate(NULL))                                                   \
    /* uuid */                                                                               \
    X(parse_out, "myappctx_uuid_parse", "out", MYAPPCTX_EINVAL, "'out'",                      \
      myappctx_uuid_parse(NULL, VALID, err))                                                 \
    X(parse_text, "myappctx_uuid_parse", "text", MYAPPCTX_EINVAL, "'text'",                   \
      uuid_parse_null_text(c, err))                                                          \
    X(parsen_out, "myappctx_uuid_parsen", "out", MYAPPCTX_EINVAL, "'out'",                    \
      myappctx_uuid_parsen(NULL, VALID, 36, err))                                            \
    X(parsen_text, "myappctx_uuid_parsen", "text", MYAPPCTX_EINVAL, "'text'",                 \
      myappctx_uuid_parsen(&U, NULL, 36, err))                                               \
    X(format_uuid, "myappctx_uuid_format", "uuid (writes \"\")", 0, NULL,                    \
      strcmp(myappctx_uuid_format(NULL, BUF), ""))                                           \
    X(format_buf, "myappctx_uuid_format", "buf (returns NULL)", 0, NULL,                     \
      myappctx_uuid_format(&U, NULL) != NULL)                                                \
    X(equal_both, "myappctx_uuid_equal", "a and b (equal)", 1, NULL,                         \
      myappctx_uuid_equal(NULL, NULL))                                                       \
    X(equal_a, "myappctx_uuid_equal", "a", 0, NULL, myappctx_uuid_equal(NULL, &U))           \
    X(equal_b, "myappctx_uuid_equal", "b", 0, NULL, myappctx_uuid_equal(&U, NULL))           \
    X(is_nil, "myappctx_uuid_is_nil", "uuid (not nil)", 0, NULL, myappctx_uuid_is_nil(NULL)) \
    /* conn */                                                                               \
    X(open_out, "myappctx_conn_open", "out", MYAPPCTX_EINVAL, "'out'",                        \
      myappctx_conn_open(NULL, "", NULL, err))                                               \
    X(open_conninfo, "myappctx_conn_open", "conninfo", MYAPPCTX_EINVAL, "'conninfo'",         \
      myappctx_conn_open(&S_CONN, NULL, NULL, err))                           \
    X(open_opts, "myappctx_conn_open", "opts (defaults)", MYAPPCTX_OK, NULL,                 \
      conn_open_null_opts(c, err))                                                           \
    X(wrap_out, "myappctx_conn_wrap", "out", MYAPPCTX_EINVAL, "'out'",                        \
      myappctx_conn_wrap(NULL, myappctx_conn_pg(c), NULL, err))                              \
    X(wrap_pg, "myappctx_conn_wrap", "pg", MYAPPCTX_EINVAL, "'pg'",                           \
      myappctx_conn_wrap(&S_CONN, NULL, NULL, err))                           \
    X(conn_pg, "myappctx_conn_pg", "conn (returns NULL)", 0, NULL, myappctx_conn_pg(NULL) != NULL) \
    X(is_txn_pooler, "myappctx_conn_is_txn_pooler", "conn (0)", 0, NULL,                     \
      myappctx_conn_is_txn_pooler(NULL))                                                     \
    X(in_transaction, "myappctx_conn_in_transaction", "conn (0)", 0, NULL,                   \
      myappctx_conn_in_transaction(NULL))                                                    \
    X(conn_close, "myappctx_conn_close", "conn (no-op)", 0, NULL, (myappctx_conn_close(NULL), 0)) \
    /* exec */                                                                               \
    X(exec_conn, "myappctx_exec", "conn", MYAPPCTX_EINVAL, "connection",                     \
      myappctx_exec(NULL, "SELECT 1", 0, NULL, NULL, err))                                   \
    X(exec_sql, "myappctx_exec", "sql", MYAPPCTX_EINVAL, "'sql'",                             \
      myappctx_exec(c, NULL, 0, NULL, NULL, err))                                            \
    X(exec_params, "myappctx_exec", "params with nparams 1", MYAPPCTX_EINVAL, "parameters",  \
      myappctx_exec(c, "SELECT $1", 1, NULL, NULL, err))                                     \
    X(exec_param_elem, "myappctx_exec", "params[0] (SQL NULL)", MYAPPCTX_OK, NULL,           \
      exec_null_param_element(c, err))                                                       \
    X(exec_out, "myappctx_exec", "out (discarded)", MYAPPCTX_OK, NULL,                       \
      myappctx_exec(c, "SELECT 1", 0, NULL, NULL, err))                                      \
    X(begin_conn, "myappctx_begin", "conn", MYAPPCTX_EINVAL, "connection", myappctx_begin(NULL, err)) \
    X(commit_conn, "myappctx_commit", "conn", MYAPPCTX_EINVAL, "connection", myappctx_commit(NULL, err)) \
    X(rollback_conn, "myappctx_rollback", "conn", MYAPPCTX_EINVAL, "connection",             \
      myappctx_rollback(NULL, err))                                                          \
    /* schema */                                                                             \
    X(install_conn, "myappctx_schema_install", "conn", MYAPPCTX_EINVAL, "connection",        \
      myappctx_schema_install(NULL, NULL, NULL, err))                                        \
    X(install_opts, "myappctx_schema_install", "opts and out (defaults)", MYAPPCTX_OK, NULL,  \
      schema_install_null_opts_and_out(c, err))                                              \
    X(status_conn, "myappctx_schema_status_get", "conn", MYAPPCTX_EINVAL, "connection",              \
      myappctx_schema_status_get(NULL, &S_SCHEMA, err))                 \
    X(status_out, "myappctx_schema_status_get", "out", MYAPPCTX_EINVAL, "'out'",              \
      myappctx_schema_status_get(c, NULL, err))                                              \
    X(migration_out, "myappctx_schema_migration_get", "out", MYAPPCTX_EINVAL, "'out'",        \
      myappctx_schema_migration_get(MYAPPCTX_SCHEMA_CORE, 0, NULL, err))                     \
    /* context */                                                                            \
    X(set_conn, "myappctx_context_set", "conn", MYAPPCTX_EINVAL, "conn",                     \
      myappctx_context_set(NULL, &CTX, err))                                                 \
    X(set_ctx, "myappctx_context_set", "ctx", MYAPPCTX_EINVAL, "'ctx'",                       \
      myappctx_context_set(c, NULL, err))                                                    \
    X(local_conn, "myappctx_context_set_local", "conn", MYAPPCTX_EINVAL, "conn",             \
      myappctx_context_set_local(NULL, &U, NULL, NULL, err))                                 \
    X(local_user, "myappctx_context_set_local", "user_id", MYAPPCTX_EINVAL, "'user_id'",      \
      myappctx_context_set_local(c, NULL, &U, "r", err))                                     \
    X(cbegin_conn, "myappctx_begin_as_user", "conn", MYAPPCTX_EINVAL, "conn",                \
      myappctx_begin_as_user(NULL, &U, NULL, NULL, err))                                     \
    X(cbegin_user, "myappctx_begin_as_user", "user_id", MYAPPCTX_EINVAL, "'user_id'",         \
      myappctx_begin_as_user(c, NULL, &U, "r", err))                                         \
    X(clear_conn, "myappctx_context_clear", "conn", MYAPPCTX_EINVAL, "conn",                 \
      myappctx_context_clear(NULL, err))                                                     \
    X(uid_conn, "myappctx_context_user_id_get", "conn", MYAPPCTX_EINVAL, "conn",             \
      user_id_get_null_conn(c, err))                                                         \
    X(uid_out, "myappctx_context_user_id_get", "out", MYAPPCTX_EINVAL, "'out'",               \
      myappctx_context_user_id_get(c, NULL, &S_INT, err))                               \
    X(uid_is_set, "myappctx_context_user_id_get", "is_set", MYAPPCTX_EINVAL, "'is_set'",      \
      myappctx_context_user_id_get(c, &U, NULL, err))                                        \
    X(tid_conn, "myappctx_context_tenant_id_get", "conn", MYAPPCTX_EINVAL, "conn",           \
      myappctx_context_tenant_id_get(NULL, &U, &S_INT, err))                            \
    X(tid_out, "myappctx_context_tenant_id_get", "out", MYAPPCTX_EINVAL, "'out'",             \
      myappctx_context_tenant_id_get(c, NULL, &S_INT, err))                             \
    X(tid_is_set, "myappctx_context_tenant_id_get", "is_set", MYAPPCTX_EINVAL, "'is_set'",    \
      myappctx_context_tenant_id_get(c, &U, NULL, err))                                      \
    X(role_conn, "myappctx_context_role_label_get", "conn", MYAPPCTX_EINVAL, "conn",               \
      role_get_null_conn(c, err))                                                            \
    X(role_out, "myappctx_context_role_label_get", "out", MYAPPCTX_EINVAL, "out",                  \
      myappctx_context_role_label_get(c, NULL, err))                                               \
    X(sid_conn, "myappctx_context_session_id_get", "conn", MYAPPCTX_EINVAL, "conn",          \
      session_id_get_null_conn(c, err))                                                      \
    X(sid_out, "myappctx_context_session_id_get", "out", MYAPPCTX_EINVAL, "out",             \
      myappctx_context_session_id_get(c, NULL, err))                                         \
    X(get_conn, "myappctx_context_get", "conn", MYAPPCTX_EINVAL, "conn",                     \
      context_get_null_conn(c, err))                                                         \
    X(get_out, "myappctx_context_get", "out", MYAPPCTX_EINVAL, "out",                        \
      myappctx_context_get(c, NULL, err))                                                    \
    X(info_free, "myappctx_context_info_free", "info (no-op)", 0, NULL,                      \
      (myappctx_context_info_free(NULL), 0))                                                 \
    /* audit */                                                                              \
    X(aset_conn, "myappctx_audit_set", "conn", MYAPPCTX_EINVAL, "conn",                      \
      myappctx_audit_set(NULL, "r", "t", err))                                               \
    X(aset_texts, "myappctx_audit_set", "reason and ticket (JSON null)", MYAPPCTX_OK, NULL,  \
      audit_set_null_texts(c, err))                                                          \
    X(aget_conn, "myappctx_audit_get", "conn", MYAPPCTX_EINVAL, "conn",                      \
      audit_get_null_conn(c, err))                                                           \
    X(aget_out, "myappctx_audit_get", "out", MYAPPCTX_EINVAL, "out",                         \
      myappctx_audit_get(c, NULL, err))                                                      \
    /* impersonation */                                                                      \
    X(imp_conn, "myappctx_impersonate", "conn", MYAPPCTX_EINVAL, "conn",                     \
      myappctx_impersonate(NULL, &U, err))                                                   \
    X(imp_target, "myappctx_impersonate", "target_user_id", MYAPPCTX_EINVAL,                 \
      "'target_user_id'", myappctx_impersonate(c, NULL, err))                                \
    X(imp_end_conn, "myappctx_impersonation_end", "conn", MYAPPCTX_EINVAL, "conn",           \
      myappctx_impersonation_end(NULL, err))                                                 \
    X(imp_st_conn, "myappctx_impersonation_status_get", "conn", MYAPPCTX_EINVAL, "conn",     \
      myappctx_impersonation_status_get(NULL, &S_IMP, err))   \
    X(imp_st_out, "myappctx_impersonation_status_get", "out", MYAPPCTX_EINVAL, "out",        \
      myappctx_impersonation_status_get(c, NULL, err))                                       \
    /* settings */                                                                           \
    X(load_conn, "myappctx_settings_load", "conn", MYAPPCTX_EINVAL, "conn",                  \
      myappctx_settings_load(NULL, &S_INT, err))                                        \
    X(load_count, "myappctx_settings_load", "out_count (optional)", MYAPPCTX_OK, NULL,       \
      myappctx_settings_load(c, NULL, err))                                                  \
    X(sget_conn, "myappctx_setting_get", "conn", MYAPPCTX_EINVAL, "conn",                    \
      setting_get_null_conn(c, err))                                                         \
    X(sget_key, "myappctx_setting_get", "key", MYAPPCTX_EINVAL, "'key'",                      \
      setting_get_null_key(c, err))                                                          \
    X(sget_default, "myappctx_setting_get", "default_value (none)", MYAPPCTX_OK, NULL,       \
      myappctx_setting_get(c, KEY, NULL, &S_STR, err))                                \
    X(sget_out, "myappctx_setting_get", "out", MYAPPCTX_EINVAL, "'out'",                      \
      myappctx_setting_get(c, KEY, NULL, NULL, err))                                         \
    X(bool_conn, "myappctx_setting_get_bool", "conn", MYAPPCTX_EINVAL, "conn",               \
      myappctx_setting_get_bool(NULL, KEY, 0, &S_INT, err))                             \
    X(bool_key, "myappctx_setting_get_bool", "key", MYAPPCTX_EINVAL, "'key'",                 \
      get_bool_null_key(c, err))                                                             \
    X(bool_out, "myappctx_setting_get_bool", "out", MYAPPCTX_EINVAL, "'out'",                 \
      myappctx_setting_get_bool(c, KEY, 0, NULL, err))                                       \
    X(int_conn, "myappctx_setting_get_int", "conn", MYAPPCTX_EINVAL, "conn",                 \
      myappctx_setting_get_int(NULL, KEY, 0, &S_LL, err))                        \
    X(int_key, "myappctx_setting_get_int", "key", MYAPPCTX_EINVAL, "'key'",                   \
      get_int_null_key(c, err))                                                              \
    X(int_out, "myappctx_setting_get_int", "out", MYAPPCTX_EINVAL, "'out'",                   \
      myappctx_setting_get_int(c, KEY, 0, NULL, err))                                        \
    X(put_conn, "myappctx_setting_put", "conn", MYAPPCTX_EINVAL, "conn",                     \
      myappctx_setting_put(NULL, KEY, "v", NULL, err))                                       \
    X(put_key, "myappctx_setting_put", "key", MYAPPCTX_EINVAL, "'key'",                       \
      myappctx_setting_put(c, NULL, "v", NULL, err))                                         \
    X(put_value, "myappctx_setting_put", "value", MYAPPCTX_EINVAL, "'value'",                 \
      myappctx_setting_put(c, KEY, NULL, NULL, err))                                         \
    X(put_description, "myappctx_setting_put", "description (kept)", MYAPPCTX_OK, NULL,      \
      setting_put_null_description(c, err))                                                  \
    /* session configuration */                                                              \
    X(cset_conn, "myappctx_config_set", "conn", MYAPPCTX_EINVAL, "conn",                     \
      myappctx_config_set(NULL, "myapp.x", "v", 0, err))                                     \
    X(cset_name, "myappctx_config_set", "name", MYAPPCTX_EINVAL, "'name'",                    \
      myappctx_config_set(c, NULL, "v", 0, err))                                             \
    X(cset_value, "myappctx_config_set", "value", MYAPPCTX_EINVAL, "'value'",                 \
      myappctx_config_set(c, "myapp.x", NULL, 0, err))                                       \
    X(cshow_conn, "myappctx_config_show", "conn", MYAPPCTX_EINVAL, "conn",                   \
      config_show_null_conn(c, err))                                                         \
    X(cshow_name, "myappctx_config_show", "name", MYAPPCTX_EINVAL, "'name'",                  \
      config_show_null_name(c, err))                                                         \
    X(cshow_out, "myappctx_config_show", "out", MYAPPCTX_EINVAL, "'out'",                     \
      myappctx_config_show(c, "search_path", NULL, err))                                     \
    X(creset_conn, "myappctx_config_reset", "conn", MYAPPCTX_EINVAL, "conn",                 \
      myappctx_config_reset(NULL, "search_path", err))                                       \
    X(creset_name, "myappctx_config_reset", "name", MYAPPCTX_EINVAL, "'name'",                \
      myappctx_config_reset(c, NULL, err))                                                   \
    X(creset_all_conn, "myappctx_config_reset_all", "conn", MYAPPCTX_EINVAL, "conn",         \
      myappctx_config_reset_all(NULL, err))                                                  \
    X(show_all_conn, "myappctx_config_show_all", "conn", MYAPPCTX_EINVAL, "conn",            \
      show_all_null_conn(c, err))                                                            \
    X(show_all_out, "myappctx_config_show_all", "out", MYAPPCTX_EINVAL, "'out'",              \
      myappctx_config_show_all(c, NULL, &S_SIZE, err))                                \
    X(show_all_count, "myappctx_config_show_all", "out_count", MYAPPCTX_EINVAL, "out_count", \
      myappctx_config_show_all(c, &S_ENTRIES, NULL, err))                \
    X(rdef_conn, "myappctx_config_role_defaults", "conn", MYAPPCTX_EINVAL, "conn",           \
      role_defaults_null_conn(c, err))                                                       \
    X(rdef_role, "myappctx_config_role_defaults", "role (session role)", MYAPPCTX_OK, NULL,  \
      role_defaults_null_role(c, err))                                                       \
    X(rdef_out, "myappctx_config_role_defaults", "out", MYAPPCTX_EINVAL, "'out'",             \
      myappctx_config_role_defaults(c, NULL, NULL, &S_SIZE, err))                     \
    X(rdef_count, "myappctx_config_role_defaults", "out_count", MYAPPCTX_EINVAL, "out_count", \
      myappctx_config_role_defaults(c, NULL, &S_ENTRIES, NULL, err))     \
    X(entries_free, "myappctx_config_entries_free", "entries (no-op)", 0, NULL,              \
      (myappctx_config_entries_free(NULL), 0))                                               \
    /* lifecycle */                                                                          \
    X(validate_conn, "myappctx_conn_validate", "conn", MYAPPCTX_EINVAL, "conn",        \
      validate_null_conn(c, err))                                                            \
    X(validate_out, "myappctx_conn_validate", "out", MYAPPCTX_EINVAL, "'out'",          \
      myappctx_conn_validate(c, NULL, err))                                            \
    X(validation_free, "myappctx_validation_free", "validation (no-op)", 0, NULL,            \
      (myappctx_validation_free(NULL), 0))                                                   \
    X(init_conn, "myappctx_conn_init", "conn", MYAPPCTX_EINVAL, "conn",                \
      myappctx_conn_init(NULL, err))                                                   \
    X(cleanup_conn, "myappctx_conn_cleanup_idle", "conn", MYAPPCTX_EINVAL, "conn",     \
      myappctx_conn_cleanup_idle(NULL, 60, &S_INT, err))                          \
    X(cleanup_out, "myappctx_conn_cleanup_idle", "out_terminated (optional)",          \
      MYAPPCTX_OK, NULL, myappctx_conn_cleanup_idle(c, 2147483647L, NULL, err))        \
    X(summary_conn, "myappctx_conn_summary_get", "conn", MYAPPCTX_EINVAL, "conn",      \
      summary_null_conn(c, err))                                                             \
    X(summary_out, "myappctx_conn_summary_get", "out", MYAPPCTX_EINVAL, "'out'",        \
      myappctx_conn_summary_get(c, NULL, &S_SIZE, err))                         \
    X(summary_count, "myappctx_conn_summary_get", "out_count", MYAPPCTX_EINVAL,        \
      "out_count", myappctx_conn_summary_get(c, &S_SUMMARY, NULL, err)) \
    X(summary_free, "myappctx_conn_summary_free", "rows (no-op)", 0, NULL,             \
      (myappctx_conn_summary_free(NULL), 0))                                           \
    X(stats_conn, "myappctx_conn_stats_get", "conn", MYAPPCTX_EINVAL, "conn",          \
      stats_null_conn(c, err))                                                               \
    X(stats_out, "myappctx_conn_stats_get", "out", MYAPPCTX_EINVAL, "'out'",            \
      myappctx_conn_stats_get(c, NULL, &S_SIZE, err))                           \
    X(stats_count, "myappctx_conn_stats_get", "out_count", MYAPPCTX_EINVAL,            \
      "out_count", myappctx_conn_stats_get(c, &S_STATS, NULL, err)) \
    X(stats_free, "myappctx_conn_stats_free", "rows (no-op)", 0, NULL,                 \
      (myappctx_conn_stats_free(NULL), 0))                                             \
    /* security */                                                                           \
    X(req_ctx_conn, "myappctx_require_context", "conn", MYAPPCTX_EINVAL, "conn",             \
      myappctx_require_context(NULL, err))                                                   \
    X(req_tenant_conn, "myappctx_require_tenant", "conn", MYAPPCTX_EINVAL, "conn",           \
      myappctx_require_tenant(NULL, err))                                                    \
    X(verify_conn, "myappctx_verify_tenant_access", "conn", MYAPPCTX_EINVAL, "conn",         \
      myappctx_verify_tenant_access(NULL, err))                                              \
    X(rate_conn, "myappctx_rate_limit_check", "conn", MYAPPCTX_EINVAL, "conn",               \
      myappctx_rate_limit_check(NULL, "a", 1, 1, err))                                       \
    X(rate_action, "myappctx_rate_limit_check", "action", MYAPPCTX_EINVAL, "'action'",        \
      myappctx_rate_limit_check(c, NULL, 1, 1, err))                                         \
    X(rate_cleanup_conn, "myappctx_rate_limit_cleanup", "conn", MYAPPCTX_EINVAL, "conn",     \
      myappctx_rate_limit_cleanup(NULL, 60, &S_INT, err))                               \
    X(rate_cleanup_out, "myappctx_rate_limit_cleanup", "out_deleted (optional)", MYAPPCTX_OK, \
      NULL, myappctx_rate_limit_cleanup(c, 2147483647L, NULL, err))                          \
    /* pipeline */                                                                           \
    X(run_conn, "myappctx_run_in_context", "conn", MYAPPCTX_EINVAL, "connection",            \
      myappctx_run_in_context(NULL, &TCTX, &STMT, 1, NULL, err))                             \
    X(run_ctx, "myappctx_run_in_context", "ctx", MYAPPCTX_EINVAL, "'ctx'",                    \
      myappctx_run_in_context(c, NULL, &STMT, 1, NULL, err))                                 \
    X(run_stmts, "myappctx_run_in_context", "stmts", MYAPPCTX_EINVAL, "'stmts'",              \
      myappctx_run_in_context(c, &TCTX, NULL, 1, NULL, err))                                 \
    X(run_user, "myappctx_run_in_context", "ctx->user_id", MYAPPCTX_EINVAL, "ctx->user_id",  \
      myappctx_run_in_context(c, &(myappctx_txn_context)MYAPPCTX_TXN_CONTEXT_INIT, &STMT, 1, NULL, err)) \
    X(run_sql, "myappctx_run_in_context", "stmts[0].sql", MYAPPCTX_EINVAL, "stmts[0].sql",   \
      myappctx_run_in_context(c, &TCTX, &(myappctx_stmt){ NULL, 0, NULL }, 1, NULL, err))    \
    X(run_params, "myappctx_run_in_context", "stmts[0].params", MYAPPCTX_EINVAL, "stmts[0]", \
      myappctx_run_in_context(c, &TCTX, &(myappctx_stmt){ "SELECT $1", 1, NULL }, 1, NULL, err)) \
    X(run_results, "myappctx_run_in_context", "results and role/audit (optional)", MYAPPCTX_OK, \
      NULL, myappctx_run_in_context(c, &TCTX, &STMT, 1, NULL, err))                          \
    X(bic_conn, "myappctx_begin_in_context", "conn", MYAPPCTX_EINVAL, "connection",          \
      myappctx_begin_in_context(NULL, &TCTX, &STMT, NULL, err))                              \
    X(bic_ctx, "myappctx_begin_in_context", "ctx", MYAPPCTX_EINVAL, "'ctx'",                  \
      myappctx_begin_in_context(c, NULL, &STMT, NULL, err))                                  \
    X(bic_user, "myappctx_begin_in_context", "ctx->user_id", MYAPPCTX_EINVAL, "ctx->user_id", \
      myappctx_begin_in_context(c, &(myappctx_txn_context)MYAPPCTX_TXN_CONTEXT_INIT, &STMT, NULL, err)) \
    X(bic_sql, "myappctx_begin_in_context", "first->sql", MYAPPCTX_EINVAL, "sql",            \
      myappctx_begin_in_context(c, &TCTX, &(myappctx_stmt){ NULL, 0, NULL }, NULL, err))     \
    X(bic_first, "myappctx_begin_in_context", "first and out_first (BEGIN only)", MYAPPCTX_OK, \
      NULL, begin_in_context_null_first(c, err))                                             \
    X(results_free, "myappctx_results_free", "results (no-op)", 0, NULL,                     \
      (myappctx_results_free(NULL, 3), 0))                                                   \
    /* pool */                                                                               \
    X(pool_new_out, "myappctx_pool_new", "out", MYAPPCTX_EINVAL, "'out'",                     \
      myappctx_pool_new(NULL, &(myappctx_pool_config)MYAPPCTX_POOL_CONFIG_INIT, err))        \
    X(pool_new_cfg, "myappctx_pool_new", "cfg", MYAPPCTX_EINVAL, "'cfg'",                     \
      pool_new_null_cfg(c, err))                                                             \
    X(pool_acq_pool, "myappctx_pool_acquire", "pool", MYAPPCTX_EINVAL, "'pool'",              \
      pool_acquire_null_pool(c, err))                                                        \
    X(pool_acq_out, "myappctx_pool_acquire", "out", MYAPPCTX_EINVAL, "'out'",                 \
      myappctx_pool_acquire(pool, NULL, 0, err))                                             \
    X(pool_run_pool, "myappctx_pool_run_in_context", "pool", MYAPPCTX_EINVAL, "'pool'",       \
      myappctx_pool_run_in_context(NULL, &TCTX, &STMT, 1, NULL, 0, err))                     \
    X(pool_run_ctx, "myappctx_pool_run_in_context", "ctx", MYAPPCTX_EINVAL, "'ctx'",          \
      myappctx_pool_run_in_context(pool, NULL, &STMT, 1, NULL, 1000, err))                   \
    X(pool_run_stmts, "myappctx_pool_run_in_context", "stmts", MYAPPCTX_EINVAL, "'stmts'",    \
      myappctx_pool_run_in_context(pool, &TCTX, NULL, 1, NULL, 1000, err))                   \
    X(pool_rel_pool, "myappctx_pool_release", "pool", MYAPPCTX_EINVAL, NULL,                 \
      myappctx_pool_release(NULL, c))                                                        \
    X(pool_rel_conn, "myappctx_pool_release", "conn", MYAPPCTX_EINVAL, NULL,                 \
      myappctx_pool_release(pool, NULL))                                                     \
    X(pool_rel_foreign, "myappctx_pool_release", "(not NULL: a conn not borrowed from pool)", MYAPPCTX_EINVAL, \
      NULL, pool_release_foreign_conn(c, pool))                                              \
    X(pool_resize, "myappctx_pool_resize", "pool", MYAPPCTX_EINVAL, "'pool'",                 \
      myappctx_pool_resize(NULL, 1, 1, err))                                                 \
    X(pool_ready, "myappctx_pool_wait_ready", "pool", MYAPPCTX_EINVAL, "'pool'",              \
      myappctx_pool_wait_ready(NULL, 0, err))                                                \
    X(pool_stats_pool, "myappctx_pool_stats_get", "pool", MYAPPCTX_EINVAL, NULL,             \
      myappctx_pool_stats_get(NULL, &(myappctx_pool_stats)MYAPPCTX_POOL_STATS_INIT))         \
    X(pool_stats_out, "myappctx_pool_stats_get", "out", MYAPPCTX_EINVAL, NULL,               \
      myappctx_pool_stats_get(pool, NULL))                                                   \
    X(pool_close, "myappctx_pool_close", "pool (no-op)", 0, NULL, (myappctx_pool_close(NULL), 0)) \
    X(pool_free, "myappctx_pool_free", "pool (no-op)", 0, NULL, (myappctx_pool_free(NULL), 0)) \
    /* sealed mode */                                                                        \
    X(hex_out, "myappctx_seal_key_from_hex", "out", MYAPPCTX_EINVAL, "'out'",                 \
      myappctx_seal_key_from_hex(NULL, &(size_t){ 0 }, HEX_KEY, err))                        \
    X(hex_len, "myappctx_seal_key_from_hex", "out_len", MYAPPCTX_EINVAL, "'out_len'",         \
      myappctx_seal_key_from_hex(SEAL_KEY, NULL, HEX_KEY, err))                              \
    X(hex_text, "myappctx_seal_key_from_hex", "hex", MYAPPCTX_EINVAL, "'hex'",                \
      myappctx_seal_key_from_hex(SEAL_KEY, &(size_t){ 0 }, NULL, err))                       \
    X(key_id_out, "myappctx_seal_key_id", "out", MYAPPCTX_EINVAL, "'out'",                    \
      myappctx_seal_key_id(NULL, SEAL_KEY, 32, err))                                         \
    X(key_id_key, "myappctx_seal_key_id", "key", MYAPPCTX_EINVAL, "'key'",                    \
      myappctx_seal_key_id((char[MYAPPCTX_SEAL_KEY_ID_SIZE]){ 0 }, NULL, 32, err))           \
    X(is_sealed, "myappctx_conn_is_sealed", "conn (not sealed)", 0, NULL,                    \
      myappctx_conn_is_sealed(NULL))                                                         \
    X(seal_status_conn, "myappctx_seal_status_get", "conn", MYAPPCTX_EINVAL, "'conn'",        \
      myappctx_seal_status_get(NULL, &(myappctx_seal_status)MYAPPCTX_SEAL_STATUS_INIT, err))  \
    X(seal_status_out, "myappctx_seal_status_get", "out", MYAPPCTX_EINVAL, "'out'",           \
      myappctx_seal_status_get(c, NULL, err))                                                \
    X(seal_install_conn, "myappctx_seal_install", "conn", MYAPPCTX_EINVAL, "'conn'",          \
      myappctx_seal_install(NULL, NULL, err))                                                \
    X(seal_install_out, "myappctx_seal_install", "out (optional)", MYAPPCTX_OK, NULL,       \
      seal_install_null_out(c, err))

/* Sealed mode: a key's text and bytes (only their shape is under test). */
static const char HEX_KEY[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static unsigned char SEAL_KEY[MYAPPCTX_SEAL_KEY_MAX];

/* As the superuser (CREATE EXTENSION needs one); the extension is there
 * already or not available, so nothing changes. */
static int
seal_install_null_out(myappctx_conn *c, myappctx_error *err)
{
    myappctx_conn *su = tu_connect();
    int rc = myappctx_seal_install(su, NULL, err);
    myappctx_conn_close(su);
    return rc;
}

/* One function per row; `err` may be NULL. */
#define DEFINE_ROW(id, fn, arg, expected, needle, expr)                                       \
    static int row_##id(myappctx_conn *c, myappctx_pool *pool, myappctx_error *err)            \
    {                                                                                         \
        (void)c; (void)pool; (void)err;                                                       \
        return (expr);                                                                        \
    }
NULL_ROWS(DEFINE_ROW)

typedef struct null_row {
    const char *fn, *arg;
    int expected;          /* a status code, or the documented int result */
    const char *needle;    /* in err.message when the expected code is EINVAL */
    int (*call)(myappctx_conn *, myappctx_pool *, myappctx_error *);
} null_row;

#define TABLE_ROW(id, fn, arg, expected, needle, expr) { fn, arg, expected, needle, row_##id },
static const null_row rows[] = { NULL_ROWS(TABLE_ROW) };
#define NROWS (sizeof rows / sizeof rows[0])

static void
setup_fixtures(void)
{
    tu_random_uuid(&U, NULL);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = U;
    CTX = ctx;
    myappctx_txn_context tctx = MYAPPCTX_TXN_CONTEXT_INIT;
    tctx.user_id = &U;
    TCTX = tctx;
    tu_unique("hx_null", KEY, sizeof KEY);
}

START_TEST(null_rows)
{
    const null_row *r = &rows[_i];
    char label[192];
    snprintf(label, sizeof label, "%s [NULL %s]", r->fn, r->arg);
    setup_fixtures();
    myappctx_conn *c = tu_app_connect();
    myappctx_pool *pool = strncmp(r->fn, "myappctx_pool_", 14) == 0 ? tu_pool_one() : NULL;

    for (int with_err = 1; with_err >= 0; with_err--) {
        myappctx_error err = { 0 };
        tu_trace trace = tu_trace_start(c);
        int rc = r->call(c, pool, with_err ? &err : NULL);
        long sent = tu_trace_stop(trace);
        if (with_err && r->expected < 0) {
            tu_expect_row(label, rc, r->expected, err, r->needle);
            /* One convention for every message: the function called first
             * (rows without a needle are functions without an err). */
            size_t n = strlen(r->fn);
            ck_assert_msg(r->needle == NULL ||
                          (strncmp(err.message, r->fn, n) == 0 &&
                           strncmp(err.message + n, ": ", 2) == 0),
                          "%s: message does not start with '%s: ': %s", label, r->fn, err.message);
        }
        else
            ck_assert_msg(rc == r->expected, "%s%s: got %d, expected %d", label,
                          with_err ? "" : " with err NULL", rc, r->expected);
        if (r->expected == MYAPPCTX_EINVAL) {
            ck_assert_msg(sent == 0, "%s: refused but %ld bytes of traffic", label, sent);
            if (with_err && r->needle != NULL)     /* the function takes an err */
                ck_assert_msg(err.code == MYAPPCTX_EINVAL && err.sqlstate[0] == '\0',
                              "%s: err.code %d sqlstate '%s'", label, err.code, err.sqlstate);
        }
        /* The connection still works afterwards. */
        ck_assert_int_eq(myappctx_conn_in_transaction(c), 0);
        free(tu_value(c, "SELECT 1", 0, NULL));
    }
    if (pool != NULL)
        myappctx_pool_free(pool);
    myappctx_conn_close(c);
}
END_TEST

/* Every exported function appears in the table (checked against the
 * library's export list by name, so a new function needs a row). */
START_TEST(every_function_with_pointers_has_a_row)
{
    static const char *const pointer_functions[] = {
        "myappctx_audit_get", "myappctx_audit_set", "myappctx_begin",
        "myappctx_begin_in_context", "myappctx_commit", "myappctx_config_entries_free",
        "myappctx_config_reset", "myappctx_config_reset_all", "myappctx_config_role_defaults",
        "myappctx_config_set", "myappctx_config_show", "myappctx_config_show_all",
        "myappctx_conn_close", "myappctx_conn_in_transaction", "myappctx_conn_is_txn_pooler",
        "myappctx_conn_open", "myappctx_conn_pg", "myappctx_conn_wrap",
        "myappctx_conn_cleanup_idle", "myappctx_conn_init",
        "myappctx_conn_stats_free", "myappctx_conn_stats_get",
        "myappctx_conn_summary_free", "myappctx_conn_summary_get",
        "myappctx_conn_validate", "myappctx_begin_as_user", "myappctx_context_clear",
        "myappctx_context_get", "myappctx_context_info_free", "myappctx_context_role_label_get",
        "myappctx_context_session_id_get", "myappctx_context_set", "myappctx_context_set_local",
        "myappctx_context_tenant_id_get", "myappctx_context_user_id_get", "myappctx_exec",
        "myappctx_free", "myappctx_impersonate", "myappctx_impersonation_end",
        "myappctx_impersonation_status_get", "myappctx_pool_acquire", "myappctx_pool_close",
        "myappctx_pool_free", "myappctx_pool_new", "myappctx_pool_release",
        "myappctx_pool_resize", "myappctx_pool_stats_get", "myappctx_pool_wait_ready",
        "myappctx_rate_limit_check", "myappctx_rate_limit_cleanup", "myappctx_require_context",
        "myappctx_require_tenant", "myappctx_results_free", "myappctx_rollback",
        "myappctx_run_in_context", "myappctx_schema_install", "myappctx_schema_migration_get",
        "myappctx_schema_status_get", "myappctx_setting_get", "myappctx_setting_get_bool",
        "myappctx_setting_get_int", "myappctx_setting_put", "myappctx_settings_load",
        "myappctx_status_from_sqlstate", "myappctx_uuid_equal", "myappctx_uuid_format",
        "myappctx_uuid_is_nil", "myappctx_uuid_parse", "myappctx_uuid_parsen",
        "myappctx_validation_free", "myappctx_verify_tenant_access",
        "myappctx_seal_key_from_hex", "myappctx_seal_key_id", "myappctx_conn_is_sealed",
        "myappctx_seal_status_get", "myappctx_seal_install",
    };
    for (size_t i = 0; i < sizeof pointer_functions / sizeof pointer_functions[0]; i++) {
        int found = 0;
        for (size_t r = 0; r < NROWS && !found; r++)
            found = strcmp(rows[r].fn, pointer_functions[i]) == 0;
        ck_assert_msg(found, "no NULL row for %s", pointer_functions[i]);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hostile null");
    TCase *tc = tcase_create("null");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, null_rows, 0, NROWS);
    tcase_add_test(tc, every_function_with_pointers_has_a_row);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
