/* Status codes, their descriptions and the mapping from SQLSTATE. */
#include "config.h"

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

int
mxi_error_set(myappctx_error *err, int code, const char *sqlstate,
              const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->sqlstate[0] = '\0';
    if (sqlstate != NULL) {
        strncpy(err->sqlstate, sqlstate, sizeof err->sqlstate - 1);
        err->sqlstate[sizeof err->sqlstate - 1] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* One line: libpq messages end in '\n' and may carry DETAIL lines. */
    err->message[strcspn(err->message, "\r\n")] = '\0';
    return code;
}

int
mxi_error_from_pg(myappctx_error *err, PGconn *pg, const PGresult *res)
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
    return mxi_error_set(err, code, state, "%s", *msg ? msg : myappctx_strerror(code));
}
