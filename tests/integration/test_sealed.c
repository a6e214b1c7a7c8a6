/* Sealed mode (myappctx/seal.h) against a server that preloads the
 * extension myappctx_seal: make check's second server
 * (tests/harness/setup-sealed.sh writes the key to $MYAPPCTX_TEST_DIR/seal.key).
 *
 * What must hold, each test able to fail:
 *   - as the application role, no raw write of any context variable works
 *     (set_config, SET, SET LOCAL, RESET, the schema's setters, SQL injected
 *     into a unit): 42501;
 *   - a context made with another key, with a field changed after the MAC
 *     was made, or replayed, is refused (MX001, MX002), and a replay burns
 *     the connection (the pool closes it);
 *   - row-level security (the demo's policies, unchanged) works through the
 *     sealed context;
 *   - a session-level change reaches the client as ParameterStatus within
 *     the round trip that made it, and the pool acts on it at release;
 *   - units keep their round trips; a lost stream (MX004) is reopened and
 *     the unit sent again by the library.
 *
 * White-box where it must be: the tampering and replay tests take the
 * connection's stream and counter from lib/conn/conn.h and compute their
 * MACs with libcrypto here, independently of lib/core/hmac.c. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "testutil.h"
#include "conn/conn.h"
#include "core/context_vars.h"

#define CONTEXT_VAR_NAME(name, kind) #name,
static const char *const context_vars[] = { MXI_CONTEXT_VARS(CONTEXT_VAR_NAME) };
#define NVARS (sizeof context_vars / sizeof context_vars[0])

static const unsigned char *key;
static size_t key_len;
static myappctx_uuid user_a, user_b, admin, tenant_a, tenant_b;
static char user_a_s[MYAPPCTX_UUID_BUFSIZE], tenant_a_s[MYAPPCTX_UUID_BUFSIZE],
    tenant_b_s[MYAPPCTX_UUID_BUFSIZE], admin_s[MYAPPCTX_UUID_BUFSIZE];

static void
setup(void)
{
    key = tu_seal_key(&key_len);
    tu_seed_user(&user_a, "user");
    tu_seed_user(&user_b, "user");
    tu_seed_user(&admin, "admin");
    tu_random_uuid(&tenant_a, tenant_a_s);
    tu_random_uuid(&tenant_b, tenant_b_s);
    myappctx_uuid_format(&user_a, user_a_s);
    myappctx_uuid_format(&admin, admin_s);
}

static void
teardown(void)
{
}

static myappctx_conn *
sealed_open(const char *conninfo, int txn_pooler)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.txn_pooler = txn_pooler;
    opts.seal_key = key;
    opts.seal_key_len = key_len;
    myappctx_conn *c = tu_connect_opts(conninfo, &opts);
    ck_assert(myappctx_conn_is_sealed(c));
    return c;
}

static myappctx_conn *
sealed_app(void)
{
    return sealed_open(TU_APP_CONNINFO, 0);
}

static myappctx_pool_config
sealed_pool_config(const char *conninfo, int min, int max)
{
    myappctx_pool_config cfg = tu_pool_config(conninfo, min, max);
    cfg.seal_key = key;
    cfg.seal_key_len = key_len;
    return cfg;
}

/* Runs @sql on a raw connection; returns its SQLSTATE ("" on success) in
 * @state and prints the outcome as a TAP comment (the log quotes every
 * refusal). */
static void
raw(PGconn *pg, const char *sql, char state[6])
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, 6, "%s", st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : s ? s : "?");
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    printf("# %s -> %s%s%s\n", sql, state[0] ? state : "accepted", msg ? ": " : "", msg ? msg : "");
    PQclear(res);
}

static void
expect_refused(PGconn *pg, const char *sql, const char *sqlstate)
{
    char state[6];
    raw(pg, sql, state);
    ck_assert_msg(strcmp(state, sqlstate) == 0, "%s: SQLSTATE '%s', expected %s", sql, state,
                  sqlstate);
    if (PQtransactionStatus(pg) == PQTRANS_INERROR)
        PQclear(PQexec(pg, "ROLLBACK"));
}

/* ------------------------------------------------ MACs made here ---- */

static void
field(unsigned char **p, const void *data, size_t len)
{
    (*p)[0] = (unsigned char)(len >> 24);
    (*p)[1] = (unsigned char)(len >> 16);
    (*p)[2] = (unsigned char)(len >> 8);
    (*p)[3] = (unsigned char)len;
    memcpy(*p + 4, data, len);
    *p += 4 + len;
}

/* The fields of one set_context() call, as bound. */
struct call {
    unsigned char stream[16];
    long long counter;
    int local;
    const char *f[7];     /* user, tenant, role, session id, metadata, reason, ticket */
};

/* context_mac of extension/README.md ("Wire format"), with libcrypto. */
static void
mac_of(const struct call *c, const unsigned char *k, size_t klen, unsigned char out[32])
{
    unsigned char buf[8192], *p = buf, be[8];
    unsigned int len = 0;
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)((unsigned long long)c->counter >> (56 - 8 * i));
    field(&p, "myappctx_seal/v1/context", 24);
    field(&p, c->stream, 16);
    field(&p, be, 8);
    field(&p, c->local ? "local" : "session", c->local ? 5 : 7);
    for (int i = 0; i < 7; i++)
        field(&p, c->f[i], strlen(c->f[i]));
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), k, (int)klen, buf, (size_t)(p - buf), out, &len));
    ck_assert_uint_eq(len, 32);
}

static void
bytea(char *out, const unsigned char *b, size_t n)
{
    out[0] = '\\';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 + 2 * i, "%02x", b[i]);
}

/* Sends set_context() with @c's fields and @mac (made over @macd, which a
 * tampering test makes differ from @c) on the raw connection; returns the
 * SQLSTATE ("" when accepted). */
static void
send_call(PGconn *pg, const struct call *c, const unsigned char mac[32], char state[6])
{
    char stream[40], counter[24], m[70];
    bytea(stream, c->stream, 16);
    bytea(m, mac, 32);
    snprintf(counter, sizeof counter, "%lld", c->counter);
    const char *p[11] = { stream, counter, c->local ? "true" : "false", c->f[0], c->f[1], c->f[2],
                          c->f[3], c->f[4], c->f[5], c->f[6], m };
    PGresult *res = PQexecParams(pg,
                                 "SELECT myappctx_seal.set_context($1::bytea, $2::bigint, "
                                 "$3::boolean, $4, $5, $6, $7, $8, $9, $10, $11::bytea)",
                                 11, NULL, p, NULL, NULL, 0);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(state, 6, "%s", PQresultStatus(res) == PGRES_TUPLES_OK ? "" : s ? s : "?");
    printf("#   set_context(counter %lld, %s, user %s, tenant %s, role '%s') -> %s%s%s\n",
           c->counter, c->local ? "local" : "session", c->f[0], c->f[1], c->f[2],
           state[0] ? state : "accepted", msg ? ": " : "", msg ? msg : "");
    PQclear(res);
}

/* A call on @conn's own stream, counter @counter, session scope. */
static struct call
call_on(const myappctx_conn *conn, long long counter, const char *user, const char *tenant)
{
    struct call c = { .counter = counter, .local = 0,
                      .f = { user, tenant, "user", "", "{}", "", "" } };
    memcpy(c.stream, conn->seal->stream, 16);
    return c;
}

/* ------------------------------------------------------------ tests ---- */

/* As the application role, sealed or not: every write of every context
 * variable is refused, and so are the schema's setters. */
START_TEST(raw_writes_of_every_context_variable_are_refused)
{
    myappctx_conn *conns[2] = { sealed_app(), tu_connect_opts(TU_APP_CONNINFO, NULL) };
    for (int k = 0; k < 2; k++) {
        PGconn *pg = myappctx_conn_pg(conns[k]);
        printf("# as app_service, %s connection:\n", k == 0 ? "sealed" : "unsealed");
        for (size_t i = 0; i < NVARS; i++) {
            char sql[256];
            snprintf(sql, sizeof sql, "SELECT set_config('myapp.%s', 'forged', false)",
                     context_vars[i]);
            expect_refused(pg, sql, "42501");
            snprintf(sql, sizeof sql, "SELECT set_config('myapp.%s', 'forged', true)",
                     context_vars[i]);
            expect_refused(pg, sql, "42501");
            snprintf(sql, sizeof sql, "SET myapp.\"%s\" = 'forged'", context_vars[i]);
            expect_refused(pg, sql, "42501");
            tu_sql(pg, "BEGIN");
            snprintf(sql, sizeof sql, "SET LOCAL myapp.\"%s\" = 'forged'", context_vars[i]);
            expect_refused(pg, sql, "42501");
            snprintf(sql, sizeof sql, "RESET myapp.\"%s\"", context_vars[i]);
            expect_refused(pg, sql, "42501");
        }
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT api.set_context('%s'::uuid, '%s'::uuid)", user_a_s,
                 tenant_b_s);
        expect_refused(pg, sql, "42501");
        snprintf(sql, sizeof sql, "BEGIN; SELECT api.set_transaction_context('%s'::uuid, '%s'::uuid)",
                 user_a_s, tenant_b_s);
        expect_refused(pg, sql, "42501");
        expect_refused(pg, "BEGIN; SELECT api.set_audit_context('forged', 'forged')", "42501");
        /* A name outside the list cannot be invented (the prefix is reserved). */
        expect_refused(pg, "SELECT set_config('myapp.current_tenant', 'forged', false)", "42602");
        myappctx_conn_close(conns[k]);
    }
}
END_TEST

/* SQL injected into a unit cannot take another tenant's context. */
START_TEST(injected_sql_in_a_unit_cannot_forge_the_tenant)
{
    myappctx_conn *c = sealed_app();
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user_a;
    ctx.tenant_id = &tenant_a;
    const char *params[] = { tenant_b_s };
    myappctx_stmt forge[2] = {
        { "SELECT set_config('myapp.current_tenant_id', $1, true)", 1, params },
        { "SELECT current_setting('myapp.current_tenant_id')", 0, NULL },
    };
    myappctx_error err;
    PGresult *res[2];
    tu_expect_state(myappctx_run_in_context(c, &ctx, forge, 2, res, &err), MYAPPCTX_ESERVER, err,
                    "42501");
    printf("# run_in_context(tenant A; set_config(current_tenant_id, B)) -> %s [%s]\n",
           err.message, err.sqlstate);
    /* The unit's own tenant was in force, and still is for the next one. */
    myappctx_stmt read = { "SELECT current_setting('myapp.current_tenant_id')", 0, NULL };
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &read, 1, res, &err), err);
    ck_assert_str_eq(PQgetvalue(res[0], 0, 0), tenant_a_s);
    PQclear(res[0]);
    myappctx_conn_close(c);
}
END_TEST

/* A foreign SET ROLE is cleared for the unit (the verifier sets the context,
 * the same statement clears the role), and stays in the session after. */
START_TEST(a_foreign_role_is_cleared_for_the_unit)
{
    myappctx_conn *su = tu_connect();
    tu_sql(myappctx_conn_pg(su),
           "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sealed_other') THEN "
           "CREATE ROLE sealed_other; END IF; END $$; GRANT sealed_other TO app_service");
    myappctx_conn_close(su);
    myappctx_pool_config cfg = sealed_pool_config(TU_APP_CONNINFO, 1, 1);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *conns[2] = { sealed_app(), tu_pool_acquire(pool) };
    for (int k = 0; k < 2; k++) {
        tu_sql(myappctx_conn_pg(conns[k]), "SET ROLE sealed_other");
        myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
        ctx.user_id = &user_a;
        myappctx_stmt s = { "SELECT (current_user = session_user)::text || ',' || "
                            "private.get_current_user_id()", 0, NULL };
        PGresult *res;
        myappctx_error err;
        tu_assert_ok(myappctx_run_in_context(conns[k], &ctx, &s, 1, &res, &err), err);
        char want[80];
        snprintf(want, sizeof want, "true,%s", user_a_s);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
        PQclear(res);
    }
    tu_expect_value(conns[0], "SELECT current_user::text", 0, NULL, "sealed_other");
    /* A database role the unit asks for (ctx.db_role) is set after the
     * clean-up, in the same sealed statement. */
    tu_sql(myappctx_conn_pg(conns[0]), "RESET ROLE");
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user_a;
    ctx.db_role = "sealed_other";
    myappctx_stmt s = { "SELECT current_user::text", 0, NULL };
    PGresult *res;
    myappctx_error err;
    tu_trace t = { tmpfile(), conns[0]->pg };
    PQtrace(t.pg, t.file);
    tu_assert_ok(myappctx_run_in_context(conns[0], &ctx, &s, 1, &res, &err), err);
    ck_assert_int_eq(tu_trace_round_trips(t), 1);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "sealed_other");
    PQclear(res);
    myappctx_conn_close(conns[0]);
    myappctx_pool_release(pool, conns[1]);
    myappctx_pool_free(pool);
}
END_TEST

/* A key that is not the server's: the connect fails, naming both
 * fingerprints; a pool reports it as its last connection error. */
START_TEST(another_key_is_refused)
{
    unsigned char wrong[32];
    memcpy(wrong, key, sizeof wrong);
    wrong[0] ^= 1;
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.seal_key = wrong;
    opts.seal_key_len = sizeof wrong;
    myappctx_conn *c = NULL;
    myappctx_error err;
    tu_expect_state(myappctx_conn_open(&c, TU_APP_CONNINFO, &opts, &err), MYAPPCTX_ESEAL, err,
                    "MX001");
    ck_assert_ptr_null(c);
    printf("# myappctx_conn_open(another key) -> %s [%s]\n", err.message, err.sqlstate);
    char mine[MYAPPCTX_SEAL_KEY_ID_SIZE], theirs[MYAPPCTX_SEAL_KEY_ID_SIZE];
    myappctx_error e2;
    tu_assert_ok(myappctx_seal_key_id(mine, wrong, sizeof wrong, &e2), e2);
    tu_assert_ok(myappctx_seal_key_id(theirs, key, key_len, &e2), e2);
    ck_assert_msg(strstr(err.message, mine) && strstr(err.message, theirs),
                  "both key ids (%s, %s) in: %s", mine, theirs, err.message);

    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 1);
    cfg.seal_key = wrong;
    cfg.seal_key_len = sizeof wrong;
    myappctx_pool *pool = tu_pool_new(&cfg);
    tu_expect(myappctx_pool_wait_ready(pool, 2000, &err), MYAPPCTX_ETIMEOUT, err, "another key");
    myappctx_pool_free(pool);
}
END_TEST

/* Every field, the scope, the counter and the stream are covered: each
 * change after the MAC was made is MX001.  The same call unchanged is
 * accepted (so the refusals are the tampering's). */
START_TEST(a_tampered_field_is_refused)
{
    myappctx_conn *c = sealed_app();
    PGconn *pg = c->pg;
    long long n = c->seal->counter;
    struct call good = call_on(c, n + 1, user_a_s, tenant_a_s);
    unsigned char mac[32];
    mac_of(&good, key, key_len, mac);
    char state[6];
    for (int i = 0; i < 10; i++) {
        struct call bad = good;
        switch (i) {
        case 0: bad.f[0] = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"; break;
        case 1: bad.f[1] = tenant_b_s; break;
        case 2: bad.f[2] = "admin"; break;
        case 3: bad.f[3] = "other-session"; break;
        case 4: bad.f[4] = "{\"a\": 1}"; break;
        case 5: bad.f[5] = "reason"; bad.local = 1; break;
        case 6: bad.f[6] = "ticket"; bad.local = 1; break;
        case 7: bad.local = 1; break;
        case 8: bad.counter = n + 2; break;
        case 9: bad.stream[15] ^= 1; break;
        }
        send_call(pg, &bad, mac, state);
        ck_assert_msg(strcmp(state, "MX001") == 0, "tampering %d: '%s'", i, state);
    }
    send_call(pg, &good, mac, state);
    ck_assert_str_eq(state, "");
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.current_tenant_id"), tenant_a_s);
    c->seal->counter = good.counter;     /* we spent it, not the library */
    myappctx_conn_close(c);
}
END_TEST

/* A MAC the library sent, sent again, is MX002; and when someone else uses
 * the library's next counter first, the library's unit is refused (MX002),
 * the connection is burnt (nothing is sent on it again) and a pool closes
 * it at release. */
START_TEST(a_replayed_mac_is_refused)
{
    myappctx_conn *c = sealed_app();
    myappctx_error err;
    tu_assert_ok(myappctx_context_set(c, &(myappctx_context){ MYAPPCTX_CONTEXT_VERSION, user_a,
                                                              &tenant_a, NULL, NULL, NULL },
                                      &err), err);
    /* The library's call, recomputed: what went over the wire. */
    struct call sent = call_on(c, c->seal->counter, user_a_s, tenant_a_s);
    unsigned char mac[32];
    mac_of(&sent, key, key_len, mac);
    char state[6];
    send_call(c->pg, &sent, mac, state);
    ck_assert_str_eq(state, "MX002");

    /* Someone else takes the next counter first. */
    struct call first = call_on(c, c->seal->counter + 1, user_a_s, tenant_b_s);
    mac_of(&first, key, key_len, mac);
    send_call(c->pg, &first, mac, state);
    ck_assert_str_eq(state, "");
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user_a;
    ctx.tenant_id = &tenant_a;
    myappctx_stmt s = { "SELECT 1", 0, NULL };
    tu_expect_state(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_ESEAL, err,
                    "MX002");
    printf("# the library's next unit -> %s [%s]\n", err.message, err.sqlstate);
    tu_trace t = tu_trace_start(c);
    tu_expect_state(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_ESEAL, err,
                    "MX002");
    ck_assert_int_eq(tu_trace_stop(t), 0);
    printf("# and the one after -> %s [%s]\n", err.message, err.sqlstate);
    myappctx_conn_close(c);

    /* Pooled: the burnt connection never reaches another borrower. */
    myappctx_pool_config cfg = sealed_pool_config(TU_APP_CONNINFO, 1, 1);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *p = tu_pool_acquire(pool);
    first = call_on(p, p->seal->counter + 1, user_a_s, tenant_b_s);
    mac_of(&first, key, key_len, mac);
    send_call(p->pg, &first, mac, state);
    ck_assert_str_eq(state, "");
    tu_expect_state(myappctx_run_in_context(p, &ctx, &s, 1, NULL, &err), MYAPPCTX_ESEAL, err,
                    "MX002");
    uint64_t discarded = tu_pool_stats(pool).discarded;
    myappctx_pool_release(pool, p);
    ck_assert_uint_eq(tu_pool_stats(pool).discarded, discarded + 1);
    myappctx_conn *q = tu_pool_acquire(pool);
    ck_assert_ptr_ne(q->seal, NULL);
    ck_assert(!q->seal->burned);
    tu_assert_ok(myappctx_run_in_context(q, &ctx, &s, 1, NULL, &err), err);
    myappctx_pool_release(pool, q);
    myappctx_pool_free(pool);
}
END_TEST

/* The demo's policies, unchanged, see the sealed tenant: each tenant's rows
 * only, none without a tenant; on a direct, a pooled and a PgBouncer
 * connection, in a unit and under a session-level context. */
START_TEST(row_level_security_through_the_sealed_context)
{
    myappctx_conn *su = tu_connect();
    const char *params[] = { tenant_a_s, tenant_b_s, user_a_s };
    tu_exec(su, "INSERT INTO data.orders (tenant_id, user_id, item, amount) VALUES "
                "($1::uuid, $3::uuid, 'a1', 1), ($1::uuid, $3::uuid, 'a2', 2), "
                "($2::uuid, $3::uuid, 'b1', 3)", 3, params);
    myappctx_conn_close(su);

    const char *count_sql = "SELECT count(*)::text || '/' || count(*) FILTER (WHERE tenant_id = $1::uuid) "
                            "FROM data.orders WHERE user_id = $2::uuid";
    myappctx_pool_config cfg = sealed_pool_config(TU_APP_CONNINFO, 1, 1);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *conns[3] = { sealed_app(), tu_pool_acquire(pool),
                                sealed_open(tu_pgbouncer_conninfo("app_service"), 1) };
    for (int k = 0; k < 3; k++) {
        for (int t = 0; t < 3; t++) {
            myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
            ctx.user_id = &user_a;
            ctx.tenant_id = t == 0 ? &tenant_a : t == 1 ? &tenant_b : NULL;
            const char *p[] = { t == 1 ? tenant_b_s : tenant_a_s, user_a_s };
            myappctx_stmt s = { count_sql, 2, p };
            PGresult *res;
            myappctx_error err;
            tu_assert_ok(myappctx_run_in_context(conns[k], &ctx, &s, 1, &res, &err), err);
            const char *want = t == 0 ? "2/2" : t == 1 ? "1/1" : "0/0";
            ck_assert_msg(strcmp(PQgetvalue(res, 0, 0), want) == 0, "conn %d tenant %d: %s", k, t,
                          PQgetvalue(res, 0, 0));
            PQclear(res);
        }
    }
    /* Session scope (direct connection): api.get_my_orders() through RLS. */
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user_a;
    ctx.tenant_id = &tenant_b;
    myappctx_error err;
    tu_assert_ok(myappctx_context_set(conns[0], &ctx, &err), err);
    tu_expect_value(conns[0], "SELECT string_agg(item, ',') FROM api.get_my_orders()", 0, NULL,
                    "b1");
    myappctx_conn_close(conns[0]);
    myappctx_pool_release(pool, conns[1]);
    myappctx_conn_close(conns[2]);
    myappctx_pool_free(pool);
}
END_TEST

/* Session-level changes reach the client as ParameterStatus in the round
 * trip that made them: the sealed context, its clearing, and an
 * impersonation started with raw SQL.  A unit's local context (one
 * pipeline) is never reported. */
START_TEST(session_changes_arrive_as_parameter_status)
{
    myappctx_conn *c = sealed_app();
    PGconn *pg = c->pg;
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.current_user_id"), "");
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = admin;
    ctx.tenant_id = &tenant_a;
    myappctx_error err;
    tu_trace t = tu_trace_start(c);
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    ck_assert_int_eq(tu_trace_round_trips(t), 1);
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.current_user_id"), admin_s);
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.current_tenant_id"), tenant_a_s);
    ck_assert(mxi_seal_session_context(c));
    printf("# after myappctx_context_set (1 round trip): myapp.current_user_id = %s\n",
           PQparameterStatus(pg, "myapp.current_user_id"));

    /* Impersonation by raw SQL (as the sealed admin): reported too. */
    char sql[160];
    char target[MYAPPCTX_UUID_BUFSIZE];
    myappctx_uuid_format(&user_b, target);
    snprintf(sql, sizeof sql, "SELECT api.impersonate_user('%s'::uuid)", target);
    t = tu_trace_start(c);
    tu_sql(pg, sql);
    ck_assert_int_eq(tu_trace_round_trips(t), 1);
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.original_user_id"), admin_s);
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.current_user_id"), target);
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.is_impersonating"), "true");

    tu_assert_ok(myappctx_context_clear(c, &err), err);
    for (size_t i = 0; i < NVARS; i++) {
        char name[64];
        snprintf(name, sizeof name, "myapp.%s", context_vars[i]);
        if (strcmp(context_vars[i], "loaded_settings") != 0)
            ck_assert_msg(strcmp(PQparameterStatus(pg, name), "") == 0, "%s = '%s'", name,
                          PQparameterStatus(pg, name));
    }
    ck_assert(!mxi_seal_session_context(c));

    myappctx_txn_context tctx = MYAPPCTX_TXN_CONTEXT_INIT;
    tctx.user_id = &user_a;
    myappctx_stmt s = { "SELECT current_setting('myapp.current_user_id')", 0, NULL };
    PGresult *res;
    tu_assert_ok(myappctx_run_in_context(c, &tctx, &s, 1, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), user_a_s);
    PQclear(res);
    ck_assert_str_eq(PQparameterStatus(pg, "myapp.current_user_id"), "");
    myappctx_conn_close(c);
}
END_TEST

/* The pool knows from those reports that a borrower left session-level
 * context: it resets at release (the next borrower's connection is clean
 * before it sends anything). */
START_TEST(pool_resets_reported_session_context_at_release)
{
    myappctx_pool_config cfg = sealed_pool_config(TU_APP_CONNINFO, 1, 1);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *a = tu_pool_acquire(pool);
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user_a;
    myappctx_error err;
    tu_assert_ok(myappctx_context_set(a, &ctx, &err), err);
    ck_assert_str_eq(PQparameterStatus(a->pg, "myapp.current_user_id"), user_a_s);
    myappctx_pool_release(pool, a);
    myappctx_conn *b = tu_pool_acquire(pool);
    ck_assert_ptr_eq(a, b);
    /* Read without the owner's prepare hook: what release left. */
    ck_assert_str_eq(PQparameterStatus(b->pg, "myapp.current_user_id"), "");
    tu_assert_no_context(b, "next borrower");

    myappctx_txn_context tctx = MYAPPCTX_TXN_CONTEXT_INIT;
    tctx.user_id = &user_a;
    myappctx_stmt s = { "SELECT 1", 0, NULL };
    tu_assert_ok(myappctx_run_in_context(b, &tctx, &s, 1, NULL, &err), err);
    myappctx_pool_release(pool, b);
    myappctx_conn *d = tu_pool_acquire(pool);
    /* Units only: nothing reported, and the next unit costs one round trip. */
    tu_trace t = { tmpfile(), d->pg };
    PQtrace(t.pg, t.file);
    tu_assert_ok(myappctx_run_in_context(d, &tctx, &s, 1, NULL, &err), err);
    ck_assert_int_eq(tu_trace_round_trips(t), 1);
    myappctx_pool_release(pool, d);
    myappctx_pool_free(pool);
}
END_TEST

/* Units cost what they cost unsealed: one round trip on a direct, a pooled
 * and a PgBouncer connection. */
START_TEST(units_keep_their_round_trips)
{
    myappctx_pool_config cfg = sealed_pool_config(TU_APP_CONNINFO, 1, 1);
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *conns[3] = { sealed_app(), tu_pool_acquire(pool),
                                sealed_open(tu_pgbouncer_conninfo("app_service"), 1) };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user_a;
    ctx.tenant_id = &tenant_a;
    ctx.audit_reason = "because";
    const char *p[] = { user_a_s };
    myappctx_stmt s = { "SELECT private.get_current_user_id() = $1::uuid "
                        "AND private.get_audit_context()->>'reason' = 'because'", 1, p };
    myappctx_error err;
    for (int k = 0; k < 3; k++) {
        for (int round = 0; round < 3; round++) {
            PGresult *res;
            tu_trace t = { tmpfile(), conns[k]->pg };
            PQtrace(t.pg, t.file);
            tu_assert_ok(myappctx_run_in_context(conns[k], &ctx, &s, 1, &res, &err), err);
            ck_assert_int_eq(tu_trace_round_trips(t), 1);
            ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
            PQclear(res);
            t = (tu_trace){ tmpfile(), conns[k]->pg };
            PQtrace(t.pg, t.file);
            tu_assert_ok(myappctx_begin_as_user(conns[k], &user_a, &tenant_a, "manager", &err), err);
            ck_assert_int_eq(tu_trace_round_trips(t), 1);
            tu_expect_value(conns[k], "SELECT private.get_current_role()", 0, NULL, "manager");
            tu_assert_ok(myappctx_commit(conns[k], &err), err);
        }
    }
    myappctx_conn_close(conns[0]);
    myappctx_pool_release(pool, conns[1]);
    myappctx_conn_close(conns[2]);
    myappctx_pool_free(pool);
}
END_TEST

/* A stream the server does not know (here: its id spoiled, as after a
 * restart) is MX004: the library opens a new one and sends the unit again
 * -- three round trips, no error; inside a caller's transaction it cannot
 * resend, so the call fails and the next one opens the stream. */
START_TEST(a_lost_stream_is_reopened)
{
    myappctx_conn *c = sealed_app();
    c->seal->stream[0] ^= 0xff;
    mxi_hmac_bytea(c->seal->stream_param, c->seal->stream, 16);
    unsigned char spoiled[16];
    memcpy(spoiled, c->seal->stream, 16);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user_a;
    myappctx_stmt s = { "SELECT current_setting('myapp.current_user_id')", 0, NULL };
    PGresult *res;
    myappctx_error err;
    tu_trace t = { tmpfile(), c->pg };
    PQtrace(t.pg, t.file);
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, &res, &err), err);
    ck_assert_int_eq(tu_trace_round_trips(t), 3);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), user_a_s);
    PQclear(res);
    ck_assert(memcmp(spoiled, c->seal->stream, 16) != 0);

    /* Session scope: resent too. */
    c->seal->stream[0] ^= 0xff;
    mxi_hmac_bytea(c->seal->stream_param, c->seal->stream, 16);
    myappctx_context sctx = MYAPPCTX_CONTEXT_INIT;
    sctx.user_id = user_a;
    tu_assert_ok(myappctx_context_set(c, &sctx, &err), err);

    /* Inside the caller's transaction: refused, then reopened. */
    c->seal->stream[0] ^= 0xff;
    mxi_hmac_bytea(c->seal->stream_param, c->seal->stream, 16);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_expect_state(myappctx_context_set_local(c, &user_a, NULL, NULL, &err), MYAPPCTX_ESEAL, err,
                    "MX004");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_context_set_local(c, &user_a, NULL, NULL, &err), err);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* The calls that are not units: each goes through the seal, and keeps the
 * semantics of its unsealed counterpart. */
START_TEST(session_and_transaction_calls)
{
    myappctx_conn *c = sealed_app();
    myappctx_error err;
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = admin;
    ctx.tenant_id = &tenant_a;
    ctx.session_id = "web-7";
    ctx.metadata = json_pack("{s:i}", "a", 1);
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    json_decref(ctx.metadata);
    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert(info->has_user_id && myappctx_uuid_equal(&info->user_id, &admin));
    ck_assert_str_eq(info->role_label, "user");
    ck_assert_str_eq(info->session_id, "web-7");
    myappctx_context_info_free(info);

    /* set_local: user, tenant, role for the transaction; the session id and
     * the audit context stay. */
    char want[512];
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_assert_ok(myappctx_audit_set(c, "support", "T-1", &err), err);
    tu_assert_ok(myappctx_context_set_local(c, &user_a, &tenant_b, "manager", &err), err);
    static const char SEEN[] =
        "SELECT concat_ws(',', private.get_current_user_id(), private.get_current_tenant_id(), "
        "private.get_current_role(), current_setting('myapp.session_id'), "
        "private.get_audit_context()->>'reason', private.get_audit_context()->>'ticket')";
    snprintf(want, sizeof want, "%s,%s,manager,web-7,support,T-1", user_a_s, tenant_b_s);
    tu_expect_value(c, SEEN, 0, NULL, want);
    /* audit_set: the transaction's user, tenant and role stay. */
    tu_assert_ok(myappctx_audit_set(c, "billing", NULL, &err), err);
    snprintf(want, sizeof want, "%s,%s,manager,web-7,billing", user_a_s, tenant_b_s);
    tu_expect_value(c, SEEN, 0, NULL, want);
    tu_assert_ok(myappctx_rollback(c, &err), err);
    /* Back to the session's context after the transaction. */
    snprintf(want, sizeof want, "%s,%s,user,web-7", admin_s, tenant_a_s);
    tu_expect_value(c, SEEN, 0, NULL, want);

    /* Impersonation through the library, then the sealed clear. */
    tu_assert_ok(myappctx_impersonate(c, &user_b, &err), err);
    myappctx_impersonation_status st;
    tu_assert_ok(myappctx_impersonation_status_get(c, &st, &err), err);
    ck_assert(st.active);
    tu_assert_ok(myappctx_context_clear(c, &err), err);
    tu_assert_no_context(c, "after myappctx_context_clear");
    tu_assert_ok(myappctx_impersonation_status_get(c, &st, &err), err);
    ck_assert(!st.active);

    /* Settings and connection init: the sealed loaders. */
    int n = -1;
    tu_assert_ok(myappctx_settings_load(c, &n, &err), err);
    ck_assert_int_ge(n, 0);
    tu_assert_ok(myappctx_conn_init(c, &err), err);

    /* No context in effect: an audit context has nothing to be sealed with. */
    tu_assert_ok(myappctx_begin(c, &err), err);
    tu_expect(myappctx_audit_set(c, "r", "t", &err), MYAPPCTX_ENOCONTEXT, err, "sealed");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    myappctx_conn_close(c);

    /* Behind PgBouncer: units yes (above), session scope no. */
    myappctx_conn *b = sealed_open(tu_pgbouncer_conninfo("app_service"), 1);
    ctx = (myappctx_context)MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = user_a;
    tu_expect(myappctx_context_set(b, &ctx, &err), MYAPPCTX_ESESSIONSTATE, err, NULL);
    myappctx_conn_close(b);
}
END_TEST

/* Where sealed connections are refused, the connect says why. */
START_TEST(refused_connects_say_why)
{
    myappctx_conn *c = NULL;
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.seal_key = key;
    opts.seal_key_len = key_len;
    myappctx_error err;
    /* The superuser: the library refuses it (RLS does not apply), and with
     * allow_privileged the seal does (it protects nothing for it: MX006). */
    tu_expect(myappctx_conn_open(&c, "", &opts, &err), MYAPPCTX_EPRIVILEGED, err, NULL);
    opts.allow_privileged = 1;
    tu_expect_state(myappctx_conn_open(&c, "", &opts, &err), MYAPPCTX_ESEAL, err, "MX006");
    printf("# sealed connect as the superuser (allow_privileged) -> %s [%s]\n", err.message,
           err.sqlstate);
    opts.allow_privileged = 0;
    /* A database without the extension. */
    char *db = tu_create_database("sealed_noext");
    char conninfo[256];
    snprintf(conninfo, sizeof conninfo, "%s user=app_service", db);
    tu_expect(myappctx_conn_open(&c, conninfo, &opts, &err), MYAPPCTX_ESCHEMA, err,
              "myappctx schema install");
    printf("# sealed connect to a database without the extension -> %s [%s]\n", err.message,
           err.sqlstate);
    tu_drop_database(db);
    free(db);
    /* A key of the wrong length, before anything is sent. */
    opts.seal_key_len = 16;
    tu_expect(myappctx_conn_open(&c, TU_APP_CONNINFO, &opts, &err), MYAPPCTX_EINVAL, err,
              "seal_key_len");
}
END_TEST

/* The tool says how the server runs the extension: the shared mode, and
 * the fingerprint of the key this client holds (MYAPPCTX_TOOL, set by make
 * check, is the built tools/myappctx). */
START_TEST(schema_status_reports_the_seal)
{
    const char *tool = getenv("MYAPPCTX_TOOL");
    ck_assert_msg(tool != NULL, "MYAPPCTX_TOOL is set by make check");
    char cmd[4200], out[8192] = "";
    snprintf(cmd, sizeof cmd, "'%s' schema status --json", tool);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    json_error_t jerr;
    json_t *doc = json_loads(out, 0, &jerr);
    ck_assert_msg(doc != NULL, "not JSON: %s", out);
    json_t *seal = json_object_get(doc, "sealed_mode");
    char id[MYAPPCTX_SEAL_KEY_ID_SIZE];
    myappctx_error err;
    tu_assert_ok(myappctx_seal_key_id(id, key, key_len, &err), err);
    ck_assert(json_is_true(json_object_get(seal, "available")));
    ck_assert_str_eq(json_string_value(json_object_get(seal, "installed")), "1.0");
    ck_assert_str_eq(json_string_value(json_object_get(seal, "mode")), "shared");
    ck_assert(json_is_true(json_object_get(seal, "key_loaded")));
    ck_assert_str_eq(json_string_value(json_object_get(seal, "key_id")), id);
    json_decref(doc);

    snprintf(cmd, sizeof cmd, "'%s' schema status", tool);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_msg(strstr(out, "sealed mode: extension myappctx_seal 1.0 installed, loaded: "
                              "shared_preload_libraries, key loaded") != NULL, "%s", out);
    printf("# %s", strstr(out, "sealed mode:"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("sealed");
    TCase *tc = tcase_create("sealed");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, raw_writes_of_every_context_variable_are_refused);
    tcase_add_test(tc, injected_sql_in_a_unit_cannot_forge_the_tenant);
    tcase_add_test(tc, a_foreign_role_is_cleared_for_the_unit);
    tcase_add_test(tc, another_key_is_refused);
    tcase_add_test(tc, a_tampered_field_is_refused);
    tcase_add_test(tc, a_replayed_mac_is_refused);
    tcase_add_test(tc, row_level_security_through_the_sealed_context);
    tcase_add_test(tc, session_changes_arrive_as_parameter_status);
    tcase_add_test(tc, pool_resets_reported_session_context_at_release);
    tcase_add_test(tc, units_keep_their_round_trips);
    tcase_add_test(tc, a_lost_stream_is_reopened);
    tcase_add_test(tc, session_and_transaction_calls);
    tcase_add_test(tc, refused_connects_say_why);
    tcase_add_test(tc, schema_status_reports_the_seal);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
