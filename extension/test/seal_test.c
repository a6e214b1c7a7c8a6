/* TAP tests of myappctx_seal against a live server -- and the reference
 * implementation of the client side: seal_field()/context_mac()/open_mac()
 * below are what libmyappctx has to compute (extension/README.md, "Wire
 * format"), with OpenSSL's HMAC, as the library will.
 *
 * Run by test/run.sh inside tests/harness/with-server.sh, which exports
 * PGHOST/PGPORT/PGDATABASE (superuser postgres).  Also read:
 *   SEAL_MODE        shared | backend | inert (how the server loaded us)
 *   SEAL_KEY_HEX     the key in the key file (empty: none configured)
 *   SEAL_KEY_FILE    its path (rotation tests rewrite it)
 *   SEAL_APP_ROLE    the application role (default app_service)
 *   SEAL_MAX_STREAMS the server's myappctx_seal.max_streams
 *   MYAPPCTX_PGBOUNCER_HOST/_PORT  PgBouncer in transaction mode (optional)
 *
 * Every check prints one TAP line; the plan comes last. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "context_vars.h"     /* lib/core: the library's one list of names */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define U1 "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define U2 "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
#define T1 "11111111-1111-1111-1111-111111111111"
#define T2 "22222222-2222-2222-2222-222222222222"

#define SET_SQL "SELECT myappctx_seal.set_context($1::bytea, $2::bigint, $3::boolean, " \
    "$4, $5, $6, $7, $8, $9, $10, $11::bytea)"
#define OPEN_SQL "SELECT myappctx_seal.open_stream($1::boolean, $2::bytea)"

static int ntests;
static int nfailed;
static const char *mode;
static const char *app_role;

/* ------------------------------------------------------------ TAP ---- */

static int
ok(int cond, const char *fmt, ...)
{
    va_list ap;

    ntests++;
    if (!cond)
        nfailed++;
    printf("%sok %d - ", cond ? "" : "not ", ntests);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

static void
diag(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void
bail(const char *fmt, ...)
{
    va_list ap;

    printf("Bail out! ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit(1);
}

/* ------------------------------------------------ the sealed client ---- */

struct seal_key {
    unsigned char bytes[64];
    int len;
};

/* One field of a MAC'd message: 4-byte big-endian length, then the bytes. */
struct msg {
    unsigned char buf[70000 * 2];
    size_t len;
};

static void
seal_field(struct msg *m, const void *data, size_t len)
{
    if (m->len + 4 + len > sizeof(m->buf))
        bail("message too long");
    m->buf[m->len++] = (unsigned char) (len >> 24);
    m->buf[m->len++] = (unsigned char) (len >> 16);
    m->buf[m->len++] = (unsigned char) (len >> 8);
    m->buf[m->len++] = (unsigned char) len;
    memcpy(m->buf + m->len, data, len);
    m->len += len;
}

static void
seal_text(struct msg *m, const char *s)
{
    seal_field(m, s, strlen(s));
}

static void
hmac_msg(const struct seal_key *k, const struct msg *m, unsigned char out[32])
{
    unsigned int outlen = 0;

    if (HMAC(EVP_sha256(), k->bytes, k->len, m->buf, m->len, out, &outlen) == NULL ||
        outlen != 32)
        bail("HMAC failed");
}

/* The context fields after stream, counter and scope, in MAC order. */
struct ctx_fields {
    const char *user, *tenant, *role, *session, *metadata, *reason, *ticket;
};

static void
context_mac(const struct seal_key *k, const unsigned char stream[16], long long counter,
            int is_local, const struct ctx_fields *f, unsigned char out[32])
{
    static struct msg m;
    unsigned char be[8];

    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char) ((unsigned long long) counter >> (56 - 8 * i));
    m.len = 0;
    seal_text(&m, "myappctx_seal/v1/context");
    seal_field(&m, stream, 16);
    seal_field(&m, be, 8);
    seal_text(&m, is_local ? "local" : "session");
    seal_text(&m, f->user);
    seal_text(&m, f->tenant);
    seal_text(&m, f->role);
    seal_text(&m, f->session);
    seal_text(&m, f->metadata);
    seal_text(&m, f->reason);
    seal_text(&m, f->ticket);
    hmac_msg(k, &m, out);
}

static void
open_mac(const struct seal_key *k, int bind, unsigned char out[32])
{
    struct msg *m = calloc(1, sizeof(*m));

    seal_text(m, "myappctx_seal/v1/open");
    seal_text(m, bind ? "backend" : "any");
    hmac_msg(k, m, out);
    free(m);
}

static void
key_id(const struct seal_key *k, char out[17])
{
    struct msg *m = calloc(1, sizeof(*m));
    unsigned char mac[32];

    seal_text(m, "myappctx_seal/v1/key_id");
    hmac_msg(k, m, mac);
    for (int i = 0; i < 8; i++)
        sprintf(out + 2 * i, "%02x", mac[i]);
    free(m);
}

static int
parse_key(struct seal_key *k, const char *hex)
{
    size_t n = hex ? strlen(hex) : 0;

    if (n < 64 || n > 128 || n % 2)
        return 0;
    for (size_t i = 0; i < n; i += 2) {
        unsigned int b;
        if (sscanf(hex + i, "%2x", &b) != 1)
            return 0;
        k->bytes[i / 2] = (unsigned char) b;
    }
    k->len = (int) (n / 2);
    return 1;
}

/* bytea text input: \x<hex>. */
static void
to_bytea(char *out, const unsigned char *b, size_t n)
{
    out[0] = '\\';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 + 2 * i, "%02x", b[i]);
}

/* The eleven parameters of SET_SQL, MAC computed over them. */
struct ctx_call {
    char stream[2 + 2 * 16 + 1];
    char counter[24];
    char mac[2 + 2 * 32 + 1];
    const char *p[11];
};

static void
ctx_call_build(struct ctx_call *cc, const struct seal_key *k, const unsigned char stream[16],
               long long counter, int is_local, const struct ctx_fields *f)
{
    unsigned char mac[32];

    context_mac(k, stream, counter, is_local, f, mac);
    to_bytea(cc->stream, stream, 16);
    snprintf(cc->counter, sizeof(cc->counter), "%lld", counter);
    to_bytea(cc->mac, mac, 32);
    cc->p[0] = cc->stream;
    cc->p[1] = cc->counter;
    cc->p[2] = is_local ? "true" : "false";
    cc->p[3] = f->user;
    cc->p[4] = f->tenant;
    cc->p[5] = f->role;
    cc->p[6] = f->session;
    cc->p[7] = f->metadata;
    cc->p[8] = f->reason;
    cc->p[9] = f->ticket;
    cc->p[10] = cc->mac;
}

/* A connection with its stream and counter: one per connection, units one
 * after the other -- what the library keeps per myappctx_conn. */
struct sealed {
    PGconn *c;
    unsigned char stream[16];
    long long counter;
    const struct seal_key *key;
};

/* ---------------------------------------------------------- libpq ---- */

static const char *pg_host, *pg_port, *pg_db;
static char last_notice[1024];

static void
notice_rx(void *arg, const PGresult *res)
{
    (void) arg;
    snprintf(last_notice, sizeof(last_notice), "%s", PQresultErrorMessage(res));
}

static PGconn *
connect_as(const char *host, const char *port, const char *db, const char *user,
           const char *options)
{
    const char *kw[] = {"host", "port", "dbname", "user", "options", "application_name", NULL};
    const char *val[] = {host, port, db, user, options ? options : "", "seal_test", NULL};
    PGconn *c = PQconnectdbParams(kw, val, 0);

    if (PQstatus(c) != CONNECTION_OK)
        bail("connect as %s: %s", user, PQerrorMessage(c));
    PQsetNoticeReceiver(c, notice_rx, NULL);
    return c;
}

static PGconn *
app_conn(void)
{
    return connect_as(pg_host, pg_port, pg_db, app_role, NULL);
}

static PGresult *
run(PGconn *c, const char *sql, int n, const char *const *p)
{
    return PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
}

static int
res_ok(PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);

    return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
}

static const char *
state_of(PGresult *r)
{
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    return res_ok(r) ? "00000" : s ? s : "?????";
}

/* Runs sql; passes if it succeeds. */
static int
expect_ok(PGconn *c, const char *name, const char *sql, int n, const char *const *p)
{
    PGresult *r = run(c, sql, n, p);
    int good = ok(res_ok(r), "%s", name);

    if (!good)
        diag("  %s: %s", state_of(r), PQresultErrorMessage(r));
    PQclear(r);
    return good;
}

/* Runs sql; passes if it fails with SQLSTATE want. */
static int
expect_state(PGconn *c, const char *want, const char *name, const char *sql, int n,
             const char *const *p)
{
    PGresult *r = run(c, sql, n, p);
    const char *got = state_of(r);
    int good = ok(strcmp(got, want) == 0, "%s: %s", name, want);

    if (!good)
        diag("  got %s: %s", got, res_ok(r) ? "(success)" : PQresultErrorMessage(r));
    PQclear(r);
    if (PQtransactionStatus(c) == PQTRANS_INERROR)
        PQclear(PQexec(c, "ROLLBACK"));
    return good;
}

/* First column of the first row, or NULL on error / SQL NULL (malloc'd). */
static char *
scalar(PGconn *c, const char *sql, int n, const char *const *p)
{
    PGresult *r = run(c, sql, n, p);
    char *v = NULL;

    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strdup(PQgetvalue(r, 0, 0));
    else if (!res_ok(r))
        diag("  scalar(%s): %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

static int
scalar_is(PGconn *c, const char *want, const char *name, const char *sql, int n,
          const char *const *p)
{
    char *v = scalar(c, sql, n, p);
    int good = ok(v != NULL && strcmp(v, want) == 0, "%s", name);

    if (!good)
        diag("  got '%s', want '%s'", v ? v : "(null)", want);
    free(v);
    return good;
}

static void
must(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);

    if (!res_ok(r))
        bail("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* ----------------------------------------------- sealed operations ---- */

static PGresult *
open_stream_res(PGconn *c, const struct seal_key *k, int bind)
{
    unsigned char mac[32];
    char machex[2 + 64 + 1];
    const char *p[2];

    open_mac(k, bind, mac);
    to_bytea(machex, mac, 32);
    p[0] = bind ? "true" : "false";
    p[1] = machex;
    return run(c, OPEN_SQL, 2, p);
}

static int
parse_bytea(const char *text, unsigned char *out, size_t n)
{
    if (strncmp(text, "\\x", 2) != 0 || strlen(text) != 2 + 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned int b;
        if (sscanf(text + 2 + 2 * i, "%2x", &b) != 1)
            return 0;
        out[i] = (unsigned char) b;
    }
    return 1;
}

/* Opens a stream on s->c; bails out on failure (the tests need it). */
static void
sealed_open(struct sealed *s, PGconn *c, const struct seal_key *k, int bind)
{
    PGresult *r = open_stream_res(c, k, bind);

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
        !parse_bytea(PQgetvalue(r, 0, 0), s->stream, 16))
        bail("open_stream(%s): %s", bind ? "true" : "false", PQresultErrorMessage(r));
    PQclear(r);
    s->c = c;
    s->key = k;
    s->counter = 0;
}

static const struct ctx_fields F_U1T1 = {U1, T1, "manager", "web-1", "", "", ""};
static const struct ctx_fields F_U2T2 = {U2, T2, "user", "", "", "", ""};

/* Sends one sealed context with the next counter; returns the result. */
static PGresult *
sealed_set(struct sealed *s, int is_local, const struct ctx_fields *f)
{
    struct ctx_call cc;

    ctx_call_build(&cc, s->key, s->stream, ++s->counter, is_local, f);
    return run(s->c, SET_SQL, 11, cc.p);
}

static int
sealed_expect(struct sealed *s, int is_local, const struct ctx_fields *f, const char *want,
              const char *name)
{
    PGresult *r = sealed_set(s, is_local, f);
    const char *got = state_of(r);
    int good = ok(strcmp(got, want) == 0, "%s: %s", name, want);

    if (!good)
        diag("  got %s: %s", got, res_ok(r) ? "(success)" : PQresultErrorMessage(r));
    PQclear(r);
    if (PQtransactionStatus(s->c) == PQTRANS_INERROR)
        PQclear(PQexec(s->c, "ROLLBACK"));
    return good;
}

static const char *
pstatus(PGconn *c, const char *name)
{
    const char *v = PQparameterStatus(c, name);

    return v ? v : "(not reported)";
}

/* ------------------------------------------------------------- tests ---- */

static struct seal_key key, other_key;
static PGconn *su;

static void
test_status(const char *want_mode, int want_key)
{
    PGconn *c = app_conn();
    char id[17];

    scalar_is(c, want_mode, "status(): mode", "SELECT mode FROM myappctx_seal.status()", 0, NULL);
    scalar_is(c, want_key ? "t" : "f", "status(): key_loaded",
              "SELECT key_loaded FROM myappctx_seal.status()", 0, NULL);
    if (want_key) {
        key_id(&key, id);
        scalar_is(c, id, "status(): key_id is the client's HMAC(key, \"myappctx_seal/v1/key_id\")",
                  "SELECT key_id FROM myappctx_seal.status()", 0, NULL);
    }
    PQfinish(c);
}

static void
test_open(void)
{
    PGconn *c = app_conn();
    PGresult *r;
    unsigned char id[16];
    const char *p[2];
    char machex[2 + 64 + 1];
    unsigned char mac[32];

    r = open_stream_res(c, &key, 1);
    ok(PQresultStatus(r) == PGRES_TUPLES_OK && parse_bytea(PQgetvalue(r, 0, 0), id, 16),
       "open_stream(true) with the right MAC returns a 16-byte stream id");
    PQclear(r);

    r = open_stream_res(c, &other_key, 1);
    ok(strcmp(state_of(r), "MX001") == 0, "open_stream with another key's MAC: MX001");
    PQclear(r);

    /* The MAC covers the binding: a "backend" MAC does not open an unbound stream. */
    open_mac(&key, 1, mac);
    to_bytea(machex, mac, 32);
    p[0] = "false";
    p[1] = machex;
    expect_state(c, strcmp(mode, "shared") == 0 ? "MX001" : "MX007",
                 "open_stream(false) with the MAC made for true", OPEN_SQL, 2, p);
    p[0] = NULL;
    expect_state(c, "MX005", "open_stream(NULL, mac)", OPEN_SQL, 2, p);
    PQfinish(c);

    /* Login roles for which the seal means nothing are refused (MX006). */
    r = open_stream_res(su, &key, 1);
    ok(strcmp(state_of(r), "MX006") == 0, "open_stream as a superuser: MX006");
    if (strcmp(state_of(r), "MX006") != 0)
        diag("  got %s: %s", state_of(r), PQresultErrorMessage(r));
    PQclear(r);

    static const struct {
        const char *role, *setup, *what;
    } unsafe[] = {
        {"seal_reader", "GRANT pg_read_server_files TO seal_reader", "member of pg_read_server_files"},
        {"seal_writer", "GRANT pg_write_server_files TO seal_writer", "member of pg_write_server_files"},
        {"seal_program", "GRANT pg_execute_server_program TO seal_program", "member of pg_execute_server_program"},
        {"seal_setter", "GRANT SET ON PARAMETER myapp.current_tenant_id TO seal_setter",
         "holding SET on myapp.current_tenant_id"},
        {"seal_bypass", "ALTER ROLE seal_bypass BYPASSRLS", "with BYPASSRLS"},
        {"seal_creator", "ALTER ROLE seal_creator CREATEROLE", "with CREATEROLE"},
        {"seal_defaulted", "ALTER ROLE seal_defaulted SET myapp.current_tenant_id = '" T2 "'",
         "with a default for myapp.current_tenant_id"},
    };
    for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
        char sql[256];
        PGconn *u;

        snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", unsafe[i].role);
        must(su, sql);
        must(su, unsafe[i].setup);
        u = connect_as(pg_host, pg_port, pg_db, unsafe[i].role, NULL);
        r = open_stream_res(u, &key, 1);
        ok(strcmp(state_of(r), "MX006") == 0, "open_stream as a role %s: MX006", unsafe[i].what);
        if (strcmp(state_of(r), "MX006") != 0)
            diag("  got %s: %s", state_of(r), PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(u);
    }
}

/* Reads the context variables the verifier sets, as one row. */
#define READ_SQL "SELECT current_setting('myapp.current_user_id') || '|' || " \
    "current_setting('myapp.current_tenant_id') || '|' || current_setting('myapp.current_role') " \
    "|| '|' || current_setting('myapp.session_id') || '|' || current_setting('myapp.context_metadata')"

static void
test_scopes(void)
{
    PGconn *c = app_conn();
    struct sealed s;
    struct ctx_fields meta = F_U1T1;
    PGresult *r;

    sealed_open(&s, c, &key, 1);

    /* Transaction scope inside an explicit transaction block. */
    must(c, "BEGIN");
    meta.metadata = "{\"b\": 2, \"a\": [1, \"x\"]}";
    sealed_expect(&s, 1, &meta, "00000", "local context inside BEGIN ... COMMIT");
    scalar_is(c, U1 "|" T1 "|manager|web-1|{\"a\": [1, \"x\"], \"b\": 2}",
              "local: user, tenant, role, session id, metadata (normalized jsonb) are set",
              READ_SQL, 0, NULL);
    scalar_is(c, "t", "local: context_created_at is now() in ISO 8601",
              "SELECT current_setting('myapp.context_created_at')::timestamptz = now() "
              "AND current_setting('myapp.context_created_at') ~ '^\\d{4}-\\d\\d-\\d\\dT'", 0, NULL);
    ok(strcmp(pstatus(c, "myapp.current_user_id"), U1) == 0,
       "ParameterStatus: a local change is reported while the transaction block is open");
    must(c, "COMMIT");
    scalar_is(c, "||||", "local: everything is gone after COMMIT", READ_SQL, 0, NULL);
    ok(strcmp(pstatus(c, "myapp.current_user_id"), "") == 0,
       "ParameterStatus: the end of the transaction is reported ('')");

    /* Transaction scope in one pipeline ending in one Sync: the library's
     * one-round-trip unit. */
    {
        struct ctx_call cc;
        PGresult *set, *sel, *sync;
        char *after;

        ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &F_U2T2);
        if (!PQenterPipelineMode(c))
            bail("pipeline mode");
        PQsendQueryParams(c, SET_SQL, 11, NULL, cc.p, NULL, NULL, 0);
        PQsendQueryParams(c, "SELECT current_setting('myapp.current_user_id') || '|' || "
                          "current_setting('myapp.current_tenant_id')", 0, NULL, NULL, NULL, NULL, 0);
        PQpipelineSync(c);
        set = PQgetResult(c);
        PQclear(PQgetResult(c));            /* NULL: end of the first query */
        sel = PQgetResult(c);
        PQclear(PQgetResult(c));
        sync = PQgetResult(c);
        ok(res_ok(set) && PQresultStatus(sel) == PGRES_TUPLES_OK &&
           strcmp(PQgetvalue(sel, 0, 0), U2 "|" T2) == 0 &&
           PQresultStatus(sync) == PGRES_PIPELINE_SYNC,
           "pipeline: set_context(local) + statement + one Sync: the statement sees the context");
        if (!res_ok(set))
            diag("  %s", PQresultErrorMessage(set));
        PQclear(set);
        PQclear(sel);
        PQclear(sync);
        PQexitPipelineMode(c);
        after = scalar(c, "SELECT current_setting('myapp.current_user_id')", 0, NULL);
        ok(after != NULL && after[0] == '\0', "pipeline: the context is gone after the Sync");
        free(after);
    }

    /* Session scope. */
    sealed_expect(&s, 0, &F_U1T1, "00000", "session context (bound stream)");
    scalar_is(c, U1 "|" T1 "|manager|web-1|", "session: the context lasts beyond its transaction",
              READ_SQL, 0, NULL);
    /* left(format('myapp[user=%s,tenant=%s]', ...), 63): the tenant keeps 8 characters */
    scalar_is(c, "myapp[user=" U1 ",tenant=11111111",
              "session: application_name as api.set_context() sets it (63 bytes)",
              "SELECT current_setting('application_name')", 0, NULL);
    ok(strcmp(pstatus(c, "myapp.current_user_id"), U1) == 0 &&
       strcmp(pstatus(c, "myapp.current_tenant_id"), T1) == 0 &&
       strcmp(pstatus(c, "myapp.current_role"), "manager") == 0 &&
       strcmp(pstatus(c, "myapp.session_id"), "web-1") == 0,
       "ParameterStatus: the session-level change of user, tenant, role, session id reached libpq");
    diag("  PQparameterStatus: user=%s tenant=%s role=%s",
         pstatus(c, "myapp.current_user_id"), pstatus(c, "myapp.current_tenant_id"),
         pstatus(c, "myapp.current_role"));

    /* Parallel workers restore the leader's values: a worker evaluates the
     * reader and sees the sealed context. */
    must(c, "SET force_parallel_mode = on");
    must(c, "SET parallel_setup_cost = 0");
    must(c, "SET parallel_tuple_cost = 0");
    {
        PGresult *r = run(c, "EXPLAIN (COSTS OFF) SELECT current_setting('myapp.current_user_id') "
                          "FROM pg_catalog.pg_class LIMIT 1", 0, NULL);
        int gather = 0;
        for (int i = 0; res_ok(r) && i < PQntuples(r); i++)
            gather |= strstr(PQgetvalue(r, i, 0), "Gather") != NULL;
        ok(gather, "parallel worker: EXPLAIN shows a Gather over the reader");
        PQclear(r);
    }
    scalar_is(c, U1 "|" T1, "parallel worker: the worker reads the sealed session context",
              "SELECT current_setting('myapp.current_user_id') || '|' || "
              "current_setting('myapp.current_tenant_id') FROM pg_catalog.pg_class LIMIT 1", 0, NULL);
    must(c, "RESET force_parallel_mode");
    must(c, "RESET parallel_setup_cost");
    must(c, "RESET parallel_tuple_cost");

    /* A local context hides the session one completely, then it is back. */
    must(c, "BEGIN");
    sealed_expect(&s, 1, &F_U2T2, "00000", "local context over a session context");
    scalar_is(c, U2 "|" T2 "|user||", "local over session: every field is the local one",
              READ_SQL, 0, NULL);
    must(c, "COMMIT");
    scalar_is(c, U1 "|" T1 "|manager|web-1|", "local over session: after COMMIT the session context is back",
              READ_SQL, 0, NULL);

    r = run(c, "SELECT myappctx_seal.clear_context()", 0, NULL);
    ok(res_ok(r), "clear_context() as the application role");
    PQclear(r);
    scalar_is(c, "||||", "clear_context(): the context variables are reset", READ_SQL, 0, NULL);
    ok(strcmp(pstatus(c, "myapp.current_user_id"), "") == 0 &&
       strcmp(pstatus(c, "myapp.current_tenant_id"), "") == 0,
       "ParameterStatus: the reset reached libpq ('')");
    scalar_is(c, "seal_test", "clear_context(): application_name is reset",
              "SELECT current_setting('application_name')", 0, NULL);

    /* RESET ALL (and DISCARD ALL) clear a sealed context too: fail closed. */
    sealed_expect(&s, 0, &F_U1T1, "00000", "session context again");
    must(c, "RESET ALL");
    scalar_is(c, "||||", "RESET ALL by the application role clears the sealed context", READ_SQL, 0, NULL);
    ok(strcmp(pstatus(c, "myapp.current_user_id"), "") == 0,
       "ParameterStatus: RESET ALL reached libpq ('')");

    /* Audit context: transaction-local only. */
    {
        struct ctx_fields a = F_U1T1;

        a.reason = "fix \"quoted\" \\ reason";
        a.ticket = "";
        must(c, "BEGIN");
        sealed_expect(&s, 1, &a, "00000", "local context with an audit reason");
        scalar_is(c, "fix \"quoted\" \\ reason|null|true",
                  "audit_context: reason verbatim, absent ticket is JSON null, timestamp set",
                  "SELECT (a->>'reason') || '|' || jsonb_typeof(a->'ticket') || '|' || "
                  "((a->>'timestamp')::timestamptz = now())::text FROM "
                  "(SELECT current_setting('myapp.audit_context')::jsonb AS a) AS x", 0, NULL);
        must(c, "COMMIT");
        sealed_expect(&s, 0, &a, "MX005", "audit reason in session scope");
    }
    PQfinish(c);
}

#define CV_NAME(n, kind) "myapp." #n,
static const char *const context_names[] = {MXI_CONTEXT_VARS(CV_NAME)};
#define N_CONTEXT ((int) (sizeof(context_names) / sizeof(context_names[0])))

static void
test_startup_report(void)
{
    PGconn *c = app_conn();
    int all = 1;

    for (int i = 0; i < N_CONTEXT; i++) {
        if (strcmp(pstatus(c, context_names[i]), "") != 0) {
            diag("  %s: %s", context_names[i], pstatus(c, context_names[i]));
            all = 0;
        }
    }
    ok(all, "ParameterStatus: a new connection gets all %d context variables reported ('')",
       N_CONTEXT);
    PQfinish(c);
}

/* Runs fn(c) with libpq's protocol trace on; counts ParameterStatus
 * messages for myapp.* from the server. */
static int
count_reports(PGconn *c, void (*fn)(PGconn *, void *), void *arg)
{
    FILE *f = tmpfile();
    char line[4096];
    int n = 0;

    if (f == NULL)
        bail("tmpfile");
    PQtrace(c, f);
    PQsetTraceFlags(c, PQTRACE_SUPPRESS_TIMESTAMPS);
    fn(c, arg);
    PQuntrace(c);
    rewind(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, "ParameterStatus") != NULL && strstr(line, "\"myapp.") != NULL)
            n++;
    fclose(f);
    return n;
}

/* The test vector of README.md (lines "vector NAME VALUE"), passed by run.sh. */
static char *
vector(const char *name)
{
    const char *path = getenv("SEAL_README");
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[1024];
    size_t len = strlen(name);
    char *v = NULL;

    if (f == NULL)
        bail("SEAL_README not readable");
    while (v == NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "vector ", 7) == 0 && strncmp(line + 7, name, len) == 0 &&
            (line[7 + len] == ' ' || line[7 + len] == '\n')) {
            char *p = line + 7 + len;
            while (*p == ' ')
                p++;
            p[strcspn(p, "\n")] = '\0';
            v = strdup(p);
        }
    }
    fclose(f);
    if (v == NULL)
        bail("README.md has no vector %s", name);
    return v;
}

static void
test_vector(void)
{
    struct seal_key k;
    unsigned char stream[16], mac[32];
    char hex[65], id[17];
    struct ctx_fields f;
    char *s;

    if (!parse_key(&k, vector("key")))
        bail("vector key");
    key_id(&k, id);
    s = vector("key_id");
    ok(strcmp(id, s) == 0, "test vector of README.md: key_id (libcrypto)");
    free(s);
    for (int b = 1; b >= 0; b--) {
        open_mac(&k, b, mac);
        for (int i = 0; i < 32; i++)
            sprintf(hex + 2 * i, "%02x", mac[i]);
        s = vector(b ? "open.backend" : "open.any");
        ok(strcmp(hex, s) == 0, "test vector of README.md: open MAC, %s (libcrypto)", b ? "backend" : "any");
        free(s);
    }
    s = vector("context.stream");
    for (int i = 0; i < 16; i++) {
        unsigned int x;
        sscanf(s + 2 * i, "%2x", &x);
        stream[i] = (unsigned char) x;
    }
    free(s);
    f.user = vector("context.user_id");
    f.tenant = vector("context.tenant_id");
    f.role = vector("context.role");
    f.session = vector("context.session_id");
    f.metadata = vector("context.metadata");
    f.reason = vector("context.audit_reason");
    f.ticket = vector("context.audit_ticket");
    s = vector("context.scope");
    {
        char *counter = vector("context.counter");
        context_mac(&k, stream, atoll(counter), strcmp(s, "local") == 0, &f, mac);
        free(counter);
    }
    free(s);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", mac[i]);
    s = vector("context.mac");
    ok(strcmp(hex, s) == 0, "test vector of README.md: context MAC (libcrypto)");
    free(s);
}

struct pipeline_unit {
    struct sealed *s;
    int is_local;
};

/* One unit as the library sends it: set_context + a statement + one Sync. */
static void
pipeline_unit(PGconn *c, void *arg)
{
    struct pipeline_unit *u = arg;
    struct ctx_call cc;

    ctx_call_build(&cc, u->s->key, u->s->stream, ++u->s->counter, u->is_local, &F_U1T1);
    PQenterPipelineMode(c);
    PQsendQueryParams(c, SET_SQL, 11, NULL, cc.p, NULL, NULL, 0);
    PQsendQueryParams(c, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
    PQpipelineSync(c);
    for (int i = 0; i < 2; i++) {
        PGresult *r = PQgetResult(c);
        if (!res_ok(r))
            diag("  pipeline unit: %s", PQresultErrorMessage(r));
        PQclear(r);
        PQclear(PQgetResult(c));
    }
    PQclear(PQgetResult(c));        /* PGRES_PIPELINE_SYNC */
    PQexitPipelineMode(c);
}

static void
test_report_traffic(void)
{
    PGconn *c = app_conn();
    struct sealed s;
    struct pipeline_unit u = {&s, 1};
    int n;

    sealed_open(&s, c, &key, 1);
    n = count_reports(c, pipeline_unit, &u);
    ok(n == 0, "ParameterStatus: a local unit in one pipeline sends none (PQtrace: %d)", n);
    u.is_local = 0;
    n = count_reports(c, pipeline_unit, &u);
    ok(n > 0, "ParameterStatus: a session-level unit does send them (PQtrace: %d), so the count above means something", n);
    must(c, "SELECT myappctx_seal.clear_context()");
    PQfinish(c);
}

static void
test_tamper(void)
{
    PGconn *c = app_conn();
    struct sealed s;
    struct ctx_call cc;
    static const char *const names[] = {
        "in_stream", "in_counter", "in_is_local", "in_user_id", "in_tenant_id", "in_role",
        "in_session_id", "in_metadata", "in_audit_reason", "in_audit_ticket"
    };
    char other_stream[2 + 32 + 1];
    unsigned char rnd[16];
    struct ctx_fields f = F_U1T1;

    f.reason = "r";
    f.ticket = "t";
    f.metadata = "{\"k\": 1}";
    sealed_open(&s, c, &key, 1);
    RAND_bytes(rnd, 16);
    to_bytea(other_stream, rnd, 16);

    /* Each field changed after the MAC was made. */
    for (int i = 0; i < 10; i++) {
        const char *repl[10] = {
            other_stream, "999", "false", U2, T2, "admin", "web-2", "{\"k\": 2}", "r2", "t2"
        };
        char name[128];

        ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &f);
        cc.p[i] = repl[i];
        snprintf(name, sizeof(name), "tampered %s", names[i]);
        must(c, "BEGIN");
        expect_state(c, "MX001", name, SET_SQL, 11, cc.p);
    }
    /* Moving a byte between adjacent fields keeps the concatenation. */
    {
        struct ctx_fields a = F_U1T1, b = F_U1T1;
        a.role = "ab";
        a.session = "c";
        b.role = "a";
        b.session = "bc";
        ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &a);
        cc.p[5] = b.role;
        cc.p[6] = b.session;
        must(c, "BEGIN");
        expect_state(c, "MX001", "role 'ab' + session 'c' sent as 'a' + 'bc' (length prefixes)",
                     SET_SQL, 11, cc.p);
    }
    ctx_call_build(&cc, &other_key, s.stream, ++s.counter, 1, &f);
    must(c, "BEGIN");
    expect_state(c, "MX001", "MAC made with another key", SET_SQL, 11, cc.p);
    ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &f);
    cc.mac[strlen(cc.mac) - 2] = '\0';  /* 31 bytes */
    must(c, "BEGIN");
    expect_state(c, "MX001", "MAC cut to 31 bytes", SET_SQL, 11, cc.p);

    /* Nothing was set by any of them. */
    scalar_is(c, "||||", "no refused call set anything", READ_SQL, 0, NULL);
    PQfinish(c);
}

static void
test_replay(void)
{
    PGconn *c = app_conn();
    struct sealed s;
    struct ctx_call cc, low;

    sealed_open(&s, c, &key, 1);
    s.counter = 41;
    ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &F_U1T1);      /* 42 */
    must(c, "BEGIN");
    expect_ok(c, "counter 42 accepted", SET_SQL, 11, cc.p);
    must(c, "COMMIT");
    must(c, "BEGIN");
    expect_state(c, "MX002", "the same MAC again (same counter)", SET_SQL, 11, cc.p);
    ctx_call_build(&low, &key, s.stream, 7, 1, &F_U1T1);
    must(c, "BEGIN");
    expect_state(c, "MX002", "a valid MAC with a lower counter (7 after 42)", SET_SQL, 11, low.p);
    ctx_call_build(&low, &key, s.stream, 0, 1, &F_U1T1);
    must(c, "BEGIN");
    expect_state(c, "MX002", "counter 0", SET_SQL, 11, low.p);
    ctx_call_build(&low, &key, s.stream, -5, 1, &F_U1T1);
    must(c, "BEGIN");
    expect_state(c, "MX002", "negative counter", SET_SQL, 11, low.p);

    /* A unit that verified and rolled back has spent its counter. */
    ctx_call_build(&cc, &key, s.stream, 100, 1, &F_U1T1);
    must(c, "BEGIN");
    expect_ok(c, "counter 100 accepted (then ROLLBACK)", SET_SQL, 11, cc.p);
    must(c, "ROLLBACK");
    must(c, "BEGIN");
    expect_state(c, "MX002", "counter 100 again after its transaction rolled back", SET_SQL, 11, cc.p);
    s.counter = 100;
    must(c, "BEGIN");
    sealed_expect(&s, 1, &F_U1T1, "00000", "the next counter (101) after refused replays");
    must(c, "COMMIT");

    /* Gaps are allowed: strictly increasing, not consecutive. */
    s.counter = 1000000;
    must(c, "BEGIN");
    sealed_expect(&s, 1, &F_U1T1, "00000", "a jump to counter 1000001");
    must(c, "COMMIT");
    PQfinish(c);
}

static void
test_streams(void)
{
    PGconn *a = app_conn();
    PGconn *b = app_conn();
    struct sealed sa, wrong;
    struct ctx_call cc;
    unsigned char rnd[16];
    char short_stream[2 + 30 + 1];
    const char *backend_or_server = strcmp(mode, "shared") == 0 ? "server" : "backend";
    char name[128];

    sealed_open(&sa, a, &key, 1);

    /* A bound stream is refused on any other backend. */
    ctx_call_build(&cc, &key, sa.stream, ++sa.counter, 1, &F_U1T1);
    must(b, "BEGIN");
    expect_state(b, "MX004", "a bound stream's valid MAC on another backend", SET_SQL, 11, cc.p);
    must(a, "BEGIN");
    expect_ok(a, "... and the same MAC on the stream's own backend", SET_SQL, 11, cc.p);
    must(a, "COMMIT");

    /* A stream this server never issued. */
    RAND_bytes(rnd, 16);
    wrong = sa;
    memcpy(wrong.stream, rnd, 16);
    wrong.counter = 0;
    must(a, "BEGIN");
    snprintf(name, sizeof(name), "a random stream id with a valid MAC (unknown to this %s)",
             backend_or_server);
    sealed_expect(&wrong, 1, &F_U1T1, "MX004", name);
    ctx_call_build(&cc, &key, sa.stream, ++sa.counter, 1, &F_U1T1);
    to_bytea(short_stream, rnd, 15);
    cc.p[0] = short_stream;
    must(a, "BEGIN");
    expect_state(a, "MX004", "a 15-byte stream id", SET_SQL, 11, cc.p);

    if (strcmp(mode, "shared") == 0) {
        struct sealed u;
        struct ctx_call first;

        /* Unbound streams: any backend of this server, each MAC once. */
        sealed_open(&u, a, &key, 0);
        ctx_call_build(&first, &key, u.stream, ++u.counter, 1, &F_U1T1);
        must(a, "BEGIN");
        expect_ok(a, "unbound stream: counter 1 on the backend that opened it", SET_SQL, 11, first.p);
        must(a, "COMMIT");
        u.c = b;
        must(b, "BEGIN");
        sealed_expect(&u, 1, &F_U2T2, "00000", "unbound stream: counter 2 on another backend");
        must(b, "COMMIT");
        must(b, "BEGIN");
        expect_state(b, "MX002", "unbound stream: counter 1 replayed on the other backend",
                     SET_SQL, 11, first.p);
        sealed_expect(&u, 0, &F_U1T1, "MX005", "unbound stream: session scope refused");

        /* It belongs to one login role (unbound, so only ownership can refuse it). */
        {
            PGconn *other;
            must(su, "CREATE ROLE seal_app2 LOGIN IN ROLE app_service");
            other = connect_as(pg_host, pg_port, pg_db, "seal_app2", NULL);
            ctx_call_build(&cc, &key, u.stream, ++u.counter, 1, &F_U1T1);
            must(other, "BEGIN");
            expect_state(other, "MX004", "unbound stream: a valid MAC from another login role",
                         SET_SQL, 11, cc.p);
            PQfinish(other);
        }

        /* Another database of the same server. */
        {
            PGconn *su2, *o;
            PGresult *r = PQexec(su, "CREATE DATABASE seal_other");
            PQclear(r);
            su2 = connect_as(pg_host, pg_port, "seal_other", "postgres", NULL);
            must(su2, "CREATE EXTENSION IF NOT EXISTS myappctx_seal");
            PQfinish(su2);
            o = connect_as(pg_host, pg_port, "seal_other", app_role, NULL);
            ctx_call_build(&cc, &key, u.stream, ++u.counter, 1, &F_U1T1);
            must(o, "BEGIN");
            expect_state(o, "MX004", "unbound stream: a valid MAC in another database",
                         SET_SQL, 11, cc.p);
            PQfinish(o);
        }
    }
    PQfinish(a);
    PQfinish(b);
}

static void
test_fields(void)
{
    PGconn *c = app_conn();
    struct sealed s;
    static const struct {
        struct ctx_fields f;
        int is_local;
        const char *state, *name;
    } cases[] = {
        {{"BBBBBBBB-BBBB-4BBB-8BBB-BBBBBBBBBBBB", "", "", "", "", "", ""}, 1, "MX005", "upper-case user UUID"},
        {{"bbbbbbbbbbbb4bbb8bbbbbbbbbbbbbbbbbbb", "", "", "", "", "", ""}, 1, "MX005", "user UUID without hyphens"},
        {{"00000000-0000-0000-0000-000000000000", "", "", "", "", "", ""}, 1, "MX005", "nil user UUID"},
        {{"", "", "", "", "", "", ""}, 1, "MX005", "empty user"},
        {{U1, "tenant-1", "", "", "", "", ""}, 1, "MX005", "tenant that is not a UUID"},
        {{U1, "", "0123456789012345678901234567890123456789012345678901234567890123", "", "", "", ""},
         1, "MX005", "role of 64 bytes"},
        {{U1, "", "", "", "[1, 2]", "", ""}, 1, "MX005", "metadata that is a JSON array"},
        {{U1, "", "", "", "{\"a\": ", "", ""}, 1, "22P02", "metadata that is not JSON"},
        {{U1, "", "", "", "", "", "T-1"}, 0, "MX005", "audit ticket in session scope"},
    };

    sealed_open(&s, c, &key, 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        must(c, "BEGIN");
        sealed_expect(&s, cases[i].is_local, &cases[i].f, cases[i].state, cases[i].name);
    }
    {
        struct ctx_call cc;
        ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &F_U1T1);
        cc.p[5] = NULL;
        must(c, "BEGIN");
        expect_state(c, "MX005", "NULL in_role (absent fields are '', never NULL)", SET_SQL, 11, cc.p);
    }
    must(c, "BEGIN");
    {
        struct ctx_fields f = {U1, "", "", "", "", "", ""};
        sealed_expect(&s, 1, &f, "00000", "user only, every other field empty");
    }
    scalar_is(c, U1 "||||", "empty fields read back as unset ('')", READ_SQL, 0, NULL);
    must(c, "COMMIT");
    PQfinish(c);
}

static void
test_schema_paths(void)
{
    PGconn *c = app_conn();
    const char *p[3] = {U1, T1, "user"};

    /* The schema's own setters fail closed under the seal. */
    expect_state(c, "42501", "api.set_context() (pure SQL) under the seal", 
                 "SELECT api.set_context($1::uuid, $2::uuid, $3)", 3, p);
    must(c, "BEGIN");
    expect_state(c, "42501", "api.set_transaction_context() under the seal",
                 "SELECT api.set_transaction_context($1::uuid, $2::uuid, $3)", 3, p);
    must(c, "BEGIN");
    expect_state(c, "42501", "api.set_audit_context() under the seal",
                 "SELECT api.set_audit_context('r', 't')", 0, NULL);
    expect_state(c, "42501", "api.clear_context() under the seal",
                 "SELECT api.clear_context()", 0, NULL);
    expect_state(c, "42501", "api.load_app_settings() under the seal (myapp.loaded_settings)",
                 "SELECT api.load_app_settings()", 0, NULL);
    must(c, "BEGIN");
    expect_state(c, "42501", "private.begin_pooled_unit() under the seal",
                 "SELECT private.begin_pooled_unit($1::uuid, $2::uuid, $3, false, '{}', '{}', "
                 "session_user, current_setting('application_name'))", 3, p);

    /* Settings: declared keys load, undeclared ones are skipped, loudly. */
    must(su, "INSERT INTO data.app_settings (key, value) VALUES ('site_name', 'Demo'), "
         "('undeclared_key', 'x') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
    last_notice[0] = '\0';
    scalar_is(c, "1", "myappctx_seal.load_app_settings(): the declared key is loaded",
              "SELECT myappctx_seal.load_app_settings()", 0, NULL);
    ok(strstr(last_notice, "undeclared_key") != NULL,
       "load_app_settings(): a WARNING names the undeclared key");
    diag("  %s", last_notice);
    scalar_is(c, "Demo", "private.get_app_setting('site_name') reads the loaded value",
              "SELECT private.get_app_setting('site_name')", 0, NULL);
    scalar_is(c, "site_name", "myapp.loaded_settings records it",
              "SELECT current_setting('myapp.loaded_settings')", 0, NULL);
    must(c, "SET force_parallel_mode = on");
    must(c, "SET parallel_setup_cost = 0");
    scalar_is(c, "Demo", "parallel worker: a loaded setting reads the same in a worker",
              "SELECT private.get_app_setting('site_name') FROM pg_catalog.pg_class LIMIT 1", 0, NULL);
    must(c, "RESET force_parallel_mode");
    must(c, "RESET parallel_setup_cost");
    expect_ok(c, "a declared setting stays user-settable (set_config('myapp.site_name'))",
              "SELECT set_config('myapp.site_name', 'Other', false)", 0, NULL);
    scalar_is(c, "25", "the role default myapp.default_page_size (setup_app_role) is in force",
              "SELECT current_setting('myapp.default_page_size')", 0, NULL);
    expect_ok(c, "myappctx_seal.clear_context()", "SELECT myappctx_seal.clear_context()", 0, NULL);
    scalar_is(c, "||25", "clear_context(): settings and loaded_settings reset, role default back",
              "SELECT current_setting('myapp.site_name') || '|' || current_setting('myapp.loaded_settings') "
              "|| '|' || current_setting('myapp.default_page_size')", 0, NULL);
    expect_state(c, "P0058", "apply_settings() with a context variable name as key",
                 "SELECT myappctx_seal.apply_settings('{current_user_id}', '{x}')", 0, NULL);
    expect_ok(c, "myappctx_seal.init_connection()", "SELECT myappctx_seal.init_connection()", 0, NULL);
    {
        char *pid = scalar(c, "SELECT pg_backend_pid()::text", 0, NULL);
        const char *pp[1] = {pid};
        scalar_is(su, "1", "init_connection(): logged this backend in data.connection_log",
                  "SELECT count(*) FROM data.connection_log WHERE backend_pid = $1::int", 1, pp);
        free(pid);
    }
    must(c, "SELECT myappctx_seal.clear_context()");

    /* The pooled unit: clean session, then a dirty one. */
    {
        struct sealed s;
        struct ctx_call cc;
        const char *bp[15];
        char *names = scalar(c, "SELECT names::text FROM private.session_baseline()", 0, NULL);
        char *values = scalar(c, "SELECT \"values\"::text FROM private.session_baseline()", 0, NULL);
        char *login = scalar(c, "SELECT session_user::text", 0, NULL);
        char *app = scalar(c, "SELECT current_setting('application_name')", 0, NULL);
        const char *sql = "SELECT myappctx_seal.begin_pooled_unit($1::bytea, $2::bigint, $3, $4, $5, "
            "$6, $7, $8, $9, $10::bytea, $11::boolean, $12::text[], $13::text[], $14, $15)";

        sealed_open(&s, c, &key, 1);
        ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &F_U2T2);
        for (int i = 0; i < 10; i++)
            bp[i] = cc.p[i < 2 ? i : i + 1];    /* set_context's without in_is_local */
        bp[10] = "false";
        bp[11] = names;
        bp[12] = values;
        bp[13] = login;
        bp[14] = app;
        must(c, "BEGIN");
        scalar_is(c, "f", "begin_pooled_unit() on a clean session: no reset", sql, 15, bp);
        scalar_is(c, U2 "|" T2 "|user||", "begin_pooled_unit(): the local context is set", READ_SQL, 0, NULL);
        must(c, "COMMIT");

        /* Leave a session context and a SET ROLE behind, as a careless borrower. */
        sealed_expect(&s, 0, &F_U1T1, "00000", "a borrower leaves a session context behind");
        ctx_call_build(&cc, &key, s.stream, ++s.counter, 1, &F_U2T2);
        for (int i = 0; i < 10; i++)
            bp[i] = cc.p[i < 2 ? i : i + 1];
        must(c, "BEGIN");
        scalar_is(c, "t", "begin_pooled_unit() on a dirty session: reset", sql, 15, bp);
        scalar_is(c, U2 "|" T2 "|user||", "begin_pooled_unit(): the unit has its own context", READ_SQL, 0, NULL);
        must(c, "COMMIT");
        scalar_is(c, "||||", "after the unit: the leftover session context is gone", READ_SQL, 0, NULL);

        ctx_call_build(&cc, &other_key, s.stream, ++s.counter, 1, &F_U2T2);
        for (int i = 0; i < 10; i++)
            bp[i] = cc.p[i < 2 ? i : i + 1];
        must(c, "BEGIN");
        expect_state(c, "MX001", "begin_pooled_unit() with a bad MAC", sql, 15, bp);
        free(names);
        free(values);
        free(login);
        free(app);
    }
    PQfinish(c);
}

static void
test_impersonation(void)
{
    PGconn *c = app_conn();
    struct sealed s;
    struct ctx_fields admin = {U1, T1, "admin", "", "", "", ""};
    const char *target[1] = {U2};

    must(su, "INSERT INTO data.users (id, email, name, role) VALUES "
         "('" U1 "', 'a@example.org', 'Admin', 'admin'), ('" U2 "', 'u@example.org', 'User', 'user') "
         "ON CONFLICT (id) DO NOTHING");
    sealed_open(&s, c, &key, 1);
    sealed_expect(&s, 0, &admin, "00000", "sealed session context of an admin");
    expect_ok(c, "api.impersonate_user() works under the seal (SECURITY DEFINER, superuser-owned)",
              "SELECT api.impersonate_user($1::uuid)", 1, target);
    scalar_is(c, U2 "|" U1, "impersonating: current user is the target, original user the admin",
              "SELECT current_setting('myapp.current_user_id') || '|' || "
              "current_setting('myapp.original_user_id')", 0, NULL);
    ok(strcmp(pstatus(c, "myapp.current_user_id"), U2) == 0 &&
       strcmp(pstatus(c, "myapp.original_user_id"), U1) == 0 &&
       strcmp(pstatus(c, "myapp.is_impersonating"), "true") == 0,
       "ParameterStatus: the impersonation (a session-level change made server-side) reached libpq");
    must(c, "BEGIN");
    sealed_expect(&s, 1, &F_U1T1, "P0055", "a sealed context while impersonating");
    expect_ok(c, "myappctx_seal.clear_context() ends the impersonation",
              "SELECT myappctx_seal.clear_context()", 0, NULL);
    scalar_is(c, "|", "after clear_context(): no user, no original user",
              "SELECT current_setting('myapp.current_user_id') || '|' || "
              "current_setting('myapp.original_user_id')", 0, NULL);
    scalar_is(su, "0", "the impersonation log row is closed",
              "SELECT count(*) FROM app_audit.impersonation_log WHERE ended_at IS NULL", 0, NULL);
    PQfinish(c);
}

static int
wait_for(PGconn *c, const char *sql, const char *want)
{
    for (int i = 0; i < 100; i++) {
        char *v = scalar(c, sql, 0, NULL);
        int done = v != NULL && strcmp(v, want) == 0;
        free(v);
        if (done)
            return 1;
        usleep(50000);
    }
    return 0;
}

static void
write_key_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");     /* keeps owner and mode */

    if (f == NULL || fputs(content, f) < 0 || fclose(f) != 0)
        bail("write %s: %s", path, strerror(errno));
}

static void
test_rotation(const char *key_file, const char *key_hex)
{
    PGconn *c = app_conn();
    struct seal_key newkey;
    char newhex[129], id[17];
    unsigned char raw[32];
    struct sealed s;
    struct stat st;
    char *before;

    RAND_bytes(raw, 32);
    for (int i = 0; i < 32; i++)
        sprintf(newhex + 2 * i, "%02x", raw[i]);
    parse_key(&newkey, newhex);
    key_id(&newkey, id);

    write_key_file(key_file, newhex);
    must(su, "SELECT pg_reload_conf()");
    ok(wait_for(c, "SELECT key_id FROM myappctx_seal.status()", id),
       "rotation: after rewriting the key file and reloading, the session uses the new key");
    {
        PGresult *r = open_stream_res(c, &key, 1);
        ok(strcmp(state_of(r), "MX001") == 0, "rotation: the old key's MAC is refused (MX001)");
        PQclear(r);
    }
    sealed_open(&s, c, &newkey, 1);
    must(c, "BEGIN");
    sealed_expect(&s, 1, &F_U1T1, "00000", "rotation: the new key's MACs are accepted");
    must(c, "COMMIT");

    /* A new key in a file that became readable by others is refused at
     * reload; the loaded key stays (as for ssl_key_file). */
    if (stat(key_file, &st) != 0)
        bail("stat %s", key_file);
    before = scalar(c, "SELECT pg_conf_load_time()::text", 0, NULL);
    write_key_file(key_file, key_hex);
    chmod(key_file, 0644);
    must(su, "SELECT pg_reload_conf()");
    {
        int reloaded = 0;
        for (int i = 0; i < 100 && !reloaded; i++) {
            char *now = scalar(c, "SELECT pg_conf_load_time()::text", 0, NULL);
            reloaded = now != NULL && before != NULL && strcmp(now, before) != 0;
            free(now);
            if (!reloaded)
                usleep(50000);
        }
        ok(reloaded, "rotation: the session processed the reload");
    }
    scalar_is(c, id, "rotation: a new key in a group/world-readable file is refused; the loaded key stays",
              "SELECT key_id FROM myappctx_seal.status()", 0, NULL);
    free(before);
    chmod(key_file, st.st_mode & 07777);

    must(su, "SELECT pg_reload_conf()");
    key_id(&key, id);
    ok(wait_for(c, "SELECT key_id FROM myappctx_seal.status()", id),
       "rotation: back to the original key");
    PQfinish(c);
}

static void
test_eviction_and_exit(int max_streams)
{
    PGconn *c = app_conn();
    struct sealed victim, extra;
    char *n0, want[32];

    /* Streams of a backend go with it. */
    n0 = scalar(c, "SELECT streams::text FROM myappctx_seal.status()", 0, NULL);
    {
        PGconn *t = app_conn();
        for (int i = 0; i < 3; i++)
            sealed_open(&extra, t, &key, 1);
        snprintf(want, sizeof(want), "%d", atoi(n0 ? n0 : "0") + 3);
        scalar_is(c, want, "three bound streams are in the table",
                  "SELECT streams::text FROM myappctx_seal.status()", 0, NULL);
        PQfinish(t);
    }
    ok(wait_for(c, "SELECT streams::text FROM myappctx_seal.status()", n0 ? n0 : "0"),
       "the streams bound to a backend are removed when it exits");
    free(n0);

    /* Least recently used eviction: a forgotten stream is refused, never
     * accepted twice. */
    sealed_open(&victim, c, &key, 1);
    for (int i = 0; i < max_streams; i++)
        sealed_open(&extra, c, &key, 1);
    snprintf(want, sizeof(want), "%d", max_streams);
    scalar_is(c, want, "the table holds at most myappctx_seal.max_streams streams",
              "SELECT streams::text FROM myappctx_seal.status()", 0, NULL);
    must(c, "BEGIN");
    sealed_expect(&victim, 1, &F_U1T1, "MX004", "an evicted stream's valid MAC");
    must(c, "BEGIN");
    sealed_expect(&extra, 1, &F_U1T1, "00000", "the most recent stream still works");
    must(c, "COMMIT");
    PQfinish(c);
}

/* Through PgBouncer in transaction mode: one client, an unbound stream,
 * units on different server backends. */
static void
test_pgbouncer(const char *host, const char *port)
{
    PGconn *a = connect_as(host, port, pg_db, app_role, NULL);
    PGconn *b = connect_as(host, port, pg_db, app_role, NULL);
    struct sealed s;
    struct ctx_call first;
    char *pid1 = NULL, *pid2 = NULL;
    const char *unit_sql = "SELECT pg_backend_pid()::text || '|' || current_setting('myapp.current_user_id')";

    sealed_open(&s, a, &key, 0);
    ok(1, "pgbouncer: open_stream(false) through PgBouncer");

    /* Unit 1, then hold its server connection with client b, unit 2. */
    ctx_call_build(&first, &key, s.stream, ++s.counter, 1, &F_U1T1);
    must(a, "BEGIN");
    expect_ok(a, "pgbouncer: unit 1 accepted", SET_SQL, 11, first.p);
    pid1 = scalar(a, unit_sql, 0, NULL);
    must(a, "COMMIT");
    must(b, "BEGIN");
    PQclear(run(b, "SELECT 1", 0, NULL));
    must(a, "BEGIN");
    sealed_expect(&s, 1, &F_U2T2, "00000", "pgbouncer: unit 2 accepted");
    pid2 = scalar(a, unit_sql, 0, NULL);
    must(a, "COMMIT");
    must(b, "COMMIT");
    ok(pid1 && pid2 && strncmp(pid1, pid2, strcspn(pid1, "|")) != 0 &&
       strstr(pid1, U1) && strstr(pid2, U2),
       "pgbouncer: the two units ran on different server backends, each with its context");
    diag("  unit 1: %s; unit 2: %s", pid1 ? pid1 : "?", pid2 ? pid2 : "?");
    must(a, "BEGIN");
    expect_state(a, "MX002", "pgbouncer: unit 1's MAC replayed (any backend)", SET_SQL, 11, first.p);
    sealed_expect(&s, 0, &F_U1T1, "MX005", "pgbouncer: session scope on the unbound stream");
    /* What PgBouncer passes on of ParameterStatus: a diagnostic, not a
     * test (it is PgBouncer's behaviour, and the seal does not rely on it). */
    diag("  through PgBouncer, PQparameterStatus(myapp.current_user_id) after connect: '%s'",
         pstatus(a, "myapp.current_user_id"));
    must(a, "BEGIN");
    PQclear(sealed_set(&s, 1, &F_U1T1));
    diag("  ... inside a transaction with a local sealed context (the server reports it): '%s'",
         pstatus(a, "myapp.current_user_id"));
    must(a, "COMMIT");
    diag("  ... after COMMIT: '%s'", pstatus(a, "myapp.current_user_id"));
    free(pid1);
    free(pid2);
    PQfinish(a);
    PQfinish(b);
}

/* Server without a key (session preload phase): refusals, then a key via
 * ALTER SYSTEM + reload. */
static void
test_no_key_then_key(const char *key_file)
{
    PGconn *c = app_conn();
    PGresult *r = open_stream_res(c, &key, 1);
    unsigned char zero[16] = {0};
    struct sealed s;
    char sql[512];
    char id[17];

    ok(strcmp(state_of(r), "MX003") == 0, "no key configured: open_stream refused with MX003");
    PQclear(r);
    memset(&s, 0, sizeof(s));
    memcpy(s.stream, zero, 16);
    s.c = c;
    s.key = &key;
    must(c, "BEGIN");
    sealed_expect(&s, 1, &F_U1T1, "MX003", "no key configured: set_context refused");

    snprintf(sql, sizeof(sql), "ALTER SYSTEM SET myappctx_seal.key_file = '%s'", key_file);
    must(su, sql);
    must(su, "SELECT pg_reload_conf()");
    key_id(&key, id);
    ok(wait_for(c, "SELECT key_id FROM myappctx_seal.status()", id),
       "ALTER SYSTEM SET myappctx_seal.key_file + reload: the running session has the key");
    PQfinish(c);
}

static void
test_inert(void)
{
    PGconn *c = app_conn();
    const char *p[3] = {U1, T1, "user"};
    PGresult *r = open_stream_res(c, &key, 1);

    ok(strcmp(state_of(r), "MX007") == 0, "not preloaded: open_stream refused with MX007");
    PQclear(r);
    {
        struct sealed s;
        memset(&s, 0, sizeof(s));
        s.c = c;
        s.key = &key;
        must(c, "BEGIN");
        sealed_expect(&s, 1, &F_U1T1, "MX007", "not preloaded: set_context refused");
    }
    expect_state(c, "MX007", "not preloaded: reset_variables refused",
                 "SELECT myappctx_seal.reset_variables()", 0, NULL);
    /* The pure-SQL path is untouched. */
    expect_ok(c, "not preloaded: api.set_context() (pure SQL) works",
              "SELECT api.set_context($1::uuid, $2::uuid, $3)", 3, p);
    scalar_is(c, U1 "|" T1, "not preloaded: the context reads back",
              "SELECT current_setting('myapp.current_user_id') || '|' || "
              "current_setting('myapp.current_tenant_id')", 0, NULL);
    expect_ok(c, "not preloaded: api.clear_context() works", "SELECT api.clear_context()", 0, NULL);
    expect_ok(c, "not preloaded: api.load_app_settings() works", "SELECT api.load_app_settings()", 0, NULL);
    expect_ok(c, "not preloaded: unknown myapp.* names are placeholders as before",
              "SELECT set_config('myapp.anything_at_all', 'x', false)", 0, NULL);
    must(c, "BEGIN");
    expect_ok(c, "not preloaded: private.begin_pooled_unit() works",
              "SELECT private.begin_pooled_unit($1::uuid, $2::uuid, $3, false, '{}', '{}', "
              "session_user, current_setting('application_name'))", 3, p);
    must(c, "COMMIT");
    PQfinish(c);
}

int
main(void)
{
    const char *key_hex = getenv("SEAL_KEY_HEX");
    const char *key_file = getenv("SEAL_KEY_FILE");
    const char *pgb_host = getenv("MYAPPCTX_PGBOUNCER_HOST");
    const char *pgb_port = getenv("MYAPPCTX_PGBOUNCER_PORT");
    const char *max = getenv("SEAL_MAX_STREAMS");
    const char *configured = getenv("SEAL_KEY_CONFIGURED");

    mode = getenv("SEAL_MODE");
    app_role = getenv("SEAL_APP_ROLE") ? getenv("SEAL_APP_ROLE") : "app_service";
    pg_host = getenv("PGHOST");
    pg_port = getenv("PGPORT");
    pg_db = getenv("PGDATABASE");
    if (mode == NULL || pg_host == NULL || pg_port == NULL || pg_db == NULL)
        bail("SEAL_MODE, PGHOST, PGPORT, PGDATABASE must be set");
    if (!parse_key(&key, key_hex))
        bail("SEAL_KEY_HEX must be 64 to 128 hex digits");
    RAND_bytes(other_key.bytes, 32);
    other_key.len = 32;
    su = connect_as(pg_host, pg_port, pg_db, "postgres", NULL);
    diag("mode %s, server %s", mode, PQparameterStatus(su, "server_version"));

    test_vector();
    if (strcmp(mode, "inert") == 0) {
        test_status("inert", 0);
        test_inert();
    } else if (strcmp(mode, "backend") == 0) {
        if (configured != NULL && strcmp(configured, "0") == 0) {
            test_status("backend", 0);
            test_no_key_then_key(key_file);
        }
        test_status("backend", 1);
        test_startup_report();
        test_report_traffic();
        test_open();
        test_scopes();
        test_replay();
        test_streams();
    } else if (strcmp(mode, "shared") == 0) {
        test_status("shared", 1);
        test_startup_report();
        test_report_traffic();
        test_open();
        test_scopes();
        test_tamper();
        test_replay();
        test_streams();
        test_fields();
        test_schema_paths();
        test_impersonation();
        if (key_file != NULL)
            test_rotation(key_file, key_hex);
        test_eviction_and_exit(max ? atoi(max) : 16384);
        if (pgb_host != NULL && pgb_port != NULL)
            test_pgbouncer(pgb_host, pgb_port);
        else
            bail("shared mode needs MYAPPCTX_PGBOUNCER_HOST/_PORT (run with --pgbouncer)");
    } else
        bail("unknown SEAL_MODE %s", mode);

    PQfinish(su);
    printf("1..%d\n", ntests);
    if (nfailed)
        diag("%d of %d failed", nfailed, ntests);
    return nfailed ? 1 : 0;
}
