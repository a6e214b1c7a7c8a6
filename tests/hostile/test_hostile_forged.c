/* Catalogue class "forged": context written with raw SQL
 * (set_config('myapp.*', ...)) by a client that goes around the API.
 *
 * What must hold (DESIGN §4, context.h, impersonation.h):
 *   - readers return MYAPPCTX_EMALFORMED for a value of the wrong type --
 *     never a crash, never a success with a wrongly typed value -- and
 *     leave their outputs untouched;
 *   - the security functions fail closed: a forged flag or id does not let
 *     anyone impersonate, end an impersonation that was never logged, or
 *     pass a tenant check;
 *   - the pool and the fast path do not carry forged state to the next
 *     borrower, and one borrower's forged state does not break the next.
 *
 * The schema documents its limit (006_security.sql): the application role
 * can call set_config() itself, so a forged id of a REAL admin is trusted;
 * the catalogue asserts that this is at least logged.
 *
 * Sealed mode (TU_SEALED, make check's second server): the extension
 * myappctx_seal makes every context variable superuser-only, so each
 * forgery itself is refused (42501) and nothing forged is ever visible --
 * the same rows then assert that, and the limit above is gone: a real
 * admin's id cannot be planted at all.  Application settings stay
 * user-settable (declared in myappctx_seal.settings: the harness declares
 * hx_sealed_a and hx_sealed_b for the setting rows). */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include "testutil.h"

/* As the superuser: rows of app_audit.impersonation_log for @admin. */
static long long
impersonation_log_rows(const myappctx_uuid *admin)
{
    char buf[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(admin, buf) };
    myappctx_conn *su = tu_connect();
    long long n = tu_int(su, "SELECT count(*) FROM app_audit.impersonation_log "
                             "WHERE admin_user_id = $1::uuid", 1, params);
    myappctx_conn_close(su);
    return n;
}

/* Writes a context variable with raw SQL; sealed, asserts that the server
 * refuses it (42501) instead: the forgery cannot happen. */
static void
plant(myappctx_conn *c, const char *var, const char *value)
{
    if (!tu_sealed()) {
        tu_raw_set(c, var, value);
        return;
    }
    char state[6];
    ck_assert_msg(!tu_try_raw_set(c, var, value, state), "sealed: forging %s was accepted", var);
    ck_assert_msg(strcmp(state, "42501") == 0, "sealed: forging %s: SQLSTATE %s, expected 42501",
                  var, state);
}

/* ------------------------------------------------ the calls, as adapters */

typedef int (*adapter)(myappctx_conn *c, myappctx_error *err);

static int
a_user_id_get(myappctx_conn *c, myappctx_error *err)
{
    myappctx_uuid out;
    memset(&out, 0xab, sizeof out);
    int is_set = 7;
    int rc = myappctx_context_user_id_get(c, &out, &is_set, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_msg(is_set == 7 && out.bytes[0] == 0xab && out.bytes[15] == 0xab,
                      "user_id_get wrote its outputs on failure");
    return rc;
}

static int
a_tenant_id_get(myappctx_conn *c, myappctx_error *err)
{
    myappctx_uuid out;
    memset(&out, 0xab, sizeof out);
    int is_set = 7;
    int rc = myappctx_context_tenant_id_get(c, &out, &is_set, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_msg(is_set == 7 && out.bytes[0] == 0xab, "tenant_id_get wrote on failure");
    return rc;
}

static int
a_role_get(myappctx_conn *c, myappctx_error *err)
{
    char *out = (char *)"sentinel";
    int rc = myappctx_context_role_label_get(c, &out, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_ptr_null(out);
    else
        myappctx_free(out);
    return rc;
}

static int
a_context_get(myappctx_conn *c, myappctx_error *err)
{
    myappctx_context_info *info = (myappctx_context_info *)1;
    int rc = myappctx_context_get(c, &info, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_ptr_null(info);
    else
        myappctx_context_info_free(info);
    return rc;
}

static int
a_audit_get(myappctx_conn *c, myappctx_error *err)
{
    json_t *out = (json_t *)1;
    int rc = myappctx_audit_get(c, &out, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_ptr_null(out);
    else
        json_decref(out);
    return rc;
}

static int
a_status_get(myappctx_conn *c, myappctx_error *err)
{
    myappctx_impersonation_status st;
    memset(&st, 0xab, sizeof st);
    int rc = myappctx_impersonation_status_get(c, &st, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_msg(st.original_user_id.bytes[0] == 0xab, "status written on failure");
    return rc;
}

static int
a_validate(myappctx_conn *c, myappctx_error *err)
{
    myappctx_validation *v = (myappctx_validation *)1;
    int rc = myappctx_conn_validate(c, &v, err);
    if (rc != MYAPPCTX_OK)
        ck_assert_ptr_null(v);
    else
        myappctx_validation_free(v);
    return rc;
}

static int a_require_context(myappctx_conn *c, myappctx_error *err)
{ return myappctx_require_context(c, err); }
static int a_require_tenant(myappctx_conn *c, myappctx_error *err)
{ return myappctx_require_tenant(c, err); }
static int a_verify_tenant(myappctx_conn *c, myappctx_error *err)
{ return myappctx_verify_tenant_access(c, err); }
static int a_rate_limit(myappctx_conn *c, myappctx_error *err)
{ return myappctx_rate_limit_check(c, "hx_forged", 1000, 60, err); }
static int a_end(myappctx_conn *c, myappctx_error *err)
{ return myappctx_impersonation_end(c, err); }
static int a_clear(myappctx_conn *c, myappctx_error *err)
{ return myappctx_context_clear(c, err); }
static int a_reset_all(myappctx_conn *c, myappctx_error *err)
{ return myappctx_config_reset_all(c, err); }

static int
a_impersonate(myappctx_conn *c, myappctx_error *err)
{
    myappctx_uuid target;
    tu_random_uuid(&target, NULL);
    return myappctx_impersonate(c, &target, err);
}

static int
a_context_set(myappctx_conn *c, myappctx_error *err)
{
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    tu_random_uuid(&ctx.user_id, NULL);
    return myappctx_context_set(c, &ctx, err);
}

static int
a_set_local(myappctx_conn *c, myappctx_error *err)
{
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    myappctx_error e2 = { 0 };
    tu_assert_ok(myappctx_begin(c, &e2), e2);
    int rc = myappctx_context_set_local(c, &user, NULL, NULL, err);
    tu_assert_ok(myappctx_rollback(c, &e2), e2);
    return rc;
}

static int
a_run_in_context(myappctx_conn *c, myappctx_error *err)
{
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    /* Inside the unit: its own user, and no impersonation whatever was
     * forged (a division by zero says otherwise). */
    char id[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(&user, id) };
    myappctx_stmt stmt = { "SELECT CASE WHEN NOT private.is_impersonating() AND "
                           "private.get_current_user_id() = $1::uuid THEN 1 ELSE 1 / (random() > 2)::int END",
                           1, params };
    return myappctx_run_in_context(c, &ctx, &stmt, 1, NULL, err);
}

/* ---------------------------------------------------------- the table */

#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"

typedef struct forge {
    const char *var, *value;
} forge;

typedef struct forged_row {
    const char *name;
    forge forged[3];
    const char *call;
    adapter fn;
    int code;
    const char *sqlstate;   /* NULL: not checked */
} forged_row;

#define F(v, x) { "myapp." v, x }

static const forged_row rows[] = {
    /* myapp.current_user_id that is not a UUID */
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid") },
      "myappctx_context_user_id_get", a_user_id_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid") },
      "myappctx_impersonation_status_get", a_status_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid") },
      "myappctx_conn_validate", a_validate, MYAPPCTX_EMALFORMED, NULL },
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid") },
      "myappctx_require_context", a_require_context, MYAPPCTX_ESERVER, "22P02" },
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid"), F("current_tenant_id", U2) },
      "myappctx_verify_tenant_access", a_verify_tenant, MYAPPCTX_ESERVER, "22P02" },
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid") },
      "myappctx_rate_limit_check", a_rate_limit, MYAPPCTX_ESERVER, "22P02" },
    { "user id 'not-a-uuid'", { F("current_user_id", "not-a-uuid") },
      "myappctx_impersonate", a_impersonate, MYAPPCTX_ESERVER, "22P02" },
    { "user id SQL injection", { F("current_user_id", "'; DROP TABLE data.users; --") },
      "myappctx_context_user_id_get", a_user_id_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "user id of spaces", { F("current_user_id", "   ") },
      "myappctx_context_user_id_get", a_user_id_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "user id with a trailing byte", { F("current_user_id", U1 "x") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, "22P02" },
    /* PostgreSQL's own spellings: the readers normalise; validate_connection
     * reads the raw text and refuses it (fails closed). */
    { "user id in braces", { F("current_user_id", "{" U1 "}") },
      "myappctx_context_user_id_get", a_user_id_get, MYAPPCTX_OK, NULL },
    { "user id in braces", { F("current_user_id", "{" U1 "}") },
      "myappctx_conn_validate", a_validate, MYAPPCTX_EMALFORMED, NULL },
    /* myapp.current_tenant_id */
    { "tenant id 'garbage'", { F("current_tenant_id", "garbage") },
      "myappctx_context_tenant_id_get", a_tenant_id_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "tenant id 'garbage'", { F("current_tenant_id", "garbage") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "tenant id 'garbage'", { F("current_tenant_id", "garbage") },
      "myappctx_conn_validate", a_validate, MYAPPCTX_EMALFORMED, NULL },
    { "tenant id 'garbage'", { F("current_tenant_id", "garbage") },
      "myappctx_require_tenant", a_require_tenant, MYAPPCTX_ESERVER, "22P02" },
    { "tenant id 'garbage'", { F("current_user_id", U1), F("current_tenant_id", "garbage") },
      "myappctx_verify_tenant_access", a_verify_tenant, MYAPPCTX_ESERVER, "22P02" },
    { "tenant of a stranger", { F("current_user_id", U1), F("current_tenant_id", U2) },
      "myappctx_verify_tenant_access", a_verify_tenant, MYAPPCTX_EACCESS, "P0052" },
    /* myapp.current_role is text: any value reads back (see below) */
    { "role with SQL injection", { F("current_role", "admin'; DROP TABLE data.users; --") },
      "myappctx_context_role_label_get", a_role_get, MYAPPCTX_OK, NULL },
    /* myapp.context_metadata and context_created_at */
    { "metadata '{not json'", { F("context_metadata", "{not json") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "metadata '[1,2]' (not an object)", { F("context_metadata", "[1,2]") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, NULL },
    { "metadata '\"admin\"' (not an object)", { F("context_metadata", "\"admin\"") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, NULL },
    { "metadata '42' (not an object)", { F("context_metadata", "42") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, NULL },
    { "created_at 'not a time'", { F("context_created_at", "not a time") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, NULL },
    { "created_at '2024-13-45'", { F("context_created_at", "2024-13-45") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, NULL },
    /* myapp.audit_context */
    { "audit '{not json'", { F("audit_context", "{not json") },
      "myappctx_audit_get", a_audit_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "audit '{not json'", { F("audit_context", "{not json") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "audit '[1]' (not an object)", { F("audit_context", "[1]") },
      "myappctx_audit_get", a_audit_get, MYAPPCTX_EMALFORMED, NULL },
    { "audit '[1]' (not an object)", { F("audit_context", "[1]") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, NULL },
    { "audit '\"reason\"' (not an object)", { F("audit_context", "\"reason\"") },
      "myappctx_audit_get", a_audit_get, MYAPPCTX_EMALFORMED, NULL },
    { "audit '\"reason\"' (not an object)", { F("audit_context", "\"reason\"") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, NULL },
    /* myapp.original_user_id that is not a UUID: impersonating by the
     * schema's definition, but unreadable -- everything fails closed */
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_impersonation_status_get", a_status_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_context_get", a_context_get, MYAPPCTX_EMALFORMED, "22P02" },
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_impersonation_end", a_end, MYAPPCTX_ESERVER, "22P02" },
    /* ...except the clear, which must never fail on forged state: it
     * clears it (the log has no row to close). */
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_context_clear", a_clear, MYAPPCTX_OK, NULL },
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_config_reset_all", a_reset_all, MYAPPCTX_EIMPERSONATING, "" },
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_context_set", a_context_set, MYAPPCTX_EIMPERSONATING, "P0055" },
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_context_set_local", a_set_local, MYAPPCTX_EIMPERSONATING, "P0055" },
    /* a unit of work clears forged state for itself (and only what the
     * library itself started is refused: tests/integration/test_units.c) */
    { "original user 'garbage'", { F("original_user_id", "garbage") },
      "myappctx_run_in_context", a_run_in_context, MYAPPCTX_OK, NULL },
    { "original user 'garbage'", { F("current_user_id", U1), F("original_user_id", "garbage") },
      "myappctx_impersonate", a_impersonate, MYAPPCTX_EIMPERSONATING, "P0055" },
    /* myapp.is_impersonating alone means nothing (the schema's definition
     * is "an original user is recorded") */
    { "is_impersonating 'true' alone", { F("is_impersonating", "true") },
      "myappctx_impersonation_end", a_end, MYAPPCTX_ENOTIMPERSONATING, "P0056" },
    { "is_impersonating 'true' alone", { F("is_impersonating", "true") },
      "myappctx_context_set", a_context_set, MYAPPCTX_OK, NULL },
    { "is_impersonating 'true' alone", { F("is_impersonating", "true") },
      "myappctx_config_reset_all", a_reset_all, MYAPPCTX_OK, NULL },
    { "is_impersonating 'true' alone", { F("is_impersonating", "true") },
      "myappctx_run_in_context", a_run_in_context, MYAPPCTX_OK, NULL },
    /* myapp.loaded_settings naming context variables or injection */
    { "loaded_settings with injection", { F("loaded_settings", "x'; DROP TABLE data.users; --,a,current_user_id") },
      "myappctx_context_clear", a_clear, MYAPPCTX_OK, NULL },
};
#define NROWS (sizeof rows / sizeof rows[0])

START_TEST(forged_rows)
{
    const forged_row *r = &rows[_i];
    myappctx_conn *c = tu_app_connect();
    for (size_t i = 0; i < 3 && r->forged[i].var != NULL; i++)
        plant(c, r->forged[i].var, r->forged[i].value);
    char label[256];
    snprintf(label, sizeof label, "forged %s -> %s", r->name, r->call);
    myappctx_error err = { 0 };
    if (tu_sealed()) {
        /* Nothing was planted: no reader sees a forged value, and the call
         * meets a session without context. */
        tu_assert_no_context(c, label);
        int rc = r->fn(c, &err);
        ck_assert_msg(rc != MYAPPCTX_EMALFORMED, "%s: sealed, yet %s", label, err.message);
        myappctx_conn_close(c);
        return;
    }
    int rc = r->fn(c, &err);
    tu_expect_row(label, rc, r->code, err, NULL);
    if (r->sqlstate != NULL)
        ck_assert_msg(strcmp(err.sqlstate, r->sqlstate) == 0, "%s: SQLSTATE '%s', expected '%s'",
                      label, err.sqlstate, r->sqlstate);
    /* The same call without an error structure gives the same code. */
    myappctx_conn_close(c);
    c = tu_app_connect();
    for (size_t i = 0; i < 3 && r->forged[i].var != NULL; i++)
        plant(c, r->forged[i].var, r->forged[i].value);
    ck_assert_msg(r->fn(c, NULL) == r->code, "%s: different code without err", label);
    myappctx_conn_close(c);
    /* The schema is intact whatever the value held. */
    myappctx_conn *su = tu_connect();
    free(tu_value(su, "SELECT count(*) FROM data.users", 0, NULL));
    myappctx_conn_close(su);
}
END_TEST

/* Values that parse: what the readers return for them. */
START_TEST(forged_values_that_parse)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_uuid got, expected;
    int is_set = -1;
    if (tu_sealed()) {
        plant(c, "myapp.current_user_id", "{" U1 "}");
        plant(c, "myapp.current_user_id", "00000000-0000-0000-0000-000000000000");
        plant(c, "myapp.current_role", "admin'; --");
        plant(c, "myapp.session_id", "\\x00 %s%n");
        plant(c, "myapp.is_impersonating", "true");
        plant(c, "myapp.context_metadata", "null");
        tu_assert_no_context(c, "sealed: nothing forged");
        myappctx_conn_close(c);
        return;
    }

    tu_raw_set(c, "myapp.current_user_id", "{" U1 "}");
    tu_assert_ok(myappctx_context_user_id_get(c, &got, &is_set, &err), err);
    tu_assert_ok(myappctx_uuid_parse(&expected, U1, &err), err);
    ck_assert_int_eq(is_set, 1);
    ck_assert(myappctx_uuid_equal(&got, &expected));

    /* A forged nil reads as a set nil id, never as "unset". */
    tu_raw_set(c, "myapp.current_user_id", "00000000-0000-0000-0000-000000000000");
    tu_assert_ok(myappctx_context_user_id_get(c, &got, &is_set, &err), err);
    ck_assert_int_eq(is_set, 1);
    ck_assert(myappctx_uuid_is_nil(&got));

    /* Roles and session ids are text: read back verbatim. */
    tu_raw_set(c, "myapp.current_role", "admin'; --");
    tu_raw_set(c, "myapp.session_id", "\\x00 %s%n");
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_str_eq(info->role_label, "admin'; --");
    ck_assert_str_eq(info->session_id, "\\x00 %s%n");
    myappctx_context_info_free(info);

    /* is_impersonating 'true' without an original user is not impersonating. */
    tu_raw_set(c, "myapp.is_impersonating", "true");
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_int_eq(info->is_impersonating, 0);
    ck_assert_int_eq(info->has_original_user_id, 0);
    myappctx_context_info_free(info);
    myappctx_impersonation_status st;
    tu_assert_ok(myappctx_impersonation_status_get(c, &st, &err), err);
    ck_assert_int_eq(st.active, 0);

    /* JSON null metadata reads as unset. */
    tu_raw_set(c, "myapp.context_metadata", "null");
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_ptr_null(info->metadata);
    myappctx_context_info_free(info);
    myappctx_conn_close(c);
}
END_TEST

/* Forged values of loaded settings read through the typed getters. */
START_TEST(forged_setting_values)
{
    static const struct {
        const char *value;
        int bool_rc, bool_value;
        int int_rc;
        long long int_value;
    } rows_[] = {
        { "maybe",                 MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "yes; DROP TABLE x",     MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "o",                     MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "tru",                   MYAPPCTX_OK, 1,         MYAPPCTX_EMALFORMED, 0 },
        { " off\n",                MYAPPCTX_OK, 0,         MYAPPCTX_EMALFORMED, 0 },
        { "1",                     MYAPPCTX_OK, 1,         MYAPPCTX_OK, 1 },
        { "+7",                    MYAPPCTX_EMALFORMED, 0, MYAPPCTX_OK, 7 },
        { "-9223372036854775808",  MYAPPCTX_EMALFORMED, 0, MYAPPCTX_OK, LLONG_MIN },
        { "9223372036854775807",   MYAPPCTX_EMALFORMED, 0, MYAPPCTX_OK, LLONG_MAX },
        { "9223372036854775808",   MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "-9223372036854775809",  MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "99999999999999999999999999", MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "1e3",                   MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { " 42",                   MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "42 ",                   MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "0x10",                  MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "4 2",                   MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "-",                     MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "--1",                   MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "\xd9\xa4\xd9\xa2",      MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
        { "%s%n",                  MYAPPCTX_EMALFORMED, 0, MYAPPCTX_EMALFORMED, 0 },
    };
    myappctx_conn *c = tu_app_connect();
    char key[64], var[80];
    /* Sealed: only declared settings exist (the harness declares this one). */
    if (tu_sealed())
        snprintf(key, sizeof key, "hx_sealed_a");
    else
        tu_unique("hx_forged", key, sizeof key);
    snprintf(var, sizeof var, "myapp.%s", key);
    for (size_t i = 0; i < sizeof rows_ / sizeof rows_[0]; i++) {
        tu_raw_set(c, var, rows_[i].value);
        myappctx_error err = { 0 };
        int b = 42;
        long long n = 42;
        char label[128];
        snprintf(label, sizeof label, "get_bool of forged \"%s\"", rows_[i].value);
        tu_expect_row(label, myappctx_setting_get_bool(c, key, 0, &b, &err), rows_[i].bool_rc, err,
                      rows_[i].bool_rc == MYAPPCTX_OK ? NULL : key);
        ck_assert_int_eq(b, rows_[i].bool_rc == MYAPPCTX_OK ? rows_[i].bool_value : 42);
        snprintf(label, sizeof label, "get_int of forged \"%s\"", rows_[i].value);
        tu_expect_row(label, myappctx_setting_get_int(c, key, 0, &n, &err), rows_[i].int_rc, err,
                      rows_[i].int_rc == MYAPPCTX_OK ? NULL : key);
        ck_assert(n == (rows_[i].int_rc == MYAPPCTX_OK ? rows_[i].int_value : 42));
    }
    /* A 64 KiB value: the message quotes a bounded prefix. */
    char *big = tu_repeat('9', 65536);
    tu_raw_set(c, var, big);
    myappctx_error err = { 0 };
    long long n = 42;
    tu_expect_row("64 KiB of digits", myappctx_setting_get_int(c, key, 0, &n, &err),
                  MYAPPCTX_EMALFORMED, err, "...");
    ck_assert(n == 42);
    free(big);
    myappctx_conn_close(c);
}
END_TEST

/* ------------------------------------------- security: fail closed */

/* Forged is_impersonating alone: end_impersonation refuses, restores
 * nothing, logs nothing. */
START_TEST(forged_flag_cannot_end_an_impersonation)
{
    myappctx_uuid user, got;
    tu_seed_user(&user, "user");
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    plant(c, "myapp.is_impersonating", "true");
    plant(c, "myapp.original_role", "admin");
    tu_expect_row("end with a forged flag", myappctx_impersonation_end(c, &err),
                  MYAPPCTX_ENOTIMPERSONATING, err, NULL);
    ck_assert_str_eq(err.sqlstate, "P0056");
    int is_set = 0;
    tu_assert_ok(myappctx_context_user_id_get(c, &got, &is_set, &err), err);
    ck_assert(myappctx_uuid_equal(&got, &user));
    char *role = NULL;
    tu_assert_ok(myappctx_context_role_label_get(c, &role, &err), err);
    ck_assert_str_eq(role, "user");
    myappctx_free(role);
    myappctx_conn_close(c);
}
END_TEST

/* Forged original_user_id (a real admin's id) on a session that never
 * impersonated: there is no open log row for it, so ending must be
 * refused and must not switch the session to that admin. */
START_TEST(forged_original_user_cannot_be_restored_without_a_log_row)
{
    myappctx_uuid admin, user, got;
    tu_seed_user(&admin, "admin");
    tu_seed_user(&user, "user");
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    char admin_text[MYAPPCTX_UUID_BUFSIZE];
    plant(c, "myapp.original_user_id", myappctx_uuid_format(&admin, admin_text));
    plant(c, "myapp.original_role", "admin");
    plant(c, "myapp.is_impersonating", "true");

    int rc = myappctx_impersonation_end(c, &err);
    int is_set = 0;
    myappctx_error e2 = { 0 };
    tu_assert_ok(myappctx_context_user_id_get(c, &got, &is_set, &e2), e2);
    ck_assert_msg(!myappctx_uuid_equal(&got, &admin),
                  "end_impersonation switched the session to the forged original user "
                  "(rc %d, no log row exists)", rc);
    tu_expect_row("end with a forged original user", rc, MYAPPCTX_ENOTIMPERSONATING, err, NULL);
    ck_assert_int_eq(impersonation_log_rows(&admin), 0);
    myappctx_conn_close(c);
}
END_TEST

/* A forged user id of a non-admin, an unknown user, or a forged role of
 * 'admin' cannot impersonate; nothing is logged. */
START_TEST(forged_identity_cannot_impersonate)
{
    myappctx_uuid plain, unknown, target;
    tu_random_uuid(&unknown, NULL);
    tu_seed_user(&plain, "user");
    tu_seed_user(&target, "user");
    char plain_text[MYAPPCTX_UUID_BUFSIZE], unknown_text[MYAPPCTX_UUID_BUFSIZE];
    myappctx_uuid_format(&plain, plain_text);
    myappctx_uuid_format(&unknown, unknown_text);
    static const char *const roles[] = { "admin", "ADMIN", "admin'; --" };
    const char *ids[] = { plain_text, unknown_text };
    const myappctx_uuid *id_values[] = { &plain, &unknown };
    for (size_t i = 0; i < 2; i++) {
        for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
            myappctx_conn *c = tu_app_connect();
            myappctx_error err = { 0 };
            plant(c, "myapp.current_user_id", ids[i]);
            plant(c, "myapp.current_role", roles[r]);
            char label[128];
            snprintf(label, sizeof label, "forged %s user with role %s",
                     i == 0 ? "non-admin" : "unknown", roles[r]);
            /* Sealed: nothing was planted, so there is no user at all. */
            int want = tu_sealed() ? MYAPPCTX_ENOCONTEXT : MYAPPCTX_ENOTADMIN;
            tu_expect_row(label, myappctx_impersonate(c, &target, &err), want, err, NULL);
            ck_assert_str_eq(err.sqlstate, tu_sealed() ? "P0050" : "P0053");
            myappctx_impersonation_status st;
            tu_assert_ok(myappctx_impersonation_status_get(c, &st, &err), err);
            ck_assert_int_eq(st.active, 0);
            myappctx_conn_close(c);
        }
        ck_assert_int_eq(impersonation_log_rows(id_values[i]), 0);
    }
}
END_TEST

/* The documented limit: a forged id of a REAL admin is trusted (the
 * application role can write myapp.* itself), but the impersonation is
 * logged under that admin, start and end.  Sealed, the limit is gone: the
 * id cannot be planted, the impersonation is refused, nothing is logged. */
START_TEST(forged_admin_id_is_logged)
{
    myappctx_uuid admin, target;
    tu_seed_user(&admin, "admin");
    tu_seed_user(&target, "user");
    myappctx_conn *c = tu_app_connect();
    myappctx_error err = { 0 };
    char admin_text[MYAPPCTX_UUID_BUFSIZE];
    plant(c, "myapp.current_user_id", myappctx_uuid_format(&admin, admin_text));
    if (tu_sealed()) {
        tu_expect_state_row("sealed: impersonate with a forged admin id",
                            myappctx_impersonate(c, &target, &err), MYAPPCTX_ENOCONTEXT, err,
                            "P0050");
        ck_assert_int_eq(impersonation_log_rows(&admin), 0);
        myappctx_conn_close(c);
        return;
    }
    tu_assert_ok(myappctx_impersonate(c, &target, &err), err);
    ck_assert_int_eq(impersonation_log_rows(&admin), 1);
    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    const char *params[] = { admin_text };
    myappctx_conn *su = tu_connect();
    ck_assert_int_eq(tu_int(su, "SELECT count(*) FROM app_audit.impersonation_log "
                                "WHERE admin_user_id = $1::uuid AND ended_at IS NOT NULL",
                            1, params), 1);
    myappctx_conn_close(su);
    myappctx_conn_close(c);
}
END_TEST

/* The application role cannot forge or erase the log itself. */
START_TEST(impersonation_log_is_not_writable)
{
    myappctx_conn *c = tu_app_connect();
    static const char *const sql[] = {
        "INSERT INTO app_audit.impersonation_log (admin_user_id, target_user_id) "
        "VALUES (gen_random_uuid(), gen_random_uuid())",
        "UPDATE app_audit.impersonation_log SET ended_at = now()",
        "DELETE FROM app_audit.impersonation_log",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        myappctx_error err = { 0 };
        tu_expect_row(sql[i], myappctx_exec(c, sql[i], 0, NULL, NULL, &err), MYAPPCTX_ESERVER, err,
                      NULL);
        ck_assert_str_eq(err.sqlstate, "42501");
    }
    myappctx_conn_close(c);
}
END_TEST

/* ---------------------------------------------- the fast path and pool */

/* A transaction-local context masks a forged session one: the unit's
 * statements see the unit's user, and the forged value is back after. */
START_TEST(fast_path_masks_forged_session_context)
{
    myappctx_conn *c = tu_app_connect();
    plant(c, "myapp.current_user_id", "not-a-uuid");
    plant(c, "myapp.current_role", "admin");
    myappctx_uuid user;
    char user_text[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(&user, user_text);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt stmts[] = {
        { "SELECT private.get_current_user_id()::text", 0, NULL },
        { "SELECT private.get_current_role()", 0, NULL },
    };
    PGresult *res[2];
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_run_in_context(c, &ctx, stmts, 2, res, &err), err);
    ck_assert_str_eq(PQgetvalue(res[0], 0, 0), user_text);
    ck_assert_int_eq(PQgetisnull(res[1], 0, 0), 1);   /* no role: not the forged 'admin' */
    myappctx_results_free(res, 2);
    myappctx_uuid got;
    int is_set;
    tu_expect_row("forged value after the unit", myappctx_context_user_id_get(c, &got, &is_set, &err),
                  tu_sealed() ? MYAPPCTX_OK : MYAPPCTX_EMALFORMED, err, NULL);
    myappctx_conn_close(c);
}
END_TEST

/* Forged (valid) context left on a pooled connection, by raw SQL and by a
 * statement of a fast-path unit: the next borrower sees none of it. */
START_TEST(pool_drops_forged_context)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_error err = { 0 };
    for (int how = 0; how < 2; how++) {
        myappctx_conn *c = tu_pool_acquire(pool);
        if (how == 0) {
            plant(c, "myapp.current_user_id", U1);
            plant(c, "myapp.current_tenant_id", U2);
            plant(c, "myapp.current_role", "admin");
            plant(c, "myapp.session_id", "stolen");
        } else {
            myappctx_uuid user;
            tu_random_uuid(&user, NULL);
            myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
            ctx.user_id = &user;
            const char *p[] = { U1, U2 };
            myappctx_stmt stmt = {
                "SELECT set_config('myapp.current_user_id', $1, false), "
                "set_config('myapp.current_tenant_id', $2, false), "
                "set_config('myapp.current_role', 'admin', false)", 2, p };
            /* Sealed: the statement itself is refused, and the unit with it. */
            if (tu_sealed())
                tu_expect_state(myappctx_run_in_context(c, &ctx, &stmt, 1, NULL, &err),
                                MYAPPCTX_ESERVER, err, "42501");
            else
                tu_assert_ok(myappctx_run_in_context(c, &ctx, &stmt, 1, NULL, &err), err);
        }
        tu_assert_ok(myappctx_pool_release(pool, c), err);
        c = tu_pool_acquire(pool);
        tu_assert_no_context(c, how == 0 ? "the next borrower after context forged by raw SQL"
                                          : "the next borrower after a fast-path statement "
                                            "forged context");
        tu_assert_ok(myappctx_pool_release(pool, c), err);
    }
    myappctx_pool_free(pool);
}
END_TEST

/* A borrower leaves an unreadable myapp.original_user_id behind, so the
 * targeted reset (api.clear_context()) fails on that connection.  Fail
 * closed: the previous borrower's state never reaches anyone, and the
 * connection is not lent again (conn.h) -- later borrowers get a working
 * connection. */
/* Forged state that does not parse does not make the pool's reset fail:
 * api.clear_context() clears it. */
START_TEST(pool_reset_survives_forged_state)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_error err = { 0 };
    myappctx_conn *c = tu_pool_acquire(pool);
    plant(c, "myapp.original_user_id", "garbage");
    tu_assert_ok(myappctx_pool_release(pool, c), err);

    for (int i = 0; i < 3; i++) {
        c = tu_pool_acquire(pool);
        char label[64];
        snprintf(label, sizeof label, "borrower %d after the forged value", i + 2);
        myappctx_impersonation_status st;
        tu_expect_row(label, myappctx_impersonation_status_get(c, &st, &err), MYAPPCTX_OK, err, NULL);
        ck_assert_int_eq(st.active, 0);
        myappctx_uuid user;
        tu_random_uuid(&user, NULL);
        myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
        ctx.user_id = &user;
        myappctx_stmt stmt = { "SELECT 1", 0, NULL };
        tu_expect_row(label, myappctx_run_in_context(c, &ctx, &stmt, 1, NULL, &err), MYAPPCTX_OK,
                      err, NULL);
        tu_assert_ok(myappctx_pool_release(pool, c), err);
    }
    myappctx_pool_free(pool);
}
END_TEST

/* A connection whose deferred reset fails cannot be made safe: the
 * borrower gets the error and the pool closes it when it comes back.  The
 * reset is made to fail in a database of this test's own (EXECUTE on
 * api.clear_context() revoked there), so no other suite is affected. */
START_TEST(pool_closes_a_connection_whose_reset_fails)
{
    char *db = tu_create_database("hxreset");
    myappctx_conn *su = tu_connect_opts(db, NULL);
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "app_service";
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_schema_install(su, &opts, NULL, &err), err);
    tu_sql(myappctx_conn_pg(su), "REVOKE EXECUTE ON FUNCTION api.clear_context() "
                                 "FROM PUBLIC, app_service");
    myappctx_conn_close(su);

    char conninfo[256];
    snprintf(conninfo, sizeof conninfo, "%s user=app_service", db);
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = conninfo;
    cfg.min_size = cfg.max_size = 1;
    cfg.init_connection = 0;
    cfg.validation = MYAPPCTX_POOL_VALIDATE_NONE;
    myappctx_pool *pool;
    tu_assert_ok(myappctx_pool_new(&pool, &cfg, &err), err);
    tu_assert_ok(myappctx_pool_wait_ready(pool, 10000, &err), err);

    myappctx_conn *c = tu_pool_acquire(pool);
    tu_assert_ok(myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err), err);
    tu_assert_ok(myappctx_pool_release(pool, c), err);      /* reset deferred */
    c = tu_pool_acquire(pool);
    int rc = myappctx_exec(c, "SELECT 1", 0, NULL, NULL, &err);
    ck_assert_msg(rc != MYAPPCTX_OK && strstr(err.message, "resetting") != NULL,
                  "the failed reset is reported: %s", err.message);
    tu_assert_ok(myappctx_pool_release(pool, c), err);
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    myappctx_pool_stats_get(pool, &st);
    ck_assert_uint_eq(st.discarded, 1);
    myappctx_pool_free(pool);
    tu_drop_database(db);
    free(db);
}
END_TEST

/* A fast-path unit changes a loaded application setting at session level
 * (its statement calls set_config(..., false)).  The next borrower must
 * start from the pool's baseline -- the value in data.app_settings that
 * api.init_connection() loaded -- not from the previous borrower's. */
START_TEST(pool_restores_loaded_settings_after_a_fast_path_unit)
{
    char key[64], var[80];
    /* Sealed: only declared settings load (the harness declares this one). */
    if (tu_sealed())
        snprintf(key, sizeof key, "hx_sealed_b");
    else
        tu_unique("hx_forged_setting", key, sizeof key);
    snprintf(var, sizeof var, "myapp.%s", key);
    myappctx_conn *su = tu_connect();
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_setting_put(su, key, "baseline", NULL, &err), err);
    myappctx_conn_close(su);

    myappctx_pool *pool = tu_pool_one();
    myappctx_conn *c = tu_pool_acquire(pool);
    char *v = NULL;
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &v, &err), err);
    tu_expect_str("loaded at connect", v, "baseline");
    myappctx_free(v);
    tu_assert_ok(myappctx_pool_release(pool, c), err);

    c = tu_pool_acquire(pool);
    myappctx_uuid user;
    tu_random_uuid(&user, NULL);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    const char *p[] = { var };
    myappctx_stmt stmt = { "SELECT set_config($1, 'forged by the previous borrower', false)", 1,
                           p };
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &stmt, 1, NULL, &err), err);
    tu_assert_ok(myappctx_pool_release(pool, c), err);

    c = tu_pool_acquire(pool);
    v = NULL;
    tu_assert_ok(myappctx_setting_get(c, key, NULL, &v, &err), err);
    tu_expect_str("the next borrower's setting", v, "baseline");
    myappctx_free(v);
    tu_assert_ok(myappctx_pool_release(pool, c), err);
    myappctx_pool_free(pool);
    tu_delete_setting(key);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hostile forged");
    TCase *tc = tcase_create("forged");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, forged_rows, 0, NROWS);
    tcase_add_test(tc, forged_values_that_parse);
    tcase_add_test(tc, forged_setting_values);
    tcase_add_test(tc, forged_flag_cannot_end_an_impersonation);
    tcase_add_test(tc, forged_original_user_cannot_be_restored_without_a_log_row);
    tcase_add_test(tc, forged_identity_cannot_impersonate);
    tcase_add_test(tc, forged_admin_id_is_logged);
    tcase_add_test(tc, impersonation_log_is_not_writable);
    tcase_add_test(tc, fast_path_masks_forged_session_context);
    tcase_add_test(tc, pool_drops_forged_context);
    tcase_add_test(tc, pool_reset_survives_forged_state);
    tcase_add_test(tc, pool_closes_a_connection_whose_reset_fails);
    tcase_add_test(tc, pool_restores_loaded_settings_after_a_fast_path_unit);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
