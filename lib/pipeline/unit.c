/* Units of work under a context: myappctx_run_in_context() (one round
 * trip, committed), myappctx_begin_in_context() and myappctx_begin_as_user()
 * (one round trip, the transaction left open for the caller).
 *
 * Clean by construction: every unit's first statement, inside the unit's
 * own transaction, sets the unit's context transaction-locally and clears
 * for the unit whatever context, impersonation state or role the session
 * carries from earlier -- another borrower's, or this caller's own session
 * state.  Nothing depends on a reset having run: a pool's deferred reset can
 * wait for a statement that is not a unit (docs/design.md, "Units of work").
 * The statement is plain SQL over set_config() and current_setting(), so it
 * needs no rights on the schema (a foreign SET ROLE cannot make it fail);
 * on a direct connection it is a named prepared statement (Parse once per
 * session, then Bind/Execute only), behind a transaction pooler an unnamed
 * one. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "core/context_vars.h"

/* The context statement, by shape: with or without the audit context, and
 * with the owner's baseline of other myapp.* variables compared one by one
 * (up to SPELLED_MAX, cheap: no executor) or as arrays (more: a subquery).
 * Parameters: $1 user id, $2 tenant id or NULL, $3 role or NULL, [$4 audit
 * reason, $5 audit ticket], then the baseline: name and value pairs, or
 * the text[] of names and the text[] of values.  The last column is true
 * when the session carried state the unit had to clear. */
#define UNIT_SQL_MAX 8192
#define SPELLED_MAX 16

struct unit_shape {
    bool audit;
    int nspelled;         /* baseline pairs compared one by one */
    bool array;           /* the baseline as two arrays instead */
    bool db_role;         /* SET LOCAL ROLE to the last parameter */
    bool sealed;          /* myappctx_seal.set_context() sets the context */
};

/* Sealed mode (myappctx/seal.h): the context variables are the seal's, so
 * the unit's first statement sets them with the verifier instead of
 * set_config(): $1 stream, $2 counter, $3 user, $4 tenant or '', $5 role or
 * '', the session id and metadata '' (a unit has neither), $6 audit reason
 * or '', $7 audit ticket or '', $8 the MAC over exactly these values.  It
 * sets every context variable for the transaction (an absent field is ''),
 * so nothing of an earlier context shows through, and refuses to run over
 * an impersonation (P0055); what remains to clear is a foreign SET ROLE and
 * the baseline, as below, from parameter 9 on. */
#define SEALED_SET "myappctx_seal.set_context($1::bytea, $2::bigint, true, $3, $4, $5, '', '', " \
                   "$6, $7, $8::bytea)"
#define SEALED_PARAMS 8

struct context_var {
    const char *name;
    enum mxi_context_vars_kind kind;
};
#define CONTEXT_VAR(name, kind) { #name, MXI_CONTEXT_VARS_##kind },
static const struct context_var context_vars[] = { MXI_CONTEXT_VARS(CONTEXT_VAR) };
#define NCONTEXT_VARS (sizeof context_vars / sizeof context_vars[0])

/* The value a UNIT (or, with audit, AUDIT) variable gets from the unit's
 * arguments; NULL for a name this file does not know, which leaves it out
 * of the statement (tests/unit/test_unit_sql.c fails on that). */
static const char *
unit_value(const char *name)
{
    static const struct { const char *name, *value; } values[] = {
        { "current_user_id",   "$1" },
        { "current_tenant_id", "COALESCE($2, '')" },
        { "current_role",      "COALESCE($3, '')" },
        { "audit_context",     "jsonb_build_object('reason', $4::text, 'ticket', $5::text, "
                               "'timestamp', now())::text" },
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (strcmp(values[i].name, name) == 0)
            return values[i].value;
    return NULL;
}

/* Appends NUL-terminated pieces up to a NULL; what does not fit is cut
 * (the buffer is far larger than any statement; a test checks them). */
static void __attribute__((sentinel))
append(char *buf, size_t *len, ...)
{
    va_list ap;
    va_start(ap, len);
    for (const char *p; (p = va_arg(ap, const char *)) != NULL;) {
        size_t n = strlen(p);
        if (*len + n >= UNIT_SQL_MAX)
            n = UNIT_SQL_MAX - 1 - *len;
        memcpy(buf + *len, p, n);
        *len += n;
        buf[*len] = '\0';
    }
    va_end(ap);
}

/* Whether the unit clears @v for itself (when the session carries it). */
static bool
cleared(const struct context_var *v, bool audit)
{
    return v->kind == MXI_CONTEXT_VARS_SESSION || (!audit && v->kind == MXI_CONTEXT_VARS_AUDIT);
}

/* "$<n>" */
static const char *
param(char buf[16], int n)
{
    snprintf(buf, 16, "$%d", n);
    return buf;
}

static void
build_sql(char *buf, const struct unit_shape *shape)
{
    bool audit = shape->audit && !shape->sealed;
    int base = shape->sealed ? SEALED_PARAMS : audit ? 5 : 3;
    char p1[16], p2[16];
    size_t len = 0;
    buf[0] = '\0';
    append(buf, &len, "SELECT ", NULL);
    if (shape->sealed) {
        append(buf, &len, SEALED_SET, ", CASE WHEN current_user <> session_user", NULL);
    } else {
        for (size_t i = 0; i < NCONTEXT_VARS; i++) {
            const struct context_var *v = &context_vars[i];
            const char *value = unit_value(v->name);
            if ((v->kind == MXI_CONTEXT_VARS_UNIT ||
                 (audit && v->kind == MXI_CONTEXT_VARS_AUDIT)) && value != NULL)
                append(buf, &len, "set_config('myapp.", v->name, "', ", value, ", true), ",
                       NULL);
        }
        /* The rest is cleared only when the session carries any of it:
         * reading a variable costs less than setting one (a set is also
         * undone at the end of the transaction). */
        append(buf, &len, "CASE WHEN current_user <> session_user OR concat(''", NULL);
        for (size_t i = 0; i < NCONTEXT_VARS; i++)
            if (cleared(&context_vars[i], audit))
                append(buf, &len, ", current_setting('myapp.", context_vars[i].name, "', true)",
                       NULL);
        append(buf, &len, ") <> ''", NULL);
    }
    for (int i = 0; i < shape->nspelled; i++)
        append(buf, &len, " OR current_setting(", param(p1, base + 2 * i + 1), ", true) "
               "IS DISTINCT FROM ", param(p2, base + 2 * i + 2), NULL);
    if (shape->array)
        append(buf, &len, " OR ARRAY(SELECT current_setting(n, true) FROM unnest(",
               param(p1, base + 1), "::text[]) AS n) IS DISTINCT FROM ", param(p2, base + 2),
               "::text[]", NULL);
    append(buf, &len, " THEN concat(set_config('role', 'none', true)", NULL);
    for (size_t i = 0; i < NCONTEXT_VARS && !shape->sealed; i++)
        if (cleared(&context_vars[i], audit))
            append(buf, &len, ", set_config('myapp.", context_vars[i].name, "', '', true)", NULL);
    for (int i = 0; i < shape->nspelled; i++)
        append(buf, &len, ", set_config(", param(p1, base + 2 * i + 1), ", ",
               param(p2, base + 2 * i + 2), ", true)", NULL);
    if (shape->array)
        append(buf, &len, ", (SELECT count(set_config(b.n, b.v, true)) FROM unnest(",
               param(p1, base + 1), "::text[], ", param(p2, base + 2), "::text[]) AS b(n, v))",
               NULL);
    append(buf, &len, ") END IS NOT NULL AS dirty", NULL);
    /* After the check, which would take the unit's own role for a foreign
     * one: the role the caller asked for, checked by the server. */
    if (shape->db_role)
        append(buf, &len, ", set_config('role', ",
               param(p1, base + (shape->array ? 2 : 2 * shape->nspelled) + 1), ", true)", NULL);
}

/* The statements without a baseline, built once (behind a transaction
 * pooler they are sent with every unit): without and with audit, sealed. */
static char plain_sql[3][UNIT_SQL_MAX];
static pthread_once_t plain_sql_once = PTHREAD_ONCE_INIT;

static void
build_plain_sql(void)
{
    for (int audit = 0; audit <= 1; audit++)
        build_sql(plain_sql[audit], &(struct unit_shape){ .audit = audit });
    build_sql(plain_sql[2], &(struct unit_shape){ .sealed = true });
}

size_t
mxi_unit_sql(char *buf, size_t size, bool audit, int nbaseline)
{
    return mxi_unit_sealed_sql(buf, size, audit, nbaseline, false);
}

size_t
mxi_unit_sealed_sql(char *buf, size_t size, bool audit, int nbaseline, bool sealed)
{
    struct unit_shape shape = { audit, nbaseline <= SPELLED_MAX ? nbaseline : 0,
                                nbaseline > SPELLED_MAX, false, sealed };
    char tmp[UNIT_SQL_MAX];
    build_sql(tmp, &shape);
    snprintf(buf, size, "%s", tmp);
    return strlen(tmp);
}

/* The unit's arguments, checked, as bound values; @fields: the same as the
 * seven sealed fields ('' for absent ones). */
struct unit_args {
    char user[MYAPPCTX_UUID_BUFSIZE];
    char tenant[MYAPPCTX_UUID_BUFSIZE];
    const char *params[5];
    int nparams;
    bool audit;
    const char *db_role;     /* or NULL */
    const char *fields[MXI_HMAC_CONTEXT_FIELDS];
};

static int
check_args(const myappctx_uuid *user_id, const myappctx_uuid *tenant_id, const char *role,
           const char *audit_reason, const char *audit_ticket, const char *prefix,
           struct unit_args *a, const char *what, myappctx_error *err)
{
    char arg[5][32];
    static const char *const names[5] = { "user_id", "tenant_id", "role_label", "audit_reason",
                                          "audit_ticket" };
    for (int i = 0; i < 5; i++)
        snprintf(arg[i], sizeof arg[i], "%s%s", prefix, names[i]);
    int rc = mxi_codec_check_uuid(user_id, false, arg[0], what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_uuid(tenant_id, true, arg[1], what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_codec_check_label(role, MYAPPCTX_ROLE_LABEL_MAX, arg[2], what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(audit_reason, MYAPPCTX_AUDIT_TEXT_MAX, true, arg[3], what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_text_check(audit_ticket, MYAPPCTX_AUDIT_TEXT_MAX, true, arg[4], what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    a->audit = audit_reason != NULL || audit_ticket != NULL;
    a->nparams = a->audit ? 5 : 3;
    a->params[0] = myappctx_uuid_format(user_id, a->user);
    a->params[1] = mxi_codec_uuid_param(tenant_id, a->tenant);
    /* A NULL role is '' (no role in this transaction), never the session's
     * role showing through. */
    a->params[2] = role;
    a->params[3] = audit_reason;
    a->params[4] = audit_ticket;
    a->db_role = NULL;
    const char *const fields[MXI_HMAC_CONTEXT_FIELDS] = {
        a->params[0], a->params[1] != NULL ? a->params[1] : "", role != NULL ? role : "", "", "",
        audit_reason != NULL ? audit_reason : "", audit_ticket != NULL ? audit_ticket : "",
    };
    memcpy(a->fields, fields, sizeof fields);
    return MYAPPCTX_OK;
}

static int
check_ctx(const myappctx_txn_context *ctx, struct unit_args *a, const char *what,
          myappctx_error *err)
{
    if (ctx == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'ctx' is NULL", what);
    if (ctx->version != MYAPPCTX_TXN_CONTEXT_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: ctx->version %d is not %d (use MYAPPCTX_TXN_CONTEXT_INIT)",
                             what, ctx->version, MYAPPCTX_TXN_CONTEXT_VERSION);
    int rc = check_args(ctx->user_id, ctx->tenant_id, ctx->role_label, ctx->audit_reason,
                        ctx->audit_ticket, "ctx->", a, what, err);
    if (rc == MYAPPCTX_OK && ctx->db_role != NULL) {
        rc = mxi_codec_check_label(ctx->db_role, MYAPPCTX_DB_ROLE_MAX, "ctx->db_role", what, err);
        a->db_role = ctx->db_role;
    }
    return rc;
}

static int
check_stmt(const myappctx_stmt *s, size_t index, const char *what, myappctx_error *err)
{
    if (s->sql == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: stmts[%zu].sql is NULL", what, index);
    if (s->nparams < 0 || s->nparams > 65535 || (s->nparams > 0 && s->params == NULL))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: stmts[%zu] has %d parameters with %s array",
                             what, index, s->nparams, s->params ? "an" : "no");
    return MYAPPCTX_OK;
}

/* The steps of one unit, assembled by begin_unit() and finished by
 * send_unit(). */
struct unit {
    struct mxi_pipeline_step small[12];
    struct mxi_pipeline_step *steps;
    size_t n, cap;
    size_t ctx_step, prepare_step;   /* SIZE_MAX: none */
    PGresult *ctx_res;
    unsigned variant;                /* bit in conn->prepared */
    char name[48];                   /* of the prepared statement */
    char *sql;                       /* built for a Parse, or NULL */
    const char *params[SEALED_PARAMS + 2 * SPELLED_MAX + 1];
    const char *login_param[1], *app_param[1];
    struct mxi_seal_call seal;       /* counter and MAC of a sealed unit */
};

static void
add(struct unit *u, struct mxi_pipeline_step s)
{
    u->steps[u->n++] = s;
}

/* Allocates room for @extra caller steps and adds what leads every unit:
 * [BEGIN], the restoring of session authorization and application_name when
 * they differ from the baseline (known without a query: both are reported
 * by the server), the Parse of the context statement if this session has
 * not prepared it, and the context statement. */
static int
begin_unit(struct unit *u, myappctx_conn *conn, const struct unit_args *a, bool begin,
           size_t extra, const char *what, myappctx_error *err)
{
    memset(u, 0, sizeof *u);
    /* A sealed connection without a stream (behind a transaction pooler
     * before its first unit, or after MX004) opens one first. */
    if (conn->seal != NULL) {
        /* Signed now: the counter is spent whatever happens next. */
        int rc = mxi_seal_ready(conn, what, err);
        if (rc == MYAPPCTX_OK)
            rc = mxi_seal_sign(conn, true, a->fields, &u->seal, what, err);
        if (rc != MYAPPCTX_OK)
            return rc;
    }
    u->cap = 6 + extra + 1;
    u->steps = u->cap <= sizeof u->small / sizeof u->small[0]
                   ? u->small : calloc(u->cap, sizeof *u->steps);
    if (u->steps == NULL)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    u->prepare_step = SIZE_MAX;

    struct mxi_conn_unit owner = { NULL };
    if (conn->owner != NULL && conn->owner->unit_begin != NULL)
        conn->owner->unit_begin(conn, &owner);
    if (begin)
        add(u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_EXEC, .sql = "BEGIN", .label = "BEGIN", .index = -1 });
    const char *auth = PQparameterStatus(conn->pg, "session_authorization");
    if (auth != NULL && strcmp(auth, conn->login_role) != 0) {
        u->login_param[0] = conn->login_role;
        add(u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_EXEC, .sql = "SELECT set_config('session_authorization', $1, true)", .nparams = 1, .params = u->login_param, .label = "restoring the login role", .index = -1 });
    }
    if (owner.app_name != NULL) {
        u->app_param[0] = owner.app_name;
        add(u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_EXEC, .sql = "SELECT set_config('application_name', $1, true)", .nparams = 1, .params = u->app_param, .label = "restoring application_name", .index = -1 });
    }
    /* The parameters: the unit's (sealed: as signed above), then the
     * owner's baseline if any. */
    bool sealed = conn->seal != NULL;
    struct unit_shape shape = { .audit = a->audit && !sealed, .sealed = sealed };
    int nparams = a->nparams;
    if (sealed) {
        const char *const p[SEALED_PARAMS] = { conn->seal->stream_param, u->seal.counter,
                                               a->fields[0], a->fields[1], a->fields[2],
                                               a->fields[5], a->fields[6], u->seal.mac };
        nparams = SEALED_PARAMS;
        memcpy(u->params, p, sizeof p);
    } else {
        memcpy(u->params, a->params, (size_t)nparams * sizeof u->params[0]);
    }
    if (owner.nbaseline > 0 && owner.nbaseline <= SPELLED_MAX) {
        shape.nspelled = owner.nbaseline;
        for (int i = 0; i < 2 * owner.nbaseline; i++)
            u->params[nparams++] = owner.baseline[i];
    } else if (owner.nbaseline > SPELLED_MAX) {
        shape.array = true;
        u->params[nparams++] = owner.baseline_names;
        u->params[nparams++] = owner.baseline_values;
    }
    if (a->db_role != NULL) {
        shape.db_role = true;
        u->params[nparams++] = a->db_role;
    }
    /* A connection is sealed or not for its whole life: the variants of
     * the two modes share the bits of conn->prepared, not the names. */
    u->variant = (unsigned)shape.audit | (shape.nspelled ? 2u : 0u) | (shape.array ? 4u : 0u) |
                 (shape.db_role ? 8u : 0u);
    snprintf(u->name, sizeof u->name, "myappctx_%sunit%s_%d%s%s", sealed ? "sealed_" : "",
             shape.audit ? "_audit" : "", shape.nspelled, shape.array ? "_array" : "",
             shape.db_role ? "_role" : "");
    bool plain = shape.nspelled == 0 && !shape.array && !shape.db_role;
    bool prepared = (conn->prepared & (1u << u->variant)) != 0;
    const char *sql = NULL;
    if (conn->txn_pooler || !prepared) {
        if (plain) {
            pthread_once(&plain_sql_once, build_plain_sql);
            sql = plain_sql[sealed ? 2 : shape.audit];
        } else if ((u->sql = malloc(UNIT_SQL_MAX)) == NULL) {
            return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
        } else {
            build_sql(u->sql, &shape);
            sql = u->sql;
        }
    }
    u->ctx_step = u->n + (!conn->txn_pooler && !prepared);
    if (conn->txn_pooler) {
        /* PgBouncer in transaction mode keeps no named statement for us. */
        add(u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_EXEC, .sql = sql, .nparams = nparams,
                                           .params = u->params, .label = "setting the context",
                                           .index = -1, .out = &u->ctx_res });
        return MYAPPCTX_OK;
    }
    if (!prepared) {
        u->prepare_step = u->n;
        add(u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_PREPARE, .sql = sql, .name = u->name,
                                           .nparams = nparams, .label = "preparing the context",
                                           .index = -1 });
    }
    add(u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_EXEC_PREPARED, .name = u->name,
                                       .nparams = nparams, .params = u->params,
                                       .label = "setting the context", .index = -1,
                                       .out = &u->ctx_res });
    return MYAPPCTX_OK;
}

static void
end_unit(struct unit *u)
{
    PQclear(u->ctx_res);
    u->ctx_res = NULL;
    free(u->sql);
    u->sql = NULL;
    if (u->steps != u->small)
        free(u->steps);
    u->steps = NULL;
}

/* Sends the unit (a Sync is added) and settles what its context statement
 * says: the prepared statement now exists; the owner hears whether the
 * session was dirty. */
static int
send_unit(struct unit *u, myappctx_conn *conn, size_t *failed, myappctx_error *inner,
          const char *what, myappctx_error *err)
{
    add(u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_SYNC, .label = "commit", .index = -1 });
    int rc = mxi_pipeline_run(conn, u->steps, u->n, failed, inner, what, err);
    /* Steps before the first failure ran (one segment: a failure aborts the
     * rest); a lost connection leaves everything unknown. */
    bool ran_to = rc == MYAPPCTX_OK;
    size_t upto = ran_to ? u->n : *failed;
    if (u->prepare_step != SIZE_MAX && upto != SIZE_MAX && upto > u->prepare_step)
        conn->prepared |= 1u << u->variant;
    if (upto != SIZE_MAX && upto > u->ctx_step && u->ctx_res != NULL &&
        conn->owner != NULL && conn->owner->unit_done != NULL) {
        int col = PQfnumber(u->ctx_res, "dirty");
        const char *dirty = PQntuples(u->ctx_res) == 1 && col >= 0
            ? PQgetvalue(u->ctx_res, 0, col) : "t";
        conn->owner->unit_done(conn, dirty[0] == 't');
    }
    return rc;
}

/* The context statement failed because the session no longer has it
 * prepared (a DEALLOCATE or DISCARD of the caller's): nothing of the unit
 * ran, and it may be sent once more with a fresh Parse. */
static bool
statement_lost(const struct unit *u, myappctx_conn *conn, int rc, size_t failed,
               const myappctx_error *inner)
{
    if (rc == MYAPPCTX_OK || failed != u->ctx_step || u->prepare_step != SIZE_MAX ||
        strcmp(inner->sqlstate, "26000") != 0 || PQstatus(conn->pg) != CONNECTION_OK)
        return false;
    conn->prepared &= ~(1u << u->variant);
    return true;
}

/* Sealed: the verifier did not know the stream (MX004: the server
 * restarted, or evicted it), so nothing of the unit ran; it may be sent once
 * more, on a new stream (begin_unit() opens it).  A replay (MX002) burns the
 * connection (lib/conn/seal.c).  Called for every failed sealed unit. */
static bool
stream_lost(const struct unit *u, myappctx_conn *conn, int rc, size_t failed,
            const myappctx_error *inner)
{
    return rc != MYAPPCTX_OK && conn->seal != NULL && failed == u->ctx_step &&
           mxi_seal_retry(conn, inner->sqlstate);
}

/* An impersonation the library started on this connection is not masked
 * by another identity, even for one transaction (as the server refuses
 * api.set_context() then, P0055).  State it did not start -- left by raw
 * SQL, or forged -- is cleared for the unit instead. */
static int
require_not_impersonating(const myappctx_conn *conn, const char *what, myappctx_error *err)
{
    if (!conn->impersonating)
        return MYAPPCTX_OK;
    return mxi_error_set(err, MYAPPCTX_EIMPERSONATING, "P0055",
                         "%s: cannot set a new context while impersonating; end the "
                         "impersonation first (myappctx_impersonation_end())", what);
}

static int
require_idle(myappctx_conn *conn, const char *what, myappctx_error *err)
{
    int rc = mxi_conn_check(conn, what, err);
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        rc = mxi_error_set(err, MYAPPCTX_EBUSY, NULL,
                           "%s: the connection is inside a transaction; this call "
                           "runs its own", what);
    if (rc == MYAPPCTX_OK)
        rc = require_not_impersonating(conn, what, err);
    return rc;
}

/* After a unit that left its explicit transaction open or failed. */
static void
roll_back(myappctx_conn *conn)
{
    if (PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        (void)mxi_exec_script_unchecked(conn, NULL, "ROLLBACK", NULL);
}

/* The unit's event for the connection's tracer (the caller has checked
 * that it wants one).  @err holds the failure (never NULL here). */
static void
trace_unit(myappctx_conn *conn, const char *what, size_t nstmts, const struct unit_args *a,
           uint64_t start, int rc, const myappctx_error *err)
{
    const myappctx_tracer *t = conn->tracer;
    myappctx_trace_unit ev = {
        .version = MYAPPCTX_TRACE_EVENT_VERSION,
        .conn = conn,
        .function = what,
        .statements = nstmts,
        .status = rc,
        .sqlstate = rc != MYAPPCTX_OK ? err->sqlstate : "",
        .message = rc != MYAPPCTX_OK ? err->message : "",
        .duration_ns = mxi_trace_now_ns() - start,
        .tenant_id = a->params[1],
    };
    t->on_unit(t->userdata, &ev);
}

static bool
tracing_units(const myappctx_conn *conn)
{
    return conn->tracer != NULL && conn->tracer->on_unit != NULL;
}

static int
run_units(myappctx_conn *conn, const struct unit_args *a, const myappctx_stmt *stmts,
          size_t nstmts, PGresult **results, const char *what, myappctx_error *err)
{
    int rc;
    for (int attempt = 0;; attempt++) {
        struct unit u;
        rc = begin_unit(&u, conn, a, false, nstmts, what, err);
        if (rc != MYAPPCTX_OK)
            return rc;
        for (size_t i = 0; i < nstmts; i++)
            add(&u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_EXEC, .sql = stmts[i].sql, .nparams = stmts[i].nparams, .params = stmts[i].params, .label = "statement", .index = (long)i, .out = results != NULL ? &results[i] : NULL });
        size_t failed;
        myappctx_error inner;
        rc = send_unit(&u, conn, &failed, &inner, what, err);
        bool lost = stream_lost(&u, conn, rc, failed, &inner);
        bool again = attempt == 0 && (lost || statement_lost(&u, conn, rc, failed, &inner));
        end_unit(&u);
        if (!again)
            return rc;
    }
}

MYAPPCTX_API int
myappctx_run_in_context(myappctx_conn *conn, const myappctx_txn_context *ctx,
                        const myappctx_stmt *stmts, size_t nstmts,
                        PGresult **results, myappctx_error *err)
{
    const char *const what = __func__;
    if (results != NULL)
        for (size_t i = 0; i < nstmts && i < MYAPPCTX_PIPELINE_MAX_STMTS; i++)
            results[i] = NULL;
    MXI_ERROR_REQUIRE_ARG(err, stmts);
    if (nstmts == 0 || nstmts > MYAPPCTX_PIPELINE_MAX_STMTS)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: nstmts is %zu (1..%d)",
                             what, nstmts, MYAPPCTX_PIPELINE_MAX_STMTS);
    struct unit_args a;
    int rc = require_idle(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = check_ctx(ctx, &a, what, err);
    for (size_t i = 0; rc == MYAPPCTX_OK && i < nstmts; i++)
        rc = check_stmt(&stmts[i], i, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    if (!tracing_units(conn)) {
        rc = run_units(conn, &a, stmts, nstmts, results, what, err);
    } else {
        myappctx_error own;             /* the event has the message even without err */
        if (err == NULL)
            err = &own;
        uint64_t start = mxi_trace_now_ns();
        rc = run_units(conn, &a, stmts, nstmts, results, what, err);
        trace_unit(conn, what, nstmts, &a, start, rc, err);
    }
    if (rc != MYAPPCTX_OK)
        myappctx_results_free(results, nstmts);
    return rc;
}

/* BEGIN, the context and optionally a first statement in one round trip;
 * on success the transaction stays open. */
static int
begin_units(myappctx_conn *conn, const struct unit_args *a, const myappctx_stmt *first,
            PGresult **out_first, const char *what, myappctx_error *err)
{
    int rc;
    for (int attempt = 0;; attempt++) {
        struct unit u;
        rc = begin_unit(&u, conn, a, true, first != NULL, what, err);
        if (rc != MYAPPCTX_OK)
            return rc;
        if (first != NULL)
            add(&u, (struct mxi_pipeline_step){ .op = MXI_PIPELINE_EXEC, .sql = first->sql, .nparams = first->nparams, .params = first->params, .label = "statement", .index = 0, .out = out_first });
        size_t failed;
        myappctx_error inner;
        rc = send_unit(&u, conn, &failed, &inner, what, err);
        if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_INTRANS)
            rc = mxi_error_set(err, MYAPPCTX_EPROTO, NULL,
                               "%s: the transaction is not open after BEGIN", what);
        bool lost = stream_lost(&u, conn, rc, failed, &inner);
        bool again = attempt == 0 && (lost || statement_lost(&u, conn, rc, failed, &inner));
        end_unit(&u);
        if (rc == MYAPPCTX_OK)
            return MYAPPCTX_OK;
        if (out_first != NULL) {
            PQclear(*out_first);
            *out_first = NULL;
        }
        roll_back(conn);
        if (!again)
            return rc;
    }
}

static int
begin_in_context(myappctx_conn *conn, const struct unit_args *a, const myappctx_stmt *first,
                 PGresult **out_first, const char *what, myappctx_error *err)
{
    if (!tracing_units(conn))
        return begin_units(conn, a, first, out_first, what, err);
    myappctx_error own;
    if (err == NULL)
        err = &own;
    uint64_t start = mxi_trace_now_ns();
    int rc = begin_units(conn, a, first, out_first, what, err);
    trace_unit(conn, what, first != NULL, a, start, rc, err);
    return rc;
}

MYAPPCTX_API int
myappctx_begin_in_context(myappctx_conn *conn, const myappctx_txn_context *ctx,
                          const myappctx_stmt *first, PGresult **out_first,
                          myappctx_error *err)
{
    const char *const what = __func__;
    if (out_first != NULL)
        *out_first = NULL;
    struct unit_args a;
    int rc = check_ctx(ctx, &a, what, err);
    if (rc == MYAPPCTX_OK && first != NULL)
        rc = check_stmt(first, 0, what, err);
    if (rc == MYAPPCTX_OK)
        rc = require_idle(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return begin_in_context(conn, &a, first, out_first, what, err);
}

MYAPPCTX_API int
myappctx_begin_as_user(myappctx_conn *conn, const myappctx_uuid *user_id,
                       const myappctx_uuid *tenant_id, const char *role,
                       myappctx_error *err)
{
    const char *const what = __func__;
    struct unit_args a;
    int rc = mxi_call_require_conn(conn, what, err);
    if (rc == MYAPPCTX_OK)
        rc = check_args(user_id, tenant_id, role, NULL, NULL, "", &a, what, err);
    if (rc == MYAPPCTX_OK)
        rc = mxi_conn_check(conn, what, err);
    if (rc == MYAPPCTX_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        rc = mxi_error_set(err, MYAPPCTX_EBUSY, NULL,
                           "%s: already inside a transaction block; use "
                           "myappctx_context_set_local()", what);
    if (rc == MYAPPCTX_OK)
        rc = require_not_impersonating(conn, what, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return begin_in_context(conn, &a, NULL, NULL, what, err);
}
