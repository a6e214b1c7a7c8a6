/* Status codes, their descriptions and the mapping from SQLSTATE. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* SQLSTATEs raised by the schema (sql/) and the codes they map to. */
static const struct {
    const char *sqlstate;
    int code;
} sqlstate_map[] = {
    { "P0050", MYAPPCTX_ENOCONTEXT },
    { "P0051", MYAPPCTX_ENOTENANT },
    { "P0052", MYAPPCTX_EACCESS },
    { "P0053", MYAPPCTX_ENOTADMIN },
    { "P0054", MYAPPCTX_ERATELIMIT },
    { "P0055", MYAPPCTX_EIMPERSONATING },
    { "P0056", MYAPPCTX_ENOTIMPERSONATING },
    { "P0057", MYAPPCTX_ENOUSER },
    { "P0058", MYAPPCTX_EBADARG },
    { "25P02", MYAPPCTX_ETXNFAILED },
    { "57014", MYAPPCTX_ECANCELED },
    { "57P01", MYAPPCTX_ECONNECT },      /* admin_shutdown: backend terminated */
    { "57P02", MYAPPCTX_ECONNECT },      /* crash_shutdown */
    { "57P03", MYAPPCTX_ECONNECT },      /* cannot_connect_now */
};

MYAPPCTX_API const char *
myappctx_strerror(int code)
{
    switch (code) {
    case MYAPPCTX_OK:                return "success";
    case MYAPPCTX_EINVAL:            return "invalid argument";
    case MYAPPCTX_ENOMEM:            return "out of memory";
    case MYAPPCTX_ECONNECT:          return "connection failed or broken";
    case MYAPPCTX_ESERVER:           return "server error";
    case MYAPPCTX_ETIMEOUT:          return "timed out";
    case MYAPPCTX_ENOTXN:            return "not inside a transaction block";
    case MYAPPCTX_ESESSIONSTATE:     return "session state not allowed behind a transaction pooler";
    case MYAPPCTX_ESCHEMA:           return "schema missing, unsupported or altered";
    case MYAPPCTX_EPROTO:            return "unexpected answer from the server";
    case MYAPPCTX_ENOCONTEXT:        return "user context not set";
    case MYAPPCTX_ENOTENANT:         return "tenant context not set";
    case MYAPPCTX_EACCESS:           return "user does not have access to tenant";
    case MYAPPCTX_ENOTADMIN:         return "only admins can impersonate users";
    case MYAPPCTX_ERATELIMIT:        return "rate limit exceeded";
    case MYAPPCTX_EIMPERSONATING:    return "already impersonating";
    case MYAPPCTX_ENOTIMPERSONATING: return "not currently impersonating";
    case MYAPPCTX_ENOUSER:           return "unknown user";
    case MYAPPCTX_EBADARG:           return "argument refused by the server";
    case MYAPPCTX_ETXNFAILED:        return "transaction aborted";
    case MYAPPCTX_ECANCELED:         return "statement cancelled";
    case MYAPPCTX_EBUSY:             return "connection busy";
    case MYAPPCTX_ECLOSED:           return "pool closed";
    case MYAPPCTX_EFULL:             return "too many waiters";
    case MYAPPCTX_EMALFORMED:        return "malformed value";
    case MYAPPCTX_ENOTFOUND:         return "not found";
    case MYAPPCTX_EHOOK:             return "hook refused the connection";
    case MYAPPCTX_EPRIVILEGED:       return "session user bypasses row-level security";
    case MYAPPCTX_ESEAL:             return "sealed context refused";
    default:                         return "unknown error code";
    }
}

MYAPPCTX_API int
myappctx_status_from_sqlstate(const char *sqlstate)
{
    if (sqlstate == NULL || strlen(sqlstate) != 5)
        return MYAPPCTX_EINVAL;
    for (size_t i = 0; i < sizeof sqlstate_map / sizeof sqlstate_map[0]; i++)
        if (memcmp(sqlstate, sqlstate_map[i].sqlstate, 5) == 0)
            return sqlstate_map[i].code;
    if (sqlstate[0] == '0' && sqlstate[1] == '8')
        return MYAPPCTX_ECONNECT;
    if (sqlstate[0] == 'M' && sqlstate[1] == 'X')     /* myappctx_seal (extension/) */
        return MYAPPCTX_ESEAL;
    return MYAPPCTX_ESERVER;
}

/* The layout is part of the ABI: a fixed size, the fields of version 1
 * where they always were. */
_Static_assert(sizeof(myappctx_error) == MYAPPCTX_ERROR_SIZE, "myappctx_error has a fixed size");
_Static_assert(offsetof(myappctx_error, reserved) == 1620, "the reserved tail starts at 1620");
_Static_assert(offsetof(myappctx_error, message) == 10, "version 1 fields stay in place");

/* Cuts @s, a string of @len bytes that was cut at @len, back to the last
 * whole UTF-8 character, so a field never ends in half a character. */
static void
fit_utf8(char *s, size_t len)
{
    size_t lead = len;
    while (lead > 0 && len - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t need = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (lead - 1 + need > len)
        s[lead - 1] = '\0';
}

/* Copies @src (NULL: "") into @dst of @size bytes; true if it was cut. */
static bool
copy_field(char *dst, size_t size, const char *src)
{
    if (src == NULL)
        src = "";
    size_t n = strlen(src);
    bool cut = n >= size;
    if (cut)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    if (cut)
        fit_utf8(dst, n);
    return cut;
}

static void
clear_diagnostics(myappctx_error *err)
{
    err->version = MYAPPCTX_ERROR_VERSION;
    err->truncated = 0;
    err->detail[0] = err->hint[0] = '\0';
    err->schema_name[0] = err->table_name[0] = err->column_name[0] = '\0';
    err->datatype_name[0] = err->constraint_name[0] = '\0';
}

/* The message: formatted, one line (libpq messages end in '\n' and may
 * carry DETAIL lines), marked when it did not fit. */
static void
format_message(myappctx_error *err, const char *fmt, va_list ap)
{
    char buf[MYAPPCTX_ERROR_MESSAGE_SIZE];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        buf[0] = '\0';
    size_t line = strcspn(buf, "\r\n");
    if (n >= (int)sizeof buf && buf[line] == '\0') {
        fit_utf8(buf, line);
        err->truncated |= MYAPPCTX_ERROR_TRUNCATED_MESSAGE;
    }
    buf[line] = '\0';
    memcpy(err->message, buf, line + 1);
}

static void
set_sqlstate(myappctx_error *err, const char *sqlstate)
{
    size_t n = sqlstate != NULL ? strnlen(sqlstate, sizeof err->sqlstate - 1) : 0;
    memcpy(err->sqlstate, sqlstate != NULL ? sqlstate : "", n);
    err->sqlstate[n] = '\0';
}

void
mxi_error_clear(myappctx_error *err)
{
    err->code = MYAPPCTX_OK;
    err->sqlstate[0] = err->message[0] = '\0';
    clear_diagnostics(err);
}

int
mxi_error_set(myappctx_error *err, int code, const char *sqlstate,
              const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    set_sqlstate(err, sqlstate);
    clear_diagnostics(err);
    va_list ap;
    va_start(ap, fmt);
    format_message(err, fmt, ap);
    va_end(ap);
    return code;
}

int
mxi_error_wrap(myappctx_error *err, int code, const myappctx_error *inner,
               const char *fmt, ...)
{
    if (err == NULL)
        return code;
    /* @inner may be @err itself, and the arguments may point into it. */
    myappctx_error copy = *inner;
    err->code = code;
    set_sqlstate(err, copy.sqlstate);
    va_list ap;
    va_start(ap, fmt);
    clear_diagnostics(err);
    format_message(err, fmt, ap);
    va_end(ap);
    err->truncated |= copy.truncated & ~MYAPPCTX_ERROR_TRUNCATED_MESSAGE;
    memcpy(err->detail, copy.detail, sizeof err->detail);
    memcpy(err->hint, copy.hint, sizeof err->hint);
    memcpy(err->schema_name, copy.schema_name, sizeof err->schema_name);
    memcpy(err->table_name, copy.table_name, sizeof err->table_name);
    memcpy(err->column_name, copy.column_name, sizeof err->column_name);
    memcpy(err->datatype_name, copy.datatype_name, sizeof err->datatype_name);
    memcpy(err->constraint_name, copy.constraint_name, sizeof err->constraint_name);
    return code;
}

void
mxi_error_hint(myappctx_error *err, const char *hint)
{
    if (err != NULL && copy_field(err->hint, sizeof err->hint, hint))
        err->truncated |= MYAPPCTX_ERROR_TRUNCATED_HINT;
}

const char *
mxi_error_cause(const myappctx_error *err, const char *what)
{
    size_t n = strlen(what);
    if (strncmp(err->message, what, n) == 0 && err->message[n] == ':' && err->message[n + 1] == ' ')
        return err->message + n + 2;
    return err->message;
}

/* The server's error fields beside the message. */
static void
copy_diagnostics(myappctx_error *err, const PGresult *res)
{
    static const struct {
        int field;
        size_t offset, size;
        unsigned bit;
    } fields[] = {
        { PG_DIAG_MESSAGE_DETAIL, offsetof(myappctx_error, detail),
          MYAPPCTX_ERROR_DETAIL_SIZE, MYAPPCTX_ERROR_TRUNCATED_DETAIL },
        { PG_DIAG_MESSAGE_HINT, offsetof(myappctx_error, hint),
          MYAPPCTX_ERROR_HINT_SIZE, MYAPPCTX_ERROR_TRUNCATED_HINT },
        { PG_DIAG_SCHEMA_NAME, offsetof(myappctx_error, schema_name),
          MYAPPCTX_ERROR_NAME_SIZE, MYAPPCTX_ERROR_TRUNCATED_SCHEMA },
        { PG_DIAG_TABLE_NAME, offsetof(myappctx_error, table_name),
          MYAPPCTX_ERROR_NAME_SIZE, MYAPPCTX_ERROR_TRUNCATED_TABLE },
        { PG_DIAG_COLUMN_NAME, offsetof(myappctx_error, column_name),
          MYAPPCTX_ERROR_NAME_SIZE, MYAPPCTX_ERROR_TRUNCATED_COLUMN },
        { PG_DIAG_DATATYPE_NAME, offsetof(myappctx_error, datatype_name),
          MYAPPCTX_ERROR_NAME_SIZE, MYAPPCTX_ERROR_TRUNCATED_DATATYPE },
        { PG_DIAG_CONSTRAINT_NAME, offsetof(myappctx_error, constraint_name),
          MYAPPCTX_ERROR_NAME_SIZE, MYAPPCTX_ERROR_TRUNCATED_CONSTRAINT },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (copy_field((char *)err + fields[i].offset, fields[i].size,
                       PQresultErrorField(res, fields[i].field)))
            err->truncated |= fields[i].bit;
}

int
mxi_error_from_pg(myappctx_error *err, const char *what, PGconn *pg, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    int code;

    if (msg == NULL && res != NULL)
        msg = PQresultErrorMessage(res);
    if (msg == NULL || *msg == '\0')
        msg = pg ? PQerrorMessage(pg) : "no connection";
    if (state != NULL)
        code = myappctx_status_from_sqlstate(state);
    else if (pg == NULL || PQstatus(pg) == CONNECTION_BAD)
        code = MYAPPCTX_ECONNECT;
    else
        code = MYAPPCTX_ESERVER;
    if (code == MYAPPCTX_EINVAL)      /* malformed SQLSTATE from the server */
        code = MYAPPCTX_ESERVER;
    /* Whatever the error said, a connection that is gone is the news. */
    if (pg != NULL && PQstatus(pg) == CONNECTION_BAD)
        code = MYAPPCTX_ECONNECT;
    mxi_error_set(err, code, state, "%s%s%s", what ? what : "", what ? ": " : "",
                  *msg ? msg : myappctx_strerror(code));
    if (err != NULL && res != NULL)
        copy_diagnostics(err, res);
    return code;
}
