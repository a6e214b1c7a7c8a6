/* The session-level and in-transaction context calls in sealed mode
 * (myappctx/seal.h): myappctx_seal.set_context() with a MAC over exactly the
 * bound fields, in place of the schema's setters, which the seal makes fail
 * (42501).  Units of work are lib/pipeline/unit.c.
 *
 * A sealed call always sets every field of the context (that is what the
 * MAC covers), where the schema's setters change some and leave the rest:
 * api.set_transaction_context() leaves the session id, metadata and audit
 * context, api.set_audit_context() leaves user, tenant and role.  The sealed
 * calls keep those semantics by sealing the fields they do not set with the
 * values in effect, which the server reports (every context variable is
 * GUC_REPORT under the seal), so this costs no query: it seals what the
 * server already holds, never anything the caller could not have set. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context/context.h"

#define SET_CONTEXT_SQL                                                          \
    "SELECT myappctx_seal.set_context($1::bytea, $2::bigint, $3::boolean, $4, $5, $6, $7, " \
    "$8, $9, $10, $11::bytea)"

const char *
mxi_sealed_reported(const myappctx_conn *conn, const char *name)
{
    const char *v = PQparameterStatus(conn->pg, name);
    return v != NULL ? v : "";
}

int
mxi_sealed_set(myappctx_conn *conn, bool local, const char *const fields[MXI_HMAC_CONTEXT_FIELDS],
               const char *what, myappctx_error *err)
{
    for (int attempt = 0;; attempt++) {
        int rc = mxi_conn_ready(conn, what, err);
        if (rc == MYAPPCTX_OK)
            rc = mxi_seal_ready(conn, what, err);
        struct mxi_seal_call call;
        if (rc == MYAPPCTX_OK)
            rc = mxi_seal_sign(conn, local, fields, &call, what, err);
        if (rc != MYAPPCTX_OK)
            return rc;
        const char *params[11] = {
            conn->seal->stream_param, call.counter, local ? "true" : "false",
            fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6],
            call.mac,
        };
        myappctx_error e;
        rc = mxi_exec_params(conn, what, SET_CONTEXT_SQL, 11, params, NULL, &e);
        if (rc == MYAPPCTX_OK)
            return rc;
        /* MX004 (the server does not know the stream: restarted, evicted):
         * nothing ran; outside a transaction block it may go once more on a
         * new stream.  Inside one, the caller's transaction is aborted: the
         * stream is reopened by the next call.  MX002 burns the connection. */
        if (!mxi_seal_retry(conn, e.sqlstate) || attempt > 0 ||
            PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
            return mxi_error_wrap(err, rc, &e, "%s", e.message);
        }
    }
}

/* The string member @key of @obj, or "" (absent, null or not a string). */
static const char *
member(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

int
mxi_sealed_audit_in_effect(const myappctx_conn *conn, char **out_reason, char **out_ticket,
                           const char *what, myappctx_error *err)
{
    *out_reason = *out_ticket = NULL;
    const char *audit = mxi_sealed_reported(conn, "myapp.audit_context");
    json_t *doc = audit[0] != '\0' ? json_loads(audit, 0, NULL) : NULL;
    *out_reason = strdup(member(doc, "reason"));
    *out_ticket = strdup(member(doc, "ticket"));
    json_decref(doc);
    if (*out_reason == NULL || *out_ticket == NULL) {
        free(*out_reason);
        free(*out_ticket);
        *out_reason = *out_ticket = NULL;
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    }
    return MYAPPCTX_OK;
}

/* The bytes jsonb's text output gives a string: escape_json() escapes
 * '"', '\\' and \b \f \n \r \t in two bytes, other control characters in
 * six, and copies the rest. */
static size_t
string_size(const char *s, size_t n)
{
    size_t size = 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
            c == '\t')
            size += 2;
        else if (c < 0x20)
            size += 6;
        else
            size += 1;
    }
    return size;
}

/* At most the bytes of numeric's output for the number jansson writes for
 * @x ("%.17g"): "1e-300" is read exactly and printed with 300 decimals. */
static size_t
real_size(double x)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.17g", x);
    const char *e = strchr(buf, 'e');
    if (e == NULL)
        return (size_t)n + 2;                 /* jansson may add ".0" */
    long exp = strtol(e + 1, NULL, 10);
    size_t digits = 0;
    for (const char *p = buf; p < e; p++)
        digits += *p >= '0' && *p <= '9';
    return 3 + digits + (size_t)(exp < 0 ? -exp : exp);
}

size_t
mxi_sealed_stored_size(const json_t *v)
{
    const char *key;
    json_t *member;
    size_t i, size, n;
    char buf[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        n = json_object_size(v);
        size = 2 + (n > 0 ? 2 * (n - 1) : 0);
        json_object_foreach((json_t *)v, key, member)
            size += string_size(key, strlen(key)) + 2 + mxi_sealed_stored_size(member);
        return size;
    case JSON_ARRAY:
        n = json_array_size(v);
        size = 2 + (n > 0 ? 2 * (n - 1) : 0);
        json_array_foreach(v, i, member)
            size += mxi_sealed_stored_size(member);
        return size;
    case JSON_STRING:
        return string_size(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return (size_t)snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return real_size(json_real_value(v));
    case JSON_TRUE:
    case JSON_NULL:
        return 4;
    default:
        return 5;
    }
}
