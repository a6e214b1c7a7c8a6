/* Failover-aware pooling: with a multi-host conninfo and
 * target_session_attrs=read-write or primary, libpq connects only to a
 * server that qualifies (trying the hosts in turn); this keeps the pool's
 * open connections to that standard after a failover.
 *
 * A server reports in_hot_standby and default_transaction_read_only to the
 * client by itself (ParameterStatus, PostgreSQL 14 and later), with any
 * traffic after they change, so the check is a lookup in libpq's copy -- no
 * round trip: at connect (a belt to libpq's braces), at acquire, after a
 * ping and at release.  Whatever is not a primary when the pool wants one
 * is closed (MYAPPCTX_EVICT_NOT_PRIMARY), and the background thread's next
 * connect lets libpq find the new primary.  A statement that failed with
 * 25006 (read_only_sql_transaction) marks its connection too: that is how an old primary that went read-only shows
 * itself to a server that does not report it (or before it has), at the
 * price of a reconnect after a write in a transaction the caller declared
 * READ ONLY.  The decision mirrors libpq's: "primary" refuses a server in
 * hot standby; "read-write" also one whose default_transaction_read_only is
 * on. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"

/* target_session_attrs from the conninfo, else PGTARGETSESSIONATTRS (as
 * libpq does).  A conninfo libpq cannot parse asks for nothing here: the
 * connect will fail and say why (the pool retries it). */
static void
parse_want(const char *conninfo, int *want)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
    PQfreemem(msg);
    const char *value = NULL;
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
        if (strcmp(o->keyword, "target_session_attrs") == 0 && o->val != NULL)
            value = o->val;
    if (value == NULL)
        value = getenv("PGTARGETSESSIONATTRS");
    *want = MXI_FAILOVER_ANY;
    if (value != NULL && strcmp(value, "read-write") == 0)
        *want = MXI_FAILOVER_READ_WRITE;
    else if (value != NULL && strcmp(value, "primary") == 0)
        *want = MXI_FAILOVER_PRIMARY;
    PQconninfoFree(opts);
}

int
mxi_failover_check(const myappctx_pool_config *cfg, int *want, myappctx_error *err)
{
    if (cfg->ping_timeout_ms < 0)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "myappctx_pool_new: config 'ping_timeout_ms' must be >= 0 (0: no limit)");
    parse_want(cfg->conninfo, want);
    return MYAPPCTX_OK;
}

static int
on(const char *value)
{
    return value != NULL && strcmp(value, "on") == 0;
}

int
mxi_failover_unwanted(int want, const char *in_hot_standby, const char *default_read_only)
{
    switch (want) {
    case MXI_FAILOVER_PRIMARY:
        return on(in_hot_standby);
    case MXI_FAILOVER_READ_WRITE:
        return on(in_hot_standby) || on(default_read_only);
    default:
        return 0;
    }
}

int
mxi_failover_conn_unwanted(const myappctx_pool *pool, const myappctx_conn *conn)
{
    if (pool->want == MXI_FAILOVER_ANY)
        return 0;
    return conn->read_only_failed ||
           mxi_failover_unwanted(pool->want, PQparameterStatus(conn->pg, "in_hot_standby"),
                                 PQparameterStatus(conn->pg, "default_transaction_read_only"));
}
